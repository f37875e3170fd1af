// IsCanonicalJson: the normalization fast path. Its one promise, "true only when ParseJson
// succeeds and WriteJson prints the input unchanged", is checked against the full path on
// random canonical texts, on mutations of them, and on hand-picked near misses.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "codec/bigint.h"
#include "codec/json.h"
#include "random_value.h"

namespace ds::codec {
namespace {

// What IsCanonicalJson must agree with whenever it says true.
bool FullPathKeepsBytes(std::string_view text, const JsonLimits& limits = {}) {
  Result<JsonValue> v = ParseJson(text, limits);
  return v.ok() && WriteJson(*v) == text;
}

TEST(IsCanonicalJson, AcceptsCanonicalForms) {
  for (const char* text : {"null",
                           "true",
                           "false",
                           "0",
                           "-1",
                           "123456789012345678901234567890",
                           "1.0",
                           "-0.0",
                           "0.1",
                           "1.0e20",
                           "1.5e-7",
                           "\"\"",
                           "\"plain\"",
                           "\"\\\"\\\\\"",
                           "\"\\b\\t\\n\\f\\r\"",
                           "\"\\u0000\\u000B\\u001F\"",
                           "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
                           "\"a/b\"",
                           "\"\x7F\"",
                           "[]",
                           "{}",
                           "[1,[2,[]],{}]",
                           "{\"a\":1,\"b\":[true,null]}",
                           "{\"A\":1,\"a\":2,\"\xC3\xA9\":3}",
                           "{\"count\":5,\"name\":\"ana\",\"tags\":[\"x\"]}"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(FullPathKeepsBytes(text));  // the examples themselves are right
    EXPECT_TRUE(IsCanonicalJson(text));
  }
}

TEST(IsCanonicalJson, RefusesWhatNormalizationWouldChangeOrReject) {
  for (const char* text : {"",
                           " 1",
                           "1 ",
                           "[1, 2]",
                           "{\"a\": 1}",
                           "-0",
                           "01",
                           "1.00",
                           "1e5",
                           "1E5",
                           "1.0E20",
                           "0.10",
                           "1e400",
                           "1e-400",
                           "\"\\/\"",
                           "\"\\u0041\"",
                           "\"\\u000a\"",
                           "\"\\u000A\"",
                           "\"\\u000b\"",
                           "\"\\u0008\"",
                           "\"\\uD83D\\uDE00\"",
                           "\"\t\"",
                           "\"\xC3\"",
                           "\"\xED\xA0\x80\"",
                           "{\"b\":1,\"a\":2}",
                           "{\"a\":1,\"a\":1}",
                           "{\"\\n\":1}",
                           "[1,]",
                           "{\"a\":1,}",
                           "[",
                           "\"open",
                           "nul",
                           "truex",
                           "1x",
                           "-",
                           "--1",
                           "[1]]",
                           "{}{}",
                           "\"a\"\"b\""}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(IsCanonicalJson(text));
  }
  // Keys that ParseJson decodes before sorting are left to the full path, even if canonical.
  EXPECT_TRUE(FullPathKeepsBytes("{\"\\n\":1}"));
}

// Strings are scanned eight bytes at a time (codec/byte_scan.h) and the rest byte by byte:
// every byte value at every position of a word and of the tail, alone and as the start of a
// two-byte UTF-8 sequence, must get the answer of the full path, as value and as key.
TEST(IsCanonicalJson, EveryByteAtEveryPositionOfAString) {
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 17; ++at) {
      for (const char* follower : {"", "\xA9"}) {
        std::string content(17, 'a');
        content[at] = static_cast<char>(c);
        content.insert(at + 1, follower);
        const std::string value = "\"" + content + "\"";
        const std::string object = "{" + value + ":1}";
        EXPECT_EQ(IsCanonicalJson(value), FullPathKeepsBytes(value)) << c << " at " << at;
        if (IsCanonicalJson(object)) {
          EXPECT_TRUE(FullPathKeepsBytes(object)) << c << " at " << at;
        }
      }
    }
  }
}

TEST(IsCanonicalJson, IntegerDigitLimitIsLeftToTheFullPath) {
  const std::string at_limit(kMaxIntegerDigits, '7');
  EXPECT_TRUE(IsCanonicalJson(at_limit));
  EXPECT_FALSE(IsCanonicalJson(at_limit + "7"));
  EXPECT_FALSE(ParseJson(at_limit + "7").ok());
}

TEST(IsCanonicalJson, DepthLimitIsRespected) {
  const JsonLimits limits{.max_depth = 3};
  EXPECT_TRUE(IsCanonicalJson("[[[1]]]", limits));
  EXPECT_FALSE(IsCanonicalJson("[[[[1]]]]", limits));
  EXPECT_FALSE(ParseJson("[[[[1]]]]", limits).ok());
  // Deeper than the fast path goes: false, and the full path still accepts it.
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(IsCanonicalJson(deep));
  EXPECT_TRUE(FullPathKeepsBytes(deep));
}

TEST(IsCanonicalJson, RecognizesEveryCanonicalText) {
  testing::RandomValues random(42);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = WriteJson(random.Value());
    SCOPED_TRACE(text);
    // Object keys with escapes are the one canonical form left to the full path.
    if (text.find('\\') != std::string::npos && text.find('{') != std::string::npos) continue;
    EXPECT_TRUE(IsCanonicalJson(text));
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

// The promise, checked on texts close to canonical ones: byte flips, insertions and
// deletions of the bytes that matter to JSON, and rotations.
TEST(IsCanonicalJson, NeverClaimsATextTheFullPathWouldChange) {
  testing::RandomValues random(7);
  std::mt19937_64 rng(7);
  const std::string kBytes = " ,:[]{}\"\\-0123456789.eE+abfnrtu/\x7F\xC3\xA9";
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = WriteJson(random.Value());
    const int edits = 1 + static_cast<int>(pick(3));
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = pick(text.size() + 1);
      switch (pick(4)) {
        case 0:
          if (at < text.size()) text[at] = kBytes[pick(kBytes.size())];
          break;
        case 1:
          text.insert(at, 1, kBytes[pick(kBytes.size())]);
          break;
        case 2:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          text = text.substr(at) + text.substr(0, at);
          break;
      }
    }
    if (IsCanonicalJson(text)) {
      ++accepted;
      EXPECT_TRUE(FullPathKeepsBytes(text)) << text;
    }
  }
  EXPECT_GT(accepted, 100);  // the property was exercised, not vacuously true
}

}  // namespace
}  // namespace ds::codec
