// The Store conformance suite (see store_conformance.h for how to run it against a store).
// Each test names the clause of store/store.h it checks.
#include "store_conformance.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace ds::store::conformance {
namespace {

using test::CodeOf;
using test::IsOk;
using test::ListAll;
using Kind = WriteCondition::Kind;

constexpr int kRacers = 8;

}  // namespace

void StoreConformanceTest::SetUp() {
  store_ = GetParam().open();
  ASSERT_NE(store_, nullptr);
}

void StoreConformanceTest::TearDown() {
  store_.reset();
  if (GetParam().cleanup) GetParam().cleanup();
}

namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// --- Get and Put -----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, GetOfMissingObjectIsNotFound) {
  EXPECT_EQ(CodeOf(store().Get("missing")), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(store().Get("missing", "some-etag")), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, PutThenGetReturnsTheBytesAndThePutsEtag) {
  Result<std::string> etag = store().Put("k", "hello", WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  EXPECT_FALSE(etag->empty());
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "hello");
  EXPECT_EQ(got->etag, *etag);
}

TEST_P(StoreConformanceTest, UnconditionalPutOverwrites) {
  ASSERT_TRUE(IsOk(store().Put("k", "one", WriteCondition::None())));
  Result<std::string> second = store().Put("k", "two", WriteCondition::None());
  ASSERT_TRUE(IsOk(second));
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "two");
  EXPECT_EQ(got->etag, *second);
}

// A batch gives each write the result it would have had as a Put of its own.
TEST_P(StoreConformanceTest, PutBatchGivesEachWriteThePutsResult) {
  ASSERT_TRUE(IsOk(store().Put("b-exists", "old", WriteCondition::None())));
  Result<std::string> current = store().Put("b-match", "old", WriteCondition::None());
  ASSERT_TRUE(IsOk(current));

  std::vector<PutRequest> batch = {
      {"b-new", "a", WriteCondition::CreateOnly()},
      {"b-exists", "b", WriteCondition::CreateOnly()},      // exists: refused
      {"b-match", "c", WriteCondition::IfMatch(*current)},  // matches: made
      {"b-gone", "d", WriteCondition::IfMatch(*current)},   // no such object: refused
      {"b-plain", "e", WriteCondition::None()},
  };
  std::vector<Result<std::string>> results = store().PutBatch(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(IsOk(results[0]));
  EXPECT_EQ(CodeOf(results[1]), StatusCode::kPreconditionFailed);
  EXPECT_TRUE(IsOk(results[2]));
  EXPECT_EQ(CodeOf(results[3]), StatusCode::kPreconditionFailed);
  EXPECT_TRUE(IsOk(results[4]));

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"b-new", "a"}, {"b-exists", "old"}, {"b-match", "c"}, {"b-plain", "e"}};
  for (const auto& [key, data] : expected) {
    Result<Object> got = store().Get(key);
    ASSERT_TRUE(IsOk(got)) << key;
    EXPECT_EQ(got->data, data) << key;
  }
  EXPECT_EQ(store().Get("b-new")->etag, *results[0]);
  EXPECT_EQ(store().Get("b-match")->etag, *results[2]);
  EXPECT_EQ(CodeOf(store().Get("b-gone")), StatusCode::kNotFound);
}

// PutTakingBuffer is a Put; a store may take the caller's buffer only when the write succeeds.
TEST_P(StoreConformanceTest, PutTakingBufferIsAPutAndKeepsTheBytesOfAFailedWrite) {
  std::string first = "first bytes, longer than a short string's inline buffer";
  Result<std::string> created = store().PutTakingBuffer("t", first, WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(created));
  std::string refused = "refused bytes, longer than a short string's inline buffer";
  EXPECT_EQ(CodeOf(store().PutTakingBuffer("t", refused, WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(refused, "refused bytes, longer than a short string's inline buffer");
  std::string second = "second bytes, longer than a short string's inline buffer";
  Result<std::string> replaced =
      store().PutTakingBuffer("t", second, WriteCondition::IfMatch(*created));
  ASSERT_TRUE(IsOk(replaced));
  Result<Object> got = store().Get("t");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "second bytes, longer than a short string's inline buffer");
  EXPECT_EQ(got->etag, *replaced);
}

TEST_P(StoreConformanceTest, EmptyKeyIsInvalidArgument) {
  EXPECT_EQ(CodeOf(store().Put("", "x", WriteCondition::None())), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().Get("")), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store().Delete("")), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, EmptyObjectIsStoredAndHasItsOwnEtag) {
  Result<std::string> empty = store().Put("k", "", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(empty));
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "");
  EXPECT_EQ(got->etag, *empty);
  Result<ListPage> page = store().List("", "", 10);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].size, 0u);
  Result<std::string> full = store().Put("k", "x", WriteCondition::IfMatch(*empty));
  ASSERT_TRUE(IsOk(full));
  EXPECT_NE(*full, *empty);
}

TEST_P(StoreConformanceTest, BinaryDataRoundTripsExactly) {
  std::string data;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) data.push_back(static_cast<char>(b));
  }
  data += std::string("\0\0\0", 3);
  Result<std::string> etag = store().Put("bin", data, WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  Result<Object> got = store().Get("bin");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, data);
  EXPECT_EQ(got->data.size(), 3 * 256 + 3u);
}

TEST_P(StoreConformanceTest, OneMebibyteObjectRoundTrips) {
  std::mt19937_64 rng(42);
  std::string data(1 << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  Result<std::string> etag = store().Put("big", data, WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(etag));
  Result<Object> got = store().Get("big");
  ASSERT_TRUE(IsOk(got));
  EXPECT_TRUE(got->data == data) << "1 MiB object differs after a round trip";
  Result<ListPage> page = store().List("big", "", 10);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].size, data.size());
  EXPECT_EQ(page->entries[0].etag, *etag);
}

// --- Conditional reads -----------------------------------------------------------------------

TEST_P(StoreConformanceTest, GetIfNoneMatchCurrentEtagIsNotModified) {
  Result<std::string> etag = store().Put("k", "v1", WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  EXPECT_EQ(CodeOf(store().Get("k", *etag)), StatusCode::kNotModified);
}

TEST_P(StoreConformanceTest, GetIfNoneMatchStaleEtagReturnsTheObject) {
  Result<std::string> old_etag = store().Put("k", "v1", WriteCondition::None());
  ASSERT_TRUE(IsOk(old_etag));
  Result<std::string> new_etag = store().Put("k", "v2", WriteCondition::None());
  ASSERT_TRUE(IsOk(new_etag));
  Result<Object> got = store().Get("k", *old_etag);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v2");
  EXPECT_EQ(got->etag, *new_etag);
}

// --- Create-only -----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, CreateOnlySucceedsWhenTheObjectIsMissing) {
  Result<std::string> etag = store().Put("k", "first", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(etag));
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "first");
  EXPECT_EQ(got->etag, *etag);
}

TEST_P(StoreConformanceTest, CreateOnlyFailsWhenTheObjectExistsAndChangesNothing) {
  Result<std::string> etag = store().Put("k", "first", WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  EXPECT_EQ(CodeOf(store().Put("k", "second", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  // Also with the same bytes: the condition is about existence, not content.
  EXPECT_EQ(CodeOf(store().Put("k", "first", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "first");
  EXPECT_EQ(got->etag, *etag);
}

TEST_P(StoreConformanceTest, CreateOnlySucceedsAgainAfterDelete) {
  ASSERT_TRUE(IsOk(store().Put("k", "first", WriteCondition::CreateOnly())));
  ASSERT_TRUE(IsOk(store().Delete("k")));
  Result<std::string> etag = store().Put("k", "again", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(etag));
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "again");
}

// --- If-Match --------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, IfMatchWithTheCurrentEtagSucceeds) {
  Result<std::string> v1 = store().Put("k", "v1", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(v1));
  Result<std::string> v2 = store().Put("k", "v2", WriteCondition::IfMatch(*v1));
  ASSERT_TRUE(IsOk(v2));
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v2");
  EXPECT_EQ(got->etag, *v2);
  // And the chain continues with the new etag.
  EXPECT_TRUE(IsOk(store().Put("k", "v3", WriteCondition::IfMatch(*v2))));
}

TEST_P(StoreConformanceTest, IfMatchWithAWrongEtagFailsAndChangesNothing) {
  Result<std::string> v1 = store().Put("k", "v1", WriteCondition::None());
  ASSERT_TRUE(IsOk(v1));
  EXPECT_EQ(CodeOf(store().Put("k", "v2", WriteCondition::IfMatch("not-" + *v1))),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store().Put("k", "v2", WriteCondition::IfMatch(""))),
            StatusCode::kPreconditionFailed);
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v1");
  EXPECT_EQ(got->etag, *v1);
}

TEST_P(StoreConformanceTest, IfMatchWithAStaleEtagFails) {
  Result<std::string> v1 = store().Put("k", "v1", WriteCondition::None());
  ASSERT_TRUE(IsOk(v1));
  Result<std::string> v2 = store().Put("k", "v2", WriteCondition::None());
  ASSERT_TRUE(IsOk(v2));
  EXPECT_EQ(CodeOf(store().Put("k", "v3", WriteCondition::IfMatch(*v1))),
            StatusCode::kPreconditionFailed);
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v2");
}

TEST_P(StoreConformanceTest, IfMatchOnAMissingObjectFailsAndCreatesNothing) {
  EXPECT_EQ(CodeOf(store().Put("k", "v", WriteCondition::IfMatch("any-etag"))),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store().Get("k")), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, IfMatchWithTheEtagOfADeletedObjectFails) {
  Result<std::string> v1 = store().Put("k", "v1", WriteCondition::None());
  ASSERT_TRUE(IsOk(v1));
  ASSERT_TRUE(IsOk(store().Delete("k")));
  EXPECT_EQ(CodeOf(store().Put("k", "v2", WriteCondition::IfMatch(*v1))),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store().Get("k")), StatusCode::kNotFound);
}

// --- Etags are never reused for different contents -------------------------------------------

TEST_P(StoreConformanceTest, OverwriteWithDifferentBytesChangesTheEtag) {
  Result<std::string> v1 = store().Put("k", "aaaa", WriteCondition::None());
  ASSERT_TRUE(IsOk(v1));
  Result<std::string> v2 = store().Put("k", "bbbb", WriteCondition::None());
  ASSERT_TRUE(IsOk(v2));
  EXPECT_NE(*v1, *v2);
}

TEST_P(StoreConformanceTest, DeleteAndRecreateWithDifferentBytesGivesANewEtag) {
  Result<std::string> v1 = store().Put("k", "before", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(v1));
  ASSERT_TRUE(IsOk(store().Delete("k")));
  Result<std::string> v2 = store().Put("k", "after!", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(v2));
  EXPECT_NE(*v1, *v2);
  // The old etag must not pass an If-Match against the new object.
  EXPECT_EQ(CodeOf(store().Put("k", "x", WriteCondition::IfMatch(*v1))),
            StatusCode::kPreconditionFailed);
  Result<Object> got = store().Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "after!");
}

TEST_P(StoreConformanceTest, EtagsOfDistinctContentsOfAKeyAreAllDistinct) {
  // Over overwrites, conditional writes and delete + re-create cycles, every distinct content
  // the key ever held had a distinct etag.
  std::map<std::string, std::string> content_of_etag;
  std::string etag;
  for (int i = 0; i < 40; ++i) {
    const std::string data = "version " + std::to_string(i);
    Result<std::string> put = i % 10 == 0  ? store().Put("k", data, WriteCondition::CreateOnly())
                              : i % 2 == 0 ? store().Put("k", data, WriteCondition::IfMatch(etag))
                                           : store().Put("k", data, WriteCondition::None());
    ASSERT_TRUE(IsOk(put)) << "version " << i;
    etag = *put;
    auto [it, inserted] = content_of_etag.emplace(etag, data);
    EXPECT_TRUE(inserted) << "etag " << etag << " reused for \"" << data << "\" after \""
                          << it->second << "\"";
    if (i % 10 == 9) {
      ASSERT_TRUE(IsOk(store().Delete("k")));
    }
  }
}

// --- Delete ----------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, DeleteRemovesTheObject) {
  ASSERT_TRUE(IsOk(store().Put("k", "v", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store().Put("other", "v", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store().Delete("k")));
  EXPECT_EQ(CodeOf(store().Get("k")), StatusCode::kNotFound);
  EXPECT_TRUE(IsOk(store().Get("other")));
  EXPECT_EQ(ListAll(store(), "", 10), std::vector<std::string>{"other"});
}

TEST_P(StoreConformanceTest, DeleteOfAMissingObjectSucceeds) {
  EXPECT_TRUE(IsOk(store().Delete("never-existed")));
  ASSERT_TRUE(IsOk(store().Put("k", "v", WriteCondition::None())));
  EXPECT_TRUE(IsOk(store().Delete("k")));
  EXPECT_TRUE(IsOk(store().Delete("k")));
}

// --- List ------------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ListOfAnEmptyStoreIsOneEmptyLastPage) {
  Result<ListPage> page = store().List("", "", 100);
  ASSERT_TRUE(IsOk(page));
  EXPECT_TRUE(page->entries.empty());
  EXPECT_TRUE(page->continuation.empty());
}

TEST_P(StoreConformanceTest, ListWithMaxKeysZeroIsInvalidArgument) {
  EXPECT_EQ(CodeOf(store().List("", "", 0)), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ListReturnsKeysInByteOrderWithTheirEtagsAndSizes) {
  // Inserted out of order; byte order puts '-' < '.' < '/' < digits < upper < '_' < lower,
  // and UTF-8 multi-byte sequences (>= 0x80) after ASCII.
  const std::vector<std::string> keys = {
      "b", "a_", "a", "a-", "A", "a.b", "a/b", "a0", "\xc3\xa9t\xc3\xa9", "ab", "Z9", "aa"};
  std::map<std::string, std::pair<std::string, size_t>> expected;  // key -> (etag, size)
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string data(i * 3, 'x');
    Result<std::string> etag = store().Put(keys[i], data, WriteCondition::None());
    ASSERT_TRUE(IsOk(etag)) << keys[i];
    expected[keys[i]] = {*etag, data.size()};
  }
  Result<ListPage> page = store().List("", "", 1000);
  ASSERT_TRUE(IsOk(page));
  EXPECT_TRUE(page->continuation.empty());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());  // std::string orders by unsigned bytes
  ASSERT_EQ(page->entries.size(), sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const ListEntry& entry = page->entries[i];
    EXPECT_EQ(entry.key, sorted[i]);
    EXPECT_EQ(entry.etag, expected[entry.key].first) << entry.key;
    EXPECT_EQ(entry.size, expected[entry.key].second) << entry.key;
  }
}

TEST_P(StoreConformanceTest, ListFiltersByPrefix) {
  for (const char* key : {"a", "ab", "abc", "abd", "ac", "b", "sessions/1", "sessions/2",
                          "sessions", "sessionsX", "session/1"}) {
    ASSERT_TRUE(IsOk(store().Put(key, "v", WriteCondition::None()))) << key;
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(ListAll(store(), "ab", 100), (V{"ab", "abc", "abd"}));
  EXPECT_EQ(ListAll(store(), "abc", 100), (V{"abc"}));
  EXPECT_EQ(ListAll(store(), "sessions/", 100), (V{"sessions/1", "sessions/2"}));
  EXPECT_EQ(ListAll(store(), "sessions", 100),
            (V{"sessions", "sessions/1", "sessions/2", "sessionsX"}));
  EXPECT_EQ(ListAll(store(), "abcd", 100), V{});
  EXPECT_EQ(ListAll(store(), "zzz", 100), V{});
  EXPECT_EQ(ListAll(store(), "", 100).size(), 11u);
}

void CheckPagination(Store& store, size_t max_keys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "p/%03d", (i * 7) % 25);  // inserted out of order
    keys.emplace_back(key);
    ASSERT_TRUE(IsOk(store.Put(key, std::to_string(i), WriteCondition::None())));
  }
  std::sort(keys.begin(), keys.end());
  int pages = 0;
  EXPECT_EQ(ListAll(store, "", max_keys, &pages), keys);
  EXPECT_EQ(static_cast<size_t>(pages), (keys.size() + max_keys - 1) / max_keys);
}

TEST_P(StoreConformanceTest, ListPagesOfOneKeyReturnEveryKeyExactlyOnce) {
  CheckPagination(store(), 1);
}

TEST_P(StoreConformanceTest, ListPagesOfTwoKeysReturnEveryKeyExactlyOnce) {
  CheckPagination(store(), 2);
}

TEST_P(StoreConformanceTest, ListPagesOfAThousandKeysReturnEveryKeyExactlyOnce) {
  CheckPagination(store(), 1000);
}

TEST_P(StoreConformanceTest, ListPageEndingOnTheLastKeyHasNoContinuation) {
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(IsOk(store().Put(key, "v", WriteCondition::None())));
  }
  Result<ListPage> first = store().List("", "", 2);
  ASSERT_TRUE(IsOk(first));
  ASSERT_EQ(first->entries.size(), 2u);
  ASSERT_FALSE(first->continuation.empty());
  Result<ListPage> second = store().List("", first->continuation, 2);
  ASSERT_TRUE(IsOk(second));
  ASSERT_EQ(second->entries.size(), 2u);
  EXPECT_EQ(second->entries[0].key, "c");
  EXPECT_EQ(second->entries[1].key, "d");
  EXPECT_TRUE(second->continuation.empty());
}

TEST_P(StoreConformanceTest, ListContinuationWalkUnderAPrefixSkipsOtherKeys) {
  std::vector<std::string> inside;
  for (int i = 0; i < 12; ++i) {
    const std::string n = std::to_string(100 + i);
    inside.push_back("in/" + n);
    ASSERT_TRUE(IsOk(store().Put("in/" + n, "v", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store().Put("im/" + n, "v", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store().Put("io/" + n, "v", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store().Put("in" + n, "v", WriteCondition::None())));
  }
  for (size_t max_keys : {1u, 2u, 5u, 1000u}) {
    EXPECT_EQ(ListAll(store(), "in/", max_keys), inside) << "max_keys " << max_keys;
  }
}

TEST_P(StoreConformanceTest, ListContinuesAfterTheLastReturnedKeyWasDeleted) {
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(IsOk(store().Put(key, "v", WriteCondition::None())));
  }
  Result<ListPage> first = store().List("", "", 2);
  ASSERT_TRUE(IsOk(first));
  ASSERT_EQ(first->entries.size(), 2u);
  ASSERT_TRUE(IsOk(store().Delete("b")));  // the last key of the page
  std::vector<std::string> rest;
  std::string continuation = first->continuation;
  while (!continuation.empty()) {
    Result<ListPage> page = store().List("", continuation, 2);
    ASSERT_TRUE(IsOk(page));
    for (const ListEntry& e : page->entries) rest.push_back(e.key);
    continuation = page->continuation;
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"c", "d", "e"}));
}

// --- Keys ------------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, KeysWithSlashesAreOrdinaryKeys) {
  const std::vector<std::string> keys = {"a",      "a/b",   "a/b/c", "a//b",  "/lead",
                                         "trail/", "a/b.c", "a.b",   "a%2Fb", "%2F"};
  for (const std::string& key : keys) {
    ASSERT_TRUE(IsOk(store().Put(key, "data of " + key, WriteCondition::CreateOnly()))) << key;
  }
  for (const std::string& key : keys) {
    Result<Object> got = store().Get(key);
    ASSERT_TRUE(IsOk(got)) << key;
    EXPECT_EQ(got->data, "data of " + key);
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListAll(store(), "", 3), sorted);
  EXPECT_EQ(ListAll(store(), "a/", 3), (std::vector<std::string>{"a//b", "a/b", "a/b.c", "a/b/c"}));
  ASSERT_TRUE(IsOk(store().Delete("a/b")));
  EXPECT_TRUE(IsOk(store().Get("a/b/c")));
  EXPECT_EQ(CodeOf(store().Get("a/b")), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, KeysMayBeArbitraryBytes) {
  if (!GetParam().arbitrary_byte_keys) GTEST_SKIP() << "store supports printable keys only";
  const std::vector<std::string> keys = {Bytes({0}),    Bytes({'x', 0, 'y'}),
                                         Bytes({0xff}), Bytes({0x80, 0x01}),
                                         ".",           "..",
                                         ".hidden",     "%",
                                         "%41",         "A",
                                         " space ",     "tab\there",
                                         "new\nline",   "back\\slash",
                                         "*?<>|\"'",    std::string(200, 'k')};
  for (const std::string& key : keys) {
    ASSERT_TRUE(IsOk(store().Put(key, key + "!", WriteCondition::CreateOnly())));
  }
  for (const std::string& key : keys) {
    Result<Object> got = store().Get(key);
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(got->data, key + "!");
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListAll(store(), "", 4), sorted);
  EXPECT_EQ(ListAll(store(), ".", 4), (std::vector<std::string>{".", "..", ".hidden"}));
  EXPECT_EQ(ListAll(store(), Bytes({0xff}), 4), std::vector<std::string>{Bytes({0xff})});
}

// --- Concurrency -----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, RacingCreateOnlyWritersHaveExactlyOneWinner) {
  std::latch start(kRacers);
  std::vector<StatusCode> codes(kRacers);
  std::vector<std::string> etags(kRacers);
  std::vector<std::thread> threads;
  threads.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      Result<std::string> r =
          store().Put("contested", "writer " + std::to_string(i), WriteCondition::CreateOnly());
      codes[i] = CodeOf(r);
      if (r.ok()) etags[i] = *r;
    });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  for (int i = 0; i < kRacers; ++i) {
    if (codes[i] == StatusCode::kOk) {
      EXPECT_EQ(winner, -1) << "two create-only writers won: " << winner << " and " << i;
      winner = i;
    } else {
      EXPECT_EQ(codes[i], StatusCode::kPreconditionFailed) << "writer " << i;
    }
  }
  ASSERT_NE(winner, -1);
  Result<Object> got = store().Get("contested");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "writer " + std::to_string(winner));
  EXPECT_EQ(got->etag, etags[winner]);
}

// A loser may also be told OutcomeUnknown (store.h): radosgw answers most losers of such a
// race with 500. Each writer's bytes are unique, so an unknown outcome is settled the way the
// session actor settles it: by reading the object back.
TEST_P(StoreConformanceTest, RacingIfMatchWritersWithOneEtagHaveExactlyOneWinner) {
  Result<std::string> base = store().Put("contested", "base", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(base));
  std::latch start(kRacers);
  std::vector<StatusCode> codes(kRacers);
  std::vector<std::string> etags(kRacers);
  std::vector<std::thread> threads;
  threads.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      Result<std::string> r =
          store().Put("contested", "writer " + std::to_string(i), WriteCondition::IfMatch(*base));
      codes[i] = CodeOf(r);
      if (r.ok()) etags[i] = *r;
    });
  }
  for (auto& t : threads) t.join();
  Result<Object> got = store().Get("contested");
  ASSERT_TRUE(IsOk(got));
  int winner = -1;
  for (int i = 0; i < kRacers; ++i) {
    const bool stored = got->data == "writer " + std::to_string(i);
    if (codes[i] == StatusCode::kOk) {
      EXPECT_EQ(winner, -1) << "two if-match writers won: " << winner << " and " << i;
      EXPECT_TRUE(stored) << "writer " << i << " was told it won, but is not stored";
      EXPECT_EQ(got->etag, etags[i]);
      winner = i;
    } else if (codes[i] == StatusCode::kOutcomeUnknown) {
      if (stored) {
        EXPECT_EQ(winner, -1) << "two if-match writers won: " << winner << " and " << i;
        winner = i;
      }
    } else {
      EXPECT_EQ(codes[i], StatusCode::kPreconditionFailed) << "writer " << i;
      EXPECT_FALSE(stored) << "writer " << i << " was told it lost, but is stored";
    }
  }
  EXPECT_NE(winner, -1) << "the object holds " << got->data;
}

// Each write carries a unique tag after the count, so that a write whose outcome is unknown
// can be settled by reading the object back (as the session actor does).
TEST_P(StoreConformanceTest, ReadModifyWriteWithIfMatchRetriesLosesNoUpdate) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  ASSERT_TRUE(IsOk(store().Put("counter", "0 init", WriteCondition::CreateOnly())));
  std::latch start(kThreads);
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int done = 0, attempt = 0; done < kIncrements; ++attempt) {
        Result<Object> current = store().Get("counter");
        if (!current.ok()) {
          ++unexpected;
          return;
        }
        const long value = std::stol(current->data);
        const std::string next =
            std::to_string(value + 1) + " t" + std::to_string(t) + "-" + std::to_string(attempt);
        Result<std::string> put =
            store().Put("counter", next, WriteCondition::IfMatch(current->etag));
        if (put.ok()) {
          ++done;
        } else if (put.status().code() == StatusCode::kOutcomeUnknown) {
          Result<Object> check = store().Get("counter");
          if (!check.ok()) {
            ++unexpected;
            return;
          }
          if (check->data == next) ++done;  // it landed; only the reply was lost
        } else if (!put.status().IsPreconditionFailed()) {
          ++unexpected;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  Result<Object> final_value = store().Get("counter");
  ASSERT_TRUE(IsOk(final_value));
  EXPECT_EQ(std::stol(final_value->data), kThreads * kIncrements) << final_value->data;
}

TEST_P(StoreConformanceTest, ConcurrentWritersOfDistinctKeysAreAllStored) {
  constexpr int kThreads = 8;
  constexpr int kKeysEach = 16;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kKeysEach; ++i) {
        const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        if (!store().Put(key, key, WriteCondition::CreateOnly()).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::string> keys = ListAll(store(), "t", 7);
  EXPECT_EQ(keys.size(), static_cast<size_t>(kThreads * kKeysEach));
  for (const std::string& key : keys) {
    Result<Object> got = store().Get(key);
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(got->data, key);
  }
}

TEST_P(StoreConformanceTest, ReadersNeverSeeATornObjectOrAMismatchedEtag) {
  // Every version is 64 KiB of one repeated byte behind a "v<i>:" tag; a torn read would mix
  // two versions, and every (data, etag) pair a reader sees must be one the writer produced.
  constexpr int kVersions = 40;
  auto version_data = [](int i) {
    return "v" + std::to_string(i) + ":" +
           std::string(size_t{64} * 1024, static_cast<char>('a' + i % 26));
  };
  std::vector<std::string> etag_of_version(kVersions);
  Result<std::string> first = store().Put("k", version_data(0), WriteCondition::None());
  ASSERT_TRUE(IsOk(first));
  etag_of_version[0] = *first;

  std::atomic<bool> writer_done{false};
  std::mutex seen_mu;
  std::vector<std::pair<int, std::string>> seen;  // (version, etag) pairs observed
  std::atomic<int> bad_reads{0};
  auto reader = [&] {
    do {
      Result<Object> got = store().Get("k");
      if (!got.ok()) {
        ++bad_reads;
        return;
      }
      const std::string& data = got->data;
      const size_t colon = data.find(':');
      const int version = colon == std::string::npos ? -1 : std::atoi(data.c_str() + 1);
      if (version < 0 || version >= kVersions || data != version_data(version)) {
        ++bad_reads;
        return;
      }
      std::lock_guard lock(seen_mu);
      seen.emplace_back(version, got->etag);
    } while (!writer_done.load());
  };
  std::vector<std::thread> readers;
  readers.reserve(3);
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  for (int i = 1; i < kVersions; ++i) {
    Result<std::string> etag = store().Put("k", version_data(i), WriteCondition::None());
    EXPECT_TRUE(IsOk(etag));
    if (!etag.ok()) break;  // not ASSERT: the readers must be joined first
    etag_of_version[i] = *etag;
  }
  writer_done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_FALSE(seen.empty());
  for (const auto& [version, etag] : seen) {
    EXPECT_EQ(etag, etag_of_version[version]) << "version " << version;
  }
}

}  // namespace
}  // namespace ds::store::conformance
