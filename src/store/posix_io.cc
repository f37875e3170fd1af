// Implementation of posix_io.h.
#include "store/posix_io.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ds::store {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) {
    // close() may report EINTR/EIO, but the descriptor is released either way and nothing
    // durable depends on it: every write that matters was fsynced before.
    ::close(fd_);
  }
  fd_ = fd;
}

Status ErrnoError(std::string_view what, int err) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(std::move(msg));
}

Result<DirStream> OpenDirStream(int dir_fd, const char* name, const std::string& what) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + what, errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return ErrnoError("opendir " + what, err);
  }
  return DirStream(dir);
}

namespace {

// Writes `first` then `second`, at the current offset of `fd` when `offset` < 0, else at
// `offset`; retries EINTR and short writes.
Status WriteTwo(int fd, std::string_view first, std::string_view second, off_t offset,
                std::string_view what) {
  iovec iov[2];
  iov[0] = {const_cast<char*>(first.data()), first.size()};
  iov[1] = {const_cast<char*>(second.data()), second.size()};
  int index = 0;
  while (index < 2) {
    if (iov[index].iov_len == 0) {
      ++index;
      continue;
    }
    ssize_t n = offset < 0 ? ::writev(fd, &iov[index], 2 - index)
                           : ::pwritev(fd, &iov[index], 2 - index, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(what, errno);
    }
    if (offset >= 0) offset += static_cast<off_t>(n);
    auto written = static_cast<size_t>(n);
    while (index < 2 && written >= iov[index].iov_len) {
      written -= iov[index].iov_len;
      ++index;
    }
    if (index < 2) {
      iov[index].iov_base = static_cast<char*>(iov[index].iov_base) + written;
      iov[index].iov_len -= written;
    }
  }
  return Status::OK();
}

}  // namespace

Status WriteAll(int fd, std::string_view first, std::string_view second, std::string_view what) {
  return WriteTwo(fd, first, second, /*offset=*/-1, what);
}

Status PWriteAll(int fd, std::string_view first, std::string_view second, off_t offset,
                 std::string_view what) {
  return WriteTwo(fd, first, second, offset, what);
}

Status PWriteAll(int fd, std::string_view data, off_t offset, std::string_view what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(what, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Result<size_t> PReadUpTo(int fd, char* buf, size_t n, off_t offset, std::string_view what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, offset + static_cast<off_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(what, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status Fsync(int fd, std::string_view what) {
  // No retry loop on EINTR for fsync: Linux does not return it, and after any other failure
  // retrying could report success for data the kernel already dropped.
  if (::fsync(fd) != 0) return ErrnoError(what, errno);
  return Status::OK();
}

Status Fdatasync(int fd, std::string_view what) {
  if (::fdatasync(fd) != 0) return ErrnoError(what, errno);
  return Status::OK();
}

}  // namespace ds::store
