// Tests of SessionState's rules (SPEC §3): stash, drop, reset, touch, recover, limits, sizes,
// and the rebase of one writer's mutations onto another writer's state.
#include "session/session_state.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mutations.h"

namespace ds::session {
namespace {

using test::Drop;
using test::Entries;
using test::Reset;
using test::Stash;
using Outcome = RecoverReply::Outcome;

Mutation Touch(Micros at) {
  Mutation m;
  m.kind = Mutation::Kind::kTouch;
  m.at = at;
  return m;
}

// The stored value of view/key, or nullptr.
const StoredValue* Get(const SessionState& s, std::string_view view, std::string_view key) {
  auto v = s.views().find(view);
  if (v == s.views().end()) return nullptr;
  auto k = v->second.data.find(key);
  return k == v->second.data.end() ? nullptr : &k->second;
}

const Slice* GetSlice(const SessionState& s, std::string_view view) {
  auto v = s.views().find(view);
  return v == s.views().end() ? nullptr : &v->second;
}

constexpr char kView[] = "Elixir.App.CounterLive";

// =============================================================================================
// Stash

TEST(SessionStateStash, CreatesSliceWithVsnAndWriteTimes) {
  SessionState s;
  ApplyOutcome out = s.Apply(Stash(kView, 3, {{"count", "1"}, {"name", "\"ann\""}}, 100));
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 0u);
  const Slice* slice = GetSlice(s, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->vsn, 3);
  EXPECT_EQ(slice->vsn_at, 100);
  ASSERT_EQ(slice->data.size(), 2u);
  EXPECT_EQ(slice->data.at("count"), (StoredValue{"1", 100}));
  EXPECT_EQ(slice->data.at("name"), (StoredValue{"\"ann\"", 100}));
  EXPECT_EQ(s.last_seen_at(), 100);
  EXPECT_FALSE(s.empty());
}

TEST(SessionStateStash, MergesKeysOfTheSameVsn) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "2"}}, 10));
  EXPECT_TRUE(s.Apply(Stash(kView, 1, {{"b", "3"}, {"c", "4"}}, 20)).changed);
  EXPECT_EQ(*Get(s, kView, "a"), (StoredValue{"1", 10}));  // untouched key kept
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"3", 20}));
  EXPECT_EQ(*Get(s, kView, "c"), (StoredValue{"4", 20}));
  EXPECT_EQ(GetSlice(s, kView)->vsn_at, 10);  // same shape: vsn_at stays
}

TEST(SessionStateStash, OlderWriteToAKeyLosesToNewerOne) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "\"new\""}}, 10));
  ApplyOutcome out = s.Apply(Stash(kView, 1, {{"a", "\"old\""}, {"b", "1"}}, 5));
  EXPECT_TRUE(out.changed);  // b is new
  EXPECT_EQ(*Get(s, kView, "a"), (StoredValue{"\"new\"", 10}));
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"1", 5}));
  EXPECT_EQ(s.last_seen_at(), 10);
}

TEST(SessionStateStash, OlderWriteThatLosesEverywhereIsNoChange) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "2"}}, 10));
  SessionState before = s;
  EXPECT_FALSE(s.Apply(Stash(kView, 1, {{"a", "1"}}, 9)).changed);
  EXPECT_EQ(s, before);
}

TEST(SessionStateStash, TieGoesToTheLaterApplied) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  EXPECT_TRUE(s.Apply(Stash(kView, 1, {{"a", "2"}}, 10)).changed);
  EXPECT_EQ(*Get(s, kView, "a"), (StoredValue{"2", 10}));
}

TEST(SessionStateStash, SameValueAtANewerTimeRecordsTheTime) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  s.Apply(Touch(30));
  EXPECT_TRUE(s.Apply(Stash(kView, 1, {{"a", "1"}}, 20)).changed);
  EXPECT_EQ(Get(s, kView, "a")->written_at, 20);
}

TEST(SessionStateStash, ReapplyingTheSameStashIsNoChange) {
  SessionState s;
  Mutation m = Stash(kView, 1, {{"a", "1"}}, 10);
  s.Apply(m);
  SessionState before = s;
  EXPECT_FALSE(s.Apply(m).changed);
  EXPECT_EQ(s, before);
}

TEST(SessionStateStash, DuplicateKeyInOneStashLastOneWins) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"a", "2"}}, 10));
  EXPECT_EQ(*Get(s, kView, "a"), (StoredValue{"2", 10}));
}

TEST(SessionStateStash, AnotherVsnReplacesTheSliceWholesale) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "2"}}, 10));
  ApplyOutcome out = s.Apply(Stash(kView, 2, {{"b", "20"}, {"c", "30"}}, 20));
  EXPECT_TRUE(out.changed);
  const Slice* slice = GetSlice(s, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->vsn, 2);
  EXPECT_EQ(slice->vsn_at, 20);
  EXPECT_EQ(Get(s, kView, "a"), nullptr);  // old shape's keys are gone
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"20", 20}));
  EXPECT_EQ(*Get(s, kView, "c"), (StoredValue{"30", 20}));
}

TEST(SessionStateStash, AVsnChangeDropsEvenKeysWrittenAfterIt) {
  // A slice never mixes shapes: keys of the old shape go, however recent.
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  s.Apply(Stash(kView, 1, {{"late", "1"}}, 30));
  s.Apply(Stash(kView, 2, {{"b", "2"}}, 20));
  EXPECT_EQ(GetSlice(s, kView)->vsn, 2);
  EXPECT_EQ(GetSlice(s, kView)->data.size(), 1u);
  EXPECT_EQ(Get(s, kView, "late"), nullptr);
}

TEST(SessionStateStash, AnOlderStashOfAnotherVsnIsDiscarded) {
  SessionState s;
  s.Apply(Stash(kView, 2, {{"a", "1"}}, 20));
  SessionState before = s;
  ApplyOutcome out = s.Apply(Stash(kView, 1, {{"a", "9"}, {"b", "9"}}, 19));
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(s, before);
}

TEST(SessionStateStash, AStashOfAnotherVsnAtExactlyVsnAtWins) {
  SessionState s;
  s.Apply(Stash(kView, 2, {{"a", "1"}}, 20));
  EXPECT_TRUE(s.Apply(Stash(kView, 1, {{"b", "2"}}, 20)).changed);
  EXPECT_EQ(GetSlice(s, kView)->vsn, 1);
  EXPECT_EQ(Get(s, kView, "a"), nullptr);
}

TEST(SessionStateStash, SameVsnWritesOlderThanVsnAtStillMergePerKey) {
  // Two writers at the same (new) shape: the per-key rule applies, not the vsn_at rule.
  SessionState s;
  s.Apply(Stash(kView, 2, {{"a", "1"}}, 20));
  s.Apply(Stash(kView, 2, {{"b", "2"}}, 15));
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"2", 15}));
  EXPECT_EQ(GetSlice(s, kView)->vsn_at, 20);
}

TEST(SessionStateStash, ViewsNeverSeeEachOthersKeys) {
  SessionState s;
  s.Apply(Stash("A", 1, {{"k", "1"}}, 10));
  s.Apply(Stash("B", 7, {{"k", "2"}}, 11));
  EXPECT_EQ(*Get(s, "A", "k"), (StoredValue{"1", 10}));
  EXPECT_EQ(*Get(s, "B", "k"), (StoredValue{"2", 11}));
  EXPECT_EQ(GetSlice(s, "A")->vsn, 1);
  s.Apply(Stash("B", 8, {{"x", "3"}}, 12));  // a vsn change of B leaves A alone
  EXPECT_EQ(*Get(s, "A", "k"), (StoredValue{"1", 10}));
}

// Decision: a stash with no entries never creates a slice (there is nothing to remember, and
// empty slices are never kept); with the slice's vsn it changes nothing; with another, newer
// vsn it replaces the slice by nothing, i.e. removes it.
TEST(SessionStateStash, NoEntriesNeverCreatesASlice) {
  SessionState s;
  ApplyOutcome out = s.Apply(Stash(kView, 1, {}, 10));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.last_seen_at(), 10);
  EXPECT_TRUE(out.changed);  // last_seen_at moved
  EXPECT_FALSE(s.Apply(Stash(kView, 1, {}, 10)).changed);
}

TEST(SessionStateStash, NoEntriesAtTheSameVsnChangesNoSlice) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  SessionState before = s;
  EXPECT_FALSE(s.Apply(Stash(kView, 1, {}, 10)).changed);
  EXPECT_EQ(s, before);
}

TEST(SessionStateStash, NoEntriesAtAnotherVsnRemovesTheSlice) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  EXPECT_TRUE(s.Apply(Stash(kView, 2, {}, 10)).changed);
  EXPECT_EQ(GetSlice(s, kView), nullptr);
  EXPECT_TRUE(s.empty());
}

// =============================================================================================
// Drop

TEST(SessionStateDrop, RemovesNamedKeysAndCountsThem) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 10));
  ApplyOutcome out = s.Apply(Drop(kView, {"a", "c", "missing"}, 20));
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 2u);
  EXPECT_EQ(Get(s, kView, "a"), nullptr);
  EXPECT_EQ(Get(s, kView, "c"), nullptr);
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"2", 10}));
}

TEST(SessionStateDrop, AKeyNamedTwiceCountsOnce) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "2"}}, 10));
  EXPECT_EQ(s.Apply(Drop(kView, {"a", "a"}, 20)).removed, 1u);
}

TEST(SessionStateDrop, NothingToDropIsNoChangeOfSlicesButIsRecorded) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  SessionState before = s;
  ApplyOutcome out = s.Apply(Drop(kView, {"zzz"}, 10));
  EXPECT_TRUE(out.changed);  // the deletion record
  EXPECT_EQ(out.removed, 0u);
  out = s.Apply(Drop("OtherView", {"a"}, 10));
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(s.views(), before.views());
  EXPECT_EQ(s.deletion_record_count(), 2u);
  // The same drops again change nothing.
  EXPECT_FALSE(s.Apply(Drop(kView, {"zzz"}, 10)).changed);
  EXPECT_FALSE(s.Apply(Drop("OtherView", {"a"}, 9)).changed);
}

TEST(SessionStateDrop, AKeyWrittenAfterTheDropSurvivesIt) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "2"}}, 10));
  s.Apply(Stash(kView, 1, {{"b", "3"}}, 30));
  ApplyOutcome out = s.Apply(Drop(kView, {"a", "b"}, 20));
  EXPECT_EQ(out.removed, 1u);
  EXPECT_EQ(Get(s, kView, "a"), nullptr);
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"3", 30}));
}

TEST(SessionStateDrop, ADropAtTheWriteTimeRemovesTheKey) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}}, 10));
  EXPECT_EQ(s.Apply(Drop(kView, {"a"}, 10)).removed, 1u);
}

TEST(SessionStateDrop, DroppingTheLastKeyRemovesTheSlice) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  s.Apply(Stash("Other", 1, {{"x", "1"}}, 10));
  EXPECT_EQ(s.Apply(Drop(kView, {"a"}, 20)).removed, 1u);
  EXPECT_EQ(GetSlice(s, kView), nullptr);
  EXPECT_EQ(s.views().size(), 1u);
  EXPECT_EQ(s.Apply(Drop("Other", {"x"}, 21)).removed, 1u);
  EXPECT_TRUE(s.empty());
}

// =============================================================================================
// Reset

TEST(SessionStateReset, RemovesTheSliceAndReportsOne) {
  SessionState s;
  s.Apply(Stash(kView, 4, {{"a", "1"}, {"b", "2"}}, 10));
  s.Apply(Stash("Other", 1, {{"x", "1"}}, 10));
  ApplyOutcome out = s.Apply(Reset(kView, 20));
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 1u);
  EXPECT_EQ(GetSlice(s, kView), nullptr);
  EXPECT_NE(GetSlice(s, "Other"), nullptr);
}

TEST(SessionStateReset, NoSliceReportsZeroButIsRecorded) {
  SessionState s;
  s.Apply(Stash("Other", 1, {{"x", "1"}}, 10));
  SessionState before = s;
  ApplyOutcome out = s.Apply(Reset(kView, 10));
  EXPECT_TRUE(out.changed);  // the deletion record
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(s.views(), before.views());
  EXPECT_EQ(s.resets().at(kView), 10);
  EXPECT_FALSE(s.Apply(Reset(kView, 10)).changed);
}

TEST(SessionStateReset, KeysWrittenAfterTheResetSurviveIt) {
  SessionState s;
  s.Apply(Stash(kView, 4, {{"a", "1"}, {"b", "2"}}, 10));
  s.Apply(Stash(kView, 4, {{"b", "3"}}, 30));
  ApplyOutcome out = s.Apply(Reset(kView, 20));
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 1u);
  const Slice* slice = GetSlice(s, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->vsn, 4);
  ASSERT_EQ(slice->data.size(), 1u);
  EXPECT_EQ(*Get(s, kView, "b"), (StoredValue{"3", 30}));
}

TEST(SessionStateReset, AtTheWriteTimeRemovesTheKeys) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  s.Apply(Reset(kView, 10));
  EXPECT_TRUE(s.empty());
}

// =============================================================================================
// Touch and last_seen_at

TEST(SessionStateTouch, MovesOnlyLastSeenAt) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 10));
  auto views = s.views();
  ApplyOutcome out = s.Apply(Touch(50));
  EXPECT_TRUE(out.changed);  // last_seen_at is state (the actor persists touches)
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(s.last_seen_at(), 50);
  EXPECT_EQ(s.views(), views);
}

TEST(SessionStateTouch, AnOlderTouchChangesNothing) {
  SessionState s;
  s.Apply(Touch(50));
  EXPECT_FALSE(s.Apply(Touch(40)).changed);
  EXPECT_EQ(s.last_seen_at(), 50);
  EXPECT_TRUE(s.empty());  // a touch never creates a slice
}

TEST(SessionStateTouch, EveryKindMovesLastSeenAtForwardOnly) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}}, 10));
  EXPECT_EQ(s.last_seen_at(), 10);
  s.Apply(Drop(kView, {"a"}, 20));
  EXPECT_EQ(s.last_seen_at(), 20);
  s.Apply(Reset("Nothing", 30));
  EXPECT_EQ(s.last_seen_at(), 30);
  s.Apply(Stash(kView, 1, {{"c", "1"}}, 25));  // older: last_seen_at does not go back
  EXPECT_EQ(s.last_seen_at(), 30);
  s.Apply(Drop(kView, {"zz"}, 40));
  EXPECT_EQ(s.last_seen_at(), 40);
}

TEST(SessionStateTouch, ExpiredComparesLastSeenPlusTtl) {
  SessionState s;
  s.Apply(Touch(1000));
  EXPECT_FALSE(s.Expired(1100, 100));
  EXPECT_TRUE(s.Expired(1101, 100));
}

// `changed` is exactly "the state differs from before", over a long random history.
TEST(SessionStateApply, ChangedIsExactlyStateDiffers) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> views = {"A", "B"};
  const std::vector<std::string> keys = {"a", "b", "c"};
  SessionState s;
  for (int i = 0; i < 5000; i++) {
    Mutation m;
    Micros at = pick(60);
    switch (pick(4)) {
      case 0: {
        Entries e;
        for (int k = pick(3); k > 0; k--) e.emplace_back(keys[pick(3)], std::to_string(pick(3)));
        m = Stash(views[pick(2)], 1 + pick(2), e, at);
        break;
      }
      case 1:
        m = Drop(views[pick(2)], {keys[pick(3)], keys[pick(3)]}, at);
        break;
      case 2:
        m = Reset(views[pick(2)], at);
        break;
      default:
        m = Touch(at);
    }
    SessionState before = s;
    ApplyOutcome out = s.Apply(m);
    ASSERT_EQ(out.changed, !(before == s)) << "step " << i;
    for (const auto& [view, slice] : s.views()) ASSERT_FALSE(slice.data.empty()) << "step " << i;
  }
}

// =============================================================================================
// CheckStash

Limits SmallLimits() {
  Limits l;
  l.max_value_bytes = 10;
  l.max_session_bytes = 60;
  l.max_keys_per_view = 3;
  l.max_views = 2;
  l.max_key_bytes = 5;
  l.max_view_bytes = 8;
  return l;
}

// Expects a Limit status whose message names every one of `parts`.
void ExpectLimit(const Status& st, const std::vector<std::string>& parts) {
  EXPECT_EQ(st.code(), StatusCode::kLimit) << st.ToString();
  for (const std::string& p : parts) {
    EXPECT_NE(st.message().find(p), std::string::npos) << "'" << p << "' not in: " << st.message();
  }
}

TEST(SessionStateCheckStash, ValueSizeIsCheckedAgainstItsLimit) {
  SessionState s;
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"k", "1234567890"}}, 1), SmallLimits()).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"k", "12345678901"}}, 1), SmallLimits()),
              {"\"k\"", "\"V\"", "11 bytes", "10", "max_value_bytes", "--max-value-bytes"});
}

TEST(SessionStateCheckStash, KeyLengthIsCheckedAgainstItsLimit) {
  SessionState s;
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"12345", "1"}}, 1), SmallLimits()).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"123456", "1"}}, 1), SmallLimits()),
              {"\"123456\"", "\"V\"", "6 bytes", "5", "max_key_bytes", "--max-key-bytes"});
}

TEST(SessionStateCheckStash, ViewNameLengthIsCheckedAgainstItsLimit) {
  SessionState s;
  EXPECT_TRUE(s.CheckStash(Stash("12345678", 1, {{"k", "1"}}, 1), SmallLimits()).ok());
  ExpectLimit(s.CheckStash(Stash("123456789", 1, {{"k", "1"}}, 1), SmallLimits()),
              {"\"123456789\"", "9 bytes", "8", "max_view_bytes", "--max-view-bytes"});
}

TEST(SessionStateCheckStash, KeysPerViewCountsTheSliceAfterTheMerge) {
  SessionState s;
  s.Apply(Stash("V", 1, {{"a", "1"}, {"b", "1"}}, 1));
  Limits l = SmallLimits();
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"a", "2"}, {"c", "1"}}, 2), l).ok());  // 3 keys
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"c", "1"}, {"d", "1"}}, 2), l),
              {"\"V\"", "4 keys", "3", "max_keys_per_view", "--max-keys-per-view"});
  // Another view has its own count.
  EXPECT_TRUE(s.CheckStash(Stash("W", 1, {{"c", "1"}, {"d", "1"}, {"e", "1"}}, 2), l).ok());
}

TEST(SessionStateCheckStash, DuplicateKeysInOneStashCountOnce) {
  SessionState s;
  Limits l = SmallLimits();
  Mutation m = Stash("V", 1, {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"a", "2"}}, 1);
  EXPECT_TRUE(s.CheckStash(m, l).ok());
  // ...and only the last value of a key counts towards the session size.
  l.max_session_bytes = 1 + 3 + 3;  // "V" + 3 keys + 3 one-byte values
  m = Stash("V", 1, {{"a", "1234567890"}, {"a", "1"}, {"b", "1"}, {"c", "1"}}, 1);
  EXPECT_TRUE(s.CheckStash(m, l).ok());
}

// Beyond 16 keys CheckStash finds repeated keys with a map instead of pairwise: same answer.
TEST(SessionStateCheckStash, DuplicateKeysInALargeStashCountOnce) {
  SessionState s;
  Limits l = SmallLimits();
  l.max_keys_per_view = 100;
  std::vector<std::pair<std::string, std::string>> entries = {{"k00", "1234567890"}};
  for (int i = 0; i < 20; ++i)
    entries.emplace_back(i < 10 ? "k0" + std::to_string(i) : "k" + std::to_string(i), "1");
  l.max_session_bytes = 1 + 20 * 3 + 20;  // "V" + 20 three-byte keys + 20 one-byte values
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, entries, 1), l).ok());
  l.max_session_bytes--;
  ExpectLimit(s.CheckStash(Stash("V", 1, entries, 1), l), {"max_session_bytes"});
}

TEST(SessionStateCheckStash, AnotherVsnCountsOnlyTheNewKeys) {
  SessionState s;
  s.Apply(Stash("V", 1, {{"a", "1"}, {"b", "1"}, {"c", "1"}}, 1));
  Limits l = SmallLimits();
  EXPECT_TRUE(s.CheckStash(Stash("V", 2, {{"d", "1"}, {"e", "1"}, {"f", "1"}}, 2), l).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"d", "1"}}, 2), l), {"max_keys_per_view"});
}

TEST(SessionStateCheckStash, AStashThatApplyWouldDiscardPassesTheAfterMergeLimits) {
  SessionState s;
  s.Apply(Stash("V", 2, {{"a", "1"}}, 10));
  Limits l = SmallLimits();
  Mutation older = Stash("V", 1, {{"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}, 5);
  EXPECT_TRUE(s.CheckStash(older, l).ok());
  // Request-level limits still apply to it.
  older.entries.emplace_back("f", "12345678901");
  ExpectLimit(s.CheckStash(older, l), {"max_value_bytes"});
}

TEST(SessionStateCheckStash, ViewsCountTheSessionAfterTheMerge) {
  SessionState s;
  Limits l = SmallLimits();
  s.Apply(Stash("A", 1, {{"k", "1"}}, 1));
  s.Apply(Stash("B", 1, {{"k", "1"}}, 1));
  EXPECT_TRUE(s.CheckStash(Stash("A", 1, {{"j", "1"}}, 2), l).ok());
  ExpectLimit(s.CheckStash(Stash("C", 1, {{"k", "1"}}, 2), l),
              {"\"C\"", "3 views", "2", "max_views", "--max-views"});
}

TEST(SessionStateCheckStash, SessionBytesCountTheSessionAfterTheMerge) {
  SessionState s;
  Limits l = SmallLimits();  // 60 bytes
  // "A" + "k" + 10 = 12 bytes; "B" + "k" + 10 = 12 bytes: 24
  s.Apply(Stash("A", 1, {{"k", "1234567890"}}, 1));
  s.Apply(Stash("B", 1, {{"k", "1234567890"}}, 1));
  EXPECT_EQ(s.DataBytes(), 24u);
  l.max_views = 10;
  // Replacing a value counts only the difference: 24 - 10 + 10 = 24.
  EXPECT_TRUE(s.CheckStash(Stash("A", 1, {{"k", "abcdefghij"}}, 2), l).ok());
  // Three new keys of 11 bytes each = 57 > 60? no: 24 + 33 = 57, fits.
  Mutation fits = Stash("A", 1, {{"x", "1234567890"}, {"y", "1234567890"}, {"z", "123"}}, 2);
  l.max_keys_per_view = 10;
  EXPECT_TRUE(s.CheckStash(fits, l).ok());  // 24 + 11 + 11 + 4 = 50
  Mutation over = Stash("C", 1, {{"x", "1234567890"}, {"y", "1234567890"}, {"z", "12345"}}, 2);
  // 24 + "C" (1) + 11 + 11 + 6 = 53: fits; make it 61.
  over.entries.emplace_back("w", "1234567");  // + 8 = 61
  ExpectLimit(s.CheckStash(over, l),
              {"\"C\"", "61 bytes", "60", "max_session_bytes", "--max-session-bytes"});
}

TEST(SessionStateCheckStash, AnotherVsnCountsTheReplacedSliceBytes) {
  SessionState s;
  Limits l = SmallLimits();
  l.max_session_bytes = 30;
  s.Apply(Stash("V", 1, {{"a", "1234567890"}, {"b", "1234567890"}}, 1));  // 23 bytes
  // The same keys at another vsn replace those 23 bytes rather than add to them.
  EXPECT_TRUE(s.CheckStash(Stash("V", 2, {{"c", "1234567890"}, {"d", "1234567890"}}, 2), l).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"c", "1234567890"}}, 2), l), {"max_session_bytes"});
}

TEST(SessionStateCheckStash, AStoredKeyNewerThanTheStashKeepsItsSize) {
  SessionState s;
  Limits l = SmallLimits();
  l.max_session_bytes = 11;
  s.Apply(Stash("V", 1, {{"a", "1"}}, 10));  // 3 bytes; 12 with the big value
  // The stash at t=5 loses to the write at t=10, so its big value will not be stored.
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"a", "1234567890"}}, 5), l).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"a", "1234567890"}}, 10), l), {"max_session_bytes"});
}

TEST(SessionStateCheckStash, ALoweredLimitStopsGrowthButNotUpdates) {
  SessionState s;
  for (int i = 0; i < 5; i++) s.Apply(Stash("V", 1, {{"k" + std::to_string(i), "12"}}, 1));
  Limits l = SmallLimits();  // 3 keys per view; the slice already holds 5
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"k0", "1"}}, 2), l).ok());
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"k9", "1"}}, 2), l), {"6 keys"});

  l = SmallLimits();
  l.max_session_bytes = 10;  // the session holds 1 + 5 * 4 = 21
  l.max_keys_per_view = 10;
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"k0", "1"}}, 2), l).ok());   // shrinks
  EXPECT_TRUE(s.CheckStash(Stash("V", 1, {{"k0", "34"}}, 2), l).ok());  // same size
  ExpectLimit(s.CheckStash(Stash("V", 1, {{"k0", "345"}}, 2), l), {"22 bytes"});
}

TEST(SessionStateCheckStash, EmptyViewOrKeyIsInvalid) {
  SessionState s;
  EXPECT_EQ(s.CheckStash(Stash("", 1, {{"k", "1"}}, 1), Limits()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s.CheckStash(Stash("V", 1, {{"k", "1"}, {"", "1"}}, 1), Limits()).code(),
            StatusCode::kInvalidArgument);
}

TEST(SessionStateCheckStash, NamesMustBeUtf8) {
  SessionState s;
  Status st = s.CheckStash(Stash("V\xff", 1, {{"k", "1"}}, 1), Limits());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("\\xff"), std::string::npos) << st.message();
  EXPECT_EQ(s.CheckStash(Stash("V", 1, {{"\xc0\xaf", "1"}}, 1), Limits()).code(),  // overlong
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s.CheckStash(Stash("V", 1, {{"\xed\xa0\x80", "1"}}, 1), Limits()).code(),  // surrogate
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s.CheckStash(Stash("V", 1, {{"\xe2\x82", "1"}}, 1), Limits()).code(),  // truncated
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s.CheckStash(Stash("V", 1, {{"\xf4\x90\x80\x80", "1"}}, 1), Limits()).code(),
            StatusCode::kInvalidArgument);  // above U+10FFFF
  EXPECT_TRUE(s.CheckStash(Stash("Vü€", 1, {{"größe\xf0\x9f\x98\x80", "1"}}, 1), Limits()).ok());
}

TEST(SessionStateCheckStash, MessagesEscapeAndShortenNames) {
  SessionState s;
  Limits l;
  l.max_value_bytes = 1;
  Status st = s.CheckStash(Stash("V", 1, {{"a\r\nb\"", "12"}}, 1), l);
  ASSERT_EQ(st.code(), StatusCode::kLimit);
  EXPECT_EQ(st.message().find('\r'), std::string::npos);
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
  EXPECT_NE(st.message().find("\"a\\x0d\\x0ab\\\"\""), std::string::npos) << st.message();

  l.max_key_bytes = 100;
  std::string long_key(90, 'x');
  st = s.CheckStash(Stash("V", 1, {{long_key, "12"}}, 1), l);
  ASSERT_EQ(st.code(), StatusCode::kLimit);
  EXPECT_EQ(st.message().find(long_key), std::string::npos);
  EXPECT_NE(st.message().find("(90 bytes)"), std::string::npos) << st.message();
}

TEST(SessionStateCheckStash, ShortenedNamesEndOnACharacterBoundary) {
  SessionState s;
  Limits l;
  l.max_value_bytes = 1;
  std::string key = "x";
  for (int i = 0; i < 40; i++) key += "\u00e9";  // 2 bytes each: 81 bytes
  Status st = s.CheckStash(Stash("V", 1, {{key, "12"}}, 1), l);
  ASSERT_EQ(st.code(), StatusCode::kLimit);
  // 64 bytes would split an e-acute; the name is cut after 63 (x and 31 of them).
  std::string shown = "\"x";
  for (int i = 0; i < 31; i++) shown += "\u00e9";
  EXPECT_NE(st.message().find(shown + "\"... (81 bytes)"), std::string::npos) << st.message();
}

TEST(SessionStateCheckStash, AStashThatCreatesNothingFitsAFullSession) {
  SessionState s;
  s.Apply(Stash("A", 1, {{"k", "1234567890"}}, 1));  // 12 bytes
  Limits l = SmallLimits();
  l.max_session_bytes = 12;
  l.max_views = 1;
  EXPECT_TRUE(s.CheckStash(Stash("B", 1, {}, 2), l).ok());
  EXPECT_TRUE(s.CheckStash(Stash("A", 2, {}, 2), l).ok());
  ExpectLimit(s.CheckStash(Stash("B", 1, {{"k", "1"}}, 2), l), {"max_views"});
}

TEST(SessionStateCheckStash, OnlyStashesAreChecked) {
  SessionState s;
  EXPECT_EQ(s.CheckStash(Drop("V", {"k"}, 1), Limits()).code(), StatusCode::kInvalidArgument);
}

// =============================================================================================
// Recover

// A reply's values: views into the session.
using Values = std::vector<std::pair<std::string_view, std::string_view>>;

struct RecoverFixture : ::testing::Test {
  RecoverFixture() {
    s.Apply(Stash(kView, 2, {{"theme", "\"dark\""}, {"draft", "\"hi\""}, {"page", "3"}}, 10));
  }
  RecoverReply Recover(MountKind mount, const std::vector<KeyScope>& keys, int64_t vsn = 2) {
    return s.Recover(kView, vsn, mount, keys, 99, &clear);
  }
  SessionState s;
  std::optional<Mutation> clear = Touch(1);  // to see that Recover resets it
};

const std::vector<KeyScope> kKeys = {
    {"theme", Scope::kSession}, {"draft", Scope::kReconnect}, {"page", Scope::kSession}};

TEST_F(RecoverFixture, NoSliceIsNotFoundWithoutStoredVsn) {
  RecoverReply r = s.Recover("Other", 2, MountKind::kRejoin, kKeys, 99, &clear);
  EXPECT_EQ(r.outcome, Outcome::kNotFound);
  EXPECT_EQ(r.stored_vsn, 0);
  EXPECT_TRUE(r.values.empty());
  EXPECT_FALSE(clear.has_value());
}

TEST_F(RecoverFixture, SessionKeysOnADeadRender) {
  RecoverReply r = Recover(MountKind::kDead, kKeys);
  EXPECT_EQ(r.outcome, Outcome::kRecovered);
  EXPECT_EQ(r.stored_vsn, 2);
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"page", "3"}}));
  EXPECT_FALSE(clear.has_value());  // the dead render does not clear reconnect keys
}

TEST_F(RecoverFixture, AllKeysOnARejoinInRequestOrder) {
  RecoverReply r = Recover(MountKind::kRejoin, kKeys);
  EXPECT_EQ(r.outcome, Outcome::kRecovered);
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"draft", "\"hi\""}, {"page", "3"}}));
  EXPECT_FALSE(clear.has_value());
  std::vector<KeyScope> reversed(kKeys.rbegin(), kKeys.rend());
  r = Recover(MountKind::kRejoin, reversed);
  EXPECT_EQ(r.values, (Values{{"page", "3"}, {"draft", "\"hi\""}, {"theme", "\"dark\""}}));
}

TEST_F(RecoverFixture, AFreshMountClearsStoredReconnectKeys) {
  std::vector<KeyScope> keys = kKeys;
  keys.push_back({"absent", Scope::kReconnect});
  RecoverReply r = Recover(MountKind::kFresh, keys);
  EXPECT_EQ(r.outcome, Outcome::kRecovered);
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"page", "3"}}));
  ASSERT_TRUE(clear.has_value());
  Mutation expected = Drop(kView, {"draft"}, 99);  // only the keys that are stored
  expected.vsn = 2;
  EXPECT_EQ(*clear, expected);

  // Applying it clears them for good.
  s.Apply(*clear);
  r = Recover(MountKind::kRejoin, kKeys);
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"page", "3"}}));
}

TEST_F(RecoverFixture, AFreshMountWithNoStoredReconnectKeysClearsNothing) {
  RecoverReply r =
      Recover(MountKind::kFresh, {{"theme", Scope::kSession}, {"absent", Scope::kReconnect}});
  EXPECT_EQ(r.outcome, Outcome::kRecovered);
  EXPECT_FALSE(clear.has_value());
}

TEST_F(RecoverFixture, NothingInScopeIsNotFoundWithTheStoredVsn) {
  RecoverReply r = Recover(MountKind::kDead, {{"draft", Scope::kReconnect}});
  EXPECT_EQ(r.outcome, Outcome::kNotFound);
  EXPECT_EQ(r.stored_vsn, 2);
  EXPECT_TRUE(r.values.empty());
  r = Recover(MountKind::kRejoin, {{"absent", Scope::kSession}});
  EXPECT_EQ(r.outcome, Outcome::kNotFound);
  r = Recover(MountKind::kRejoin, {});
  EXPECT_EQ(r.outcome, Outcome::kNotFound);
}

TEST_F(RecoverFixture, AFreshMountThatOnlyClearsIsNotFound) {
  RecoverReply r = Recover(MountKind::kFresh, {{"draft", Scope::kReconnect}});
  EXPECT_EQ(r.outcome, Outcome::kNotFound);
  EXPECT_TRUE(r.values.empty());
  EXPECT_TRUE(clear.has_value());
}

TEST_F(RecoverFixture, AKeyNamedTwiceIsAnsweredOnceAtItsFirstScope) {
  RecoverReply r = Recover(MountKind::kFresh, {{"theme", Scope::kSession},
                                               {"draft", Scope::kSession},
                                               {"theme", Scope::kSession},
                                               {"draft", Scope::kReconnect}});
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"draft", "\"hi\""}}));
  EXPECT_FALSE(clear.has_value());
}

// Beyond 16 keys repeated names are found with a set instead of pairwise: same answer.
TEST_F(RecoverFixture, AKeyNamedTwiceInALongListIsAnsweredOnce) {
  std::vector<KeyScope> keys = {{"theme", Scope::kSession}, {"draft", Scope::kSession}};
  for (int i = 0; i < 16; ++i) keys.push_back({"missing" + std::to_string(i), Scope::kSession});
  keys.push_back({"theme", Scope::kSession});
  keys.push_back({"draft", Scope::kReconnect});
  RecoverReply r = Recover(MountKind::kFresh, keys);
  EXPECT_EQ(r.values, (Values{{"theme", "\"dark\""}, {"draft", "\"hi\""}}));
  EXPECT_FALSE(clear.has_value());
}

TEST_F(RecoverFixture, AVsnMismatchReturnsEveryStoredKeySorted) {
  for (MountKind mount : {MountKind::kDead, MountKind::kFresh, MountKind::kRejoin}) {
    RecoverReply r = Recover(mount, {{"theme", Scope::kSession}}, /*vsn=*/3);
    EXPECT_EQ(r.outcome, Outcome::kVsnMismatch);
    EXPECT_EQ(r.stored_vsn, 2);
    EXPECT_EQ(r.values, (Values{{"draft", "\"hi\""}, {"page", "3"}, {"theme", "\"dark\""}}));
    EXPECT_FALSE(clear.has_value());
  }
}

TEST_F(RecoverFixture, TheReplyViewsTheStoredKeysNotTheRequest) {
  std::vector<KeyScope> keys = {{"theme", Scope::kSession}};
  RecoverReply r = Recover(MountKind::kDead, keys);
  keys.clear();  // the request may be gone before the reply is used
  ASSERT_EQ(r.values.size(), 1u);
  const auto& [key, stored] = *s.views().find(kView)->second.data.find("theme");
  EXPECT_EQ(r.values[0].first.data(), key.data());
  EXPECT_EQ(r.values[0].second.data(), stored.json.data());
}

TEST_F(RecoverFixture, RecoverChangesNothing) {
  SessionState before = s;
  Recover(MountKind::kFresh, kKeys);
  Recover(MountKind::kRejoin, kKeys, 7);
  EXPECT_EQ(s, before);
}

// =============================================================================================
// Sizes

TEST(SessionStateSizes, DataBytesCountsViewNamesKeysAndValues) {
  SessionState s;
  EXPECT_EQ(s.DataBytes(), 0u);
  s.Apply(Stash("View", 1, {{"ab", "\"xyz\""}, {"c", "12"}}, 1));
  EXPECT_EQ(s.DataBytes(), 4u + 2 + 5 + 1 + 2);
  s.Apply(Stash("W", 1, {{"k", "null"}}, 1));
  EXPECT_EQ(s.DataBytes(), 14u + 1 + 1 + 4);
  s.Apply(Reset("View", 2));
  EXPECT_EQ(s.DataBytes(), 6u);
}

TEST(SessionStateSizes, ApproximateBytesCoversDataAndOverhead) {
  SessionState empty;
  EXPECT_EQ(empty.ApproximateBytes(), sizeof(SessionState));
  SessionState s;
  s.Apply(Stash("View", 1, {{"k", "1"}}, 1));
  size_t one = s.ApproximateBytes();
  EXPECT_GT(one, sizeof(SessionState) + s.DataBytes());
  std::string big(10000, 'x');
  s.Apply(Stash("View", 1, {{"big", "\"" + big + "\""}}, 2));
  EXPECT_GE(s.ApproximateBytes(), one + big.size());
}

// =============================================================================================
// Rebase: one writer's not-yet-committed mutations replayed onto another writer's state.

class RebaseTest : public ::testing::Test {
 protected:
  RebaseTest() { base.Apply(Stash(kView, 1, {{"x", "0"}, {"y", "0"}, {"z", "0"}}, 1)); }
  static SessionState Replay(SessionState onto, const std::vector<Mutation>& ms) {
    for (const Mutation& m : ms) onto.Apply(m);
    return onto;
  }
  SessionState base;
};

TEST_F(RebaseTest, EachKeyKeepsItsNewestWrite) {
  SessionState a = base;
  Mutation m1 = Stash(kView, 1, {{"x", "\"A\""}}, 10);
  a.Apply(m1);
  SessionState b = base;
  std::vector<Mutation> b_pending = {Stash(kView, 1, {{"y", "\"B\""}}, 11),
                                     Stash(kView, 1, {{"x", "\"B\""}}, 5)};
  for (const Mutation& m : b_pending) b.Apply(m);

  SessionState merged = Replay(a, b_pending);
  EXPECT_EQ(*Get(merged, kView, "x"), (StoredValue{"\"A\"", 10}));  // A's is newer
  EXPECT_EQ(*Get(merged, kView, "y"), (StoredValue{"\"B\"", 11}));
  EXPECT_EQ(*Get(merged, kView, "z"), (StoredValue{"0", 1}));
  EXPECT_EQ(merged.last_seen_at(), 11);
  // The other direction gives the same state.
  EXPECT_EQ(Replay(b, {m1}), merged);
}

TEST_F(RebaseTest, ADropKeepsKeysTheOtherWriterWroteLater) {
  SessionState a = base;
  a.Apply(Stash(kView, 1, {{"x", "\"A\""}}, 10));
  SessionState merged = Replay(a, {Drop(kView, {"x", "y"}, 8)});
  EXPECT_EQ(*Get(merged, kView, "x"), (StoredValue{"\"A\"", 10}));
  EXPECT_EQ(Get(merged, kView, "y"), nullptr);
  EXPECT_NE(Get(merged, kView, "z"), nullptr);
}

TEST_F(RebaseTest, ADropRemovesKeysTheOtherWriterWroteEarlier) {
  SessionState a = base;
  a.Apply(Stash(kView, 1, {{"x", "\"A\""}}, 10));
  SessionState merged = Replay(a, {Drop(kView, {"x"}, 12)});
  EXPECT_EQ(Get(merged, kView, "x"), nullptr);
}

TEST_F(RebaseTest, AResetKeepsOnlyKeysTheOtherWriterWroteLater) {
  SessionState a = base;
  a.Apply(Stash(kView, 1, {{"z", "\"A\""}}, 12));
  SessionState merged = Replay(a, {Reset(kView, 11)});
  const Slice* slice = GetSlice(merged, kView);
  ASSERT_NE(slice, nullptr);
  ASSERT_EQ(slice->data.size(), 1u);
  EXPECT_EQ(*Get(merged, kView, "z"), (StoredValue{"\"A\"", 12}));

  merged = Replay(a, {Reset(kView, 13)});
  EXPECT_TRUE(merged.empty());
}

TEST_F(RebaseTest, AStashReplayedOntoAResetSliceRecreatesIt) {
  SessionState a = base;
  a.Apply(Reset(kView, 10));
  SessionState merged = Replay(a, {Stash(kView, 1, {{"x", "\"B\""}}, 12)});
  const Slice* slice = GetSlice(merged, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->data.size(), 1u);
  EXPECT_EQ(slice->vsn_at, 12);
}

TEST_F(RebaseTest, AnOlderShapeLosesToTheOtherWritersMigration) {
  SessionState a = base;
  a.Apply(Stash(kView, 2, {{"x2", "\"migrated\""}}, 10));
  SessionState merged = Replay(a, {Stash(kView, 1, {{"y", "\"B\""}}, 5)});
  EXPECT_EQ(merged.views(), a.views());
}

TEST_F(RebaseTest, ANewerMigrationReplacesTheOtherWritersSlice) {
  SessionState a = base;
  a.Apply(Stash(kView, 1, {{"x", "\"A\""}}, 8));
  SessionState merged = Replay(a, {Stash(kView, 2, {{"x2", "\"B\""}}, 10)});
  const Slice* slice = GetSlice(merged, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->vsn, 2);
  EXPECT_EQ(slice->vsn_at, 10);
  EXPECT_EQ(slice->data.size(), 1u);
  EXPECT_EQ(*Get(merged, kView, "x2"), (StoredValue{"\"B\"", 10}));
}

TEST_F(RebaseTest, WritesAtTheMigratedShapeMergeAfterTheMigration) {
  // B migrated and then wrote at the new shape; A's older writes of the old shape are gone.
  SessionState a = base;
  a.Apply(Stash(kView, 1, {{"x", "\"A\""}}, 8));
  SessionState merged =
      Replay(a, {Stash(kView, 2, {{"x2", "1"}}, 10), Stash(kView, 2, {{"y2", "2"}}, 11)});
  EXPECT_EQ(GetSlice(merged, kView)->vsn, 2);
  EXPECT_EQ(GetSlice(merged, kView)->data.size(), 2u);
}

// The limit that deletion records fix: a drop that another writer committed used to be undone
// by an older stash of the same key replayed onto it.
TEST_F(RebaseTest, AnOlderReplayedStashDoesNotBringBackADroppedKey) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x"}, 10));
  EXPECT_EQ(a.dropped().at(kView).at("x"), 10);
  SessionState merged = Replay(a, {Stash(kView, 1, {{"x", "\"B\""}}, 5)});
  EXPECT_EQ(Get(merged, kView, "x"), nullptr);
  EXPECT_NE(Get(merged, kView, "y"), nullptr);
  // Also after the envelope round trip the other writer actually reads.
  Result<SessionState> stored = SessionState::Decode(a.Encode("a"));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(Get(Replay(*stored, {Stash(kView, 1, {{"x", "\"B\""}}, 5)}), kView, "x"), nullptr);
}

TEST_F(RebaseTest, ANewerReplayedStashWinsOverADropAndClearsItsRecord) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x"}, 10));
  SessionState merged = Replay(a, {Stash(kView, 1, {{"x", "\"B\""}}, 12)});
  EXPECT_EQ(*Get(merged, kView, "x"), (StoredValue{"\"B\"", 12}));
  EXPECT_FALSE(merged.has_deletion_records());
}

TEST_F(RebaseTest, DroppingTheLastKeysStillStopsAnOlderStash) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x", "y", "z"}, 10));
  ASSERT_TRUE(a.empty());
  ASSERT_TRUE(a.has_deletion_records());
  SessionState merged = Replay(a, {Stash(kView, 1, {{"x", "\"B\""}, {"w", "\"B\""}}, 5)});
  EXPECT_EQ(Get(merged, kView, "x"), nullptr);
  // A key nobody deleted is merged as before.
  EXPECT_EQ(*Get(merged, kView, "w"), (StoredValue{"\"B\"", 5}));
}

TEST_F(RebaseTest, AResetStopsOlderStashesOfEveryKeyOfTheView) {
  SessionState a = base;
  a.Apply(Reset(kView, 10));
  ASSERT_TRUE(a.empty());
  EXPECT_EQ(a.resets().at(kView), 10);
  SessionState merged =
      Replay(a, {Stash(kView, 1, {{"x", "\"B\""}}, 5), Stash(kView, 1, {{"new", "1"}}, 6)});
  EXPECT_TRUE(merged.empty());
  // A stash after the reset recreates the view, as before.
  merged = Replay(a, {Stash(kView, 1, {{"x", "\"B\""}}, 11)});
  EXPECT_EQ(*Get(merged, kView, "x"), (StoredValue{"\"B\"", 11}));
}

TEST_F(RebaseTest, AResetStopsAnOlderStashOfAnotherShape) {
  SessionState a = base;
  a.Apply(Reset(kView, 10));
  SessionState merged = Replay(a, {Stash(kView, 2, {{"x2", "1"}}, 5)});
  EXPECT_TRUE(merged.empty());
}

TEST_F(RebaseTest, AKeyDroppedAfterAMigrationStaysDroppedInTheNewShape) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x"}, 10));
  SessionState merged = Replay(a, {Stash(kView, 2, {{"x", "2"}, {"y", "2"}}, 8)});
  const Slice* slice = GetSlice(merged, kView);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->vsn, 2);
  EXPECT_EQ(Get(merged, kView, "x"), nullptr);
  EXPECT_EQ(*Get(merged, kView, "y"), (StoredValue{"2", 8}));
}

TEST_F(RebaseTest, ADeletedSessionStopsOlderStashesOfEveryView) {
  // DS.DELETE is a reset of every view at one instant.
  SessionState a = base;
  a.Apply(Stash("Other", 1, {{"o", "1"}}, 2));
  a.Apply(Reset(kView, 10));
  a.Apply(Reset("Other", 10));
  ASSERT_TRUE(a.empty());
  SessionState merged =
      Replay(a, {Stash(kView, 1, {{"x", "5"}}, 5), Stash("Other", 1, {{"o", "5"}}, 5)});
  EXPECT_TRUE(merged.empty());
}

// Three writers: A dropped x at 8 and committed; B dropped x at 12 (it still had x) and replays
// that onto A's state; C's stash of x at 10 comes last. B's drop is the newest: x stays dropped.
TEST_F(RebaseTest, AReplayedDropMovesAnOlderRecordForward) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x"}, 8));
  ApplyOutcome out = a.Apply(Drop(kView, {"x"}, 12));  // B's replay: nothing left to remove
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(a.dropped().at(kView).at("x"), 12);
  EXPECT_EQ(Get(Replay(a, {Stash(kView, 1, {{"x", "\"C\""}}, 10)}), kView, "x"), nullptr);
  // An older replayed drop leaves the newer record alone.
  EXPECT_FALSE(a.Apply(Drop(kView, {"x"}, 9)).changed);
  EXPECT_EQ(a.dropped().at(kView).at("x"), 12);
}

TEST_F(RebaseTest, AReplayedResetMovesAnOlderResetForward) {
  SessionState a = base;
  a.Apply(Reset(kView, 8));
  EXPECT_TRUE(a.Apply(Reset(kView, 12)).changed);
  EXPECT_EQ(a.resets().at(kView), 12);
  EXPECT_TRUE(Replay(a, {Stash(kView, 1, {{"x", "1"}}, 10)}).empty());
}

TEST_F(RebaseTest, AResetReplacesTheKeyRecordsItCovers) {
  SessionState a = base;
  a.Apply(Drop(kView, {"x"}, 8));
  a.Apply(Drop(kView, {"y"}, 12));
  a.Apply(Reset(kView, 10));
  EXPECT_EQ(a.resets().at(kView), 10);
  EXPECT_EQ(a.dropped().at(kView).size(), 1u);  // x's record is covered by the reset
  EXPECT_EQ(a.dropped().at(kView).at("y"), 12);
  EXPECT_EQ(a.deletion_record_count(), 2u);
}

// The per-key outcome of two writers' stashes, drops and resets is the newest operation on
// each key, whichever writer's mutations are replayed onto the other's, from a base that holds
// the keys or from nothing.
TEST_F(RebaseTest, TwoWritersConvergeWhicheverReplaysOntoTheOther) {
  std::mt19937 rng(4242);
  const std::vector<std::string> keys = {"x", "y", "z"};
  for (int round = 0; round < 1000; ++round) {
    const SessionState start = round % 2 == 0 ? base : SessionState();
    std::vector<Mutation> writer[2];
    for (int w = 0; w < 2; ++w) {
      Micros at = 10 + w;  // A at even times, B at odd ones: no ties
      for (int n = static_cast<int>(rng() % 6); n > 0; --n, at += 2 + 2 * (rng() % 3)) {
        const std::string& key = keys[rng() % keys.size()];
        switch (rng() % 4) {
          case 0:
            writer[w].push_back(Drop(kView, {key}, at));
            break;
          case 1:
            writer[w].push_back(Reset(kView, at));
            break;
          default:
            writer[w].push_back(
                Stash(kView, 1, {{key, std::to_string(w) + std::to_string(at)}}, at));
        }
      }
    }
    SessionState a_then_b = Replay(Replay(start, writer[0]), writer[1]);
    SessionState b_then_a = Replay(Replay(start, writer[1]), writer[0]);
    // The data, that is: a slice emptied and re-created has the vsn_at of whichever stash
    // re-created it, which depends on the order.
    const Slice* ab = GetSlice(a_then_b, kView);
    const Slice* ba = GetSlice(b_then_a, kView);
    ASSERT_EQ(ab == nullptr, ba == nullptr) << "round " << round;
    if (ab != nullptr) {
      ASSERT_EQ(ab->data, ba->data) << "round " << round;
    }
  }
}

// =============================================================================================
// Deletion records on their own

SessionState Replay(SessionState onto, const Mutation& m) {
  onto.Apply(m);
  return onto;
}

// Another daemon may hold an older write of the key, acknowledged but not stored yet: the drop
// must win over it when it arrives, whether or not this state had seen the key.
TEST(SessionStateDeletionRecords, ADropOfAKeyThatIsNotHereIsRecordedAnyway) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}}, 1));
  ApplyOutcome out = s.Apply(Drop(kView, {"b"}, 2));
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(s.dropped().at(kView).at("b"), 2);
  EXPECT_EQ(Get(Replay(s, Stash(kView, 1, {{"b", "1"}}, 1)), kView, "b"), nullptr);
  SessionState none;
  none.Apply(Drop("NoSuchView", {"b"}, 3));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.dropped().at("NoSuchView").at("b"), 3);
  EXPECT_TRUE(Replay(none, Stash("NoSuchView", 1, {{"b", "1"}}, 2)).empty());
}

TEST(SessionStateDeletionRecords, AResetOfAViewThatIsNotHereIsRecordedAnyway) {
  SessionState s;
  s.Apply(Touch(5));
  ApplyOutcome out = s.Apply(Reset(kView, 6));
  EXPECT_EQ(out.removed, 0u);
  EXPECT_EQ(s.resets().at(kView), 6);
  EXPECT_TRUE(Replay(s, Stash(kView, 1, {{"b", "1"}}, 4)).empty());
}

TEST(SessionStateDeletionRecords, AStashOfADroppedKeyRemovesItsRecord) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}}, 1));
  s.Apply(Drop(kView, {"a"}, 2));
  ASSERT_TRUE(s.has_deletion_records());
  s.Apply(Stash(kView, 1, {{"a", "2"}}, 3));
  EXPECT_FALSE(s.has_deletion_records());
  EXPECT_EQ(*Get(s, kView, "a"), (StoredValue{"2", 3}));
}

TEST(SessionStateDeletionRecords, PruningForgetsRecordsOlderThanTheHorizon) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}, {"c", "1"}}, 1));
  s.Apply(Stash("Other", 1, {{"o", "1"}}, 1));
  s.Apply(Drop(kView, {"a"}, 10));
  s.Apply(Drop(kView, {"b"}, 20));
  s.Apply(Reset("Other", 15));
  ASSERT_EQ(s.deletion_record_count(), 3u);
  SessionState before = s;
  EXPECT_EQ(s.PruneDeletionRecords(15, kMaxDeletionRecords), 1u);  // a's record (10 < 15)
  EXPECT_EQ(s.deletion_record_count(), 2u);
  EXPECT_EQ(s.views(), before.views());  // data is never pruned
  EXPECT_EQ(s.PruneDeletionRecords(21, kMaxDeletionRecords), 2u);
  EXPECT_FALSE(s.has_deletion_records());
}

TEST(SessionStateDeletionRecords, PruningKeepsTheNewestRecordsUpToTheCap) {
  SessionState s;
  Entries all;
  for (int i = 0; i < 10; ++i) all.emplace_back("k" + std::to_string(i), "1");
  s.Apply(Stash(kView, 1, all, 1));
  for (int i = 0; i < 10; ++i) s.Apply(Drop(kView, {"k" + std::to_string(i)}, 100 + i));
  ASSERT_EQ(s.deletion_record_count(), 10u);
  EXPECT_EQ(s.PruneDeletionRecords(0, 4), 6u);
  ASSERT_EQ(s.deletion_record_count(), 4u);
  for (int i = 6; i < 10; ++i) {
    EXPECT_EQ(s.dropped().at(kView).at("k" + std::to_string(i)), 100 + i);
  }
  EXPECT_EQ(s.PruneDeletionRecords(0, 0), 4u);
  EXPECT_FALSE(s.has_deletion_records());
}

TEST(SessionStateDeletionRecords, RecordsCountInMemoryButNotAgainstTheSessionLimit) {
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}}, 1));
  size_t bytes = s.ApproximateBytes();
  size_t data = s.DataBytes();
  s.Apply(Drop(kView, {"b"}, 2));
  SessionState without = s;
  without.ClearDeletionRecords();
  EXPECT_GT(s.ApproximateBytes(), without.ApproximateBytes());
  EXPECT_LT(s.DataBytes(), data);
  EXPECT_EQ(s.DataBytes(), without.DataBytes());
  EXPECT_LT(without.ApproximateBytes(), bytes);
}

TEST(SessionStateDeletionRecords, CheckStashCountsOnlyKeysThatBeatTheirDeletion) {
  // A replayed-style stash older than a drop adds nothing, so it cannot break a limit.
  Limits limits;
  limits.max_keys_per_view = 2;
  SessionState s;
  s.Apply(Stash(kView, 1, {{"a", "1"}, {"b", "1"}}, 1));
  s.Apply(Drop(kView, {"b"}, 10));
  Mutation older = Stash(kView, 1, {{"b", "1"}, {"c", "1"}}, 5);
  EXPECT_TRUE(s.CheckStash(older, limits).ok());  // only c would be added: 2 keys
  Mutation newer = Stash(kView, 1, {{"b", "1"}, {"c", "1"}}, 11);
  EXPECT_EQ(s.CheckStash(newer, limits).code(), StatusCode::kLimit);
}

}  // namespace
}  // namespace ds::session
