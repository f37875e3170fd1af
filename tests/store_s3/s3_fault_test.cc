// The s3 store under failures injected by the FaultProxy (fault_proxy.h) between it and the real
// server: every transient failure of a request that is safe to resend is retried; a conditional
// write whose fate is unknown is never resent and is reported as OutcomeUnknown; a failure that
// proves the write did not happen is retried even for conditional writes; and every call ends
// by its deadline.
#include <gtest/gtest.h>

#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "fault_proxy.h"
#include "s3_test_server.h"
#include "store/s3/s3_store.h"

namespace ds::store::s3::test {
namespace {

template <typename T>
StatusCode CodeOf(const Result<T>& r) {
  return r.ok() ? StatusCode::kOk : r.status().code();
}

// Short timeouts keep the tests quick; the deadline leaves room for several retries.
constexpr char kTimeouts[] = "request_timeout_ms=1000&connect_timeout_ms=500&deadline_ms=8000";

class S3Faults : public S3ServerTest {
 protected:
  void SetUp() override {
    S3ServerTest::SetUp();
    if (IsSkipped()) return;
    // The endpoint is http://IPV4:PORT (the proxy forwards to IPv4 addresses).
    const std::string& endpoint = server_->endpoint;
    const size_t host_at = endpoint.find("://") + 3;
    const size_t colon = endpoint.rfind(':');
    ASSERT_GT(colon, host_at) << endpoint;
    proxy_ = FaultProxy::Start(endpoint.substr(host_at, colon - host_at),
                               std::stoi(endpoint.substr(colon + 1)));
    ASSERT_NE(proxy_, nullptr);
    store_ = Open(kTimeouts, proxy_->endpoint());
    ASSERT_NE(store_, nullptr);
    direct_ = Open();  // to look behind the proxy's back
    ASSERT_NE(direct_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (proxy_) proxy_->Stop();
    S3ServerTest::TearDown();
  }

  uint64_t Seen(const std::string& method) const {
    auto by = proxy_->stats().by_method;
    return by.count(method) != 0 ? by.at(method) : 0;
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<S3Store> store_;
  std::unique_ptr<S3Store> direct_;
};

// --- 503 SlowDown and 5xx bursts ---------------------------------------------------------------

TEST_F(S3Faults, SlowDownBurstOnReadsIsRetriedWithBackoff) {
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  proxy_->Inject(Fault::Status(503, "SlowDown", "GET", 3));
  Result<Object> got = store_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->data, "v");
  EXPECT_EQ(Seen("GET"), 4u);
  EXPECT_EQ(store_->stats().throttled, 3u);
  EXPECT_EQ(store_->stats().retries, 3u);
}

TEST_F(S3Faults, ServerErrorBurstsOnIdempotentRequestsAreRetried) {
  proxy_->Inject(Fault::Status(500, "InternalError", "PUT", 2));
  ASSERT_TRUE(store_->Put("k", "v", WriteCondition::None()).ok());
  EXPECT_EQ(Seen("PUT"), 3u);
  proxy_->Inject(Fault::Status(502, "BadGateway", "GET", 2));
  EXPECT_TRUE(store_->List("", "", 10).ok());
  proxy_->Inject(Fault::Status(504, "GatewayTimeout", "DELETE", 2));
  EXPECT_TRUE(store_->Delete("k").ok());
  EXPECT_EQ(CodeOf(direct_->Get("k")), StatusCode::kNotFound);
  EXPECT_EQ(store_->stats().server_errors, 6u);
}

TEST_F(S3Faults, ConditionalWriteAfterA500IsOutcomeUnknownAndNotResent) {
  proxy_->Inject(Fault::Status(500, "InternalError", "PUT"));
  EXPECT_EQ(CodeOf(store_->Put("k", "v", WriteCondition::CreateOnly())),
            StatusCode::kOutcomeUnknown);
  EXPECT_EQ(Seen("PUT"), 1u);
  EXPECT_EQ(store_->stats().outcome_unknown, 1u);
  // The store does not resolve it: re-reading is the caller's move. (Here nothing was stored.)
  EXPECT_EQ(CodeOf(direct_->Get("k")), StatusCode::kNotFound);
}

TEST_F(S3Faults, ConditionalWriteThrottledBy503IsRetriedBecauseItWasNotApplied) {
  proxy_->Inject(Fault::Status(503, "SlowDown", "PUT", 2));
  Result<std::string> put = store_->Put("k", "v", WriteCondition::CreateOnly());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Seen("PUT"), 3u);
  EXPECT_EQ(direct_->Get("k")->etag, *put);
}

TEST_F(S3Faults, ConflictOnAConditionalWriteIsAPreconditionFailure) {
  proxy_->Inject(Fault::Status(409, "ConditionalRequestConflict", "PUT"));
  EXPECT_EQ(CodeOf(store_->Put("k", "v", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(Seen("PUT"), 1u);
}

TEST_F(S3Faults, PersistentFailureEndsAtTheDeadline) {
  auto store = Open("deadline_ms=1500&request_timeout_ms=500", proxy_->endpoint());
  ASSERT_NE(store, nullptr);
  proxy_->Inject(Fault::Status(503, "SlowDown", "", 1000000));
  Result<Object> got = store->Get("k");
  EXPECT_EQ(CodeOf(got), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("SlowDown"), std::string::npos) << got.status().message();
  // A conditional write refused every time was never applied: Unavailable, not OutcomeUnknown.
  EXPECT_EQ(CodeOf(store->Put("k", "v", WriteCondition::CreateOnly())), StatusCode::kUnavailable);
  EXPECT_GT(store->stats().retries, 2u);
  EXPECT_EQ(store->stats().failed_calls, 2u);
}

// --- Resets, hangs and slow answers ------------------------------------------------------------

TEST_F(S3Faults, ResetConnectionsOnReadsAreRetried) {
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  proxy_->Inject(Fault::Reset("GET", 2));
  Result<Object> got = store_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Seen("GET"), 3u);
  EXPECT_EQ(store_->stats().transport_errors, 2u);
}

TEST_F(S3Faults, HungReadTimesOutAndIsRetried) {
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  proxy_->Inject(Fault::Hang("GET"));
  Result<Object> got = store_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Seen("GET"), 2u);
  EXPECT_EQ(store_->stats().transport_errors, 1u);
}

TEST_F(S3Faults, SlowAnswersWithinTheTimeoutAreNotRetried) {
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  proxy_->Inject(Fault::Delay(std::chrono::milliseconds(300), "GET", 3));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->Get("k").ok());
  EXPECT_EQ(store_->stats().retries, 0u);
  EXPECT_EQ(proxy_->pending_faults(), 0u);
}

// --- Lost answers after a commit ---------------------------------------------------------------

TEST_F(S3Faults, LostAnswerAfterACommittedConditionalWriteIsOutcomeUnknownNeverAFalseFailure) {
  // Warm the connection first: a reused connection that dies before the answer is exactly when
  // libcurl would quietly send the request again, and the copy would fail its condition against
  // our own write. The store refuses that resend.
  ASSERT_EQ(CodeOf(store_->Get("warm-up")), StatusCode::kNotFound);
  proxy_->Inject(Fault::CommitThenDrop("PUT"));
  EXPECT_EQ(CodeOf(store_->Put("k", "mine", WriteCondition::CreateOnly())),
            StatusCode::kOutcomeUnknown);
  EXPECT_EQ(Seen("PUT"), 1u) << "the conditional PUT was sent twice";
  Result<Object> got = direct_->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, "mine");  // it was applied: the re-read tells the caller so

  // The same for If-Match (after one that succeeds, so that the store knows which etag form
  // the server matches: see ceph_unquoted_if_match).
  Result<std::string> etag = store_->Put("k", "mine 2", WriteCondition::IfMatch(got->etag));
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  const uint64_t puts = Seen("PUT");
  proxy_->Inject(Fault::CommitThenDrop("PUT"));
  EXPECT_EQ(CodeOf(store_->Put("k", "mine 3", WriteCondition::IfMatch(*etag))),
            StatusCode::kOutcomeUnknown);
  EXPECT_EQ(Seen("PUT"), puts + 1);
  EXPECT_EQ(direct_->Get("k")->data, "mine 3");
}

TEST_F(S3Faults, TimeoutAfterACommittedConditionalWriteIsOutcomeUnknown) {
  proxy_->Inject(Fault::CommitThenHang("PUT"));
  EXPECT_EQ(CodeOf(store_->Put("k", "mine", WriteCondition::CreateOnly())),
            StatusCode::kOutcomeUnknown);
  EXPECT_EQ(Seen("PUT"), 1u);
  EXPECT_EQ(direct_->Get("k")->data, "mine");
}

TEST_F(S3Faults, LostAnswerAfterAPlainWriteIsRetried) {
  ASSERT_EQ(CodeOf(store_->Get("warm-up")), StatusCode::kNotFound);
  proxy_->Inject(Fault::CommitThenDrop("PUT"));
  Result<std::string> put = store_->Put("k", "v", WriteCondition::None());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Seen("PUT"), 2u);
  EXPECT_EQ(direct_->Get("k")->etag, *put);
}

TEST_F(S3Faults, ServerDownMeansUnavailableNotOutcomeUnknown) {
  // Nothing listens on the stopped proxy's port: no request can have arrived.
  auto store = Open("deadline_ms=1000&connect_timeout_ms=200", proxy_->endpoint());
  ASSERT_NE(store, nullptr);
  proxy_->Stop();
  EXPECT_EQ(CodeOf(store->Put("k", "v", WriteCondition::CreateOnly())), StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(store->Get("k")), StatusCode::kUnavailable);
  EXPECT_EQ(store->stats().outcome_unknown, 0u);
}

// --- Connections -------------------------------------------------------------------------------

TEST_F(S3Faults, RequestsInFlightAreBounded) {
  auto store = Open(std::string(kTimeouts) + "&max_in_flight=2", proxy_->endpoint());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  proxy_->Inject(Fault::Delay(std::chrono::milliseconds(100), "GET", 16));
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 2; ++i) {
        if (!store->Get("k").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Seen("GET"), 16u);
  EXPECT_LE(proxy_->stats().max_concurrent, 2u);
  EXPECT_LE(store->stats().connections_opened, 2u);
}

TEST_F(S3Faults, ClientConnectionsAreReusedThroughTheProxy) {
  ASSERT_TRUE(direct_->Put("k", "v", WriteCondition::None()).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->Get("k").ok());
  EXPECT_EQ(proxy_->stats().client_connections, 1u);
}

}  // namespace
}  // namespace ds::store::s3::test
