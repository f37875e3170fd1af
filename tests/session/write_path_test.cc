// BatchingWritePath: writes collected during a turn of the loop reach the store as one batch
// and each completes exactly once, on the loop; with an inline store, Flush completes them at
// once (the shard calls it after running a connection's requests).
#include "session/write_path.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/memory_store.h"

namespace ds::session {
namespace {

using store::Operation;
using store::WriteCondition;

// Runs `loop` until `done`; the guard keeps run_one() waiting for completions a pool thread
// has not posted yet.
template <typename Pred>
void RunUntil(boost::asio::io_context& loop, Pred done) {
  auto guard = boost::asio::make_work_guard(loop);
  while (!done()) loop.run_one();
}

// A write's listener that calls `fn`, as the session actor would its OnWriteDone.
class CallingListener final : public WriteListener {
 public:
  explicit CallingListener(std::function<void(Result<std::string>)> fn) : fn_(std::move(fn)) {}
  void OnWriteDone(Result<std::string> result) override { fn_(std::move(result)); }

 private:
  std::function<void(Result<std::string>)> fn_;
};

std::shared_ptr<WriteListener> Calling(std::function<void(Result<std::string>)> fn) {
  return std::make_shared<CallingListener>(std::move(fn));
}

struct Completions {
  std::vector<std::optional<Result<std::string>>> results;
  std::shared_ptr<WriteListener> For(size_t i) {
    if (results.size() <= i) results.resize(i + 1);
    return Calling([this, i](Result<std::string> r) {
      EXPECT_FALSE(results[i].has_value()) << "write " << i << " completed twice";
      results[i] = std::move(r);
    });
  }
  bool All() const {
    for (const auto& r : results) {
      if (!r.has_value()) return false;
    }
    return true;
  }
};

// A write path over a memory store run in `mode`, and the loop it completes on.
struct Harness {
  explicit Harness(StoreExecutor::Mode mode) : executor(store, 2, mode), writer(executor) {}
  store::MemoryStore store;
  StoreExecutor executor;
  BatchingWritePath writer;
  boost::asio::io_context loop;
};

TEST(BatchingWritePathTest, WritesOfOneTurnReachTheStoreAsOneBatchAndCompleteOnce) {
  for (auto mode : {StoreExecutor::Mode::kInline, StoreExecutor::Mode::kPool}) {
    Harness h(mode);
    auto& [store, executor, writer, loop] = h;
    std::vector<std::string> bytes = {"a", "b", "c"};
    Completions done;
    for (size_t i = 0; i < bytes.size(); ++i) {
      writer.Write(loop, "k" + std::to_string(i), bytes[i], WriteCondition::CreateOnly(),
                   done.For(i));
    }
    EXPECT_EQ(store.OperationCount(Operation::kPut), 0u) << "written before the turn ended";
    RunUntil(loop, [&] { return done.All(); });
    for (const auto& r : done.results) EXPECT_TRUE(r->ok()) << r->status().ToString();
    EXPECT_EQ(store.OperationCount(Operation::kPut), 3u);
    loop.restart();
    loop.poll();  // nothing is left to complete a second time
  }
}

TEST(BatchingWritePathTest, FlushCompletesAnInlineStoresWritesAtOnce) {
  Harness h(StoreExecutor::Mode::kInline);
  auto& [store, executor, writer, loop] = h;
  std::string first = "one";
  std::string second = "two";
  Completions done;
  writer.Write(loop, "k1", first, WriteCondition::CreateOnly(), done.For(0));
  writer.Write(loop, "k2", second, WriteCondition::CreateOnly(), done.For(1));
  EXPECT_EQ(writer.flushable(), 2u);
  writer.Flush();
  EXPECT_EQ(writer.flushable(), 0u);
  ASSERT_TRUE(done.All()) << "Flush did not complete the writes";
  EXPECT_TRUE(done.results[0]->ok());
  EXPECT_TRUE(done.results[1]->ok());
  EXPECT_EQ(store.Get("k2")->data, "two");
  // The turn's Dispatch, already posted, finds nothing left to do.
  loop.poll();
  EXPECT_EQ(store.OperationCount(Operation::kPut), 2u);
}

TEST(BatchingWritePathTest, AWriteStartedByACompletionDuringFlushGoesOutWithTheTurn) {
  Harness h(StoreExecutor::Mode::kInline);
  auto& [store, executor, writer, loop] = h;
  std::string first = "first";
  std::string again = "again";
  Completions done;
  auto second_done = done.For(1);
  auto first_done = done.For(0);
  writer.Write(loop, "k", first, WriteCondition::CreateOnly(), Calling([&](Result<std::string> r) {
                 ASSERT_TRUE(r.ok());
                 // As an actor does when changes arrived during its write.
                 writer.Write(loop, "k", again, WriteCondition::IfMatch(*r), second_done);
                 first_done->OnWriteDone(std::move(r));
               }));
  writer.Flush();
  ASSERT_TRUE(done.results[0].has_value());
  EXPECT_FALSE(done.results[1].has_value()) << "Flush ran a write it did not start with";
  RunUntil(loop, [&] { return done.All(); });
  EXPECT_TRUE(done.results[1]->ok()) << done.results[1]->status().ToString();
  EXPECT_EQ(store.Get("k")->data, "again");
}

TEST(BatchingWritePathTest, FlushLeavesAStoreOnThreadsToItsTurn) {
  Harness h(StoreExecutor::Mode::kPool);
  auto& [store, executor, writer, loop] = h;
  std::string bytes = "v";
  Completions done;
  writer.Write(loop, "k", bytes, WriteCondition::CreateOnly(), done.For(0));
  EXPECT_EQ(writer.flushable(), 0u) << "a store on threads has nothing for Flush";
  writer.Flush();
  EXPECT_EQ(store.OperationCount(Operation::kPut), 0u);
  RunUntil(loop, [&] { return done.All(); });
  EXPECT_TRUE(done.results[0]->ok());
}

}  // namespace
}  // namespace ds::session
