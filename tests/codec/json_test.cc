// ParseJson / WriteJson: strict RFC 8259 parsing with SPEC §3 normalization, canonical
// output, error messages, limits and round trips.

#include "codec/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "codec/bigint.h"
#include "random_value.h"

namespace ds::codec {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Canonical text of the parsed value, or "error: <message>".
std::string C(std::string_view text, const JsonLimits& limits = {}) {
  Result<JsonValue> r = ParseJson(text, limits);
  if (!r.ok()) return "error: " + r.status().message();
  return WriteJson(*r);
}

Status Err(std::string_view text, const JsonLimits& limits = {}) {
  Result<JsonValue> r = ParseJson(text, limits);
  EXPECT_FALSE(r.ok()) << "parsed " << text << " as " << WriteJson(*r);
  return r.ok() ? Status::OK() : r.status();
}

// ---- Values ---------------------------------------------------------------------------------

TEST(ParseJson, Literals) {
  EXPECT_EQ(*ParseJson("null"), JsonValue::Null());
  EXPECT_EQ(*ParseJson("true"), JsonValue::Bool(true));
  EXPECT_EQ(*ParseJson("false"), JsonValue::Bool(false));
}

TEST(ParseJson, IntegersAreCanonicalDecimalText) {
  EXPECT_EQ(*ParseJson("0"), JsonValue::Integer("0"));
  EXPECT_EQ(*ParseJson("-0"), JsonValue::Integer("0"));
  EXPECT_EQ(*ParseJson("123"), JsonValue::Integer("123"));
  EXPECT_EQ(*ParseJson("-123"), JsonValue::Integer("-123"));
  EXPECT_EQ(*ParseJson("9223372036854775808"), JsonValue::Integer("9223372036854775808"));
}

TEST(ParseJson, BigIntegersKeepEveryDigit) {
  const std::string big = "-" + std::string(400, '7');  // rapidjson 1.1.0 refuses this one
  EXPECT_EQ(*ParseJson(big), JsonValue::Integer(big));
  const std::string at_cap = "1" + std::string(kMaxIntegerDigits - 1, '0');
  EXPECT_EQ(ParseJson("[" + at_cap + "]")->items[0].text, at_cap);
  Status s = Err("[" + at_cap + "0]");
  EXPECT_EQ(s.code(), StatusCode::kLimit);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("10001 digits at [0]"), HasSubstr("10000")));
}

TEST(ParseJson, FractionsAndExponentsAreFloats) {
  EXPECT_EQ(*ParseJson("1.5"), JsonValue::Float(1.5));
  EXPECT_EQ(*ParseJson("1e5"), JsonValue::Float(100000.0));
  EXPECT_EQ(*ParseJson("1E+5"), JsonValue::Float(100000.0));
  EXPECT_EQ(*ParseJson("2.50e-1"), JsonValue::Float(0.25));
  EXPECT_EQ(*ParseJson("1.0"), JsonValue::Float(1.0));  // a float, though integral
  EXPECT_EQ(C("1.0"), "1.0");
  EXPECT_EQ(C("-0.0"), "-0.0");
  EXPECT_EQ(C("0e0"), "0.0");
  EXPECT_EQ(C("1.7976931348623157e308"), "1.7976931348623157e308");
  EXPECT_EQ(C("4.9e-324"), "5.0e-324");
  EXPECT_EQ(C("100000000000000000000000000000.5e-10"), "1.0e19");
}

TEST(ParseJson, FloatUnderflowReadsAsZeroAsInErlang) {
  EXPECT_EQ(C("1e-400"), "0.0");
  EXPECT_EQ(C("-1e-400"), "-0.0");
  EXPECT_EQ(C("2e-324"), "0.0");
  EXPECT_EQ(C("0.000000000000000000000000000000000000001e-300"), "0.0");
}

TEST(ParseJson, FloatOverflowIsRefused) {
  for (const char* text : {"1e400", "-1e400", "1.7976931348623159e308", "[1e99999999999999999999]",
                           "123456789012345678901234567890e300"}) {
    Status s = Err(text);
    EXPECT_EQ(s.code(), StatusCode::kBadValue) << text;
    EXPECT_THAT(s.message(), HasSubstr("too large for a double")) << text;
  }
  EXPECT_THAT(Err(R"({"a":[0,1e400]})").message(), HasSubstr("number 1e400 at a[1] (byte 8)"));
}

TEST(ParseJson, Strings) {
  EXPECT_EQ(*ParseJson(R"("")"), JsonValue::String(""));
  EXPECT_EQ(*ParseJson(R"("a\"b\\c\/d\b\f\n\r\t")"), JsonValue::String("a\"b\\c/d\b\f\n\r\t"));
  EXPECT_EQ(*ParseJson(R"("\u00e9\u00C9\u20ac")"),
            JsonValue::String("\xC3\xA9\xC3\x89\xE2\x82\xAC"));
  EXPECT_EQ(*ParseJson(R"("\u0000")"), JsonValue::String(std::string("\0", 1)));
  EXPECT_EQ(*ParseJson(R"("\ud83d\ude00")"), JsonValue::String("\xF0\x9F\x98\x80"));
  EXPECT_EQ(*ParseJson("\"\xF0\x9F\x98\x80 caf\xC3\xA9\""),
            JsonValue::String("\xF0\x9F\x98\x80 caf\xC3\xA9"));
  EXPECT_EQ(*ParseJson("\"\x7F\""), JsonValue::String("\x7F"));  // DEL needs no escape
}

TEST(ParseJson, LoneSurrogateEscapesAreRefused) {
  for (const char* text : {R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", R"("\ud800x")",
                           R"("\udbff\udbff")", R"(["ok", "\uDFFF"])"}) {
    Status s = Err(text);
    EXPECT_EQ(s.code(), StatusCode::kBadValue) << text;
    EXPECT_THAT(s.message(), HasSubstr("lone UTF-16 surrogate")) << text;
  }
  EXPECT_THAT(Err(R"(["ok", "\uDFFF"])").message(), HasSubstr("at byte 8 in a string at [1]"));
  EXPECT_THAT(Err(R"({"\ud800":1})").message(), HasSubstr("a key of the object at the top level"));
}

TEST(ParseJson, InvalidUtf8IsRefused) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"\"\xC0\x80\"", 1},          // overlong NUL
      {"\"\xE0\x80\xAF\"", 1},      // overlong '/'
      {"\"\xED\xA0\x80\"", 1},      // UTF-8 encoded surrogate
      {"\"\xF4\x90\x80\x80\"", 1},  // above U+10FFFF
      {"\"ab\xE2\x82\"", 3},        // truncated sequence
      {"\"\x80\"", 1},              // lone continuation byte
      {"\"\xFF\"", 1},
      {"[\"ok\",\"x\xF8\"]", 8},
  };
  for (const Case& c : cases) {
    Status s = Err(c.text);
    EXPECT_EQ(s.code(), StatusCode::kBadValue);
    EXPECT_THAT(s.message(), HasSubstr("invalid UTF-8 at byte " + std::to_string(c.offset)));
  }
  EXPECT_THAT(Err("[\"ok\",\"x\xF8\"]").message(), HasSubstr("in a string at [1]"));
  // Outside strings, a non-ASCII byte is just unexpected.
  EXPECT_THAT(Err("[\xC3\xA9]").message(), HasSubstr("unexpected byte 0xC3"));
}

TEST(ParseJson, ControlCharactersMustBeEscaped) {
  Status s = Err("\"a\nb\"");
  EXPECT_THAT(s.message(), AllOf(HasSubstr("byte 2"), HasSubstr("control character 0x0A")));
  EXPECT_EQ(Err(std::string("\"a\0b\"", 5)).code(), StatusCode::kBadValue);
}

TEST(ParseJson, ObjectsAreSortedByKeyBytes) {
  Result<JsonValue> r = ParseJson(R"({"b":1,"a":2,"B":3,"é":4,"":5,"aa":6})");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : r->members) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"", "B", "a", "aa", "b", "\xC3\xA9"}));
  EXPECT_EQ(WriteJson(*r), "{\"\":5,\"B\":3,\"a\":2,\"aa\":6,\"b\":1,\"\xC3\xA9\":4}");
}

TEST(ParseJson, DuplicateKeysAreRefused) {
  Status s = Err(R"({"k":1,"k":2})");
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), HasSubstr("duplicate key \"k\" in the object at the top level"));
  EXPECT_THAT(Err(R"([0,1,{"x":{"a":1,"b":2,"a":3}}])").message(),
              AllOf(HasSubstr("duplicate key \"a\" in the object at [2].x"),
                    HasSubstr("object starts at byte 10")));
  // Escapes are decoded before comparing: "\u0061" is "a".
  EXPECT_THAT(Err(R"({"a":1,"\u0061":2})").message(), HasSubstr("duplicate key \"a\""));
}

TEST(ParseJson, WhitespaceAroundTheDocument) {
  EXPECT_EQ(C(" \t\r\n[ 1 , { \"a\" : [ ] } ] \n"), R"([1,{"a":[]}])");
  for (const char* text : {"\f1", "1\v",
                           "\xC2\xA0"
                           "1",
                           "\xEF\xBB\xBF"
                           "1"}) {
    EXPECT_EQ(Err(text).code(), StatusCode::kBadValue) << text;
  }
}

TEST(ParseJson, TrailingGarbageIsRefused) {
  for (std::string_view text :
       {std::string_view("[1]x"), std::string_view("1 2"), std::string_view("{}{}"),
        std::string_view("[1]\0", 4), std::string_view("nullx"), std::string_view("\"a\"\"b\"")}) {
    Status s = Err(text);
    EXPECT_EQ(s.code(), StatusCode::kBadValue) << text;
    EXPECT_THAT(s.message(), HasSubstr("after the JSON value")) << text;
  }
  EXPECT_THAT(Err("[1] ]").message(), HasSubstr("unexpected ']' after the JSON value"));
}

TEST(ParseJson, SyntaxErrorsSayWhatAndWhere) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "invalid JSON at byte 0: the text is empty"},
      {"  ", "the text is empty"},
      {"[1,]",
       "invalid JSON at byte 3: unexpected ']', expected a value (in the array at the top level)"},
      {"[,1]", "byte 1: unexpected ','"},
      {"[1 2]", "byte 3: unexpected '2', expected ',' or ']' after an array element"},
      {R"({"a"})", "byte 4: unexpected '}', expected ':' after an object key"},
      {R"({"a":})", "byte 5: unexpected '}', expected a value"},
      {"{a:1}", "byte 1: unexpected 'a', expected '\"' to start an object key"},
      {"{'a':1}", "unexpected '''"},
      {R"({"a":1,})", "byte 7: unexpected '}', expected '\"' to start an object key"},
      {R"({"a":1 "b":2})", "expected ',' or '}' after an object member"},
      {"01", "byte 0: numbers must not have leading zeros"},
      {"-01", "numbers must not have leading zeros"},
      {"-", "'-' must be followed by a digit"},
      {"1.", "a digit must follow the decimal point"},
      {".5", "unexpected '.', expected a value"},
      {"1e", "a digit must follow the exponent mark"},
      {"1e+", "a digit must follow the exponent mark"},
      {"+1", "unexpected '+'"},
      {"NaN", "unexpected 'N'"},
      {"Infinity", "unexpected 'I'"},
      {"-Infinity", "'-' must be followed by a digit"},
      {"tru", "unexpected 't', expected a value"},
      {"nul", "unexpected 'n'"},
      {"True", "unexpected 'T'"},
      {"[", "byte 1: unexpected end of input, expected a value"},
      {"{", "byte 1: unexpected end of input, expected '\"' to start an object key"},
      {"[1,2", "byte 4: unexpected end of input, expected ',' or ']'"},
      {"\"abc", "byte 0: unterminated string"},
      {R"("\x")", "byte 1: invalid escape \\x"},
      {R"("\u12")", "\\u must be followed by four hex digits"},
      {R"("\u12G4")", "\\u must be followed by four hex digits"},
      {R"([{"a":[1,{"b":tru}]}])", "(in the object at [0].a[1])"},
  };
  for (const Case& c : cases) {
    Status s = Err(c.text);
    EXPECT_EQ(s.code(), StatusCode::kBadValue) << c.text;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(ParseJson, KeysThatAreNotIdentifiersAreQuotedInPaths) {
  EXPECT_THAT(Err(R"({"a b":{"c.d":[1e400]}})").message(), HasSubstr(R"(at ["a b"]["c.d"][0])"));
  EXPECT_THAT(Err(R"({"_x1":{"y":[1e400]}})").message(), HasSubstr("at _x1.y[0]"));
}

// ---- Limits ---------------------------------------------------------------------------------

TEST(ParseJson, DepthLimit) {
  JsonLimits limits;
  limits.max_depth = 3;
  EXPECT_EQ(C("[[[1]]]", limits), "[[[1]]]");
  EXPECT_EQ(C(R"({"a":{"b":[]}})", limits), R"({"a":{"b":[]}})");
  Status s = Err("[[[[1]]]]", limits);
  EXPECT_EQ(s.code(), StatusCode::kLimit);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("deeper than 3 levels at byte 3"), HasSubstr("at [0][0][0]")));
  EXPECT_EQ(Err(R"({"a":{"b":{"c":{}}}})", limits).code(), StatusCode::kLimit);
  EXPECT_EQ(Err("[[[{}]]]", limits).code(), StatusCode::kLimit);  // empty containers count

  EXPECT_TRUE(ParseJson(std::string(256, '[') + std::string(256, ']')).ok());
  EXPECT_EQ(Err(std::string(257, '[') + std::string(257, ']')).code(), StatusCode::kLimit);
}

TEST(ParseJson, DeepNestingCannotExhaustTheStack) {
  // Open brackets far beyond the limit are refused at the limit; with the limit raised, the
  // explicit stack takes them (and the missing closers are reported), with no recursion.
  EXPECT_EQ(Err(std::string(1000000, '[')).code(), StatusCode::kLimit);
  JsonLimits raised;
  raised.max_depth = 200000;
  EXPECT_THAT(Err(std::string(200000, '['), raised).message(),
              HasSubstr("unexpected end of input"));
}

// ---- Writing --------------------------------------------------------------------------------

TEST(WriteJson, CanonicalText) {
  EXPECT_EQ(C(R"( { "b" : [ 1 , 2.50 , "x" , -0 , 1E2 ] , "a" : null , "c" : { } } )"),
            R"({"a":null,"b":[1,2.5,"x",0,100.0],"c":{}})");
  EXPECT_EQ(WriteJson(JsonValue::Float(1e20)), "1.0e20");
  EXPECT_EQ(WriteJson(JsonValue::Integer("-12345678901234567890")), "-12345678901234567890");
  EXPECT_EQ(WriteJson(JsonValue::Array({})), "[]");
  EXPECT_EQ(WriteJson(JsonValue::Object({})), "{}");
}

TEST(WriteJson, StringsAreEscapedMinimallyAsErlangDoes) {
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  EXPECT_EQ(WriteJson(JsonValue::String(all_controls)),
            R"("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F)"
            R"(\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C)"
            R"(\u001D\u001E\u001F")");
  EXPECT_EQ(WriteJson(JsonValue::String("\"\\/\x7F")), "\"\\\"\\\\/\x7F\"");
  EXPECT_EQ(WriteJson(JsonValue::String("caf\xC3\xA9 \xF0\x9F\x98\x80")),
            "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  std::string out = "x";
  AppendJsonString("a\"b", out);
  EXPECT_EQ(out, R"(x"a\"b")");
}

// AppendJsonString checks eight bytes at a time for bytes that need an escape; every byte
// value, at every position of the words and of the tail, must be found (or passed) exactly as
// the byte-at-a-time definition says.
TEST(WriteJson, EveryByteAtEveryPositionIsEscapedOrNot) {
  for (int c = 0; c < 256; ++c) {
    const bool escaped = c < 0x20 || c == '"' || c == '\\';
    for (size_t at = 0; at < 17; ++at) {
      std::string s(17, 'a');
      s[at] = static_cast<char>(c);
      std::string out;
      AppendJsonString(s, out);
      EXPECT_EQ(out.size() != s.size() + 2, escaped) << "byte " << c << " at " << at;
      if (!escaped) {
        EXPECT_EQ(out, "\"" + s + "\"") << "byte " << c << " at " << at;
      }
    }
  }
}

// WriteJsonString copies plain text a word at a time and the tail as an overlapping word: at
// every length around those words, with each kind of byte (plain, control, quote, backslash,
// DEL, non-ASCII lead and continuation bytes) at every position, it must write what the
// byte-at-a-time definition says.
TEST(WriteJson, WriteJsonStringMatchesTheDefinitionAtEveryLengthAndPosition) {
  auto expected = [](std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const std::string shorts[] = {"\\b", "\\t", "\\n", "", "\\f", "\\r"};
        if (c >= 0x08 && c <= 0x0D && c != 0x0B) {
          out += shorts[c - 0x08];
        } else {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        }
      } else {
        out += ch;
      }
    }
    return out + "\"";
  };
  for (size_t length = 0; length <= 25; ++length) {
    for (int c : {int{'a'}, 0x00, 0x0A, 0x1F, int{'"'}, int{'\\'}, 0x7F, 0x80, 0xC3, 0xFF}) {
      for (size_t at = 0; at < std::max<size_t>(length, 1); ++at) {
        std::string s(length, 'a');
        if (at < length) s[at] = static_cast<char>(c);
        std::string buffer(MaxJsonStringBytes(s), '\0');
        const char* end = WriteJsonString(s, buffer.data());
        EXPECT_EQ(std::string_view(buffer.data(), static_cast<size_t>(end - buffer.data())),
                  expected(s))
            << "length " << length << ", byte " << c << " at " << at;
      }
    }
  }
}

TEST(WriteJson, AppendJsonAppends) {
  std::string out = "prefix:";
  AppendJson(*ParseJson(R"({"k":[true,false,null]})"), out);
  EXPECT_EQ(out, R"(prefix:{"k":[true,false,null]})");
}

TEST(JsonValue, FindAndSortMembers) {
  std::vector<std::pair<std::string, JsonValue>> members;
  members.emplace_back("b", JsonValue::Integer("2"));
  members.emplace_back("a", JsonValue::Integer("1"));
  members.emplace_back("\xC3\xA9", JsonValue::Integer("3"));
  SortMembers(members);
  const JsonValue obj = JsonValue::Object(std::move(members));
  EXPECT_EQ(WriteJson(obj), "{\"a\":1,\"b\":2,\"\xC3\xA9\":3}");
  ASSERT_NE(obj.Find("b"), nullptr);
  EXPECT_EQ(obj.Find("b")->text, "2");
  EXPECT_NE(obj.Find("\xC3\xA9"), nullptr);
  EXPECT_EQ(obj.Find("c"), nullptr);
  EXPECT_EQ(obj.Find(""), nullptr);
  EXPECT_EQ(JsonValue::Array({}).Find("a"), nullptr);
}

// ---- Round trips ----------------------------------------------------------------------------

TEST(JsonRoundTrip, WriteThenParseIsIdentity) {
  testing::RandomValues random(1);
  for (int i = 0; i < 3000; ++i) {
    const JsonValue v = random.Value();
    const std::string text = WriteJson(v);
    Result<JsonValue> back = ParseJson(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << text;
    ASSERT_EQ(*back, v) << text;
    ASSERT_EQ(WriteJson(*back), text);
  }
}

TEST(JsonRoundTrip, CanonicalFormIsAFixedPoint) {
  for (const char* text :
       {R"({"z":[1.50,2e0,-0,"\u00e9\n"],"a":{"y":true,"x":null}})", R"([[],{},"",0.0001,1e-5])",
        R"("\ud83d\ude00\/")", "123456789012345678901234567890", "-1.0e-300"}) {
    const std::string once = C(text);
    EXPECT_EQ(C(once), once) << text;
  }
}

}  // namespace
}  // namespace ds::codec
