// WritePath: how a session's accepted state travels to the store.
//
// This is the seam SPEC §9 asks for. Today DirectWritePath issues one conditional PUT per flush
// of one session (coalesced by the actor: at most one write in flight per session). The planned
// next step — a write-ahead log in the object store that group-commits many sessions' changes
// per PUT and writes per-session snapshots lazily — replaces this one component; the session
// actor and the stores stay as they are.
//
// Contract: Write/Remove complete exactly once, on `loop`. A Write's result is the object's new
// etag, or PreconditionFailed (another writer changed the object), or OutcomeUnknown (the write
// may have been applied; the actor re-reads to find out), or another error.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "common/result.h"
#include "session/store_executor.h"
#include "store/store.h"

namespace ds::session {

class WritePath {
 public:
  virtual ~WritePath() = default;
  virtual void Write(boost::asio::io_context& loop, std::string key, std::string bytes,
                     store::WriteCondition condition,
                     std::function<void(Result<std::string>)> done) = 0;
  virtual void Remove(boost::asio::io_context& loop, std::string key,
                      std::function<void(Status)> done) = 0;
};

// One store request per flush, run on the StoreExecutor's pool.
class DirectWritePath final : public WritePath {
 public:
  explicit DirectWritePath(StoreExecutor& executor) : executor_(executor) {}

  void Write(boost::asio::io_context& loop, std::string key, std::string bytes,
             store::WriteCondition condition,
             std::function<void(Result<std::string>)> done) override {
    executor_.Run<Result<std::string>>(
        loop,
        [key = std::move(key), bytes = std::move(bytes), condition = std::move(condition)](
            store::Store& s) { return s.Put(key, bytes, condition); },
        std::move(done));
  }

  void Remove(boost::asio::io_context& loop, std::string key,
              std::function<void(Status)> done) override {
    executor_.Run<Status>(
        loop, [key = std::move(key)](store::Store& s) { return s.Delete(key); }, std::move(done));
  }

 private:
  StoreExecutor& executor_;
};

}  // namespace ds::session
