// The daemon on S3 behind the fault-injecting proxy (tests/store_s3/fault_proxy.h), for the
// failures a healthy server rarely shows (issue 4, item 3): 503 SlowDown and 500 bursts,
// connection resets, slow answers, answers lost after a commit, and an outage. For each: the
// daemon retries, INFO reports it, memory stays bounded, and once the store answers again every
// accepted write is in the bucket.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "fault_proxy.h"
#include "s3_daemon.h"

namespace ds::testing {
namespace {

using store::s3::test::Fault;
using store::s3::test::FaultProxy;
using namespace std::chrono_literals;

const char* const kView = "Elixir.FaultLive";

// Under AddressSanitizer the daemon's resident memory says more about the sanitizer (shadow
// memory, a quarantine that holds freed blocks) than about the daemon: the RSS bounds are
// checked only in normal builds; the byte counts the daemon reports are checked always.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCheckRss = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kCheckRss = false;
#else
constexpr bool kCheckRss = true;
#endif
#else
constexpr bool kCheckRss = true;
#endif

// Short timeouts keep the tests quick; the deadline leaves room for several retries.
constexpr char kTimeouts[] = "request_timeout_ms=1000&connect_timeout_ms=500&deadline_ms=3000";

class S3FaultTest : public S3DaemonTest {
 protected:
  void SetUp() override {
    S3DaemonTest::SetUp();
    if (IsSkipped()) return;
    auto [host, port] = ServerHostPort();
    proxy_ = FaultProxy::Start(host, port);
    ASSERT_NE(proxy_, nullptr);
    daemon_ = StartDaemon("fault-1", {}, proxy_->endpoint(), kTimeouts);
    ASSERT_GT(daemon_->port(), 0);
    client_ = std::make_unique<RespClient>(daemon_->port());
    // A session that exists before the faults start, so that its writes are If-Match PUTs;
    // its second write also settles how this server wants If-Match etags (radosgw: unquoted,
    // found out by one extra HEAD and PUT), so the faults meet the daemon's steady state.
    ASSERT_EQ(Stash("s", "k", "0"), "+OK");
    ASSERT_EQ(Sync("s"), "+OK");
    ASSERT_EQ(Stash("s", "k", "10"), "+OK");
    ASSERT_EQ(Sync("s"), "+OK");
  }
  void TearDown() override {
    client_.reset();
    daemon_.reset();
    if (proxy_) proxy_->Stop();
    S3DaemonTest::TearDown();
  }

  std::string Stash(const std::string& session, const std::string& key, const std::string& v) {
    return client_->Call({"DS.STASH", session, kView, "1", key, v}).Debug();
  }
  std::string Sync(const std::string& session, const std::string& timeout_ms = "20000") {
    return client_->Call({"DS.SYNC", session, timeout_ms}).Debug();
  }
  uint64_t ProxySeen(const std::string& method) const {
    auto by = proxy_->stats().by_method;
    return by.count(method) != 0 ? by.at(method) : 0;
  }
  // Nothing waits for the store any more.
  void ExpectNothingPending() {
    Info info = GetInfo(daemon_->port());
    EXPECT_EQ(info["dirty_sessions"], 0u);
    EXPECT_EQ(info["pending_bytes"], 0u);
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<RespClient> client_;
};

TEST_F(S3FaultTest, SlowDownBurstsAreRetriedAndReported) {
  Info before = GetInfo(daemon_->port());
  proxy_->Inject(Fault::Status(503, "SlowDown", "PUT", 4));
  ASSERT_EQ(Stash("s", "k", "1"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(proxy_->pending_faults(), 0u);
  EXPECT_EQ(StoredValue("s", kView, "k"), "1");
  Info after = GetInfo(daemon_->port());
  EXPECT_GE(after["s3_throttled"] - before["s3_throttled"], 4u);
  EXPECT_GE(after["s3_retries"] - before["s3_retries"], 4u);
  EXPECT_EQ(after["precondition_conflicts"], 0u);
  ExpectNothingPending();
}

TEST_F(S3FaultTest, ServerErrorsOnAConditionalWriteAreResolvedByRereading) {
  // A 500 after a conditional PUT may mean it was applied: the store does not resend it, the
  // session re-reads the object, finds it unchanged and writes again.
  Info before = GetInfo(daemon_->port());
  proxy_->Inject(Fault::Status(500, "InternalError", "PUT", 3));
  ASSERT_EQ(Stash("s", "k", "2"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(StoredValue("s", kView, "k"), "2");
  Info after = GetInfo(daemon_->port());
  EXPECT_EQ(after["outcome_unknown_writes"] - before["outcome_unknown_writes"], 3u);
  EXPECT_GE(after["s3_server_errors"] - before["s3_server_errors"], 3u);
  EXPECT_EQ(after["precondition_conflicts"], 0u);
  ExpectNothingPending();
}

TEST_F(S3FaultTest, ConnectionResetsAreRetried) {
  Info before = GetInfo(daemon_->port());
  // A reset after a conditional PUT was sent: it may have been applied, so the session
  // re-reads, and writes again.
  proxy_->Inject(Fault::Reset("PUT", 2));
  ASSERT_EQ(Stash("s", "k", "3"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(StoredValue("s", kView, "k"), "3");
  Info after = GetInfo(daemon_->port());
  EXPECT_EQ(after["outcome_unknown_writes"] - before["outcome_unknown_writes"], 2u);
  EXPECT_GE(after["s3_transport_errors"] - before["s3_transport_errors"], 2u);
  // Resets on reads (safe to resend) are retried inside the store (some by libcurl itself,
  // on a kept-alive connection): a cold load still works.
  const uint64_t gets = ProxySeen("GET");
  proxy_->Inject(Fault::Reset("GET", 2));
  ASSERT_EQ(Stash("other", "k", "\"x\""), "+OK");  // loads "other" (missing) through the resets
  EXPECT_EQ(Sync("other"), "+OK");
  EXPECT_EQ(StoredValue("other", kView, "k"), "\"x\"");
  EXPECT_EQ(proxy_->pending_faults(), 0u);
  EXPECT_GE(ProxySeen("GET") - gets, 3u);
  EXPECT_EQ(GetInfo(daemon_->port())["store_errors"], 0u);  // none reached the session
  ExpectNothingPending();
}

TEST_F(S3FaultTest, SlowAnswersTimeOutAndTheWriteIsMadeAgain) {
  Info before = GetInfo(daemon_->port());
  // The PUT reaches the server only after the client gave up on it (1 s): the daemon must
  // find out by re-reading, write again, and not be confused when the late PUT arrives.
  proxy_->Inject(Fault::Delay(1500ms, "PUT", 1));
  ASSERT_EQ(Stash("s", "k", "4"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  // Wait until the late PUT has reached the server (every request received was forwarded).
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (proxy_->stats().forwarded < proxy_->stats().requests &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(proxy_->stats().forwarded, proxy_->stats().requests);
  ASSERT_EQ(Stash("s", "k", "5"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(StoredValue("s", kView, "k"), "5");
  // Slow reads within the timeout simply take longer.
  proxy_->Inject(Fault::Delay(300ms, "GET", 1));
  EXPECT_EQ(client_->Call({"DS.RECOVER", "s", kView, "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", "5"])");
  Info after = GetInfo(daemon_->port());
  EXPECT_GE(after["s3_transport_errors"] - before["s3_transport_errors"], 1u);
  EXPECT_GE(after["outcome_unknown_writes"] - before["outcome_unknown_writes"], 1u);
  ExpectNothingPending();
}

// The replies of a read whose requests all name one session wait for the slowest (here the
// DS.SYNC, behind a slow PUT) and come back in one write; a read that also names another
// session is answered as its replies become ready, so one caller's DS.SYNC never holds back
// another's replies on a shared connection (Connection, "Replies of one read").
TEST_F(S3FaultTest, OnlyTheRepliesOfOneSessionsPipelineWaitForItsSync) {
  ASSERT_EQ(Stash("t", "k", "0"), "+OK");
  ASSERT_EQ(Sync("t"), "+OK");
  proxy_->Inject(Fault::Delay(600ms, "PUT", 2));
  client_->SendRaw(RespClient::Encode({"DS.STASH", "s", kView, "1", "k", "1"}) +
                   RespClient::Encode({"DS.SYNC", "s", "20000"}));
  std::string got;
  ASSERT_TRUE(client_->ReceiveOnce(&got));
  EXPECT_EQ(got, "+OK\r\n+OK\r\n");
  // Both PUTs of this read are slow: the two stashes are answered at once (in one write or,
  // from other shards, in two), the sync 600 ms later. Having both stash replies before the
  // sync's means they were not held.
  proxy_->Inject(Fault::Delay(600ms, "PUT", 2));
  client_->SendRaw(RespClient::Encode({"DS.STASH", "t", kView, "1", "k", "2"}) +
                   RespClient::Encode({"DS.STASH", "s", kView, "1", "k", "2"}) +
                   RespClient::Encode({"DS.SYNC", "s", "20000"}));
  std::string stashes;
  while (stashes.size() < 10) {
    std::string more;
    ASSERT_TRUE(client_->ReceiveOnce(&more));
    stashes += more;
  }
  EXPECT_EQ(stashes, "+OK\r\n+OK\r\n");
  std::string sync;
  if (stashes.size() == 10) {
    ASSERT_TRUE(client_->ReceiveOnce(&sync));
  }
  EXPECT_EQ(stashes + sync, "+OK\r\n+OK\r\n+OK\r\n");
  EXPECT_EQ(Sync("t"), "+OK");  // t's slow PUT may still be running
  ExpectNothingPending();
}

// A read of one session's stash and sync that arrives while an earlier request is still
// waiting (a recover loading a session, behind a slow GET) holds nothing back: the recover's
// reply goes out when its load ends, not when the later sync does.
TEST_F(S3FaultTest, ARecoverAnsweredEarlierIsNotHeldBehindALaterSync) {
  // Both within the 1 s request timeout, so that neither is retried.
  proxy_->Inject(Fault::Delay(300ms, "GET", 1));
  proxy_->Inject(Fault::Delay(900ms, "PUT", 1));
  const uint64_t gets = ProxySeen("GET");
  client_->SendRaw(RespClient::Encode({"DS.RECOVER", "cold", kView, "1", "dead", "k", "session"}));
  // Once the load has reached the store, the daemon has run the recover's read.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ProxySeen("GET") == gets && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GT(ProxySeen("GET"), gets);
  client_->SendRaw(RespClient::Encode({"DS.STASH", "s", kView, "1", "k", "3"}) +
                   RespClient::Encode({"DS.SYNC", "s", "20000"}));
  // What arrives first is the recover's reply, perhaps with the stash's; the sync's comes about
  // 0.6 s later in a write of its own.
  std::string first;
  ASSERT_TRUE(client_->ReceiveOnce(&first));
  EXPECT_NE(first.find("not_found"), std::string::npos) << first;
  EXPECT_FALSE(first.ends_with("+OK\r\n+OK\r\n")) << first;
  std::string all = first;
  while (!all.ends_with("+OK\r\n+OK\r\n")) {
    std::string more;
    ASSERT_TRUE(client_->ReceiveOnce(&more));
    all += more;
  }
  ExpectNothingPending();
}

TEST_F(S3FaultTest, AnAnswerLostAfterTheCommitIsFoundByRereading) {
  Info before = GetInfo(daemon_->port());
  const uint64_t puts = ProxySeen("PUT");
  proxy_->Inject(Fault::CommitThenDrop("PUT", 1));
  ASSERT_EQ(Stash("s", "k", "6"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(StoredValue("s", kView, "k"), "6");
  Info after = GetInfo(daemon_->port());
  EXPECT_EQ(after["outcome_unknown_writes"] - before["outcome_unknown_writes"], 1u);
  EXPECT_EQ(after["precondition_conflicts"], 0u);
  EXPECT_EQ(ProxySeen("PUT") - puts, 1u);  // the re-read showed it landed: no second PUT
  // The same when the answer never comes (a timeout after the commit).
  proxy_->Inject(Fault::CommitThenHang("PUT", 1));
  ASSERT_EQ(Stash("s", "k", "7"), "+OK");
  EXPECT_EQ(Sync("s"), "+OK");
  EXPECT_EQ(StoredValue("s", kView, "k"), "7");
  EXPECT_EQ(GetInfo(daemon_->port())["outcome_unknown_writes"] - before["outcome_unknown_writes"],
            2u);
  ExpectNothingPending();
}

TEST_F(S3FaultTest, AnOutageBoundsMemoryAndLosesNothingAcceptedOnceItEnds) {
  constexpr int kSessions = 20;
  for (int s = 0; s < kSessions; ++s) {
    ASSERT_EQ(Stash("o" + std::to_string(s), "k", "0"), "+OK");
    ASSERT_EQ(Sync("o" + std::to_string(s)), "+OK");
  }
  const uint64_t rss_before = RssKiB(daemon_->pid());

  // The store refuses everything.
  proxy_->Inject(Fault::Status(503, "SlowDown", "", 1'000'000));
  for (int i = 1; i <= 10; ++i) {
    for (int s = 0; s < kSessions; ++s) {
      ASSERT_EQ(Stash("o" + std::to_string(s), "k", std::to_string(i)), "+OK");
    }
  }
  EXPECT_EQ(Sync("o0", "300"),
            "-TIMEOUT the store has not committed this session's writes yet; "
            "they are still being retried");
  // A resident session cannot be confirmed current: the read fails instead of risking a
  // stale answer.
  RespValue read = client_->Call({"DS.RECOVER", "o1", kView, "1", "dead", "k", "session"});
  EXPECT_EQ(read.ErrorKind(), "UNAVAILABLE") << read.Debug();
  Info failing = WaitForInfo(daemon_->port(), [](const Info& i) { return i["store_errors"] >= 2; });
  EXPECT_GE(failing["store_errors"], 2u);
  EXPECT_GT(failing["s3_failed_calls"], 0u);
  EXPECT_GT(failing["s3_throttled"], 0u);
  EXPECT_EQ(failing["dirty_sessions"], static_cast<uint64_t>(kSessions));

  // One session pushed to the bound: stashes beyond it are refused, memory stops growing.
  const std::string big = "\"" + std::string(60 * 1024, 'b') + "\"";
  int accepted = 0;
  std::string refused;
  for (int i = 0; i < 400 && refused.empty(); ++i) {
    std::string r = Stash("o2", "big", big);
    if (r == "+OK") {
      ++accepted;
    } else {
      refused = r;
    }
  }
  EXPECT_EQ(refused.substr(0, 12), "-UNAVAILABLE") << refused;
  const uint64_t rss_full = RssKiB(daemon_->pid());
  for (int i = 0; i < 100; ++i) EXPECT_NE(Stash("o2", "big", big), "+OK");
  const uint64_t rss_after = RssKiB(daemon_->pid());
  Info full = GetInfo(daemon_->port());
  EXPECT_GE(full["stashes_refused_backlog"], 101u);
  EXPECT_LE(full["pending_bytes"], 9u << 20);  // the 8 MiB bound, plus the small sessions
  if (kCheckRss) {
    // Growth is compared as sums, not differences: RSS may also shrink a little between two
    // readings (the allocator returning pages), and an unsigned difference would then wrap.
    EXPECT_LT(rss_full, rss_before + 64u * 1024) << "KiB";
    EXPECT_LT(rss_after, rss_full + 4u * 1024) << "KiB: refused stashes must not hold memory";
  }
  std::printf(
      "outage: %d stashes of 60 KiB accepted into one session before the bound; RSS "
      "%llu KiB before, %llu KiB at the bound, %llu KiB after 100 refused stashes\n",
      accepted, static_cast<unsigned long long>(rss_before),
      static_cast<unsigned long long>(rss_full), static_cast<unsigned long long>(rss_after));

  // The store answers again: every accepted write reaches it.
  proxy_->ClearFaults();
  for (int s = 0; s < kSessions; ++s) {
    ASSERT_EQ(Sync("o" + std::to_string(s), "30000"), "+OK") << s;
    EXPECT_EQ(StoredValue("o" + std::to_string(s), kView, "k"), "10") << s;
  }
  EXPECT_EQ(StoredValue("o2", kView, "big"), big);
  ExpectNothingPending();
  EXPECT_EQ(Stash("o2", "big", "1"), "+OK");  // accepted again
}

}  // namespace
}  // namespace ds::testing
