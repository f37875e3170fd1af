// FileStore operations: Get, Put, Delete. The design (layout, file format, locking,
// durability) is described in file_store.h; Open lives in file_store_open.cc, List in
// file_store_list.cc.
#include "store/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>

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

Status FileStore::CheckCondition(int object_fd, const WriteCondition& condition,
                                 std::string_view key) {
  if (condition.kind == WriteCondition::Kind::kNone) return Status::OK();
  std::string current;  // empty: no object
  if (object_fd >= 0) {
    Result<std::string> etag = object_file::ReadEtag(object_fd, key);
    if (!etag.ok()) return etag.status();
    current = std::move(*etag);
  }
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

Status FileStore::WriteInPlace(int subdir_fd, const std::string& name, UniqueFd object_fd,
                               std::string_view etag, std::string_view data, std::string_view key) {
  const std::string what = "object " + std::string(key);
  if (!object_fd.valid()) {
    object_fd = UniqueFd(::openat(subdir_fd, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!object_fd.valid()) return ErrnoError("create " + what, errno);
  }
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
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
  if (!subdir_fd.ok()) return subdir_fd.status();
  if (*subdir_fd < 0) return Status::NotFound(std::string(key));

  // The stripe lock is held shared for the whole read: writers overwrite object files in
  // place under it held exclusively, so a reader holding it sees one complete version, and
  // only once it is durable (a writer commits its journal record before touching the file).
  Object object;
  std::string etag;
  bool complete = false;
  {
    std::shared_lock lock(stripes_[loc->stripe]);
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

std::vector<Result<std::string>> FileStore::PutBatch(const std::vector<PutRequest>& puts) {
  // A write of the batch, from locating its file to its result.
  struct Write {
    const PutRequest* put = nullptr;
    Location loc;
    int subdir_fd = -1;
    std::string etag;
    UniqueFd object_fd;                         // the current object file, if any
    std::optional<FileJournal::Ticket> ticket;  // set once its record is appended
    Status error;                               // why it was not made
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
    Result<int> subdir_fd = SubdirFd(w.loc.subdir, /*create=*/true);
    if (!subdir_fd.ok()) {
      w.error = subdir_fd.status();
      continue;
    }
    w.subdir_fd = *subdir_fd;
    w.etag = object_file::ContentEtag(w.put->data);
    stripes.push_back(w.loc.stripe);
  }
  // Every stripe of the batch, each once and in ascending order: two batches that share
  // stripes take them in the same order, so they cannot deadlock; Get, List and Delete hold
  // one stripe at a time.
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<StripeLock>> locks;
  locks.reserve(stripes.size());
  for (size_t stripe : stripes) locks.emplace_back(stripes_[stripe]);

  // Under the locks: check each condition against the current object file (opened now, so
  // that it cannot be unlinked or replaced meanwhile; not created before the commit, so that
  // a failed or refused write leaves no trace) and journal the writes that pass. Records of
  // one key are thereby in the order of its writes.
  const FileJournal::Ticket* last = nullptr;
  for (size_t i = 0; i < writes.size(); ++i) {
    Write& w = writes[i];
    if (w.subdir_fd < 0) continue;
    const std::string_view key = w.put->key;
    for (size_t j = 0; j < i; ++j) {
      if (writes[j].subdir_fd >= 0 && writes[j].put->key == key) {
        w.error = Status::InvalidArgument("file store: key " + std::string(key) +
                                          " appears twice in one batch");
        break;
      }
    }
    if (!w.error.ok()) continue;
    w.object_fd = UniqueFd(::openat(w.subdir_fd, w.loc.name.c_str(), O_RDWR | O_CLOEXEC));
    if (!w.object_fd.valid() && errno != ENOENT) {
      w.error = ErrnoError("open object " + std::string(key), errno);
      continue;
    }
    if (Status s = CheckCondition(w.object_fd.get(), w.put->condition, key); !s.ok()) {
      w.error = s;
      continue;
    }
    Result<FileJournal::Ticket> ticket = journal_->Append({JournalOp::kPut, key, w.put->data});
    if (!ticket.ok()) {
      w.error = ticket.status();
      continue;
    }
    w.ticket.emplace(std::move(*ticket));
    last = &*w.ticket;
  }
  if (last == nullptr) return results_of(writes);

  // One commit covers every record appended before the last one. It comes before any object
  // file is touched, so that no Get or conditional Put sees a version that a crash could
  // still take back, and so that a crash in the middle of an overwrite below leaves a
  // committed record that replays it.
  if (Status s = journal_->Commit(*last); !s.ok()) {
    // The records may or may not have reached the disk: a replay may apply them, or not.
    // Until the restart that decides, the store fails every call (see Fail), and the callers
    // re-read after it.
    Fail(s);
    for (Write& w : writes) {
      if (!w.ticket) continue;
      w.error = Status::OutcomeUnknown("file store: write of " + std::string(w.put->key) +
                                       " may or may not be durable: " + s.ToString());
    }
    return results_of(writes);
  }
  for (Write& w : writes) {
    if (!w.ticket) continue;
    // No temporary file, no rename, no fsync: see file_store.h for why an object file may be
    // overwritten in place.
    Status s = WriteInPlace(w.subdir_fd, w.loc.name, std::move(w.object_fd), w.etag, w.put->data,
                            w.put->key);
    if (!s.ok()) {
      // Committed but not applied: the object file shows the previous version, or a torn mix,
      // while the journal holds this one, and the next replay will apply it. Serving on would
      // let readers and conditional writers act on a version the store has already given up
      // (or on a torn file), so the store fails every call from now on (as after an fsync
      // failure: fsyncgate), and a restart replays the journal and brings files and journal
      // back together. The outcome is unknown to the caller until then.
      Fail(s);
      w.error = Status::OutcomeUnknown("file store: " + s.message());
      continue;
    }
    if (w.put->condition.kind != WriteCondition::Kind::kIfMatch) window_.NoteCreated(w.loc.name);
  }
  // The locks go first (declared last), then the tickets with `writes`: a generation may
  // retire once every object write of its records has been made.
  locks.clear();
  return results_of(writes);
}

// --- Delete ----------------------------------------------------------------------------------

Status FileStore::Delete(std::string_view key) {
  if (Status s = CheckNotFailed(); !s.ok()) return s;
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
  if (!subdir_fd.ok()) return subdir_fd.status();
  if (*subdir_fd < 0) return Status::OK();

  std::unique_lock lock(stripes_[loc->stripe]);
  struct stat st {};
  if (::fstatat(*subdir_fd, loc->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    // Already gone: deleting a missing object succeeds, and needs no record, since every
    // change to this key that is visible is either checkpointed or journaled already.
    if (errno == ENOENT) return Status::OK();
    return ErrnoError("stat object " + std::string(key), errno);
  }
  Result<FileJournal::Ticket> ticket = journal_->Append({JournalOp::kDelete, key, {}});
  if (!ticket.ok()) return ticket.status();
  if (Status s = journal_->Commit(*ticket); !s.ok()) {
    Fail(s);
    return Status::OutcomeUnknown("file store: delete of " + std::string(key) +
                                  " may or may not be durable: " + s.ToString());
  }
  if (::unlinkat(*subdir_fd, loc->name.c_str(), 0) != 0 && errno != ENOENT) {
    // Committed but not applied; the same policy as a failed overwrite in Put.
    const Status error = ErrnoError("unlink object " + std::string(key), errno);
    Fail(error);
    return Status::OutcomeUnknown("file store: " + error.message());
  }
  window_.NoteDeleted(loc->name);
  return Status::OK();
}

FileStore::Stats FileStore::stats() const {
  const FileJournal::Stats journal = journal_->stats();
  return {journal.records, journal.syncs, journal.checkpoints};
}

std::vector<std::pair<std::string, uint64_t>> FileStore::Metrics() const {
  const Stats s = stats();
  return {{"file_journal_records", s.journal_records},
          {"file_journal_syncs", s.journal_syncs},
          {"file_checkpoints", s.checkpoints}};
}

}  // namespace ds::store
