// Session keys: 1-128 bytes from A-Z a-z 0-9 - _ (session_key.h), checked on every request.
#include "session/session_key.h"

#include <gtest/gtest.h>

#include <string>

namespace ds::session {
namespace {

bool Allowed(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Every length on both sides of the sixteen-byte vectors (the last one overlapping the one
// before it), every position, every byte: a byte a vector misses, or a range off by one, fails.
TEST(SessionKeyTest, EveryByteAtEveryPositionIsJudgedByItself) {
  const std::string allowed = "abcDEF012-_xyzXYZ789-_AbMNOPQRSTUVWmnopqrstuvw3456";  // 50 bytes
  for (size_t length = 1; length <= allowed.size(); ++length) {
    const std::string base = allowed.substr(0, length);
    ASSERT_TRUE(IsValidSessionKey(base)) << base;
    for (size_t pos = 0; pos < base.size(); ++pos) {
      for (int c = 0; c < 256; ++c) {
        std::string key = base;
        key[pos] = static_cast<char>(c);
        ASSERT_EQ(IsValidSessionKey(key), Allowed(c))
            << "byte " << c << " at " << pos << " of " << length;
      }
    }
  }
}

TEST(SessionKeyTest, LengthIsOneTo128Bytes) {
  EXPECT_FALSE(IsValidSessionKey(""));
  EXPECT_TRUE(IsValidSessionKey("a"));
  EXPECT_TRUE(IsValidSessionKey(std::string(kMaxSessionKeyBytes, 'a')));
  EXPECT_FALSE(IsValidSessionKey(std::string(kMaxSessionKeyBytes + 1, 'a')));
}

// Keys up to kInlineBytes are held inline, longer ones (to the 128-byte maximum) in an
// allocation of their own; either way the key reads back as it was given.
TEST(InlineKeyTest, HoldsEveryLengthInlineOrOnTheHeap) {
  static_assert(sizeof(InlineKey) == 56, "the actor's layout counts on 56 bytes");
  for (size_t length = 1; length <= kMaxSessionKeyBytes; ++length) {
    std::string key;
    for (size_t i = 0; i < length; ++i) key.push_back(static_cast<char>('a' + i % 26));
    const InlineKey held(key);
    EXPECT_EQ(held.view(), key) << length;
    EXPECT_EQ(held.HeapBytes(), length <= InlineKey::kInlineBytes ? 0u : length) << length;
  }
}

}  // namespace
}  // namespace ds::session
