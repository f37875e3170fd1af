// DirSyncer: group commit of directory fsyncs, so that durable write throughput grows with the
// number of concurrent writers instead of being capped at one fsync latency per write.
//
// A file renamed into a directory is durable only once that directory has been fsynced, and an
// fsync makes durable every change made to the directory before the fsync started. So when
// many threads rename into one directory at once, they need one fsync between them, not one
// each. Sync() implements the classic leader/follower pattern:
//
//   - every caller takes a ticket (in order of arrival, after its rename);
//   - if no fsync of the directory is running, the caller becomes the leader: it notes the
//     highest ticket issued so far, runs the fsync with no lock held, then publishes "every
//     ticket up to that one is durable" and wakes the waiters;
//   - otherwise the caller waits. When the running fsync ends, the waiters whose tickets it
//     covers return; one of the others becomes the next leader and covers, with a single
//     fsync, everyone who arrived while the previous fsync was running.
//
// Under load, each fsync therefore covers every write that arrived during the previous one.
// The kernel adds its own batching on top: fsyncs of different directories that run at the
// same time are usually satisfied by one journal commit (ext4, XFS).
//
// A failed fsync is sticky: once the kernel has reported a write-back error for a directory,
// nothing later can be trusted to be durable there, so the failing batch and every later
// caller get the error (the same policy as PostgreSQL after its "fsyncgate").
//
// Thread safety: Sync may be called concurrently for any directories.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace ds::store {

class DirSyncer {
 public:
  // `num_dirs` independent directories, addressed by index 0..num_dirs-1.
  explicit DirSyncer(size_t num_dirs);
  DirSyncer(const DirSyncer&) = delete;
  DirSyncer& operator=(const DirSyncer&) = delete;

  // Returns once an fsync of directory `index` (open as `fd`) that started after this call
  // began has completed, or with the error of that fsync. `what` names the directory for
  // the error message. REQUIRES: the caller's change to the directory is complete.
  Status Sync(size_t index, int fd, std::string_view what);

  // Number of fsync calls made, over all directories (for benchmarks and tests).
  uint64_t fsync_count() const { return fsync_count_.load(std::memory_order_relaxed); }
  // Number of Sync calls served.
  uint64_t sync_count() const { return sync_count_.load(std::memory_order_relaxed); }

 private:
  struct Dir {
    std::mutex mu;
    std::condition_variable done;
    uint64_t issued = 0;   // highest ticket handed out
    uint64_t durable = 0;  // every ticket <= durable is covered by a finished fsync
    bool leader_running = false;
    uint64_t failed_from = UINT64_MAX;  // tickets >= this get `error`
    Status error;
  };

  std::unique_ptr<Dir[]> dirs_;
  [[maybe_unused]] size_t num_dirs_;  // checked by assert only
  std::atomic<uint64_t> fsync_count_{0};
  std::atomic<uint64_t> sync_count_{0};
};

}  // namespace ds::store
