// SessionActor and SessionTable against the memory store: write-through with coalescing,
// conflicts, lost replies, retries, DS.SYNC, TTL and residency (SPEC §3, §5); and, through a
// memory store that declares other writers (SharedStore), what the actor does on a bucket
// shared by several daemons: revalidation, deletion records, no unconditional deletes.
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

// The memory store as a bucket that several daemons share: the same objects, but
// MayHaveOtherWriters() is true, as for the s3 store.
class SharedStore final : public store::Store {
 public:
  explicit SharedStore(MemoryStore& inner) : inner_(inner) {}
  Result<store::Object> Get(std::string_view key, std::string_view if_none_match) override {
    return inner_.Get(key, if_none_match);
  }
  Result<std::string> Put(std::string_view key, std::string_view data,
                          const store::WriteCondition& condition) override {
    return inner_.Put(key, data, condition);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Result<store::ListPage> List(std::string_view prefix, std::string_view continuation,
                               size_t max_keys) override {
    return inner_.List(prefix, continuation, max_keys);
  }
  std::string Describe() const override { return "shared memory"; }
  bool MayHaveOtherWriters() const override { return true; }

 private:
  MemoryStore& inner_;
};

// The memory store with etags as long as S3's and the file store's (32 hex digits and more),
// which std::string keeps on the heap: the actor's memory accounting counts that allocation,
// which the memory store's short etags ("g12") never have.
class LongEtagStore final : public store::Store {
 public:
  explicit LongEtagStore(MemoryStore& inner) : inner_(inner) {}
  Result<store::Object> Get(std::string_view key, std::string_view if_none_match) override {
    Result<store::Object> r = inner_.Get(key, Short(if_none_match));
    if (r.ok()) r->etag = Long(r->etag);
    return r;
  }
  Result<std::string> Put(std::string_view key, std::string_view data,
                          const store::WriteCondition& condition) override {
    store::WriteCondition inner_condition = condition;
    inner_condition.etag = Short(condition.etag);
    Result<std::string> r = inner_.Put(key, data, inner_condition);
    if (!r.ok()) return r;
    return Long(*r);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Result<store::ListPage> List(std::string_view prefix, std::string_view continuation,
                               size_t max_keys) override {
    return inner_.List(prefix, continuation, max_keys);
  }
  std::string Describe() const override { return "memory with long etags"; }

 private:
  static constexpr std::string_view kSuffix = "-0123456789abcdef0123456789abcdef";
  static std::string Long(std::string_view etag) {
    return std::string(etag) + std::string(kSuffix);
  }
  static std::string Short(std::string_view etag) {
    return std::string(
        etag.substr(0, etag.size() >= kSuffix.size() ? etag.size() - kSuffix.size() : 0));
  }
  MemoryStore& inner_;
};

// One simulated daemon: a loop (run by the test thread), an actor environment and its stats.
struct Daemon {
  Daemon(store::Store& store, ManualClock& clock, SessionOptions opts)
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
  // Between handlers it also checks the memory accounting: the running count of resident bytes
  // the actors keep must be what a walk over every actor finds.
  template <typename Pred>
  void RunUntil(Pred done) {
    while (!done()) {
      ASSERT_GT(loop.run_one_for(30s), 0u) << "no event for 30 s";
      ASSERT_EQ(stats.resident_bytes, table.RecountResidentBytes());
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

  // The reply with copies of its values: the actor's reply views the session, and only while
  // its callback runs.
  struct Recovered {
    RecoverReply::Outcome outcome;
    int64_t stored_vsn;
    std::vector<std::pair<std::string, std::string>> values;
  };
  Result<Recovered> Recover(const std::string& key, MountKind mount, std::vector<KeyScope> keys,
                            int64_t vsn = 1) {
    RecoverRequest req{ViewName(kView), vsn, mount, std::move(keys)};
    std::optional<Result<Recovered>> result;
    Actor(key)->Recover(std::move(req), [&](Result<RecoverReply> r) {
      if (r.ok()) {
        result.emplace(Recovered{r->outcome, r->stored_vsn, {r->values.begin(), r->values.end()}});
      } else {
        result.emplace(r.status());
      }
    });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  Status Sync(const std::string& key, std::chrono::milliseconds timeout = 10s) {
    std::optional<Status> result;
    Actor(key)->Sync(timeout, [&](Status st) { result = st; });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  Result<size_t> Drop(const std::string& key, std::vector<std::string> keys) {
    std::optional<Result<size_t>> result;
    Actor(key)->Drop(kView, std::move(keys), [&](Result<size_t> r) { result = std::move(r); });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  Result<bool> Delete(const std::string& key) {
    std::optional<Result<bool>> result;
    Actor(key)->Delete([&](Result<bool> r) { result = std::move(r); });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Status::Timeout("no reply"));
  }

  // The value of `k` a session-scope recover returns, or "<none>".
  std::string RecoverValue(const std::string& key, const std::string& k) {
    Result<Recovered> r = Recover(key, MountKind::kDead, {{k, Scope::kSession}});
    if (!r.ok()) return "<error " + r.status().ToString() + ">";
    return r->values.empty() ? "<none>" : r->values[0].second;
  }

  void EvictAll() {
    std::chrono::milliseconds idle = options.idle_timeout;
    options.idle_timeout = 0ms;
    table.Maintain(std::chrono::steady_clock::now() + 1s);
    options.idle_timeout = idle;
    EXPECT_EQ(stats.resident_bytes, table.RecountResidentBytes());
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

// The accounting follows the etag as it changes with each write, a reload and an eviction
// (RunUntil checks it after every event).
TEST_F(SessionActorTest, ResidentBytesCountEtagsLongEnoughToBeAllocated) {
  LongEtagStore long_etags(store);
  Daemon d(long_etags, clock, FastRetries());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(d.Stash("sess", {{"count", std::to_string(i)}}).ok());
    ASSERT_TRUE(d.Sync("sess").ok());
  }
  d.EvictAll();
  ASSERT_TRUE(d.Recover("sess", MountKind::kDead, {{"count", Scope::kSession}}).ok());
  ASSERT_TRUE(d.Stash("sess", {{"count", "3"}}).ok());
  ASSERT_TRUE(d.Sync("sess").ok());
  EXPECT_EQ(d.stats.resident_bytes, d.table.RecountResidentBytes());
  EXPECT_EQ(StoredValue("sess", "count"), "3");
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
  Result<Daemon::Recovered> r = daemon->Recover("sess", MountKind::kFresh,
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
  Result<Daemon::Recovered> r = daemon->Recover(
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
  Result<Daemon::Recovered> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
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
  Result<Daemon::Recovered> r = fresh.Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
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
  Result<Daemon::Recovered> r =
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
  // The uses below are microseconds apart: the order must follow each of them.
  daemon->options.lru_reorder_interval = 0ms;
  for (const char* key : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(daemon->Stash(key, {{"a", "1"}}).ok());
    ASSERT_TRUE(daemon->Sync(key).ok());
  }
  daemon->table.Find("s1");  // s2 is now the least recently used
  size_t one = SessionTable::ResidentBytes(*daemon->table.Find("s3"));
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
  Result<Daemon::Recovered> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(SessionActorTest, UnreadableObjectFailsRequestsButCanBeDeleted) {
  ASSERT_TRUE(store.Put("sessions/sess", "not json", store::WriteCondition::None()).ok());
  Result<Daemon::Recovered> r = daemon->Recover("sess", MountKind::kDead, {{"a", Scope::kSession}});
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

TEST_F(SessionActorTest, AStashIsRefusedOnceTooMuchWaitsForTheStore) {
  ASSERT_TRUE(daemon->Stash("sess", {{"a", "0"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  // The store hangs on the next write: every stash after it waits in memory.
  store.InjectFault(Operation::kPut, Fault::kSlow, 3000ms);
  const std::string value = "\"" + std::string(60 * 1024, 'v') + "\"";
  const size_t bound = SessionActor::MaxPendingBytes(daemon->options.limits);
  Status refused;
  int accepted = 0;
  for (int i = 0; i < 1000 && refused.ok(); ++i) {
    refused = daemon->Stash("sess", {{"a", value}});
    if (refused.ok()) ++accepted;
  }
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("not accepted"), std::string::npos) << refused.message();
  EXPECT_EQ(daemon->stats.stashes_refused_backlog, 1u);
  EXPECT_LE(daemon->stats.pending_bytes, bound);
  EXPECT_GT(daemon->stats.pending_bytes, bound - 2 * value.size());
  EXPECT_GE(accepted, static_cast<int>(bound / (value.size() + 200)));
  // Once the store takes the backlog, stashes are accepted again and nothing accepted is lost.
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(daemon->stats.pending_bytes, 0u);
  EXPECT_TRUE(daemon->Stash("sess", {{"a", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "a"), "1");
}

// =============================================================================================
// A store shared with other daemons

class SharedStoreTest : public SessionActorTest {
 protected:
  SharedStore shared{store};
  std::unique_ptr<Daemon> a = std::make_unique<Daemon>(shared, clock, FastRetries());
  std::unique_ptr<Daemon> b = std::make_unique<Daemon>(shared, clock, FastRetries());

  uint64_t Gets() const { return store.OperationCount(Operation::kGet); }
  static size_t Removed(const Result<size_t>& r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }
  static bool Existed(const Result<bool>& r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }
};

TEST_F(SharedStoreTest, AColdRecoverCostsExactlyOneGet) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  uint64_t before = Gets();
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  EXPECT_EQ(Gets() - before, 1u);
  EXPECT_EQ(b->stats.revalidations, 0u);
  // Also after an eviction.
  b->EvictAll();
  ASSERT_EQ(b->table.size(), 0u);
  before = Gets();
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  EXPECT_EQ(Gets() - before, 1u);
  EXPECT_EQ(b->stats.revalidations, 0u);
}

TEST_F(SharedStoreTest, AResidentSessionIsRevalidatedAndSeesAnotherDaemonsDurableWrite) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");  // b now holds the session
  clock.Advance(10);
  ASSERT_TRUE(a->Stash("sess", {{"x", "2"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());  // durable, acknowledged
  EXPECT_EQ(b->RecoverValue("sess", "x"), "2");
  EXPECT_EQ(b->stats.revalidations, 1u);
  EXPECT_EQ(b->stats.revalidations_changed, 1u);
}

TEST_F(SharedStoreTest, AnUnchangedSessionCostsOneConditionalGetAndNoTransfer) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  uint64_t before = Gets();
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  EXPECT_EQ(Gets() - before, 2u);
  EXPECT_EQ(b->stats.revalidations, 2u);
  EXPECT_EQ(b->stats.revalidations_not_modified, 2u);
  EXPECT_EQ(b->stats.revalidations_changed, 0u);
}

TEST_F(SharedStoreTest, AStoreWithoutOtherWritersIsNeverRevalidated) {
  ASSERT_TRUE(daemon->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(daemon->Sync("sess").ok());
  uint64_t before = Gets();
  EXPECT_EQ(daemon->RecoverValue("sess", "x"), "1");
  EXPECT_EQ(Gets(), before);
  EXPECT_EQ(daemon->stats.revalidations, 0u);
}

TEST_F(SharedStoreTest, ARecoverThatArrivesDuringALoadIsRevalidatedAfterIt) {
  // The load's GET was sent before the second recover arrived, so it cannot vouch for it.
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  uint64_t before = Gets();
  int answered = 0;
  for (int i = 0; i < 2; ++i) {
    b->Actor("sess")->Recover(
        RecoverRequest{ViewName(kView), 1, MountKind::kDead, {{"x", Scope::kSession}}},
        [&](Result<RecoverReply> r) {
          EXPECT_TRUE(r.ok());
          answered++;
        });
  }
  b->RunUntil([&] { return answered == 2; });
  EXPECT_EQ(Gets() - before, 2u);
  EXPECT_EQ(b->stats.revalidations, 1u);
}

TEST_F(SharedStoreTest, RevalidationKeepsTheWritesThisDaemonHasNotStoredYet) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  clock.Advance(10);
  // b accepts y, but the store keeps failing b's write for a while.
  for (int i = 0; i < 3; ++i) store.InjectFault(Operation::kPut, Fault::kTransient);
  ASSERT_TRUE(b->Stash("sess", {{"y", "\"b\""}}).ok());
  clock.Advance(10);
  ASSERT_TRUE(a->Stash("sess", {{"x", "2"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "2");
  EXPECT_EQ(b->RecoverValue("sess", "y"), "\"b\"");
  ASSERT_TRUE(b->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "x"), "2");
  EXPECT_EQ(StoredValue("sess", "y"), "\"b\"");
}

TEST_F(SharedStoreTest, ARecoverFailsRatherThanAnswerFromAnUnconfirmedCache) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  store.InjectFault(Operation::kGet, Fault::kTransient);
  Result<Daemon::Recovered> r = b->Recover("sess", MountKind::kDead, {{"x", Scope::kSession}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(b->stats.store_errors, 1u);
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");  // the store answers again
}

TEST_F(SharedStoreTest, ADropSeesWhatAnotherDaemonStoredBeforeIt) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  clock.Advance(10);
  ASSERT_TRUE(a->Stash("sess", {{"y", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  clock.Advance(10);
  Result<size_t> removed = b->Drop("sess", {"y"});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  ASSERT_TRUE(b->Sync("sess").ok());
  EXPECT_EQ(StoredValue("sess", "y"), "<no key>");
  EXPECT_EQ(StoredValue("sess", "x"), "1");
}

// The case across two daemons: b's stash of x is older than a's drop of x, but reaches
// the store after it. The drop wins.
TEST_F(SharedStoreTest, AnOlderWriteThatLandsAfterADropDoesNotBringTheKeyBack) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}, {"keep", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  clock.Advance(10);
  store.InjectFault(Operation::kPut, Fault::kSlow, 1000ms);  // b's write is held up
  ASSERT_TRUE(b->Stash("sess", {{"x", "\"b\""}}).ok());
  b->RunUntil([&] { return store.OperationCount(Operation::kPut) == 2; });
  clock.Advance(10);
  ASSERT_EQ(Removed(a->Drop("sess", {"x"})), 1u);
  ASSERT_TRUE(a->Sync("sess").ok());
  ASSERT_TRUE(b->Sync("sess").ok());
  // Both wrote If-Match on the same etag, unless a's re-read already saw b's write: at most one
  // lost the race, merged and wrote again. (Almost always b, whose older write then meets a's
  // deletion record; whichever it is, the outcome must be the same.)
  EXPECT_LE(a->stats.precondition_conflicts + b->stats.precondition_conflicts, 1u);
  EXPECT_EQ(StoredValue("sess", "x"), "<no key>");
  EXPECT_EQ(StoredValue("sess", "keep"), "1");
  EXPECT_EQ(b->RecoverValue("sess", "x"), "<none>");
}

TEST_F(SharedStoreTest, ADeletedSessionKeepsItsRecordsSoAnOlderWriteCannotResurrectIt) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "1");
  clock.Advance(10);
  store.InjectFault(Operation::kPut, Fault::kSlow, 1000ms);  // b's write is held up
  ASSERT_TRUE(b->Stash("sess", {{"x", "\"b\""}}).ok());
  b->RunUntil([&] { return store.OperationCount(Operation::kPut) == 2; });
  clock.Advance(10);
  ASSERT_TRUE(Existed(a->Delete("sess")));
  ASSERT_TRUE(a->Sync("sess").ok());
  // Not deleted: an object with the deletion records only, written with If-Match.
  EXPECT_EQ(store.OperationCount(Operation::kDelete), 0u);
  SessionState stored = Stored();
  EXPECT_TRUE(stored.empty());
  EXPECT_TRUE(stored.has_deletion_records());
  ASSERT_TRUE(b->Sync("sess").ok());
  EXPECT_TRUE(Stored().empty());
  EXPECT_EQ(b->RecoverValue("sess", "x"), "<none>");
  Daemon c(shared, clock, FastRetries());
  EXPECT_EQ(c.RecoverValue("sess", "x"), "<none>");
}

TEST_F(SharedStoreTest, AnObjectOfPrunedRecordsIsDeletedByTheNextLoad) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  ASSERT_EQ(Removed(a->Drop("sess", {"x"})), 1u);
  ASSERT_TRUE(a->Sync("sess").ok());
  ASSERT_EQ(store.Size(), 1u);  // the record
  clock.Advance(kDeletionRecordHorizon + 1000);
  Daemon c(shared, clock, FastRetries());
  EXPECT_EQ(c.RecoverValue("sess", "x"), "<none>");
  ASSERT_TRUE(c.Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_EQ(store.OperationCount(Operation::kDelete), 1u);
}

TEST_F(SharedStoreTest, AnExpiredSessionIsDeletedOutright) {
  ASSERT_TRUE(a->Stash("sess", {{"x", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  ASSERT_EQ(Removed(a->Drop("sess", {"x"})), 1u);  // leaves a record...
  ASSERT_TRUE(a->Stash("sess", {{"y", "1"}}).ok());
  ASSERT_TRUE(a->Sync("sess").ok());
  clock.Advance(a->options.ttl + 1000);
  Daemon c(shared, clock, FastRetries());
  EXPECT_EQ(c.RecoverValue("sess", "y"), "<none>");
  ASSERT_TRUE(c.Sync("sess").ok());
  EXPECT_EQ(store.Size(), 0u);  // ...which goes with the expired session
  EXPECT_EQ(c.stats.expired, 1u);
}

}  // namespace
}  // namespace ds::session
