// FindNotPlainJsonText against the byte-by-byte definition, at every length and start
// position around the word, vector and 64-byte block sizes, with every kind of byte in every
// lane.
#include "codec/byte_scan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace ds::codec {
namespace {

bool IsPlain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

size_t Reference(std::string_view s, size_t pos) {
  while (pos < s.size() && IsPlain(static_cast<unsigned char>(s[pos]))) ++pos;
  return pos < s.size() ? pos : s.size();
}

// Plain bytes and every kind of byte that is not: the neighbours of each boundary too.
const std::string kKinds =
    std::string("a ~!#[]{}\x1f\x20\x21\x22\x23\x5b\x5c\x5d\x7f\x80\xff", 21) + std::string(1, '\0');

TEST(ByteScanTest, FindsTheFirstByteThatIsNotPlainText) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const size_t length = rng() % 160;
    // Mostly plain text, so that long plain runs and late special bytes both occur: one byte
    // in 4 drawn from the kinds, or one in 40, for runs longer than a 16-byte vector (and a few
    // longer than a 64-byte block).
    const uint64_t one_in = round % 2 == 0 ? 4 : 40;
    std::string s;
    for (size_t i = 0; i < length; ++i) {
      s.push_back(rng() % one_in != 0 ? 'x' : kKinds[rng() % kKinds.size()]);
    }
    for (size_t pos = 0; pos <= s.size(); ++pos) {
      ASSERT_EQ(FindNotPlainJsonText(s, pos), Reference(s, pos))
          << "length " << s.size() << " pos " << pos;
    }
  }
}

TEST(ByteScanTest, FindsEveryKindOfByteInEveryLaneOfAVectorOrWord) {
  for (size_t length = 1; length <= 140; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (const char kind : kKinds) {
        std::string s(length, 'x');
        s[at] = kind;
        ASSERT_EQ(FindNotPlainJsonText(s, 0), Reference(s, 0))
            << "length " << length << " byte " << static_cast<int>(kind) << " at " << at;
      }
    }
  }
}

TEST(ByteScanTest, PlainTextOfEveryLengthHasNothingToFind) {
  for (size_t length = 0; length < 160; ++length) {
    const std::string s(length, 'p');
    EXPECT_EQ(FindNotPlainJsonText(s, 0), length);
  }
}

}  // namespace
}  // namespace ds::codec
