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

Status FileStore::SyncSubdir(size_t index, int fd) {
  const std::string what = "fsync " + dir_ + "/objects/" + FanoutDirName(index);
  if (options_.group_commit) return syncer_.Sync(index, fd, what);
  unbatched_fsyncs_.fetch_add(1, std::memory_order_relaxed);
  return Fsync(fd, what);
}

// --- Get -------------------------------------------------------------------------------------

Result<Object> FileStore::Get(std::string_view key, std::string_view if_none_match) {
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
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/true);
  if (!subdir_fd.ok()) return subdir_fd.status();

  // A condition that already fails costs no file and no fsync. Checked again under the lock
  // below; failing here is linearizable too (the object was in that state during the call).
  if (Status s = CheckCondition(*loc, *subdir_fd, condition, key); !s.ok()) return s;

  // Write and fdatasync the new version outside any lock: this is the slow part, and writers
  // of different keys (and the kernel's journal) overlap it freely.
  const std::string etag = object_file::ContentEtag(data);
  TempFile temp(tmp_fd_.get(), std::to_string(next_temp_.fetch_add(1)));
  {
    const std::string what = dir_ + "/tmp/" + temp.name();
    UniqueFd fd(::openat(tmp_fd_.get(), temp.name().c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoError("create " + what, errno);
    Status written = WriteAll(fd.get(), object_file::Header(etag), data, "write " + what);
    if (!written.ok()) return written;
    if (Status s = Fdatasync(fd.get(), "fdatasync " + what); !s.ok()) return s;
  }

  std::unique_lock lock(stripes_[loc->stripe]);
  if (Status s = CheckCondition(*loc, *subdir_fd, condition, key); !s.ok()) return s;
  if (::renameat(tmp_fd_.get(), temp.name().c_str(), *subdir_fd, loc->name.c_str()) != 0) {
    return ErrnoError("rename object " + std::string(key) + " into place", errno);
  }
  temp.Release();
  if (condition.kind != WriteCondition::Kind::kIfMatch) window_.NoteCreated(loc->name);
  // Held until the rename is durable: a Get or a conditional Put of this key must not act on a
  // version that a crash could still take back.
  if (Status s = SyncSubdir(loc->subdir, *subdir_fd); !s.ok()) return s;
  return etag;
}

// --- Delete ----------------------------------------------------------------------------------

Status FileStore::Delete(std::string_view key) {
  Result<Location> loc = Locate(key);
  if (!loc.ok()) return loc.status();
  Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
  if (!subdir_fd.ok()) return subdir_fd.status();
  if (*subdir_fd < 0) return Status::OK();

  std::unique_lock lock(stripes_[loc->stripe]);
  if (::unlinkat(*subdir_fd, loc->name.c_str(), 0) != 0) {
    // Already gone: deleting a missing object succeeds. Nothing to sync either, since every
    // change to this key made by this process was durable before its lock was released.
    if (errno == ENOENT) return Status::OK();
    return ErrnoError("unlink object " + std::string(key), errno);
  }
  window_.NoteDeleted(loc->name);
  return SyncSubdir(loc->subdir, *subdir_fd);
}

FileStore::Stats FileStore::stats() const {
  Stats stats;
  if (options_.group_commit) {
    stats.dir_syncs = syncer_.sync_count();
    stats.dir_fsyncs = syncer_.fsync_count();
  } else {
    stats.dir_syncs = stats.dir_fsyncs = unbatched_fsyncs_.load(std::memory_order_relaxed);
  }
  return stats;
}

}  // namespace ds::store
