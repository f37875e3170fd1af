// WritePath: how a session's accepted state travels to the store.
//
// This is the seam SPEC §9 asks for. DirectWritePath issues one conditional PUT per flush of
// one session (coalesced by the actor: at most one write in flight per session), concurrently
// on the store threads: right for S3, where each request is a round trip. BatchingWritePath
// hands a shard's flushes to the store in batches, one per turn of the shard's loop: right for
// the file store, which makes a whole batch durable with one journal commit
// (Store::PrefersBatchedWrites), and for the memory store, which runs inline: the shard lets it
// make and complete the writes of a few connections' requests right after them (Flush). The
// planned next step for object stores — a write-ahead log in the bucket that group-commits many
// sessions' changes per PUT — is a third implementation; the session actor and the stores stay as
// they are.
//
// Contract: Write/Remove complete exactly once, on `loop` (a Write by calling its listener's
// OnWriteDone, a Remove by calling `done`). A Write's result is the object's new etag, or
// PreconditionFailed (another writer changed the object), or OutcomeUnknown (the write may have
// been applied; the actor re-reads to find out), or another error. The bytes of a Write are not
// copied: the caller keeps them alive and unchanged until its listener has been called (the
// session actor holds them anyway, to recognise its own write after an OutcomeUnknown) — except
// that a write that succeeds may have moved them into the store (Store::PutTakingBuffer), leaving
// the string with other contents: the caller has no use for them once the write has landed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "session/store_executor.h"
#include "store/store.h"

namespace ds::session {

// Who learns how a write ended: the session actor whose state it carries, kept alive by the
// shared_ptr the write holds until then. An interface rather than a std::function because that
// would allocate, once per write, to hold the shared_ptr.
class WriteListener {
 public:
  virtual ~WriteListener() = default;
  virtual void OnWriteDone(Result<std::string> result) = 0;
};

class WritePath {
 public:
  virtual ~WritePath() = default;
  virtual void Write(boost::asio::io_context& loop, std::string key, std::string& bytes,
                     store::WriteCondition condition, std::shared_ptr<WriteListener> listener) = 0;
  virtual void Remove(boost::asio::io_context& loop, std::string key,
                      std::function<void(Status)> done) = 0;
  // Called by the shard where no session code is on the stack (after it ran some connections'
  // requests): a write path may make and complete the writes collected so far right there,
  // completions included. Nothing by default.
  virtual void Flush() {}
  // How many writes Flush would make now (0 where Flush does nothing).
  virtual size_t flushable() const { return 0; }
};

// One store request per flush, run on the StoreExecutor's pool.
class DirectWritePath final : public WritePath {
 public:
  explicit DirectWritePath(StoreExecutor& executor) : executor_(executor) {}

  void Write(boost::asio::io_context& loop, std::string key, std::string& bytes,
             store::WriteCondition condition, std::shared_ptr<WriteListener> listener) override {
    executor_.Run<Result<std::string>>(
        loop,
        [key = std::move(key), bytes = std::string_view(bytes), condition = std::move(condition)](
            store::Store& s) { return s.Put(key, bytes, condition); },
        [listener = std::move(listener)](Result<std::string> result) {
          listener->OnWriteDone(std::move(result));
        });
  }

  void Remove(boost::asio::io_context& loop, std::string key,
              std::function<void(Status)> done) override {
    executor_.Run<Status>(
        loop, [key = std::move(key)](store::Store& s) { return s.Delete(key); }, std::move(done));
  }

 private:
  StoreExecutor& executor_;
};

// Writes of one shard, collected during a turn of its loop and handed to the store as one
// PutBatch on a store thread: one hand-off and one journal commit for the batch, instead of one
// of each per session. Used from one loop only (each shard has its own); removals are rare and
// go directly.
class BatchingWritePath final : public WritePath {
 public:
  // A batch is cut at this many writes, so that one batch never holds the store's key locks
  // for long; the rest wait for the next.
  static constexpr size_t kMaxBatch = 256;

  explicit BatchingWritePath(StoreExecutor& executor) : executor_(executor), direct_(executor) {}

  void Write(boost::asio::io_context& loop, std::string key, std::string& bytes,
             store::WriteCondition condition, std::shared_ptr<WriteListener> listener) override {
    pending_.emplace_back(std::move(key), &bytes, std::move(condition), std::move(listener));
    // The first write of a turn schedules the dispatch behind the handlers already queued, so
    // that the flushes of this whole turn of the loop join it. One is scheduled at a time: with
    // an inline store, Flush empties the batch every few connections' requests, and a dispatch
    // posted for each flush would mostly find nothing to do.
    if (dispatch_posted_) return;
    dispatch_posted_ = true;
    boost::asio::post(loop, [this, &loop] {
      dispatch_posted_ = false;
      Dispatch(loop);
    });
  }

  void Remove(boost::asio::io_context& loop, std::string key,
              std::function<void(Status)> done) override {
    direct_.Remove(loop, std::move(key), std::move(done));
  }

  // With a store that runs inline (the memory store), the writes of the requests just run are
  // made and completed at once, while the sessions, the encoded bytes and the actors' Activity
  // they touch are still in the CPU's caches. Left for the turn's Dispatch they are completed
  // after every other ready connection's requests (hundreds of sessions later, with 16-deep
  // pipelines) and each completion starts with cache misses. A store on threads keeps its
  // per-turn batches: there the batch size is what matters (one journal commit per batch).
  //
  // Each write is made and completed in turn (an in-process store gains nothing from a
  // PutBatch), and the store takes the encoded bytes rather than copying them: the writer drops
  // them once the write has landed anyway. The two buffers swapped here keep their capacity from
  // call to call.
  void Flush() override {
    if (!executor_.runs_inline() || pending_.empty() || !flushing_.empty()) return;
    flushing_.swap(pending_);  // completions may add writes: those go to the posted Dispatch
    if (flushing_.size() > 1) {
      flushing_keys_.clear();
      for (const PendingWrite& w : flushing_) flushing_keys_.emplace_back(w.key);
      executor_.store().PrefetchForWrites(flushing_keys_);
    }
    for (PendingWrite& w : flushing_) {
      w.listener->OnWriteDone(executor_.store().PutTakingBuffer(w.key, *w.bytes, w.condition));
    }
    flushing_.clear();
  }

  size_t flushable() const override { return executor_.runs_inline() ? pending_.size() : 0; }

 private:
  struct PendingWrite {
    // Takes its parts by rvalue reference so that emplace_back moves each once (with
    // libstdc++'s inline strings a move copies the bytes).
    PendingWrite(std::string&& key, std::string* bytes, store::WriteCondition&& condition,
                 std::shared_ptr<WriteListener>&& listener)
        : key(std::move(key)),
          bytes(bytes),
          condition(std::move(condition)),
          listener(std::move(listener)) {}

    std::string key;
    std::string* bytes;  // the writer's, until the listener is called (see the contract above)
    store::WriteCondition condition;
    std::shared_ptr<WriteListener> listener;
  };
  using Batch = std::vector<PendingWrite>;

  static std::vector<Result<std::string>> PutAll(store::Store& store, const Batch& batch) {
    std::vector<store::PutRequest> puts;
    puts.reserve(batch.size());
    for (const PendingWrite& w : batch) puts.push_back({w.key, *w.bytes, w.condition});
    return store.PutBatch(puts);
  }

  void Dispatch(boost::asio::io_context& loop) {
    while (!pending_.empty()) {
      auto batch = std::make_shared<Batch>();
      if (pending_.size() <= kMaxBatch) {
        batch->swap(pending_);
      } else {
        batch->assign(std::make_move_iterator(pending_.begin()),
                      std::make_move_iterator(pending_.begin() + kMaxBatch));
        pending_.erase(pending_.begin(), pending_.begin() + kMaxBatch);
      }
      executor_.Run<std::vector<Result<std::string>>>(
          loop, [batch](store::Store& s) { return PutAll(s, *batch); },
          [batch](std::vector<Result<std::string>> results) {
            for (size_t i = 0; i < batch->size(); ++i) {
              (*batch)[i].listener->OnWriteDone(std::move(results[i]));
            }
          });
    }
  }

  StoreExecutor& executor_;
  DirectWritePath direct_;  // for removals
  Batch pending_;           // writes of the current turn, not yet dispatched
  Batch flushing_;          // the writes Flush is completing (empty outside Flush)
  std::vector<std::string_view> flushing_keys_;  // their keys, for Store::PrefetchForWrites
  bool dispatch_posted_ = false;                 // a Dispatch is queued on the loop
};

// The write path a shard uses with `executor`'s store. Batches suit a store that commits them
// at once (the file store), and a store that runs inline on the shard (the memory store): its
// writes are then completed by Flush every few connections' requests, or at the latest with
// the turn's batch, instead of one completion posted per write.
inline std::unique_ptr<WritePath> MakeWritePath(StoreExecutor& executor) {
  if (executor.store().PrefersBatchedWrites() || executor.runs_inline()) {
    return std::make_unique<BatchingWritePath>(executor);
  }
  return std::make_unique<DirectWritePath>(executor);
}

}  // namespace ds::session
