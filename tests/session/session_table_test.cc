// SessionTable on its own: lookups as the table grows, least-recently-used order, idle and
// memory-cap eviction, and the resident-bytes count (SPEC §3 "Residency"). The actors' own
// behaviour around eviction (writes in flight, reloads) is in session_actor_test.cc.
#include "session/session_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/memory_store.h"

namespace ds::session {
namespace {

using namespace std::chrono_literals;
using Time = std::chrono::steady_clock::time_point;

class SessionTableTest : public ::testing::Test {
 protected:
  // Loads the session `key` (used at `at`), so that it is ready and, with nothing pending,
  // evictable. The memory store runs inline: the load completes on this thread's loop.
  std::shared_ptr<SessionActor> Load(const std::string& key, Time at) {
    std::shared_ptr<SessionActor> actor = table.FindOrCreate(key, at);
    bool loaded = false;
    actor->CheckExpiry([&] { loaded = true; });
    loop.restart();
    while (!loaded && loop.poll_one() > 0) {
    }
    EXPECT_TRUE(loaded) << key;
    return actor;
  }

  bool Resident(const std::string& key) { return table.Find(key, t0) != nullptr; }

  const Time t0 = std::chrono::steady_clock::now();
  store::MemoryStore store;
  ManualClock clock;
  SessionOptions options;
  SessionStats stats;
  Logger logger{LogLevel::kError, [](std::string_view) {}};
  boost::asio::io_context loop;
  StoreExecutor executor{store, 0, StoreExecutor::Mode::kInline};
  DirectWritePath writer{executor};
  SessionTable table{ActorEnv{loop, executor, writer, clock, options, stats, logger}};
};

TEST_F(SessionTableTest, FindsWhatItCreatedAndNothingElse) {
  EXPECT_EQ(table.Find("a", t0), nullptr);
  std::shared_ptr<SessionActor> a = table.FindOrCreate("a", t0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->key(), "a");
  EXPECT_EQ(table.FindOrCreate("a", t0), a);
  EXPECT_EQ(table.Find("a", t0), a);
  EXPECT_EQ(table.Find("b", t0), nullptr);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(stats.resident, 1u);
}

// The index views each actor's own key, whether the actor holds it inline (short keys, and keys
// as long as the Elixir plug's 43 bytes) or in an allocation of its own (longer ones): the views
// must stay valid, and every session findable, while the index grows.
TEST_F(SessionTableTest, EverySessionStaysFindableAsTheTableGrows) {
  std::vector<std::shared_ptr<SessionActor>> actors;
  for (int i = 0; i < 5000; ++i) {
    std::string key = std::to_string(i);
    if (i % 3 == 1) key.resize(43, 'k');
    if (i % 3 == 2) key.resize(100, 'k');
    actors.push_back(table.FindOrCreate(key, t0));
  }
  ASSERT_EQ(table.size(), actors.size());
  for (const auto& actor : actors) {
    EXPECT_EQ(table.Find(actor->key(), t0), actor) << actor->key();
  }
  EXPECT_EQ(stats.resident_bytes, table.RecountResidentBytes());
}

TEST_F(SessionTableTest, IdleEvictionTakesSessionsUnusedForTheIdleTimeout) {
  Load("s1", t0);
  Load("s2", t0 + 1s);
  Load("s3", t0 + 2s);
  table.Find("s1", t0 + 3s);  // s1 is now the most recently used
  options.idle_timeout = 1500ms;
  table.Maintain(t0 + 3600ms);  // idle: used before t0 + 2.1 s
  EXPECT_EQ(stats.evictions_idle, 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(Resident("s1"));
  EXPECT_EQ(stats.resident_bytes, table.RecountResidentBytes());
}

TEST_F(SessionTableTest, MemoryCapEvictsTheLeastRecentlyUsedUntilUnderTheCap) {
  for (const char* key : {"s1", "s2", "s3", "s4"}) Load(key, t0);
  table.Find("s1", t0 + 1s);  // order, oldest first: s2 s3 s4 s1
  const size_t one = SessionTable::ResidentBytes(*table.Find("s4", t0 + 2s));  // s2 s3 s1 s4
  options.max_resident_bytes = 2 * one;
  table.Maintain(t0 + 2s);
  EXPECT_EQ(stats.evictions_memory, 2u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_FALSE(Resident("s2"));
  EXPECT_FALSE(Resident("s3"));
  EXPECT_TRUE(Resident("s1"));
  EXPECT_TRUE(Resident("s4"));
  EXPECT_EQ(stats.resident_bytes, table.RecountResidentBytes());
}

TEST_F(SessionTableTest, SessionsThatCannotBeDroppedAreSkippedNotEvicted) {
  Load("loaded", t0);
  table.FindOrCreate("never-loaded", t0);  // not loaded: it has nothing to reload from
  options.idle_timeout = 0ms;
  table.Maintain(t0 + 1s);
  EXPECT_EQ(stats.evictions_idle, 1u);
  EXPECT_FALSE(Resident("loaded"));
  EXPECT_TRUE(Resident("never-loaded"));
}

// Looking ahead at a read's requests must not count as a use: the order is that of the requests
// that ran.
TEST_F(SessionTableTest, PrefetchFindsTheActorWithoutMovingIt) {
  options.lru_reorder_interval = 0s;  // every use would move the session to the newest end
  EXPECT_EQ(table.PrefetchSlot("s1"), nullptr) << "nothing resident, no candidate";
  Load("s1", t0);
  Load("s2", t0 + 1s);  // order: s1 (oldest), s2
  SessionTable::Slot slot = table.PrefetchSlot("s1");
  ASSERT_NE(slot, nullptr);
  const SessionActor* s1 = SessionTable::PrefetchActor(slot);
  EXPECT_EQ(s1->key(), "s1");
  EXPECT_EQ(table.size(), 2u) << "a prefetch creates nothing";
  // Room for one session: the cap evicts the oldest, which is still s1 unless the prefetch
  // counted as a use.
  options.max_resident_bytes = SessionTable::ResidentBytes(*s1);
  table.Maintain(t0 + 2s);
  EXPECT_EQ(stats.evictions_memory, 1u);
  EXPECT_FALSE(Resident("s1"));
  EXPECT_TRUE(Resident("s2"));
}

// A session used again soon after it was placed at the newest end keeps its place: the memory
// cap's order is that of placement within the interval.
TEST_F(SessionTableTest, AUseWithinTheReorderIntervalKeepsThePlace) {
  options.lru_reorder_interval = 1s;
  Load("s1", t0);
  Load("s2", t0 + 100ms);
  table.Find("s1", t0 + 500ms);  // within 1 s of its placement: order still s1 s2
  options.max_resident_bytes = SessionTable::ResidentBytes(*table.Find("s2", t0 + 500ms));
  table.Maintain(t0 + 500ms);
  EXPECT_EQ(stats.evictions_memory, 1u);
  EXPECT_FALSE(Resident("s1")) << "the cap takes the earliest placed first";
  EXPECT_TRUE(Resident("s2"));
}

// With a short idle timeout the interval shrinks with it (to 1/16), so that a session in use
// is not taken for idle.
TEST_F(SessionTableTest, TheReorderIntervalIsAtMostASixteenthOfTheIdleTimeout) {
  options.lru_reorder_interval = 1s;
  options.idle_timeout = 1600ms;  // the interval is 100 ms
  Load("s1", t0);
  Load("s2", t0 + 10ms);
  table.Find("s1", t0 + 200ms);  // more than 100 ms after its placement: order s2 s1
  table.Maintain(t0 + 1700ms);   // idle: placed before t0 + 100 ms
  EXPECT_EQ(stats.evictions_idle, 1u);
  EXPECT_TRUE(Resident("s1")) << "evicted although used after the cut-off";
  EXPECT_FALSE(Resident("s2"));
}

TEST_F(SessionTableTest, AUseAfterTheReorderIntervalMovesTheSessionToTheNewestEnd) {
  options.lru_reorder_interval = 1s;
  Load("s1", t0);
  Load("s2", t0 + 100ms);
  table.Find("s1", t0 + 1s);  // order now s2 s1
  options.max_resident_bytes = SessionTable::ResidentBytes(*table.Find("s1", t0 + 1s));
  table.Maintain(t0 + 1s);
  EXPECT_EQ(stats.evictions_memory, 1u);
  EXPECT_TRUE(Resident("s1"));
  EXPECT_FALSE(Resident("s2"));
}

// A request read on another shard can be handled after one read later on this one: its use is
// recorded at the newest time, so the order stays sorted and eviction does not stop early.
TEST_F(SessionTableTest, AUseReportedLateCountsAsTheNewest) {
  Load("s1", t0);
  Load("s2", t0 + 5s);
  table.Find("s1", t0 + 4s);  // earlier than s2's use, but after it in order
  options.idle_timeout = 1s;
  table.Maintain(t0 + 5500ms);  // idle: used before t0 + 4.5 s
  EXPECT_EQ(stats.evictions_idle, 0u);
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(SessionTableTest, AnEvictedSessionIsCreatedAfresh) {
  std::shared_ptr<SessionActor> first = Load("s", t0);
  options.idle_timeout = 0ms;
  table.Maintain(t0 + 1s);
  ASSERT_EQ(table.size(), 0u);
  std::shared_ptr<SessionActor> second = table.FindOrCreate("s", t0 + 2s);
  EXPECT_NE(second, first);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(stats.resident_bytes, table.RecountResidentBytes());
}

TEST_F(SessionTableTest, ClearDropsEverySession) {
  for (const char* key : {"a", "b", "c"}) Load(key, t0);
  size_t visited = 0;
  table.ForEach([&](SessionActor&) { ++visited; });
  EXPECT_EQ(visited, 3u);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(stats.resident, 0u);
  EXPECT_EQ(stats.resident_bytes, 0u);
  EXPECT_EQ(table.Find("a", t0), nullptr);
}

}  // namespace
}  // namespace ds::session
