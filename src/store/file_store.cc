// FileStore operations: Get, Put, Delete. The design (layout, file format, locking,
// durability) is described in file_store.h; Open lives in file_store_open.cc, List in
// file_store_list.cc.
#include "store/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/object_file.h"

namespace ds::store {

namespace {

using file_names::FanoutDirName;

}  // namespace

Result<FileStore::Location> FileStore::Locate(std::string_view key) {
  Result<std::string> name = file_names::EncodeKey(key);
  if (!name.ok()) return name.status();
  const uint64_t hash = file_names::KeyHash(key);
  return Location{std::move(*name), file_names::FanoutIndex(hash),
                  static_cast<size_t>(hash % kStripes)};
}

Result<int> FileStore::SubdirFd(size_t index, bool create) {
  int fd = subdir_fds_[index].load(std::memory_order_acquire);
  if (fd >= 0) return fd;
  std::lock_guard lock(subdir_mu_);
  fd = subdir_fds_[index].load(std::memory_order_acquire);
  if (fd >= 0) return fd;

  const std::string name = FanoutDirName(index);
  const std::string what = dir_ + "/objects/" + name;
  fd = ::openat(objects_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (!create) return -1;
    if (::mkdirat(objects_fd_.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + what, errno);
    }
    // The subdirectory's entry must be durable before any object in it can be.
    if (Status s = Fsync(objects_fd_.get(), "fsync " + dir_ + "/objects"); !s.ok()) return s;
    fd = ::openat(objects_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoError("open " + what, errno);
  subdir_fds_[index].store(fd, std::memory_order_release);
  return fd;
}

Result<std::string> FileStore::CurrentEtag(const Location& loc, std::string_view key) {
  const Stripe& stripe = stripes_[loc.stripe];
  if (auto it = stripe.dirty.find(loc.name); it != stripe.dirty.end()) return it->second.etag;
  Result<int> subdir_fd = SubdirFd(loc.subdir, /*create=*/false);
  if (!subdir_fd.ok()) return subdir_fd.status();
  if (*subdir_fd < 0) return std::string();
  UniqueFd fd(::openat(*subdir_fd, loc.name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::string();
    return ErrnoError("open object " + std::string(key), errno);
  }
  return object_file::ReadEtag(fd.get(), key);
}

Status FileStore::CheckCondition(std::string_view current, const WriteCondition& condition,
                                 std::string_view key) {
  if (condition.kind == WriteCondition::Kind::kNone) return Status::OK();
  if (condition.kind == WriteCondition::Kind::kCreateOnly) {
    if (!current.empty()) return Status::PreconditionFailed("object exists: " + std::string(key));
    return Status::OK();
  }
  if (current.empty()) {
    return Status::PreconditionFailed("object does not exist: " + std::string(key));
  }
  if (current != condition.etag) {
    return Status::PreconditionFailed("etag differs: " + std::string(key));
  }
  return Status::OK();
}

Status FileStore::WriteInPlace(int subdir_fd, const std::string& name, std::string_view etag,
                               std::string_view data, std::string_view key, int64_t mtime_micros) {
  const std::string what = "object " + std::string(key);
  UniqueFd object_fd(::openat(subdir_fd, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!object_fd.valid()) return ErrnoError("create " + what, errno);
  struct stat st {};
  if (::fstat(object_fd.get(), &st) != 0) return ErrnoError("stat " + what, errno);
  if (Status s = PWriteAll(object_fd.get(), object_file::Header(etag), data, 0, "write " + what);
      !s.ok()) {
    return s;
  }
  // Only a shorter version needs the truncation: the file is otherwise exactly overwritten.
  const auto size = static_cast<off_t>(object_file::kHeaderSize + data.size());
  if (st.st_size > size && ::ftruncate(object_fd.get(), size) != 0) {
    return ErrnoError("truncate " + what, errno);
  }
  if (mtime_micros != 0) {
    // The time of the Put, not of the checkpoint that wrote the file: List reports it, and the
    // TTL sweep decides by it.
    const std::array<timespec, 2> times{
        timespec{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
        timespec{.tv_sec = static_cast<time_t>(mtime_micros / 1'000'000),
                 .tv_nsec = static_cast<long>(mtime_micros % 1'000'000) * 1000}};
    if (::futimens(object_fd.get(), times.data()) != 0) {
      return ErrnoError("set mtime of " + what, errno);
    }
  }
  return Status::OK();
}

Status FileStore::CheckNotFailed() {
  if (!failed_.load(std::memory_order_acquire)) return Status::OK();
  std::lock_guard lock(failure_mu_);
  return Status::IOError("file store " + dir_ + " failed earlier (" + failure_.message() +
                         "); restart the daemon: opening the store replays its journal");
}

void FileStore::Fail(const Status& what) {
  journal_->Fail(what);  // keeps every generation for the next replay
  std::lock_guard lock(failure_mu_);
  if (failed_.load(std::memory_order_relaxed)) return;
  failure_ = what;
  failed_.store(true, std::memory_order_release);
}

// --- Get -------------------------------------------------------------------------------------

Result<Object> FileStore::Get(std::string_view key, std::string_view if_none_match) {
  if (Status s = CheckNotFailed(); !s.ok()) return s;
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();

  // The stripe lock is held shared for the whole read: writers change the dirty set, and
  // checkpoints overwrite object files in place, under it held exclusively, so a reader
  // holding it sees one complete version, and only once it is durable (a writer commits its
  // journal record before it makes the version visible).
  Object object;
  std::string etag;
  bool complete = false;
  {
    Stripe& stripe = stripes_[loc->stripe];
    std::shared_lock lock(stripe.lock);
    if (auto it = stripe.dirty.find(loc->name); it != stripe.dirty.end()) {
      // The newest version is in memory; the file, if any, holds an older one.
      if (!if_none_match.empty() && if_none_match == it->second.etag) {
        return Status::NotModified(std::string(key));
      }
      return Object{it->second.data, it->second.etag};
    }
    // Looked up under the lock: a checkpoint may have just created the subdirectory to write
    // this very object back.
    Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
    if (!subdir_fd.ok()) return subdir_fd.status();
    if (*subdir_fd < 0) return Status::NotFound(std::string(key));
    UniqueFd fd(::openat(*subdir_fd, loc->name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) return Status::NotFound(std::string(key));
      return ErrnoError("open object " + std::string(key), errno);
    }
    Result<std::string> header_etag = object_file::ReadEtag(fd.get(), key);
    if (!header_etag.ok()) return header_etag.status();
    etag = std::move(*header_etag);
    if (!if_none_match.empty() && if_none_match == etag) {
      return Status::NotModified(std::string(key));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat object " + std::string(key), errno);
    // ReadEtag read a whole header, and nobody changes the file while the lock is held.
    object.data.resize(static_cast<size_t>(st.st_size) - object_file::kHeaderSize);
    Result<size_t> n =
        PReadUpTo(fd.get(), object.data.data(), object.data.size(),
                  static_cast<off_t>(object_file::kHeaderSize), "read object " + std::string(key));
    if (!n.ok()) return n.status();
    complete = *n == object.data.size();
  }
  // Hashed outside the lock: a hand-damaged file or bit rot shows as a mismatch.
  if (!complete || object_file::ContentEtag(object.data) != etag) {
    return Status::Corruption("file store: object " + std::string(key) +
                              " does not match its etag (" + dir_ + ")");
  }
  object.etag = std::move(etag);
  return object;
}

// --- Put -------------------------------------------------------------------------------------

Result<std::string> FileStore::Put(std::string_view key, std::string_view data,
                                   const WriteCondition& condition) {
  std::vector<Result<std::string>> results = PutBatch({PutRequest{key, data, condition}});
  return std::move(results.front());
}

namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<Result<std::string>> FileStore::PutBatch(const std::vector<PutRequest>& puts) {
  // A write of the batch, from locating its file to its result.
  struct Write {
    const PutRequest* put = nullptr;
    Location loc;
    std::string etag;
    bool located = false;  // loc and etag are set
    bool journaled = false;
    Status error;  // why it was not made
  };
  std::vector<Write> writes(puts.size());
  // Result i: the etag of a write made, else why not.
  const auto results_of = [](std::vector<Write>& ws) {
    std::vector<Result<std::string>> results;
    results.reserve(ws.size());
    for (Write& w : ws) {
      if (w.error.ok()) {
        results.emplace_back(std::move(w.etag));
      } else {
        results.emplace_back(std::move(w.error));
      }
    }
    return results;
  };
  std::vector<size_t> stripes;
  stripes.reserve(puts.size());
  for (size_t i = 0; i < puts.size(); ++i) {
    Write& w = writes[i];
    w.put = &puts[i];
    if (Status s = CheckNotFailed(); !s.ok()) {
      w.error = s;
      continue;
    }
    Result<Location> loc = Locate(w.put->key);
    if (!loc.ok()) {
      w.error = loc.status();
      continue;
    }
    w.loc = std::move(*loc);
    w.etag = object_file::ContentEtag(w.put->data);
    w.located = true;
    stripes.push_back(w.loc.stripe);
  }
  // Every stripe of the batch, each once and in ascending order: two batches that share
  // stripes take them in the same order, so they cannot deadlock; Get, List, Delete and
  // WriteBackDirtyObjects hold one stripe at a time.
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<StripeLock>> locks;
  locks.reserve(stripes.size());
  for (size_t stripe : stripes) locks.emplace_back(stripes_[stripe].lock);

  // Under the locks: check each condition against the current version (in memory or in its
  // file) and journal the writes that pass, all with one write(2). Records of one key are
  // thereby in the order of its writes.
  std::vector<JournalRecord> records;
  std::vector<Write*> journaled;
  records.reserve(writes.size());
  journaled.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    Write& w = writes[i];
    if (!w.located) continue;
    const std::string_view key = w.put->key;
    for (size_t j = 0; j < i; ++j) {
      if (writes[j].located && writes[j].put->key == key) {
        w.error = Status::InvalidArgument("file store: key " + std::string(key) +
                                          " appears twice in one batch");
        break;
      }
    }
    if (!w.error.ok()) continue;
    if (w.put->condition.kind != WriteCondition::Kind::kNone) {
      Result<std::string> current = CurrentEtag(w.loc, key);
      if (!current.ok()) {
        w.error = current.status();
        continue;
      }
      if (Status s = CheckCondition(*current, w.put->condition, key); !s.ok()) {
        w.error = s;
        continue;
      }
    }
    records.push_back({JournalOp::kPut, key, w.put->data});
    journaled.push_back(&w);
  }
  if (records.empty()) return results_of(writes);
  std::vector<Result<FileJournal::Ticket>> tickets = journal_->AppendAll(records);
  const FileJournal::Ticket* last = nullptr;
  for (size_t i = 0; i < tickets.size(); ++i) {
    if (tickets[i].ok()) {
      journaled[i]->journaled = true;
      last = &*tickets[i];
    } else {
      journaled[i]->error = tickets[i].status();
    }
  }
  if (last == nullptr) return results_of(writes);

  // One commit covers every record appended before the last one. It comes before the new
  // versions become visible, so that no Get or conditional Put sees a version that a crash
  // could still take back.
  if (Status s = journal_->Commit(*last); !s.ok()) {
    // The records may or may not have reached the disk: a replay may apply them, or not.
    // Until the restart that decides, the store fails every call (see Fail), and the callers
    // re-read after it.
    Fail(s);
    for (Write& w : writes) {
      if (!w.journaled) continue;
      w.error = Status::OutcomeUnknown("file store: write of " + std::string(w.put->key) +
                                       " may or may not be durable: " + s.ToString());
    }
    return results_of(writes);
  }
  // Committed: the new versions become the dirty objects of their keys, served from memory
  // until the checkpoint that retires their journal generation writes their files
  // (file_store.h: "Dirty objects"). No file is touched here.
  const int64_t now = NowMicros();
  for (Write& w : writes) {
    if (!w.journaled) continue;
    auto [it, inserted] = stripes_[w.loc.stripe].dirty.try_emplace(w.loc.name);
    DirtyObject& dirty = it->second;
    if (inserted) {
      dirty_objects_.fetch_add(1, std::memory_order_relaxed);
    } else {
      dirty_bytes_.fetch_sub(dirty.data.size(), std::memory_order_relaxed);
    }
    dirty.data.assign(w.put->data);
    dirty.etag = w.etag;
    dirty.subdir = w.loc.subdir;
    dirty.written_micros = now;
    dirty_bytes_.fetch_add(dirty.data.size(), std::memory_order_relaxed);
    if (w.put->condition.kind != WriteCondition::Kind::kIfMatch) window_.NoteCreated(w.loc.name);
  }
  // The locks go first, then the tickets (declared earlier): a generation may retire once
  // every version it holds is in the dirty set, from which its checkpoint writes it.
  locks.clear();
  if (dirty_bytes_.load(std::memory_order_relaxed) > options_.max_dirty_bytes) {
    early_write_back_->Request();
  }
  return results_of(writes);
}

// --- Delete ----------------------------------------------------------------------------------

Status FileStore::Delete(std::string_view key) {
  if (Status s = CheckNotFailed(); !s.ok()) return s;
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();

  Stripe& stripe = stripes_[loc->stripe];
  std::unique_lock lock(stripe.lock);
  // Under the lock: a checkpoint may have just created the subdirectory to write this object.
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
  if (!subdir_fd.ok()) return subdir_fd.status();
  const auto dirty = stripe.dirty.find(loc->name);
  bool has_file = false;
  if (*subdir_fd >= 0) {
    struct stat st {};
    if (::fstatat(*subdir_fd, loc->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      has_file = true;
    } else if (errno != ENOENT) {
      return ErrnoError("stat object " + std::string(key), errno);
    }
  }
  // Already gone: deleting a missing object succeeds, and needs no record, since every
  // change to this key that is visible is either checkpointed or journaled already.
  if (dirty == stripe.dirty.end() && !has_file) return Status::OK();

  Result<FileJournal::Ticket> ticket = journal_->Append({JournalOp::kDelete, key, {}});
  if (!ticket.ok()) return ticket.status();
  if (Status s = journal_->Commit(*ticket); !s.ok()) {
    Fail(s);
    return Status::OutcomeUnknown("file store: delete of " + std::string(key) +
                                  " may or may not be durable: " + s.ToString());
  }
  if (dirty != stripe.dirty.end()) {
    dirty_bytes_.fetch_sub(dirty->second.data.size(), std::memory_order_relaxed);
    dirty_objects_.fetch_sub(1, std::memory_order_relaxed);
    stripe.dirty.erase(dirty);
  }
  if (has_file && ::unlinkat(*subdir_fd, loc->name.c_str(), 0) != 0 && errno != ENOENT) {
    // Committed but not applied: the file shows a version the journal has deleted, and the
    // next replay will delete it. Serving on would let readers act on it, so the store fails
    // every call from now on (as after an fsync failure: fsyncgate), until a restart replays
    // the journal and brings files and journal back together.
    const Status error = ErrnoError("unlink object " + std::string(key), errno);
    Fail(error);
    return Status::OutcomeUnknown("file store: " + error.message());
  }
  window_.NoteDeleted(loc->name);
  return Status::OK();
}

// --- Write-back ------------------------------------------------------------------------------

Status FileStore::WriteBackDirtyObjects() {
  // Each object is written under its stripe's lock held exclusively: a Get or List of it waits
  // instead of reading a half-written file, and a Put or Delete of it waits instead of racing
  // the write. The lock is taken again for every object rather than held for a whole stripe,
  // so that a PutBatch, which holds the locks of all its keys through its commit, waits for one
  // file write at most. An object leaves the dirty set only once its file is complete, so at
  // every moment it is whole in memory or whole in its file. Objects made dirty after a
  // stripe's names were taken need not be written: their records are in a generation this
  // checkpoint does not retire. On an error the remaining objects stay dirty; the checkpoint
  // fails, and the store fails (Fail), keeping the journal generations for a replay.
  std::vector<std::string> names;
  for (Stripe& stripe : stripes_) {
    names.clear();
    {
      std::shared_lock lock(stripe.lock);
      for (const auto& entry : stripe.dirty) names.push_back(entry.first);
    }
    for (const std::string& name : names) {
      std::unique_lock lock(stripe.lock);
      auto it = stripe.dirty.find(name);
      if (it == stripe.dirty.end()) continue;  // deleted meanwhile
      const DirtyObject& dirty = it->second;
      Result<int> subdir_fd = SubdirFd(dirty.subdir, /*create=*/true);
      Status s = subdir_fd.ok() ? WriteInPlace(*subdir_fd, name, dirty.etag, dirty.data, name,
                                               dirty.written_micros)
                                : subdir_fd.status();
      if (!s.ok()) {
        lock.unlock();
        // As after any write-back error: nothing written since can be promised durable
        // (fsyncgate), so the store stops until a restart replays the journal.
        Fail(s);
        return s;
      }
      dirty_bytes_.fetch_sub(dirty.data.size(), std::memory_order_relaxed);
      dirty_objects_.fetch_sub(1, std::memory_order_relaxed);
      written_back_.fetch_add(1, std::memory_order_relaxed);
      stripe.dirty.erase(it);
    }
  }
  return Status::OK();
}

void FileStore::WaitForEarlyWriteBack() { early_write_back_->WaitUntilIdle(); }

FileStore::Stats FileStore::stats() const {
  const FileJournal::Stats journal = journal_->stats();
  return {journal.records,
          journal.syncs,
          journal.checkpoints,
          dirty_objects_.load(std::memory_order_relaxed),
          dirty_bytes_.load(std::memory_order_relaxed),
          written_back_.load(std::memory_order_relaxed)};
}

std::vector<std::pair<std::string, uint64_t>> FileStore::Metrics() const {
  const Stats s = stats();
  return {{"file_journal_records", s.journal_records},
          {"file_journal_syncs", s.journal_syncs},
          {"file_checkpoints", s.checkpoints},
          {"file_dirty_objects", s.dirty_objects},
          {"file_dirty_bytes", s.dirty_bytes},
          {"file_objects_written_back", s.objects_written_back}};
}

}  // namespace ds::store
