// MemoryStore: the conformance suite, and the fault hooks tests of other modules rely on.
#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "store_conformance.h"
#include "store_test_util.h"

namespace ds::store {
namespace {

using conformance::StoreBackend;
using conformance::StoreBackendName;
using conformance::StoreConformanceTest;
using test::CodeOf;
using test::IsOk;

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
                         ::testing::Values(StoreBackend{
                             "Memory", [] { return std::make_unique<MemoryStore>(); }}),
                         StoreBackendName);

class MemoryStoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> etag = store_.Put("k", "v1", WriteCondition::None());
    ASSERT_TRUE(IsOk(etag));
    etag_ = *etag;
  }

  // The object "k" still holds "v1" with its original etag.
  void ExpectUnchanged() {
    Result<Object> got = store_.Get("k");
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(got->data, "v1");
    EXPECT_EQ(got->etag, etag_);
  }

  MemoryStore store_;
  std::string etag_;
};

// --- kTransient ------------------------------------------------------------------------------

TEST_F(MemoryStoreFaultTest, TransientPutIsUnavailableAndChangesNothing) {
  store_.InjectFault(Operation::kPut, Fault::kTransient);
  Result<std::string> put = store_.Put("k", "v2", WriteCondition::IfMatch(etag_));
  EXPECT_EQ(CodeOf(put), StatusCode::kUnavailable);
  EXPECT_TRUE(put.status().IsTransient());
  ExpectUnchanged();
  EXPECT_EQ(CodeOf(store_.Put("new", "x", WriteCondition::None())), StatusCode::kOk);
}

TEST_F(MemoryStoreFaultTest, TransientGetDeleteAndListAreUnavailableAndChangeNothing) {
  store_.InjectFault(Operation::kGet, Fault::kTransient);
  EXPECT_EQ(CodeOf(store_.Get("k")), StatusCode::kUnavailable);

  store_.InjectFault(Operation::kDelete, Fault::kTransient);
  EXPECT_EQ(CodeOf(store_.Delete("k")), StatusCode::kUnavailable);
  ExpectUnchanged();

  store_.InjectFault(Operation::kList, Fault::kTransient);
  EXPECT_EQ(CodeOf(store_.List("", "", 10)), StatusCode::kUnavailable);
  Result<ListPage> page = store_.List("", "", 10);
  ASSERT_TRUE(IsOk(page));
  EXPECT_EQ(page->entries.size(), 1u);
}

TEST_F(MemoryStoreFaultTest, FaultsApplyInOrderOnePerOperationOfTheirKind) {
  store_.InjectFault(Operation::kGet, Fault::kTransient);
  store_.InjectFault(Operation::kGet, Fault::kCommitThenLoseReply);
  // A Put is not a Get: it runs normally.
  EXPECT_TRUE(IsOk(store_.Put("other", "x", WriteCondition::None())));
  EXPECT_EQ(CodeOf(store_.Get("k")), StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(store_.Get("k")), StatusCode::kOutcomeUnknown);
  EXPECT_TRUE(IsOk(store_.Get("k")));
}

TEST_F(MemoryStoreFaultTest, OperationCountCountsEveryOperationIncludingFaultedOnes) {
  const uint64_t puts_before = store_.OperationCount(Operation::kPut);  // SetUp's Put
  EXPECT_EQ(puts_before, 1u);
  store_.InjectFault(Operation::kGet, Fault::kTransient);
  (void)store_.Get("k");
  (void)store_.Get("k");
  (void)store_.Get("missing");
  (void)store_.Delete("missing");
  (void)store_.List("", "", 1);
  EXPECT_EQ(store_.OperationCount(Operation::kGet), 3u);
  EXPECT_EQ(store_.OperationCount(Operation::kDelete), 1u);
  EXPECT_EQ(store_.OperationCount(Operation::kList), 1u);
  EXPECT_EQ(store_.OperationCount(Operation::kPut), puts_before);
}

TEST_F(MemoryStoreFaultTest, SizeIsTheNumberOfStoredObjects) {
  EXPECT_EQ(store_.Size(), 1u);
  ASSERT_TRUE(IsOk(store_.Put("a", "x", WriteCondition::None())));
  EXPECT_EQ(store_.Size(), 2u);
  ASSERT_TRUE(IsOk(store_.Delete("k")));
  EXPECT_EQ(store_.Size(), 1u);
}

// --- kSlow -----------------------------------------------------------------------------------

TEST_F(MemoryStoreFaultTest, SlowOperationDoesNotBlockOtherOperationsAndThenRunsNormally) {
  // The slow Get sleeps for kDelay. Once it is in flight, this thread's Put and Get must
  // complete while it still sleeps; if the store held its mutex while sleeping they would
  // wait for the slow Get to finish, and `slow_done` would be true by the time they return.
  constexpr auto kDelay = std::chrono::seconds(3);
  store_.InjectFault(Operation::kGet, Fault::kSlow,
                     std::chrono::duration_cast<std::chrono::milliseconds>(kDelay));
  std::atomic<bool> slow_done{false};
  Result<Object> slow_result = Status::Unavailable("not run");
  std::thread slow([&] {
    slow_result = store_.Get("k");
    slow_done = true;
  });
  while (store_.OperationCount(Operation::kGet) == 0) std::this_thread::yield();

  EXPECT_TRUE(IsOk(store_.Put("other", "x", WriteCondition::CreateOnly())));
  EXPECT_TRUE(IsOk(store_.Get("other")));
  EXPECT_FALSE(slow_done.load()) << "the slow Get blocked the store while it slept";
  slow.join();
  ASSERT_TRUE(IsOk(slow_result));
  EXPECT_EQ(slow_result->data, "v1");
  EXPECT_EQ(slow_result->etag, etag_);
}

TEST_F(MemoryStoreFaultTest, SlowPutStillChecksItsConditionAfterTheDelay) {
  // The condition is evaluated when the slow Put resumes, against the state at that time.
  store_.InjectFault(Operation::kPut, Fault::kSlow, std::chrono::milliseconds(1));
  EXPECT_EQ(CodeOf(store_.Put("k", "v2", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  ExpectUnchanged();
}

// --- kPreconditionFailed ---------------------------------------------------------------------

TEST_F(MemoryStoreFaultTest, PreconditionFaultFailsTheNextIfMatchPutAndChangesNothing) {
  store_.InjectFault(Operation::kPut, Fault::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store_.Put("k", "v2", WriteCondition::IfMatch(etag_))),
            StatusCode::kPreconditionFailed);
  ExpectUnchanged();
  EXPECT_TRUE(IsOk(store_.Put("k", "v2", WriteCondition::IfMatch(etag_))));
}

TEST_F(MemoryStoreFaultTest, PreconditionFaultFailsACreateOnlyPutOfAMissingKey) {
  store_.InjectFault(Operation::kPut, Fault::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store_.Put("new", "x", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store_.Get("new")), StatusCode::kNotFound);
}

TEST_F(MemoryStoreFaultTest, PreconditionFaultWaitsForAConditionalPut) {
  store_.InjectFault(Operation::kPut, Fault::kPreconditionFailed);
  // Unconditional Puts run normally and leave the fault queued.
  Result<std::string> v2 = store_.Put("k", "v2", WriteCondition::None());
  ASSERT_TRUE(IsOk(v2));
  EXPECT_EQ(CodeOf(store_.Put("k", "v3", WriteCondition::IfMatch(*v2))),
            StatusCode::kPreconditionFailed);
  Result<Object> got = store_.Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v2");
}

// --- kCommitThenLoseReply --------------------------------------------------------------------

TEST_F(MemoryStoreFaultTest, LostReplyPutIsAppliedButReportsOutcomeUnknown) {
  store_.InjectFault(Operation::kPut, Fault::kCommitThenLoseReply);
  Result<std::string> put = store_.Put("k", "v2", WriteCondition::IfMatch(etag_));
  EXPECT_EQ(CodeOf(put), StatusCode::kOutcomeUnknown);
  EXPECT_TRUE(put.status().IsTransient());
  Result<Object> got = store_.Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v2");
  EXPECT_NE(got->etag, etag_);
  // What a caller finds if it blindly retried: its own write already moved the etag on.
  EXPECT_EQ(CodeOf(store_.Put("k", "v2", WriteCondition::IfMatch(etag_))),
            StatusCode::kPreconditionFailed);
}

TEST_F(MemoryStoreFaultTest, LostReplyPutWhoseConditionFailsChangesNothing) {
  store_.InjectFault(Operation::kPut, Fault::kCommitThenLoseReply);
  EXPECT_EQ(CodeOf(store_.Put("k", "v2", WriteCondition::CreateOnly())),
            StatusCode::kOutcomeUnknown);
  ExpectUnchanged();
}

// A caller told OutcomeUnknown compares what it wrote with what a Get returns: its bytes must
// still be there.
TEST_F(MemoryStoreFaultTest, LostReplyPutTakingBufferLeavesTheCallersBytes) {
  store_.InjectFault(Operation::kPut, Fault::kCommitThenLoseReply);
  std::string bytes = "v2, longer than a short string's inline buffer";
  EXPECT_EQ(CodeOf(store_.PutTakingBuffer("k", bytes, WriteCondition::IfMatch(etag_))),
            StatusCode::kOutcomeUnknown);
  EXPECT_EQ(bytes, "v2, longer than a short string's inline buffer");
  EXPECT_EQ(store_.Get("k")->data, bytes);
}

TEST_F(MemoryStoreFaultTest, LostReplyDeleteIsAppliedButReportsOutcomeUnknown) {
  store_.InjectFault(Operation::kDelete, Fault::kCommitThenLoseReply);
  EXPECT_EQ(CodeOf(store_.Delete("k")), StatusCode::kOutcomeUnknown);
  EXPECT_EQ(CodeOf(store_.Get("k")), StatusCode::kNotFound);
}

TEST_F(MemoryStoreFaultTest, LostReplyGetAndListReportOutcomeUnknown) {
  store_.InjectFault(Operation::kGet, Fault::kCommitThenLoseReply);
  store_.InjectFault(Operation::kList, Fault::kCommitThenLoseReply);
  EXPECT_EQ(CodeOf(store_.Get("k")), StatusCode::kOutcomeUnknown);
  EXPECT_EQ(CodeOf(store_.List("", "", 10)), StatusCode::kOutcomeUnknown);
  ExpectUnchanged();
}

// --- Etags -----------------------------------------------------------------------------------

// The memory store keeps the caller's buffer rather than a copy of it, and hands back the one
// it held.
TEST(MemoryStoreTest, PutTakingBufferKeepsTheCallersBufferAndReturnsTheOldOne) {
  MemoryStore store;
  std::string first = "first bytes, longer than a short string's inline buffer";
  const char* first_buffer = first.data();
  Result<std::string> etag = store.PutTakingBuffer("k", first, WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(etag));
  std::string second = "second bytes, longer than a short string's inline buffer";
  ASSERT_TRUE(IsOk(store.PutTakingBuffer("k", second, WriteCondition::IfMatch(*etag))));
  EXPECT_EQ(second.data(), first_buffer) << "the old object's buffer was not handed back";
  EXPECT_EQ(store.Get("k")->data, "second bytes, longer than a short string's inline buffer");
}

// If-Match and If-None-Match take the etag exactly as it was given: another spelling of the same
// generation ("g007" for "g7") is another etag.
TEST(MemoryStoreTest, OnlyTheExactEtagMatches) {
  MemoryStore store;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(IsOk(store.Put("other", "x", WriteCondition::None())));
  Result<std::string> etag = store.Put("k", "bytes", WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  ASSERT_EQ(*etag, "g8");
  for (std::string_view wrong : {"g08", "g008", "g", "8", "g8 ", "g+8", "g-8", "g80", "G8", "h8",
                                 "g18446744073709551624", ""}) {
    EXPECT_EQ(CodeOf(store.Put("k", "other bytes", WriteCondition::IfMatch(std::string(wrong)))),
              StatusCode::kPreconditionFailed)
        << wrong;
    EXPECT_TRUE(IsOk(store.Get("k", wrong))) << "If-None-Match " << wrong;
  }
  EXPECT_EQ(CodeOf(store.Get("k", "g8")), StatusCode::kNotModified);
  EXPECT_TRUE(IsOk(store.Put("k", "new bytes", WriteCondition::IfMatch("g8"))));
}

// A hint only: no object, etag or operation count changes, and unknown keys are fine.
TEST(MemoryStoreTest, PrefetchForWritesChangesNothing) {
  MemoryStore store;
  Result<std::string> etag = store.Put("k", "bytes of k", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(etag));
  const std::string_view keys[] = {"k", "missing", ""};
  store.PrefetchForWrites(keys);
  EXPECT_EQ(store.Size(), 1u);
  EXPECT_EQ(store.OperationCount(Operation::kPut), 1u);
  EXPECT_EQ(store.OperationCount(Operation::kGet), 0u);
  Result<Object> k = store.Get("k");
  ASSERT_TRUE(IsOk(k));
  EXPECT_EQ(k->data, "bytes of k");
  EXPECT_EQ(k->etag, *etag);
}

TEST(MemoryStoreTest, EveryWriteGetsANewEtagEvenForEqualBytes) {
  MemoryStore store;
  Result<std::string> a = store.Put("k", "same", WriteCondition::None());
  Result<std::string> b = store.Put("k", "same", WriteCondition::None());
  ASSERT_TRUE(IsOk(a));
  ASSERT_TRUE(IsOk(b));
  EXPECT_NE(*a, *b);
  EXPECT_EQ(store.Describe(), "memory");
}

}  // namespace
}  // namespace ds::store
