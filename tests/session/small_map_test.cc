// SmallMap (session/small_map.h): the sorted-vector map behind a session's views and keys
// must answer like the std::map it replaced.
#include "session/small_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <string_view>

namespace ds::session {
namespace {

TEST(SmallMap, KeepsKeysSortedAndFindsThemByAnyStringType) {
  SmallMap<std::string, int> m;
  EXPECT_TRUE(m.try_emplace(std::string("b"), 2).second);
  EXPECT_TRUE(m.emplace(std::string("c"), 3).second);
  EXPECT_TRUE(m.try_emplace(std::string("a"), 1).second);
  EXPECT_FALSE(m.try_emplace(std::string("a"), 9).second);  // present: unchanged
  ASSERT_EQ(m.size(), 3u);
  std::string order;
  for (const auto& [key, value] : m) order += key;
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(m.at("a"), 1);
  EXPECT_EQ(m.find(std::string_view("b"))->second, 2);
  EXPECT_EQ(m.find(std::string("c"))->second, 3);
  EXPECT_EQ(m.find("bb"), m.end());
  EXPECT_EQ(m.find(""), m.end());
  EXPECT_THROW(m.at("z"), std::out_of_range);
}

TEST(SmallMap, InsertOrAssignEmplaceHintAndErase) {
  SmallMap<std::string, int> m;
  EXPECT_TRUE(m.insert_or_assign(std::string("k"), 1).second);
  EXPECT_FALSE(m.insert_or_assign(std::string("k"), 2).second);
  EXPECT_EQ(m.at("k"), 2);
  // The hint is only a hint: an out-of-order or duplicate key still lands right.
  m.emplace_hint(m.end(), std::string("z"), 26);
  m.emplace_hint(m.end(), std::string("a"), 1);
  m.emplace_hint(m.end(), std::string("z"), 0);
  std::string order;
  for (const auto& [key, value] : m) order += key;
  EXPECT_EQ(order, "akz");
  EXPECT_EQ(m.at("z"), 26);
  m.erase(m.find("k"));
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.erase_if([](const auto& e) { return e.second > 1; }), 1u);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m.begin()->first, "a");
}

// The same random operations on a SmallMap and a std::map leave the same contents.
template <size_t kInline>
void ExpectToMatchStdMapUnderRandomOperations() {
  SmallMap<std::string, int, kInline> small;
  std::map<std::string, int, std::less<>> reference;
  std::mt19937 rng(7);
  for (int step = 0; step < 5000; ++step) {
    std::string key = "k" + std::to_string(rng() % 40);
    int value = static_cast<int>(rng() % 1000);
    switch (rng() % 4) {
      case 0:
        EXPECT_EQ(small.try_emplace(key, value).second, reference.try_emplace(key, value).second);
        break;
      case 1:
        EXPECT_EQ(small.insert_or_assign(key, value).second,
                  reference.insert_or_assign(key, value).second);
        break;
      case 2: {
        auto a = small.find(key);
        auto b = reference.find(key);
        ASSERT_EQ(a == small.end(), b == reference.end());
        if (a != small.end()) {
          small.erase(a);
          reference.erase(b);
        }
        break;
      }
      default:
        EXPECT_EQ(small.erase_if([&](const auto& e) { return e.second == value; }),
                  std::erase_if(reference, [&](const auto& e) { return e.second == value; }));
    }
    ASSERT_EQ(small.size(), reference.size()) << "step " << step;
  }
  auto it = reference.begin();
  for (const auto& [key, value] : small) {
    EXPECT_EQ(key, it->first);
    EXPECT_EQ(value, it->second);
    ++it;
  }
}

TEST(SmallMap, MatchesStdMapUnderRandomOperations) {
  ExpectToMatchStdMapUnderRandomOperations<0>();
}

// Entries move between the inline room and an array as the map grows and shrinks.
TEST(SmallMap, WithInlineEntriesMatchesStdMapUnderRandomOperations) {
  ExpectToMatchStdMapUnderRandomOperations<1>();
  ExpectToMatchStdMapUnderRandomOperations<3>();
}

TEST(SmallMap, InlineEntriesTakeNoHeapUntilTheyOverflow) {
  SmallMap<std::string, int, 1> m;
  EXPECT_EQ(m.heap_capacity(), 0u);
  m.try_emplace(std::string("a"), 1);
  EXPECT_EQ(m.heap_capacity(), 0u);
  m.try_emplace(std::string("b"), 2);
  EXPECT_GE(m.heap_capacity(), 2u);
  SmallMap<std::string, int> plain;
  plain.try_emplace(std::string("a"), 1);
  EXPECT_GE(plain.heap_capacity(), 1u);
}

}  // namespace
}  // namespace ds::session
