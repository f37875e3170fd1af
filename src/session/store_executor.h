// StoreExecutor: runs blocking Store calls off the shards' event loops.
//
// A shard's event loop must never block on the store (an S3 request takes tens of
// milliseconds), so every store operation runs on a small pool of threads, and its result is
// posted back to the event loop of the session that asked. Callbacks therefore always run on
// the caller's loop, never on a pool thread: session actors stay single-threaded.
//
// The pool also bounds how many store requests are in flight at once (its thread count).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "common/result.h"
#include "store/store.h"

namespace ds::session {

class StoreExecutor {
 public:
  StoreExecutor(store::Store& store, size_t threads) : store_(store), pool_(threads) {}
  StoreExecutor(const StoreExecutor&) = delete;
  StoreExecutor& operator=(const StoreExecutor&) = delete;
  ~StoreExecutor() { pool_.join(); }

  store::Store& store() { return store_; }

  // Runs `work(store)` on the pool, then `done(result)` on `loop`.
  template <typename R>
  void Run(boost::asio::io_context& loop, std::function<R(store::Store&)> work,
           std::function<void(R)> done) {
    boost::asio::post(pool_, [this, &loop, work = std::move(work), done = std::move(done)]() {
      R result = work(store_);
      boost::asio::post(loop, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
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
  void Join() { pool_.join(); }

 private:
  store::Store& store_;
  boost::asio::thread_pool pool_;
};

}  // namespace ds::session
