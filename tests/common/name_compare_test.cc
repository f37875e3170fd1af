// CompareNames, NameLess and NameEqual must agree with std::string_view's own comparisons on
// every pair: both sides of the short/long threshold, bytes above 0x7f (which sort after ASCII
// only when compared unsigned), prefixes, and empty names.
#include "common/name_compare.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ds {
namespace {

int Sign(int c) { return (c > 0) - (c < 0); }

void ExpectSameAsStringView(std::string_view a, std::string_view b) {
  EXPECT_EQ(Sign(CompareNames(a, b)), Sign(a.compare(b))) << "'" << a << "' vs '" << b << "'";
  EXPECT_EQ(NameLess(a, b), a < b) << "'" << a << "' vs '" << b << "'";
  EXPECT_EQ(NameEqual(a, b), a == b) << "'" << a << "' vs '" << b << "'";
}

TEST(NameCompareTest, EdgeCasesAgreeWithStringView) {
  const std::string long_name(kShortName + 1, 'k');
  const std::vector<std::string> names = {
      "",
      "a",
      "b",
      "ab",
      "abc",
      "\x7f",
      "\x80",
      "\xff",
      "a\x80",
      "a\x7f",
      std::string(1, '\0'),
      "k0",
      "k1",
      "count",
      "draft",
      long_name,
      long_name + "a",
      long_name.substr(1),
      std::string(kShortName, 'k'),
      std::string(kShortName, 'k') + "\x80",
  };
  for (const std::string& a : names) {
    for (const std::string& b : names) ExpectSameAsStringView(a, b);
  }
}

TEST(NameCompareTest, RandomNamesAgreeWithStringView) {
  std::mt19937 rng(99);
  // Few distinct bytes, so that long common prefixes (and equal names) are frequent.
  const std::string alphabet = std::string("ab\x7f\x80\xff", 5) + std::string(1, '\0');
  auto random_name = [&] {
    std::string s(rng() % (2 * kShortName + 3), 'a');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    const std::string a = random_name();
    std::string b = rng() % 4 == 0 ? a : random_name();
    if (rng() % 4 == 0 && !b.empty()) b.back() = alphabet[rng() % alphabet.size()];
    ExpectSameAsStringView(a, b);
  }
}

}  // namespace
}  // namespace ds
