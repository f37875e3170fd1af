// StripeLock: the reader/writer lock of one of the file store's key stripes (file_store.h).
//
// Why not std::shared_mutex: glibc's implementation prefers readers, so a writer waits until
// no reader holds the lock, and readers that keep overlapping (Gets of a hot key, or of keys
// sharing its stripe, each holding the lock for a whole read of an object file) can delay a
// Put indefinitely. This one prefers writers: once a writer waits, new readers queue behind
// it. The price is that a thread must never take it shared twice (a writer arriving between
// the two would deadlock it); the file store never nests stripe locks.
//
// Meets the SharedMutex requirements, for std::unique_lock and std::shared_lock.
#pragma once

#include <pthread.h>

namespace ds::store {

class StripeLock {
 public:
  StripeLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~StripeLock() { pthread_rwlock_destroy(&lock_); }
  StripeLock(const StripeLock&) = delete;
  StripeLock& operator=(const StripeLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace ds::store
