// BackgroundPass: runs one function on a thread of its own whenever asked to.
//
// Requests that arrive while a pass runs are folded into one more pass after it, so a caller
// can ask as often as it likes (e.g. after every write that finds a cache too full) without
// piling up work. The file store uses it to write dirty objects to their files early when
// they take too much memory (file_store.h, "Dirty objects").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace ds::store {

class BackgroundPass {
 public:
  explicit BackgroundPass(std::function<void()> pass)
      : pass_(std::move(pass)), thread_([this] { Run(); }) {}
  BackgroundPass(const BackgroundPass&) = delete;
  BackgroundPass& operator=(const BackgroundPass&) = delete;

  // Waits for a pass that is running to end (a requested one that has not started is
  // dropped), then stops the thread.
  ~BackgroundPass() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // Asks for a pass that starts after this call.
  void Request() {
    {
      std::lock_guard lock(mu_);
      ++requested_;
    }
    changed_.notify_all();
  }

  // Waits until every pass requested so far has run. For tests.
  void WaitUntilIdle() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return finished_ >= requested_ || stopping_; });
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      changed_.wait(lock, [this] { return started_ < requested_ || stopping_; });
      if (stopping_) return;
      const uint64_t covers = requested_;  // everything asked for until now
      started_ = covers;
      lock.unlock();
      pass_();
      lock.lock();
      finished_ = covers;
      changed_.notify_all();
    }
  }

  const std::function<void()> pass_;
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t requested_ = 0;  // under mu_: Request() calls so far
  uint64_t started_ = 0;    // under mu_: requests covered by the pass running or last run
  uint64_t finished_ = 0;   // under mu_: requests covered by the last finished pass
  bool stopping_ = false;   // under mu_
  std::thread thread_;      // last: starts once everything above is initialized
};

}  // namespace ds::store
