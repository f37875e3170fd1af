// Implementation of dir_syncer.h.
#include "store/dir_syncer.h"

#include <cassert>

#include "store/posix_io.h"

namespace ds::store {

DirSyncer::DirSyncer(size_t num_dirs)
    : dirs_(std::make_unique<Dir[]>(num_dirs)), num_dirs_(num_dirs) {}

Status DirSyncer::Sync(size_t index, int fd, std::string_view what) {
  assert(index < num_dirs_);
  sync_count_.fetch_add(1, std::memory_order_relaxed);
  Dir& dir = dirs_[index];
  std::unique_lock lock(dir.mu);
  const uint64_t ticket = ++dir.issued;
  for (;;) {
    if (ticket <= dir.durable) {
      return ticket >= dir.failed_from ? dir.error : Status::OK();
    }
    if (!dir.leader_running) break;
    dir.done.wait(lock);
  }

  // Leader: one fsync covers every ticket issued so far, since each was taken after its
  // owner's change to the directory was complete.
  dir.leader_running = true;
  const uint64_t covers = dir.issued;
  const uint64_t first = dir.durable + 1;
  lock.unlock();
  fsync_count_.fetch_add(1, std::memory_order_relaxed);
  Status status = Fsync(fd, what);
  lock.lock();
  if (!status.ok() && dir.failed_from == UINT64_MAX) {
    dir.failed_from = first;
    dir.error = status;
  }
  dir.durable = covers;
  dir.leader_running = false;
  dir.done.notify_all();
  return ticket >= dir.failed_from ? dir.error : Status::OK();
}

}  // namespace ds::store
