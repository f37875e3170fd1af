// FileStore operations: Get, Put, Delete. The design (layout, file format, locking,
// durability) is described in file_store.h; Open lives in file_store_open.cc, List in
// file_store_list.cc.
#include "store/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "store/object_file.h"

namespace ds::store {

namespace {

using file_names::FanoutDirName;

// Unlinks a temporary file unless released: every failure path of Put cleans up after itself.
class TempFile {
 public:
  TempFile(int dir_fd, std::string name) : dir_fd_(dir_fd), name_(std::move(name)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!name_.empty()) ::unlinkat(dir_fd_, name_.c_str(), 0);
  }
  const std::string& name() const { return name_; }
  void Release() { name_.clear(); }

 private:
  int dir_fd_;
  std::string name_;
};

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

Result<std::string> FileStore::CurrentEtag(int subdir_fd, const std::string& name,
                                           std::string_view key) {
  if (subdir_fd < 0) return std::string();
  UniqueFd fd(::openat(subdir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::string();
    return ErrnoError("open object " + std::string(key), errno);
  }
  return object_file::ReadEtag(fd.get(), key);
}

Status FileStore::CheckCondition(const Location& loc, int subdir_fd,
                                 const WriteCondition& condition, std::string_view key) {
  if (condition.kind == WriteCondition::Kind::kNone) return Status::OK();
  Result<std::string> current = CurrentEtag(subdir_fd, loc.name, key);
  if (!current.ok()) return current.status();
  if (condition.kind == WriteCondition::Kind::kCreateOnly) {
    if (!current->empty()) return Status::PreconditionFailed("object exists: " + std::string(key));
    return Status::OK();
  }
  if (current->empty()) {
    return Status::PreconditionFailed("object does not exist: " + std::string(key));
  }
  if (*current != condition.etag) {
    return Status::PreconditionFailed("etag differs: " + std::string(key));
  }
  return Status::OK();
}

Status FileStore::WriteTemp(const std::string& temp_name, std::string_view etag,
                            std::string_view data) {
  const std::string what = dir_ + "/tmp/" + temp_name;
  UniqueFd fd(
      ::openat(tmp_fd_.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoError("create " + what, errno);
  return WriteAll(fd.get(), object_file::Header(etag), data, "write " + what);
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

  // The stripe lock is needed only to open: a writer holds it until its object is durable,
  // and once open, the file is immutable (writers replace it, never modify it).
  UniqueFd fd;
  {
    std::shared_lock lock(stripes_[loc->stripe]);
    fd = UniqueFd(::openat(*subdir_fd, loc->name.c_str(), O_RDONLY | O_CLOEXEC));
  }
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(std::string(key));
    return ErrnoError("open object " + std::string(key), errno);
  }
  Result<std::string> etag = object_file::ReadEtag(fd.get(), key);
  if (!etag.ok()) return etag.status();
  if (!if_none_match.empty() && if_none_match == *etag) {
    return Status::NotModified(std::string(key));
  }

  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat object " + std::string(key), errno);
  Object object;
  object.data.resize(static_cast<size_t>(st.st_size) - object_file::kHeaderSize);
  Result<size_t> n =
      PReadUpTo(fd.get(), object.data.data(), object.data.size(),
                static_cast<off_t>(object_file::kHeaderSize), "read object " + std::string(key));
  if (!n.ok()) return n.status();
  if (*n != object.data.size() || object_file::ContentEtag(object.data) != *etag) {
    return Status::Corruption("file store: object " + std::string(key) +
                              " does not match its etag (" + dir_ + ")");
  }
  object.etag = std::move(*etag);
  return object;
}

// --- Put -------------------------------------------------------------------------------------

Result<std::string> FileStore::Put(std::string_view key, std::string_view data,
                                   const WriteCondition& condition) {
  if (Status s = CheckNotFailed(); !s.ok()) return s;
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/true);
  if (!subdir_fd.ok()) return subdir_fd.status();

  // A condition that already fails costs no file and no journal record. Checked again under
  // the lock below; failing here is linearizable too (the object was in that state during the
  // call).
  if (Status s = CheckCondition(*loc, *subdir_fd, condition, key); !s.ok()) return s;

  // The new version's file, written outside any lock and never fsynced: the journal record
  // is what makes the write durable; the file becomes durable at the next checkpoint, and a
  // replay rewrites it if a crash comes first.
  const std::string etag = object_file::ContentEtag(data);
  TempFile temp(tmp_fd_.get(), std::to_string(next_temp_.fetch_add(1)));
  if (Status s = WriteTemp(temp.name(), etag, data); !s.ok()) return s;

  std::unique_lock lock(stripes_[loc->stripe]);
  if (Status s = CheckCondition(*loc, *subdir_fd, condition, key); !s.ok()) return s;
  // Journaled and committed under the lock, so that records of one key are in the order of
  // its writes, and so that no Get or conditional Put sees this version before a crash can no
  // longer take it back.
  Result<FileJournal::Ticket> ticket = journal_->Append({JournalOp::kPut, key, data});
  if (!ticket.ok()) return ticket.status();
  if (Status s = journal_->Commit(*ticket); !s.ok()) {
    // The record may or may not have reached the disk: a replay may apply it, or not. Until
    // the restart that decides, the store fails every call (see Fail), and the caller re-reads
    // after it.
    Fail(s);
    return Status::OutcomeUnknown("file store: write of " + std::string(key) +
                                  " may or may not be durable: " + s.ToString());
  }
  if (::renameat(tmp_fd_.get(), temp.name().c_str(), *subdir_fd, loc->name.c_str()) != 0) {
    // Committed but not applied: the object file shows the previous version while the journal
    // holds this one, and the next replay will apply it. Serving on would let readers and
    // conditional writers act on a version the store has already given up, so the store fails
    // every call from now on (as after an fsync failure: fsyncgate), and a restart replays the
    // journal and brings files and journal back together. The outcome is unknown to the
    // caller until then.
    const Status error = ErrnoError("rename object " + std::string(key) + " into place", errno);
    Fail(error);
    return Status::OutcomeUnknown("file store: " + error.message());
  }
  temp.Release();
  if (condition.kind != WriteCondition::Kind::kIfMatch) window_.NoteCreated(loc->name);
  return etag;  // `ticket` is released here, after the rename: its generation may retire
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
    // Committed but not applied; the same policy as a failed rename in Put.
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

}  // namespace ds::store
