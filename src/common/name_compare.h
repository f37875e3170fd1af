// NameLess, NameEqual: std::string_view's byte order and equality, for the short names
// (keys, view names) that session lookups compare most.
//
// Why: std::string_view's operators call memcmp, and for a name of a few bytes the call costs
// more than the comparison. A stash of five keys made about 80 such calls (binary searches in
// a session's sorted keys, the canonical-order check of a JSON object's members, the repeated
// key check), some 1,600 instructions. Names up to kShortName bytes are compared here in a
// loop the compiler keeps inline; longer ones still go to memcmp.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace ds {

inline constexpr size_t kShortName = 16;

// <0, 0 or >0 as `a` sorts before, equal to or after `b`, by unsigned byte value and then by
// length (a prefix first): exactly std::string_view::compare's order.
inline int CompareNames(std::string_view a, std::string_view b) {
  const size_t common = a.size() < b.size() ? a.size() : b.size();
  if (common > kShortName) {
    if (const int c = std::memcmp(a.data(), b.data(), common); c != 0) return c;
  } else {
    for (size_t i = 0; i < common; ++i) {
      const auto x = static_cast<unsigned char>(a[i]);
      const auto y = static_cast<unsigned char>(b[i]);
      if (x != y) return x < y ? -1 : 1;
    }
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

inline bool NameLess(std::string_view a, std::string_view b) { return CompareNames(a, b) < 0; }

inline bool NameEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() > kShortName) return std::memcmp(a.data(), b.data(), a.size()) == 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace ds
