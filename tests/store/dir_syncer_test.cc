// DirSyncer: the group commit of directory fsyncs (store/dir_syncer.h).
#include "store/dir_syncer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <latch>
#include <thread>
#include <vector>

#include "store/posix_io.h"
#include "store_test_util.h"

namespace ds::store {
namespace {

using test::IsOk;
using test::TempDir;

TEST(DirSyncerTest, ConcurrentSyncsAllSucceedWithAtMostOneFsyncEach) {
  TempDir dir;
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(fd.valid());
  DirSyncer syncer(2);
  constexpr int kThreads = 8;
  constexpr int kSyncs = 20;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kSyncs; ++i) EXPECT_TRUE(IsOk(syncer.Sync(t % 2, fd.get(), "dir")));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(syncer.sync_count(), static_cast<uint64_t>(kThreads * kSyncs));
  EXPECT_GE(syncer.fsync_count(), 2u);
  EXPECT_LE(syncer.fsync_count(), syncer.sync_count());
}

TEST(DirSyncerTest, FailedFsyncIsReportedAndStaysFailedForThatDirectoryOnly) {
  TempDir dir;
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(fd.valid());
  DirSyncer syncer(2);
  Status failed = syncer.Sync(0, -1, "fsync the/dir");  // EBADF
  EXPECT_EQ(failed.code(), StatusCode::kIOError);
  EXPECT_NE(failed.message().find("fsync the/dir"), std::string::npos) << failed.ToString();
  // After a write-back error nothing later in that directory can be trusted to be durable.
  EXPECT_EQ(syncer.Sync(0, fd.get(), "fsync the/dir").code(), StatusCode::kIOError);
  EXPECT_TRUE(IsOk(syncer.Sync(1, fd.get(), "other")));
}

}  // namespace
}  // namespace ds::store
