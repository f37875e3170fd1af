// SessionActor and SessionTable against the memory store: write-through with coalescing,
// conflicts, lost replies, retries, DS.SYNC, TTL and residency (SPEC §3, §5).
#include "session/session_actor.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <memory>
#include <optional>
#include <string>

#include "session/session_table.h"
#include "store/memory_store.h"

namespace ds::session {
namespace {

using store::Fault;
using store::MemoryStore;
using store::Operation;
using namespace std::chrono_literals;

const std::string kView = "Elixir.App.Live";

// One simulated daemon: a loop (run by the test thread), an actor environment and its stats.
struct Daemon {
  Daemon(MemoryStore& store, ManualClock& clock, SessionOptions opts)
      : options(std::move(opts)),
        executor(store, 2),
        writer(executor),
        table(ActorEnv{loop, executor, writer, clock, options, stats, logger}) {}

  boost::asio::io_context loop;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(loop);
  SessionOptions options;
  SessionStats stats;
  Logger logger{LogLevel::kError, [](std::string_view) {}};
  StoreExecutor executor;
  DirectWritePath writer;
  SessionTable table;

  // Runs handlers until `done()` holds. Store results arrive from the executor's threads, so
  // this waits for events; it fails the test if none comes for a long time.
  template <typename Pred>
  void RunUntil(Pred done) {
    while (!done()) {
      ASSERT_GT(loop.run_one_for(30s), 0u) << "no event for 30 s";
    }
  }

  std::shared_ptr<SessionActor> Actor(const std::string& key = "sess") {
    return table.FindOrCreate(key);
  }

  Status Stash(const std::string& key, std::vector<std::pair<std::string, std::string>> kv,
               int64_t vsn = 1) {
    Mutation m;
    m.kind = Mutation::Kind::kStash;
    m.view = kView;
    m.vsn = vsn;
    m.entries = std::move(kv);
    std::optional<Status> result;
    Actor(key)->Stash(std::move(m), [&](Status st) { result = st; });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  Result<RecoverReply> Recover(const std::string& key, MountKind mount, std::vector<KeyScope> keys,
                               int64_t vsn = 1) {
    RecoverRequest req{kView, vsn, mount, std::move(keys)};
    std::optional<Result<RecoverReply>> result;
    Actor(key)->Recover(std::move(req), [&](Result<RecoverReply> r) { result = std::move(r); });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  Status Sync(const std::string& key, std::chrono::milliseconds timeout = 10s) {
    std::optional<Status> result;
    Actor(key)->Sync(timeout, [&](Status st) { result = st; });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }
};

SessionOptions FastRetries() {
  SessionOptions o;
  o.retry_initial = 1ms;
  o.retry_max = 4ms;
  o.load_deadline = 50ms;
  return o;
}

class SessionActorTest : public ::testing::Test {
 protected:
  MemoryStore store;
  ManualClock clock;
  std::unique_ptr<Daemon> daemon = std::make_unique<Daemon>(store, clock, FastRetries());

  // The stored session, decoded.
  SessionState Stored(const std::string& key = "sess") {
    Result<store::Object> obj = store.Get("sessions/" + key);
    EXPECT_TRUE(obj.ok()) << obj.status().ToString();
    if (!obj.ok()) return {};
    Result<SessionState> s = SessionState::Decode(obj->data);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : SessionState();
  }
  std::string StoredValue(const std::string& key, const std::string& k) {
    SessionState s = Stored(key);
    auto view = s.views().find(kView);
    if (view == s.views().end()) return "<no view>";
    auto v = view->second.data.find(k);
    return v == view->second.data.end() ? "<no key>" : v->second.json;
  }
};

TEST_F(SessionActorTest, StashIsWrittenThroughAndSyncWaitsForIt) {
  ASSERT_TRUE(daemon->Stash("sess", {{"count", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "count"), "1");
  EXPECT_EQ(store.OperationCount(Operation::kPut), 1u);
}

TEST_F(SessionActorTest, FirstWriteIsCreateOnlySoAnExistingObjectIsNeverOverwrittenBlindly) {
  // Another daemon created the session after this one found it missing.
  ASSERT_TRUE(daemon->Recover("sess", MountKind::kDead, {{"other", Scope::kSession}}).ok());
  {
    Daemon other(store, clock, FastRetries());
    ASSERT_TRUE(other.Stash("sess", {{"other", "\"theirs\""}}).ok());
    ASSERT_TRUE(other.Sync("sess").ok());
  }
  clock.Advance(10);
  ASSERT_TRUE(daemon->Stash("sess", {{"mine", "\"ours\""}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "other"), "\"theirs\"");
  EXPECT_EQ(StoredValue("sess", "mine"), "\"ours\"");
  EXPECT_EQ(daemon->stats.precondition_conflicts, 1u);
}

TEST_F(SessionActorTest, TwoWritersMergePerKeyWithLastWriteWins) {
  Daemon a(store, clock, FastRetries());
  Daemon& b = *daemon;
  ASSERT_TRUE(a.Stash("sess", {{"x", "1"}, {"y", "1"}}).ok());
  ASSERT_TRUE(a.Sync("sess").ok());
  // b loads the session, then a changes y; b's later write of x must not undo a's y.
  ASSERT_TRUE(b.Recover("sess", MountKind::kDead, {{"x", Scope::kSession}}).ok());
  clock.Advance(10);
  ASSERT_TRUE(a.Stash("sess", {{"y", "2"}}).ok());
  ASSERT_TRUE(a.Sync("sess").ok());
  clock.Advance(10);
  ASSERT_TRUE(b.Stash("sess", {{"x", "3"}}).ok());
  ASSERT_TRUE(b.Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "x"), "3");
  EXPECT_EQ(StoredValue("sess", "y"), "2");
  EXPECT_GE(b.stats.precondition_conflicts, 1u);
}

TEST_F(SessionActorTest, NewerRemoteWriteOfTheSameKeyWins) {
  Daemon a(store, clock, FastRetries());
  Daemon& b = *daemon;
  ASSERT_TRUE(a.Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a.Sync("sess").ok());
  ASSERT_TRUE(b.Recover("sess", MountKind::kDead, {{"x", Scope::kSession}}).ok());
  // b accepts x=2 at t0 but its write is held up; a writes x=3 later (t0+10) and lands first.
  store.InjectFault(Operation::kPut, Fault::kSlow, 300ms);
  clock.Advance(5);
  ASSERT_TRUE(b.Stash("sess", {{"x", "2"}}).ok());
  clock.Advance(10);
  ASSERT_TRUE(a.Stash("sess", {{"x", "3"}}).ok());
  ASSERT_TRUE(a.Sync("sess").ok());
  ASSERT_TRUE(b.Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "x"), "3");
}

TEST_F(SessionActorTest, WritesArriveDuringAFlushCoalesceIntoTheNextWrite) {
  store.InjectFault(Operation::kPut, Fault::kSlow, 200ms);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(daemon->Stash("sess", {{"count", std::to_string(i)}}).ok());
  }
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "count"), "19");
  EXPECT_LE(store.OperationCount(Operation::kPut), 2u);
  EXPECT_GE(daemon->stats.flushes_coalesced, 18u);
}

TEST_F(SessionActorTest, InjectedPreconditionFailureIsMergedAndRetried) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  store.InjectFault(Operation::kPut, Fault::kPreconditionFailed);
  ASSERT_TRUE(daemon->Stash("sess", {{"b", "2"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "a"), "1");
  EXPECT_EQ(StoredValue("sess", "b"), "2");
  EXPECT_EQ(daemon->stats.precondition_conflicts, 1u);
}

TEST_F(SessionActorTest, LostReplyAfterCommitIsResolvedByRereading) {
  store.InjectFault(Operation::kPut, Fault::kCommitThenLoseReply);
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(daemon->stats.outcome_unknown, 1u);
  EXPECT_EQ(StoredValue("sess", "a"), "1");
  // The actor adopted the etag of what it wrote: the next write is not a conflict.
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "2"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(daemon->stats.precondition_conflicts, 0u);
  EXPECT_EQ(StoredValue("sess", "a"), "2");
}

TEST_F(SessionActorTest, TransientFailuresAreRetriedUntilTheWriteLands) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "0"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  for (int i = 0; i < 3; ++i) store.InjectFault(Operation::kPut, Fault::kTransient);
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(daemon->stats.store_errors, 3u);
  EXPECT_EQ(StoredValue("sess", "a"), "1");
}

TEST_F(SessionActorTest, SyncTimesOutWhileTheStoreIsDownAndSucceedsAfter) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "0"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  store.InjectFault(Operation::kPut, Fault::kSlow, 500ms);
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  Status st = daemon->Sync("sess", 20ms);
  EXPECT_EQ(st.code(), StatusCode::kTimeout) << st.ToString();
  EXPECT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "a"), "1");
}

TEST_F(SessionActorTest, RecoverNeverCreatesAStoredSession) {
  Result<RecoverReply> r = daemon->Recover("sess", MountKind::kFresh,
                                           {{"a", Scope::kSession}, {"b", Scope::kReconnect}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, RecoverReply::Outcome::kNotFound);
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_EQ(store.OperationCount(Operation::kPut), 0u);
}

TEST_F(SessionActorTest, RecoverWithNothingInScopeNeedsNoStore) {
  EXPECT_FALSE(RecoverNeedsStore(MountKind::kDead, {{"draft", Scope::kReconnect}}));
  EXPECT_FALSE(RecoverNeedsStore(MountKind::kFresh, {}));
  EXPECT_TRUE(RecoverNeedsStore(MountKind::kDead, {{"theme", Scope::kSession}}));
  EXPECT_TRUE(RecoverNeedsStore(MountKind::kFresh, {{"draft", Scope::kReconnect}}));
  EXPECT_TRUE(RecoverNeedsStore(MountKind::kRejoin, {{"draft", Scope::kReconnect}}));
}

TEST_F(SessionActorTest, FreshMountClearsReconnectKeysInTheStore) {
  ASSERT_TRUE(daemon->Stash("sess", {{"theme", "1"}, {"draft", "2"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  Result<RecoverReply> r = daemon->Recover(
      "sess", MountKind::kFresh, {{"theme", Scope::kSession}, {"draft", Scope::kReconnect}});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "draft"), "<no key>");
  EXPECT_EQ(StoredValue("sess", "theme"), "1");
}

TEST_F(SessionActorTest, ExpiredSessionRecoversAsNothingAndIsDeleted) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  clock.Advance(daemon->options.ttl + 1);
  Result<RecoverReply> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, RecoverReply::Outcome::kNotFound);
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_EQ(daemon->stats.expired, 1u);
}

TEST_F(SessionActorTest, ExpiredSessionInTheStoreIsNotReturnedAfterReload) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  clock.Advance(daemon->options.ttl + 1);
  Daemon fresh(store, clock, FastRetries());  // e.g. after a restart
  Result<RecoverReply> r = fresh.Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, RecoverReply::Outcome::kNotFound);
}

TEST_F(SessionActorTest, ReadsRefreshLastSeenOnlyNowAndThen) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  const Micros interval = daemon->options.ttl / daemon->options.touch_divisor;
  clock.Advance(interval / 2);
  ASSERT_TRUE(daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.OperationCount(Operation::kPut), 1u);
  clock.Advance(interval);
  ASSERT_TRUE(daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.OperationCount(Operation::kPut), 2u);
  EXPECT_EQ(Stored().last_seen_at(), clock.Now());
}

TEST_F(SessionActorTest, IdleSessionIsEvictedAndReloadedIdentically) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "[1,2]"}, {"b", "\"x\""}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  daemon->options.idle_timeout = 0ms;
  daemon->table.Maintain(std::chrono::steady_clock::now() + 1s);
  EXPECT_EQ(daemon->table.size(), 0u);
  EXPECT_EQ(daemon->stats.evictions_idle, 1u);
  Result<RecoverReply> r =
      daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}, {"b", Scope::kSession}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->values.size(), 2u);
  EXPECT_EQ(r->values[0].second, "[1,2]");
  EXPECT_EQ(r->values[1].second, "\"x\"");
  EXPECT_EQ(daemon->stats.loads, 2u);
}

TEST_F(SessionActorTest, SessionWithWritesInFlightIsNotEvicted) {
  store.InjectFault(Operation::kPut, Fault::kSlow, 200ms);
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  daemon->options.idle_timeout = 0ms;
  daemon->options.max_resident_bytes = 0;
  daemon->table.Maintain(std::chrono::steady_clock::now() + 1s);
  EXPECT_EQ(daemon->table.size(), 1u);
  ASSERT_TRUE(daemon->Sync("sess").ok());
  daemon->table.Maintain(std::chrono::steady_clock::now() + 1s);
  EXPECT_EQ(daemon->table.size(), 0u);
}

TEST_F(SessionActorTest, MemoryCapEvictsLeastRecentlyUsedFirst) {
  for (const char* key : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(daemon->Stash(key, {{"a", "1"}}).ok());
    ASSERT_TRUE(daemon->Sync(key).ok());
  }
  daemon->table.Find("s1");  // s2 is now the least recently used
  size_t one = daemon->table.Find("s3")->ApproximateBytes();
  daemon->options.max_resident_bytes = 2 * one;
  daemon->table.Maintain(std::chrono::steady_clock::now());
  EXPECT_EQ(daemon->table.size(), 2u);
  EXPECT_EQ(daemon->table.Find("s2"), nullptr);
  EXPECT_NE(daemon->table.Find("s1"), nullptr);
  EXPECT_EQ(daemon->stats.evictions_memory, 1u);
}

TEST_F(SessionActorTest, DeleteAndResetOfTheLastViewRemoveTheObject) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  std::optional<Result<bool>> existed;
  daemon->Actor("sess")->Reset(kView, [&](Result<bool> r) { existed = r; });
  daemon->RunUntil([&] { return existed.has_value(); });
  EXPECT_TRUE(existed->ok() && **existed);
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);

  ASSERT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 1u);
  existed.reset();
  daemon->Actor("sess")->Delete([&](Result<bool> r) { existed = r; });
  daemon->RunUntil([&] { return existed.has_value(); });
  EXPECT_TRUE(existed->ok() && **existed);
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
}

TEST_F(SessionActorTest, LoadFailureFailsTheWaitingRequestsAndALaterRequestRetries) {
  for (int i = 0; i < 1000; ++i) store.InjectFault(Operation::kGet, Fault::kTransient);
  Result<RecoverReply> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(SessionActorTest, UnreadableObjectFailsRequestsButCanBeDeleted) {
  ASSERT_TRUE(store.Put("sessions/sess", "not json", store::WriteCondition::None()).ok());
  Result<RecoverReply> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(daemon->Stash("sess", {{"a", "1"}}).code(), StatusCode::kCorruption);
  std::optional<Result<bool>> existed;
  daemon->Actor("sess")->Delete([&](Result<bool> res) { existed = res; });
  daemon->RunUntil([&] { return existed.has_value(); });
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
}

TEST_F(SessionActorTest, LimitViolationStoresNothing) {
  daemon->options.limits.max_value_bytes = 4;
  Status st = daemon->Stash("sess", {{"a", "\"too long\""}});
  EXPECT_EQ(st.code(), StatusCode::kLimit) << st.ToString();
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
}

}  // namespace
}  // namespace ds::session
