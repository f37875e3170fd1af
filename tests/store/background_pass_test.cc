#include "store/background_pass.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace ds::store {
namespace {

TEST(BackgroundPassTest, EachRequestIsFollowedByAPass) {
  std::atomic<int> passes{0};
  BackgroundPass pass([&] { passes++; });
  pass.Request();
  pass.WaitUntilIdle();
  EXPECT_EQ(passes.load(), 1);
  pass.Request();
  pass.WaitUntilIdle();
  EXPECT_EQ(passes.load(), 2);
}

// Requests made while a pass runs are folded into one more pass after it.
TEST(BackgroundPassTest, RequestsDuringAPassFoldIntoOneMore) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  int passes = 0;
  BackgroundPass pass([&] {
    std::unique_lock lock(mu);
    ++passes;
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  pass.Request();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });  // the first pass is running
  }
  for (int i = 0; i < 5; ++i) pass.Request();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  pass.WaitUntilIdle();
  std::lock_guard lock(mu);
  EXPECT_EQ(passes, 2);
}

TEST(BackgroundPassTest, NothingRunsUnasked) {
  std::atomic<int> passes{0};
  {
    BackgroundPass pass([&] { passes++; });
    pass.WaitUntilIdle();
  }
  EXPECT_EQ(passes.load(), 0);
}

}  // namespace
}  // namespace ds::store
