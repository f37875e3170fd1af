// StoreExecutor: both modes run the work, deliver the result on the caller's loop, and never
// call back before the call that asked has returned (actors rely on not being re-entered).
#include "session/store_executor.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <string>
#include <thread>

#include "store/memory_store.h"

namespace ds::session {
namespace {

class StoreExecutorTest : public ::testing::TestWithParam<StoreExecutor::Mode> {};

// Runs `loop` until `done`; the guard keeps run_one() waiting for a completion that a pool
// thread has not posted yet (without it, an idle io_context stops and run_one() spins).
void RunUntil(boost::asio::io_context& loop, const bool& done) {
  auto guard = boost::asio::make_work_guard(loop);
  while (!done) loop.run_one();
}

TEST_P(StoreExecutorTest, CompletesOnTheCallersLoopAfterTheCallReturns) {
  store::MemoryStore store;
  StoreExecutor executor(store, 2, GetParam());
  boost::asio::io_context loop;

  bool returned = false;
  bool completed = false;
  std::thread::id completed_on;
  executor.Run<Result<std::string>>(
      loop, [](store::Store& s) { return s.Put("k", "v", store::WriteCondition::None()); },
      [&](const Result<std::string>& etag) {
        EXPECT_TRUE(returned) << "completion ran inside Run";
        EXPECT_TRUE(etag.ok()) << etag.status().ToString();
        completed = true;
        completed_on = std::this_thread::get_id();
      });
  returned = true;
  RunUntil(loop, completed);
  EXPECT_EQ(completed_on, std::this_thread::get_id());

  // The work really ran against the store.
  Result<store::Object> object = store.Get("k");
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(object->data, "v");
}

TEST_P(StoreExecutorTest, RunsTheWorkOnTheCallingThreadOnlyInInlineMode) {
  store::MemoryStore store;
  StoreExecutor executor(store, 2, GetParam());
  boost::asio::io_context loop;

  std::thread::id worked_on;
  bool completed = false;
  executor.Run<int>(
      loop,
      [&](store::Store&) {
        worked_on = std::this_thread::get_id();
        return 1;
      },
      [&](int) { completed = true; });
  RunUntil(loop, completed);
  if (GetParam() == StoreExecutor::Mode::kInline) {
    EXPECT_EQ(worked_on, std::this_thread::get_id());
  } else {
    EXPECT_NE(worked_on, std::this_thread::get_id());
  }
}

// A store that says nothing about itself, as the file and s3 stores do.
class OutOfProcessStore final : public store::Store {
 public:
  Result<store::Object> Get(std::string_view, std::string_view) override {
    return Status::NotFound("");
  }
  Result<std::string> Put(std::string_view, std::string_view,
                          const store::WriteCondition&) override {
    return std::string("e");
  }
  Status Delete(std::string_view) override { return Status::OK(); }
  Result<store::ListPage> List(std::string_view, std::string_view, size_t) override {
    return store::ListPage{};
  }
  std::string Describe() const override { return "out-of-process"; }
};

TEST(StoreExecutorModeTest, InProcessStoresRunInlineOthersOnThePool) {
  store::MemoryStore memory;
  EXPECT_EQ(StoreExecutor::ModeFor(memory), StoreExecutor::Mode::kInline);
  OutOfProcessStore other;
  EXPECT_EQ(StoreExecutor::ModeFor(other), StoreExecutor::Mode::kPool);
}

INSTANTIATE_TEST_SUITE_P(Modes, StoreExecutorTest,
                         ::testing::Values(StoreExecutor::Mode::kPool,
                                           StoreExecutor::Mode::kInline),
                         [](const auto& info) {
                           return info.param == StoreExecutor::Mode::kPool ? "Pool" : "Inline";
                         });

}  // namespace
}  // namespace ds::session
