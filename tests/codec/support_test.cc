// The codec's internal helpers: big-integer base conversion, strict UTF-8 validation, and the
// value paths and quoting used in error messages.

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "codec/bigint.h"
#include "codec/utf8.h"
#include "codec/value_path.h"

namespace ds::codec {
namespace {

TEST(BigInt, MagnitudeToDecimal) {
  EXPECT_EQ(MagnitudeToDecimal("", false), "0");
  EXPECT_EQ(MagnitudeToDecimal(std::string("\0\0", 2), true), "0");
  EXPECT_EQ(MagnitudeToDecimal("\x01", true), "-1");
  EXPECT_EQ(MagnitudeToDecimal(std::string("\x00\xCA\x9A\x3B", 4), false), "1000000000");
  EXPECT_EQ(MagnitudeToDecimal(std::string(8, '\xFF'), false), "18446744073709551615");
  EXPECT_EQ(MagnitudeToDecimal(std::string("\0\0\0\0\0\0\0\0\x01", 9), true),
            "-18446744073709551616");
}

TEST(BigInt, DecimalToMagnitude) {
  EXPECT_EQ(DecimalToMagnitude("0"), "");
  EXPECT_EQ(DecimalToMagnitude("255"), "\xFF");
  EXPECT_EQ(DecimalToMagnitude("256"), std::string("\x00\x01", 2));
  EXPECT_EQ(DecimalToMagnitude("1000000000"), std::string("\x00\xCA\x9A\x3B", 4));
  EXPECT_EQ(DecimalToMagnitude("18446744073709551616"), std::string("\0\0\0\0\0\0\0\0\x01", 9));
}

TEST(BigInt, ConversionsAreInverse) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string digits(1, static_cast<char>('1' + rng() % 9));
    for (int n = static_cast<int>(rng() % 120); n > 0; --n) {
      digits.push_back(static_cast<char>('0' + rng() % 10));
    }
    ASSERT_EQ(MagnitudeToDecimal(DecimalToMagnitude(digits), false), digits);
  }
}

TEST(BigInt, MagnitudeTooLongIsAConservativeBound) {
  // 4153 significant bytes can still have 10,000 digits (256^4152 has 10,000); 4154 cannot.
  EXPECT_FALSE(MagnitudeTooLong(4153));
  EXPECT_TRUE(MagnitudeTooLong(4154));
  EXPECT_EQ(MagnitudeToDecimal(std::string(4152, '\0') + "\x01", false).size(), kMaxIntegerDigits);
  EXPECT_FALSE(MagnitudeTooLong(0));
  EXPECT_FALSE(MagnitudeTooLong(1));
}

TEST(Utf8, StrictValidation) {
  EXPECT_EQ(Utf8ErrorOffset(""), std::string_view::npos);
  EXPECT_EQ(Utf8ErrorOffset("plain ascii, longer than eight bytes"), std::string_view::npos);
  EXPECT_EQ(Utf8ErrorOffset("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"),
            std::string_view::npos);
  EXPECT_EQ(Utf8ErrorOffset("\xED\x9F\xBF\xEE\x80\x80"),
            std::string_view::npos);                      // around surrogates
  EXPECT_EQ(Utf8ErrorOffset("abcdefghij\xC0\x80"), 10u);  // overlong
  EXPECT_EQ(Utf8ErrorOffset("\xE0\x9F\xBF"), 0u);         // overlong 3-byte
  EXPECT_EQ(Utf8ErrorOffset("\xF0\x8F\xBF\xBF"), 0u);     // overlong 4-byte
  EXPECT_EQ(Utf8ErrorOffset("a\xED\xA0\x80"), 1u);        // surrogate
  EXPECT_EQ(Utf8ErrorOffset("ab\xF4\x90\x80\x80"), 2u);   // above U+10FFFF
  EXPECT_EQ(Utf8ErrorOffset("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(Utf8ErrorOffset("\xC3"), 0u);  // truncated
  EXPECT_EQ(Utf8ErrorOffset("\xE2\x82"), 0u);
  EXPECT_EQ(Utf8ErrorOffset("\xC3\xA9\x80"), 2u);  // stray continuation
  EXPECT_EQ(Utf8ErrorOffset("\xC3\x28"), 0u);
}

// The inline ASCII test, at every length around the word size and with the one non-ASCII byte
// at every position: a byte the word loop or the overlapping last word misses fails here.
TEST(Utf8, AsciiTextAtEveryLengthAndPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string ascii(n, 'a');
    EXPECT_TRUE(IsAsciiText(ascii)) << n;
    EXPECT_TRUE(IsValidUtf8Text(ascii)) << n;
    for (size_t at = 0; at < n; ++at) {
      std::string high = ascii;
      high[at] = '\x80';  // a stray continuation byte: not ASCII, not valid UTF-8 either
      EXPECT_FALSE(IsAsciiText(high)) << n << " " << at;
      EXPECT_FALSE(IsValidUtf8Text(high)) << n << " " << at;
      if (at + 1 < n) {
        high[at] = '\xC3';  // é: not ASCII, but valid UTF-8
        high[at + 1] = '\xA9';
        EXPECT_FALSE(IsAsciiText(high)) << n << " " << at;
        EXPECT_TRUE(IsValidUtf8Text(high)) << n << " " << at;
      }
    }
  }
}

TEST(Utf8, AppendUtf8) {
  std::string s;
  for (uint32_t cp : {0x24u, 0xA2u, 0x20ACu, 0x10348u, 0x10FFFFu}) AppendUtf8(cp, s);
  EXPECT_EQ(s, "$\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88\xF4\x8F\xBF\xBF");
  EXPECT_TRUE(IsValidUtf8Text(s));
  EXPECT_FALSE(IsUnicodeScalar(0xD800));
  EXPECT_FALSE(IsUnicodeScalar(0x110000));
  EXPECT_TRUE(IsUnicodeScalar(0xFFFF));
}

TEST(ValuePath, RendersIndexesAndKeys) {
  ValuePath path;
  EXPECT_EQ(path.Where(), "at the top level");
  path.PushIndex(2);
  path.PushKey("pos");
  EXPECT_EQ(path.Where(), "at [2].pos");
  path.Pop();
  path.PushKey("a key");
  path.PushKey("_ok1");
  path.PushIndex(0);
  EXPECT_EQ(path.Where(), R"(at [2]["a key"]._ok1[0])");

  std::string p;
  AppendPathKey("name", p);
  AppendPathKey("1st", p);
  AppendPathKey("", p);
  EXPECT_EQ(p, R"(name["1st"][""])");
}

TEST(ValuePath, QuoteForMessage) {
  EXPECT_EQ(QuoteForMessage("k"), R"("k")");
  EXPECT_EQ(QuoteForMessage("a\"b\\c\r\n"), R"("a\"b\\c\x0D\x0A")");
  EXPECT_EQ(QuoteForMessage("\xFF"), R"("\xFF")");
  EXPECT_EQ(QuoteForMessage("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  // Cut to 64 bytes, never inside a UTF-8 sequence.
  const std::string long_key = std::string(63, 'x') + "\xC3\xA9" + "tail";
  EXPECT_EQ(QuoteForMessage(long_key), "\"" + std::string(63, 'x') + "\"...");
  EXPECT_EQ(QuoteForMessage(std::string(64, 'y')), "\"" + std::string(64, 'y') + "\"");
}

}  // namespace
}  // namespace ds::codec
