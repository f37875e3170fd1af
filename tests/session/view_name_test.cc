// ViewName: the inline-held view name compares exactly as std::string does (unsigned byte
// order), whether it fits inline or not.
#include "session/view_name.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "session/small_map.h"

namespace ds::session {
namespace {

TEST(ViewNameTest, HoldsShortAndLongNames) {
  const std::string shorter = "Elixir.MyAppWeb.PageLive";
  const std::string longer(300, 'v');
  ViewName a(shorter);
  ViewName b(longer);
  EXPECT_EQ(a.view(), shorter);
  EXPECT_EQ(b.view(), longer);
  EXPECT_EQ(a.str(), shorter);
  EXPECT_EQ(a.HeapBytes(), 0u);
  EXPECT_GE(b.HeapBytes(), longer.size());
  ViewName copy = b;
  EXPECT_EQ(copy, b);
  EXPECT_EQ(copy.view(), longer);
}

// The envelope writes views in the map's order and the canonical order is by unsigned bytes:
// a name with a byte above 0x7f sorts after plain ASCII, as std::string sorts it.
TEST(ViewNameTest, OrdersAsStdStringDoes) {
  std::vector<std::string> names = {"b", "a", "\xc3\xa9t\xc3\xa9",  "ab",
                                    "",  "Z", std::string(50, 'a'), std::string(50, 'a') + "\x80"};
  std::vector<ViewName> views;
  for (const std::string& n : names) views.emplace_back(n);
  std::sort(names.begin(), names.end());
  std::sort(views.begin(), views.end());
  ASSERT_EQ(views.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(views[i].view(), names[i]) << i;
  for (const std::string& x : names) {
    for (const std::string& y : names) {
      EXPECT_EQ(ViewName(x) < y, x < y) << x << " " << y;
      EXPECT_EQ(x < ViewName(y), x < y) << x << " " << y;
      EXPECT_EQ(ViewName(x) == y, x == y) << x << " " << y;
    }
  }
}

TEST(ViewNameTest, IsFoundInASmallMapByAnyText) {
  SmallMap<ViewName, int> map;
  map.emplace(std::string("Elixir.B"), 2);
  map.emplace(std::string_view("Elixir.A"), 1);
  ASSERT_NE(map.find(std::string("Elixir.A")), map.end());
  EXPECT_EQ(map.find(std::string_view("Elixir.B"))->second, 2);
  EXPECT_EQ(map.find(std::string("Elixir.C")), map.end());
  EXPECT_EQ(map.begin()->first.view(), "Elixir.A");
}

}  // namespace
}  // namespace ds::session
