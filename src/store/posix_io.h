// Small RAII and I/O helpers over POSIX file descriptors, for the file store.
//
// The read/write helpers retry EINTR and short transfers, every helper and turns errno into an
// IOError that names what was being done, so that callers read as a sequence of steps.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace ds::store {

// Owns a file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Owns a directory stream (closedir on destruction).
struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

// Opens directory `name` (relative to `dir_fd`; "." for dir_fd itself) to read its entries
// with readdir. A stream of its own: reading it does not move `dir_fd`'s offset. `what` names
// the directory in messages.
Result<DirStream> OpenDirStream(int dir_fd, const char* name, const std::string& what);

// An IOError "<what>: <strerror(err)>".
Status ErrnoError(std::string_view what, int err);

// Writes `first` then `second` at the current offset of `fd` (one writev when possible).
Status WriteAll(int fd, std::string_view first, std::string_view second, std::string_view what);

// Writes all of `data` at `offset` of `fd`.
Status PWriteAll(int fd, std::string_view data, off_t offset, std::string_view what);

// Writes `first` then `second` at `offset` of `fd` (one pwritev when possible).
Status PWriteAll(int fd, std::string_view first, std::string_view second, off_t offset,
                 std::string_view what);

// Reads up to `n` bytes at `offset` into `buf`; fewer only at end of file.
Result<size_t> PReadUpTo(int fd, char* buf, size_t n, off_t offset, std::string_view what);

// fsync / fdatasync. A failure is final and never retried (see posix_io.cc).
Status Fsync(int fd, std::string_view what);
Status Fdatasync(int fd, std::string_view what);

}  // namespace ds::store
