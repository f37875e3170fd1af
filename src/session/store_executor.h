// StoreExecutor: runs Store calls without blocking the shards' event loops.
//
// A shard's event loop must never block on the store (an S3 request takes tens of
// milliseconds), so store operations run on a small pool of threads, and their results are
// posted back to the event loop of the session that asked. Callbacks therefore always run on
// the caller's loop, and never before the call that asked for them has returned: session
// actors stay single-threaded and are never re-entered.
//
// The pool also bounds how many store requests are in flight at once (its thread count).
//
// A store whose calls never wait for I/O (Store::IsInProcess: the memory store) runs inline
// instead (Mode::kInline): the call runs on the caller's thread and only the completion is
// posted, to the same loop. Handing a microsecond of work to another thread and back costs
// two thread wake-ups, which on a small virtual machine cost far more than the work itself
// (BENCHMARKS.md measures it).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "common/result.h"
#include "store/store.h"

namespace ds::session {

class StoreExecutor {
 public:
  enum class Mode {
    kPool,    // every call runs on one of `threads` pool threads
    kInline,  // every call runs on the caller's thread (stores that never wait for I/O)
  };

  // The mode the daemon uses for `store`.
  static Mode ModeFor(const store::Store& store) {
    return store.IsInProcess() ? Mode::kInline : Mode::kPool;
  }

  StoreExecutor(store::Store& store, size_t threads, Mode mode = Mode::kPool) : store_(store) {
    if (mode == Mode::kPool) pool_.emplace(threads);
  }
  StoreExecutor(const StoreExecutor&) = delete;
  StoreExecutor& operator=(const StoreExecutor&) = delete;
  ~StoreExecutor() { Join(); }

  store::Store& store() { return store_; }
  // True in Mode::kInline: calls run on the caller's thread.
  bool runs_inline() const { return !pool_; }

  // Runs `work(store)`, a callable returning R, on the pool (or inline), then `done(result)` on
  // `loop`. `work` is taken as it is, not as a std::function: inline, it is just called.
  template <typename R, typename Work>
  void Run(boost::asio::io_context& loop, Work&& work, std::function<void(R)> done) {
    if (!pool_) return Complete(loop, R(work(store_)), std::move(done));
    boost::asio::post(
        *pool_, [this, &loop, work = std::forward<Work>(work), done = std::move(done)]() mutable {
          Complete(loop, R(work(store_)), std::move(done));
        });
  }

  void Get(boost::asio::io_context& loop, std::string key, std::string if_none_match,
           std::function<void(Result<store::Object>)> done) {
    Run<Result<store::Object>>(
        loop,
        [key = std::move(key), inm = std::move(if_none_match)](store::Store& s) {
          return s.Get(key, inm);
        },
        std::move(done));
  }

  // Waits for every queued operation to finish. Used at shutdown.
  void Join() {
    if (pool_) pool_->join();
  }

 private:
  template <typename R>
  static void Complete(boost::asio::io_context& loop, R result, std::function<void(R)> done) {
    boost::asio::post(loop, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  store::Store& store_;
  std::optional<boost::asio::thread_pool> pool_;  // empty in Mode::kInline
};

}  // namespace ds::session
