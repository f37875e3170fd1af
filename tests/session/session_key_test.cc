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

TEST(SessionKeyTest, EveryByteAtEveryPositionIsJudgedByItself) {
  const std::string base = "abcDEF012-_xyzXYZ789-_Ab";  // 24 bytes, all allowed
  ASSERT_TRUE(IsValidSessionKey(base));
  for (size_t pos = 0; pos < base.size(); ++pos) {
    for (int c = 0; c < 256; ++c) {
      std::string key = base;
      key[pos] = static_cast<char>(c);
      EXPECT_EQ(IsValidSessionKey(key), Allowed(c)) << "byte " << c << " at " << pos;
    }
  }
}

TEST(SessionKeyTest, LengthIsOneTo128Bytes) {
  EXPECT_FALSE(IsValidSessionKey(""));
  EXPECT_TRUE(IsValidSessionKey("a"));
  EXPECT_TRUE(IsValidSessionKey(std::string(kMaxSessionKeyBytes, 'a')));
  EXPECT_FALSE(IsValidSessionKey(std::string(kMaxSessionKeyBytes + 1, 'a')));
}

}  // namespace
}  // namespace ds::session
