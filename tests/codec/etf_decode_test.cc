// DecodeEtf: every normalization rule of reference/json-normalization.md and SPEC §3, the
// rejections and their messages, framing errors, and limits.
//
// Expected values are written as canonical JSON text, which is what Elixir's
// `term |> JSON.encode!() |> JSON.decode!()` would give (maps shown with sorted keys).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "codec/etf.h"
#include "codec/json.h"
#include "etf_builder.h"

namespace ds::codec {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace ::ds::codec::testing;  // NOLINT(google-build-using-namespace)

// Canonical JSON of the decoded term, or "error: <message>".
std::string J(const T& term, const EtfLimits& limits = {}) {
  Result<JsonValue> r = DecodeEtf(Etf(term), limits);
  if (!r.ok()) return "error: " + r.status().message();
  return WriteJson(*r);
}

Status Err(std::string_view bytes, const EtfLimits& limits = {}) {
  Result<JsonValue> r = DecodeEtf(bytes, limits);
  EXPECT_FALSE(r.ok()) << "decoded to " << WriteJson(*r);
  return r.ok() ? Status::OK() : r.status();
}
Status Err(const T& term, const EtfLimits& limits = {}) { return Err(Etf(term), limits); }

// ---- Golden bytes: real term_to_binary output from `erl` (OTP 25) -------------------------

TEST(EtfGolden, NestedTermFromErl) {
  // #{count => 3, <<"name">> => <<"hé">>, items => [1, 2.5, nil, true, false, ok,
  //   'Elixir.MyMod'], big => 1 bsl 70, neg => -123456789012345678901234567890,
  //   nested => #{<<"k">> => []}}   (atoms as ATOM_EXT, as OTP 25 writes them)
  const std::string bytes = FromHex(
      "8374000000066400036269676E0900000000000000000040640005636F756E7461036400056974656D73"
      "6C0000000761014640040000000000006400036E696C6400047472756564000566616C73656400026F6B"
      "64000C456C697869722E4D794D6F646A6400036E65676E0D01D20A3F4EEEE073C3F60FE98E016400066E65"
      "7374656474000000016D000000016B6A6D000000046E616D656D0000000368C3A9");
  Result<JsonValue> r = DecodeEtf(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(WriteJson(*r), R"({"big":1180591620717411303424,"count":3,)"
                           R"("items":[1,2.5,null,true,false,"ok","Elixir.MyMod"],"name":"hé",)"
                           R"("neg":-123456789012345678901234567890,"nested":{"k":[]}})");
}

TEST(EtfGolden, BuilderMatchesErl) {
  EXPECT_EQ(ToHex(Etf(Str("ab"))), "836B00026162");
  EXPECT_EQ(ToHex(Etf(Int(-1))), "8362FFFFFFFF");
  EXPECT_EQ(ToHex(Etf(Int(2147483648))), "836E040000000080");
  EXPECT_EQ(ToHex(Etf(Int(-2147483649))), "836E040101000080");
  EXPECT_EQ(ToHex(Etf(Float(1.5))), "83463FF8000000000000");
  EXPECT_EQ(ToHex(Etf(Bin("h\xC3\xA9"))), "836D0000000368C3A9");
  EXPECT_EQ(ToHex(Etf(LatinAtom("true"))), "8364000474727565");
  // #{<<"a">> => [], <<"b">> => 1}
  EXPECT_EQ(ToHex(Etf(Map({{Bin("a"), Nil()}, {Bin("b"), Int(1)}}))),
            "8374000000026D00000001616A6D000000016261"
            "01");
}

TEST(EtfGolden, TupleInListFromErl) {
  // [1, 2, #{pos => {1, 2}}]
  Status s = Err(FromHex("836C00000003610161027400000001640003706F736802610161026A"));
  EXPECT_EQ(s.message(),
            "cannot store a tuple at [2].pos: JSON has no tuples; convert it to a list or a map "
            "first");
}

TEST(EtfGolden, StructsFromErl) {
  // #{'__struct__' => 'Elixir.Date', calendar => 'Elixir.Calendar.ISO', year => 2024, ...}
  EXPECT_EQ(J(Raw(FromHex("74000000056400"
                          "0A5F5F7374727563745F5F64000B456C697869722E446174"
                          "6564000863616C656E646172640013456C697869722E43616C656E6461722E4953"
                          "4F640003646179611F6400056D6F6E746861016400047965617262000007E8"))),
            R"("2024-01-31")");
  // ~T[13:45:00.120]
  EXPECT_EQ(J(Raw(FromHex("74000000066400"
                          "0A5F5F7374727563745F5F64000B456C697869722E54696D"
                          "6564000863616C656E646172640013456C697869722E43616C656E6461722E4953"
                          "4F640004686F7572610D64000B6D6963726F7365636F6E646802620001D4C06103"
                          "6400066D696E757465612D6400067365636F6E646100"))),
            R"("13:45:00.120")");
}

// ---- The table of reference/json-normalization.md, one row per rule ------------------------

TEST(EtfDecode, ReferenceNormalizationTable) {
  struct Row {
    const char* elixir;  // the term, in Elixir syntax
    T term;
    const char* json;  // what JSON.decode!(JSON.encode!(term)) gives, as canonical JSON
  };
  const Row rows[] = {
      {"nil", Atom("nil"), "null"},
      {"true", Atom("true"), "true"},
      {"false", Atom("false"), "false"},
      {":ok", Atom("ok"), R"("ok")"},
      {"MyMod", Atom("Elixir.MyMod"), R"("Elixir.MyMod")"},
      {"\"text\"", Bin("text"), R"("text")"},
      {"123", Int(123), "123"},
      {"2 ** 100", Raw(FromHex("6E0D0000000000000000000000000010")),
       "1267650600228229401496703205376"},
      {"0.1", Float(0.1), "0.1"},
      {"1.0e20", Float(1e20), "1.0e20"},
      {"[1, :a]", List({Int(1), Atom("a")}), R"([1,"a"])"},
      {"'ab'", Str("ab"), "[97,98]"},
      {"%{a: 1}", Map({{Atom("a"), Int(1)}}), R"({"a":1})"},
      {"%{\"a\" => 1}", Map({{Bin("a"), Int(1)}}), R"({"a":1})"},
      {"%{1 => 2}", Map({{Int(1), Int(2)}}), R"({"1":2})"},
      {"%{1.5 => 2}", Map({{Float(1.5), Int(2)}}), R"({"1.5":2})"},
      {"~D[2024-01-31]", Date(2024, 1, 31), R"("2024-01-31")"},
      {"~U[2024-01-31 13:45:00Z]", DateTime(2024, 1, 31, 13, 45, 0, 0, 0, "Etc/UTC", "UTC", 0, 0),
       R"("2024-01-31T13:45:00Z")"},
      {"~T[13:45:00.120]", Time(13, 45, 0, 120000, 3), R"("13:45:00.120")"},
      {"~N[2024-01-31 13:45:00]", NaiveDateTime(2024, 1, 31, 13, 45, 0, 0, 0),
       R"("2024-01-31T13:45:00")"},
      {"Duration.new!(hour: 1)", Duration(0, 0, 0, 0, 1, 0, 0, 0, 0), R"("PT1H")"},
  };
  for (const Row& row : rows) EXPECT_EQ(J(row.term), row.json) << row.elixir;

  const std::pair<const char*, T> refused[] = {
      {"<<0xFF>> (not UTF-8)", Bin("\xFF")},
      {"<<1::3>> (a bitstring)", Raw(FromHex("4D0000000103") + " ")},
      {"[1 | 2] (improper)", List({Int(1)}, Int(2))},
      {"%{1 => :a, \"1\" => :b} (keys collide)", Map({{Int(1), Atom("a")}, {Bin("1"), Atom("b")}})},
      {"%URI{} (other struct)", Struct("Elixir.URI", {{"host", Bin("x")}})},
      {"{1, 2}", Tuple({Int(1), Int(2)})},
      {"self()", Pid()},
      {"port", Port()},
      {"make_ref()", Ref()},
      {"fn x -> x end", Fun()},
      {"&Enum.map/2", Export()},
  };
  for (const auto& [elixir, term] : refused) {
    EXPECT_EQ(Err(term).code(), StatusCode::kBadValue) << elixir;
  }
}

// ---- Scalars --------------------------------------------------------------------------------

TEST(EtfDecode, Integers) {
  EXPECT_EQ(J(Int(0)), "0");
  EXPECT_EQ(J(Int(255)), "255");
  EXPECT_EQ(J(Int(256)), "256");
  EXPECT_EQ(J(Int(-1)), "-1");
  EXPECT_EQ(J(Int(INT32_MIN)), "-2147483648");
  EXPECT_EQ(J(Int(INT32_MAX)), "2147483647");
  EXPECT_EQ(J(Int(2147483648)), "2147483648");
  EXPECT_EQ(J(Int(INT64_MAX)), "9223372036854775807");
  EXPECT_EQ(J(Int(INT64_MIN)), "-9223372036854775808");
}

TEST(EtfDecode, BigIntegersKeepEveryDigit) {
  // 2^64 and 10^100, bytes from erl.
  EXPECT_EQ(J(Raw(FromHex("6E0900000000000000000001"))), "18446744073709551616");
  EXPECT_EQ(J(Raw(FromHex("6E2A00000000000000000000000000108F2EA80843B2AA7C1A218E40CE8AF30BCEC4"
                          "84270BEB7CC39425AD4912"))),
            "1" + std::string(100, '0'));
  EXPECT_EQ(J(Raw(FromHex("6E0D0100000040EAED7446D09C2C9F0C"))), "-1" + std::string(30, '0'));
  // 2^2040 in a LARGE_BIG_EXT (256 bytes), value from erl.
  std::string magnitude(255, '\0');
  magnitude.push_back('\x01');
  EXPECT_EQ(J(Big(magnitude, false)),
            "126238304966058622268417487065116999845484776053576109500509161826268184136202698801"
            "551568013761380717534054534851164138648904527931605160527688095259563605939964364716"
            "019515983399209962459578542172100149937763938581219604072733422507180056009672540900"
            "709554109516816573779593326332288314873251559077853068444977864803391962580800682760"
            "017849589281937637993445539366428356761821065267423102149447628375691862210717202025"
            "241630303118559188678304314076943801692528246980959705901641444238894928620825482303"
            "431806955690226308773426829503900930529395181208739591967195841536053143145775307050"
            "594328881077553168201547776");
}

TEST(EtfDecode, BigIntegerEdgeForms) {
  EXPECT_EQ(J(Big("", false)), "0");
  EXPECT_EQ(J(Big("", true)), "0");  // "-0" is not canonical
  EXPECT_EQ(J(Big(std::string("\0\0", 2), true)), "0");
  EXPECT_EQ(J(Big(std::string("\x05\0\0", 3), true)), "-5");  // high zero bytes are fine
  EXPECT_EQ(J(Raw(FromHex("6E010205"))), "-5");               // any non-zero sign byte is negative
}

TEST(EtfDecode, IntegerDigitCap) {
  // 4152 bytes of 0xFF: 2^33216 - 1 has 9999 digits, within the cap.
  EXPECT_THAT(J(Big(std::string(4152, '\xFF'), false)), ::testing::StartsWith("1"));
  Status s = Err(Big(std::string(4200, '\xFF'), false));
  EXPECT_EQ(s.code(), StatusCode::kLimit);
  EXPECT_THAT(s.message(), HasSubstr("10000 digits"));
  // The whole check is on significant bytes: high zero bytes do not count.
  EXPECT_EQ(J(Big(std::string("\x07") + std::string(10000, '\0'), false)), "7");
}

TEST(EtfDecode, Floats) {
  EXPECT_EQ(J(Float(1.5)), "1.5");
  EXPECT_EQ(J(Float(1.0)), "1.0");
  EXPECT_EQ(J(Float(-0.0)), "-0.0");
  EXPECT_EQ(J(Float(1e20)), "1.0e20");
  // FLOAT_EXT (pre-R11): 31 bytes of "%.20e" text.
  std::string old =
      "\x63"
      "1.50000000000000000000e+00";
  old.append(31 - 26, '\0');
  EXPECT_EQ(J(Raw(old)), "1.5");
}

TEST(EtfDecode, NonFiniteFloatIsMalformed) {
  Status s = Err(Raw(FromHex("467FF0000000000000")));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), HasSubstr("NaN or infinite"));
}

TEST(EtfDecode, Atoms) {
  EXPECT_EQ(J(Atom("nil")), "null");
  EXPECT_EQ(J(Atom("true")), "true");
  EXPECT_EQ(J(Atom("false")), "false");
  EXPECT_EQ(J(Atom("ok")), R"("ok")");
  EXPECT_EQ(J(Atom("Elixir.MyMod")), R"("Elixir.MyMod")");
  EXPECT_EQ(J(Atom("null")), R"("null")");  // only nil means null in Elixir
  EXPECT_EQ(J(Atom("caf\xC3\xA9")), "\"caf\xC3\xA9\"");
}

TEST(EtfDecode, LegacyLatin1AtomsBecomeUtf8) {
  EXPECT_EQ(J(LatinAtom("nil")), "null");
  EXPECT_EQ(J(LatinAtom("true")), "true");
  EXPECT_EQ(J(LatinAtom("caf\xE9")), "\"caf\xC3\xA9\"");
  T small = Raw(std::string("\x73\x02ok", 4));  // SMALL_ATOM_EXT
  EXPECT_EQ(J(small), R"("ok")");
}

TEST(EtfDecode, InvalidAtomsAreMalformed) {
  EXPECT_THAT(Err(Raw(std::string("\x77\x02\xC3\x28", 4))).message(), HasSubstr("not valid UTF-8"));
  std::string long_atom = std::string("\x64\x01\x00", 3) + std::string(256, 'a');
  EXPECT_THAT(Err(Raw(long_atom)).message(), HasSubstr("longer than 255"));
}

TEST(EtfDecode, Binaries) {
  EXPECT_EQ(J(Bin("")), R"("")");
  EXPECT_EQ(J(Bin("h\xC3\xA9")), "\"h\xC3\xA9\"");
  EXPECT_EQ(J(Bin("a\"b\n")), R"("a\"b\n")");
  EXPECT_EQ(J(Bin(std::string("\0", 1))), R"("\u0000")");
}

TEST(EtfDecode, NonUtf8BinaryIsRefusedWithPath) {
  Status s = Err(Map({{Atom("blob"), List({Bin("ok"), Bin("\xFF\xFE")})}}));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("a binary that is not valid UTF-8 at blob[1]"),
                                 HasSubstr("offset 0"), HasSubstr("Base.encode64")));
  // Overlong, surrogate and truncated forms are all invalid.
  for (const char* bad : {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xE2\x82"}) {
    EXPECT_EQ(Err(Bin(bad)).code(), StatusCode::kBadValue) << ToHex(bad);
  }
}

TEST(EtfDecode, BitBinaries) {
  // Whole bytes (8 bits used in the last byte) are a binary; the empty bitstring too.
  EXPECT_EQ(J(Raw(FromHex("4D0000000108") + "a")), R"("a")");
  EXPECT_EQ(J(Raw(FromHex("4D0000000000"))), R"("")");
  Status s = Err(List({Int(1), Raw(FromHex("4D0000000103") + " ")}));
  EXPECT_THAT(s.message(), HasSubstr("cannot store a bitstring at [1]"));
  EXPECT_THAT(Err(Raw(FromHex("4D0000000100") + "a")).message(), HasSubstr("0 bits"));
}

// ---- Lists ----------------------------------------------------------------------------------

TEST(EtfDecode, Lists) {
  EXPECT_EQ(J(Nil()), "[]");
  EXPECT_EQ(J(List({Int(1), Atom("a"), Bin("b"), Nil()})), R"([1,"a","b",[]])");
  EXPECT_EQ(J(List({List({List({})})})), "[[[]]]");
}

TEST(EtfDecode, CharlistsStayListsOfIntegers) {
  EXPECT_EQ(J(Str("ab")), "[97,98]");  // 'ab' as term_to_binary writes it (STRING_EXT)
  EXPECT_EQ(J(List({Int(97), Int(98)})), "[97,98]");
  EXPECT_EQ(J(Str("")), "[]");
  EXPECT_EQ(J(Str("\xFF")), "[255]");
}

TEST(EtfDecode, ListTailsThatAreListsAreProper) {
  EXPECT_EQ(J(List({Int(1)}, List({Int(2)}))), "[1,2]");  // [1 | [2]]
  EXPECT_EQ(J(List({Int(1)}, Str("ab"))), "[1,97,98]");   // [1 | 'ab']
  // LIST_EXT with no elements is just its tail, as binary_to_term reads it.
  EXPECT_EQ(J(Raw(FromHex("6C00000000") + Bin("a").bytes)), R"("a")");
  EXPECT_EQ(J(Raw(FromHex("6C000000016101"
                          "6C00000000"
                          "6A"))),
            "[1]");
}

TEST(EtfDecode, ImproperListsAreRefused) {
  Status s = Err(Map({{Atom("l"), List({Int(1)}, Int(2))}}));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("an improper list at l"), HasSubstr("an integer")));
  EXPECT_THAT(Err(List({Int(1)}, Bin("x"))).message(), HasSubstr("improper list at the top level"));
}

// ---- Maps -----------------------------------------------------------------------------------

TEST(EtfDecode, MapsBecomeObjectsWithSortedKeys) {
  EXPECT_EQ(J(Map({})), "{}");
  EXPECT_EQ(J(Map({{Atom("b"), Int(1)}, {Atom("a"), Int(2)}, {Bin("c"), Nil()}})),
            R"({"a":2,"b":1,"c":[]})");
  EXPECT_EQ(J(Map({{Bin("\xC3\xA9"), Int(1)}, {Bin("z"), Int(2)}, {Bin("Z"), Int(3)}})),
            "{\"Z\":3,\"z\":2,\"\xC3\xA9\":1}");
}

TEST(EtfDecode, MapKeysAreStringifiedAsJsonEncodeDoes) {
  // Atoms by name — nil is "nil" as a key (Atom.to_string), unlike nil as a value.
  EXPECT_EQ(J(Map({{Atom("nil"), Int(1)}, {Atom("true"), Int(2)}})), R"({"nil":1,"true":2})");
  EXPECT_EQ(J(Map({{LatinAtom("\xE9t\xE9"), Int(1)}})), "{\"\xC3\xA9t\xC3\xA9\":1}");
  // Integers in decimal, floats as Float.to_string/1.
  EXPECT_EQ(J(Map({{Int(1), Atom("a")}, {Int(-7), Atom("b")}})), R"({"-7":"b","1":"a"})");
  EXPECT_EQ(J(Map({{Raw(FromHex("6E0900000000000000000001")), Int(0)}})),
            R"({"18446744073709551616":0})");
  EXPECT_EQ(J(Map({{Float(1.5), Int(0)}, {Float(1e20), Int(1)}, {Float(100.0), Int(2)}})),
            R"({"1.0e20":1,"1.5":0,"100.0":2})");
  // Lists through List.to_string/1: charlists, chardata, nested lists, a binary tail.
  EXPECT_EQ(J(Map({{Str("ab"), Int(1)}})), R"({"ab":1})");
  EXPECT_EQ(J(Map({{Nil(), Int(1)}})), R"({"":1})");
  EXPECT_EQ(J(Map({{List({Int(0xE9), Int(0x1F600)}), Int(1)}})),
            "{\"\xC3\xA9\xF0\x9F\x98\x80\":1}");
  EXPECT_EQ(J(Map({{List({Bin("a"), Int('b'), List({Str("c")})}, Bin("d")), Int(1)}})),
            R"({"abcd":1})");
  EXPECT_EQ(J(Map({{Str("\xE9"), Int(1)}})), "{\"\xC3\xA9\":1}");  // Latin-1 code point
}

TEST(EtfDecode, CalendarStructKeysUseToString) {
  EXPECT_EQ(J(Map({{Date(2024, 1, 31), Int(1)}})), R"({"2024-01-31":1})");
  EXPECT_EQ(J(Map({{Time(13, 45, 0, 0, 0), Int(1)}})), R"({"13:45:00":1})");
  EXPECT_EQ(J(Map({{NaiveDateTime(2024, 1, 31, 13, 45, 0, 5000, 3), Int(1)}})),
            R"({"2024-01-31 13:45:00.005":1})");
  EXPECT_EQ(J(Map({{DateTime(2024, 1, 31, 13, 45, 0, 0, 0, "Etc/UTC", "UTC", 0, 0), Int(1)}})),
            R"({"2024-01-31 13:45:00Z":1})");
  EXPECT_EQ(
      J(Map({{DateTime(2024, 1, 31, 13, 45, 0, 0, 0, "Europe/Paris", "CET", 3600, 0), Int(1)}})),
      R"({"2024-01-31 13:45:00+01:00 CET Europe/Paris":1})");
}

TEST(EtfDecode, UnsupportedMapKeysAreRefused) {
  EXPECT_THAT(Err(Map({{Tuple({Int(1)}), Int(1)}})).message(),
              HasSubstr("cannot store the map at the top level: one of its keys is a tuple"));
  EXPECT_THAT(Err(List({Map({{Map({}), Int(1)}})})).message(),
              HasSubstr("the map at [0]: one of its keys is a map"));
  EXPECT_THAT(Err(Map({{Pid(), Int(1)}})).message(), HasSubstr("one of its keys is a pid"));
  EXPECT_THAT(Err(Map({{Bin("\xFF"), Int(1)}})).message(), HasSubstr("is not valid UTF-8"));
  EXPECT_THAT(Err(Map({{List({Int(0xD800)}), Int(1)}})).message(),
              HasSubstr("List.to_string/1 cannot convert"));
  EXPECT_THAT(Err(Map({{List({Int(-1)}), Int(1)}})).message(), HasSubstr("List.to_string/1"));
  EXPECT_THAT(Err(Map({{List({Float(1.0)}), Int(1)}})).message(), HasSubstr("List.to_string/1"));
  EXPECT_THAT(Err(Map({{List({Int(97)}, Int(98)), Int(1)}})).message(),
              HasSubstr("List.to_string/1"));
  // Duration has no String.Chars; other structs are not known here.
  EXPECT_THAT(Err(Map({{Duration(1, 0, 0, 0, 0, 0, 0, 0, 0), Int(1)}})).message(),
              HasSubstr("one of its keys is a Elixir.Duration struct"));
  EXPECT_THAT(Err(Map({{Struct("Elixir.URI", {}), Int(1)}})).message(),
              HasSubstr("Elixir.URI struct"));
}

TEST(EtfDecode, KeysCollidingAfterStringificationAreRefused) {
  Status s = Err(Map({{Atom("m"), Map({{Int(1), Atom("a")}, {Bin("1"), Atom("b")}})}}));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("the map at m"), HasSubstr("an integer and a binary"),
                                 HasSubstr("JSON key \"1\"")));
  EXPECT_THAT(Err(Map({{Atom("a"), Int(1)}, {Bin("a"), Int(2)}})).message(), HasSubstr("\"a\""));
  EXPECT_THAT(Err(Map({{Str("ab"), Int(1)}, {Bin("ab"), Int(2)}})).message(),
              HasSubstr("a list and a binary"));
  EXPECT_THAT(Err(Map({{Float(1.0), Int(1)}, {Bin("1.0"), Int(2)}})).message(),
              HasSubstr("a float and a binary"));
}

TEST(EtfDecode, StructKeyMustHoldAnAtomToMakeAStruct) {
  // Elixir treats %{__struct__: "x"} as a plain map.
  EXPECT_EQ(J(Map({{Atom("__struct__"), Bin("x")}, {Atom("a"), Int(1)}})),
            R"({"__struct__":"x","a":1})");
  // A binary "__struct__" key is just a key, too.
  EXPECT_EQ(J(Map({{Bin("__struct__"), Atom("Elixir.Date")}})), R"({"__struct__":"Elixir.Date"})");
}

// ---- Structs --------------------------------------------------------------------------------

TEST(EtfDecode, Dates) {
  EXPECT_EQ(J(Date(2024, 1, 31)), R"("2024-01-31")");
  EXPECT_EQ(J(Date(-99, 1, 31)), R"("-0099-01-31")");
  EXPECT_EQ(J(Date(12345, 12, 1)), R"("12345-12-01")");
  EXPECT_EQ(J(Date(7, 2, 3)), R"("0007-02-03")");
  EXPECT_EQ(J(Date(0, 1, 1)), R"("0000-01-01")");
}

TEST(EtfDecode, TimesShowExactlyTheirPrecision) {
  EXPECT_EQ(J(Time(13, 45, 0, 0, 0)), R"("13:45:00")");
  EXPECT_EQ(J(Time(13, 45, 0, 120000, 3)), R"("13:45:00.120")");
  EXPECT_EQ(J(Time(1, 2, 3, 4, 6)), R"("01:02:03.000004")");
  EXPECT_EQ(J(Time(1, 2, 3, 4, 5)), R"("01:02:03.00000")");  // truncated, not rounded
  EXPECT_EQ(J(Time(23, 59, 59, 999999, 1)), R"("23:59:59.9")");
  EXPECT_EQ(J(Time(0, 0, 0, 123456, 0)), R"("00:00:00")");
}

TEST(EtfDecode, NaiveDateTimes) {
  EXPECT_EQ(J(NaiveDateTime(2024, 1, 31, 13, 45, 0, 0, 0)), R"("2024-01-31T13:45:00")");
  EXPECT_EQ(J(NaiveDateTime(2015, 2, 28, 1, 2, 3, 4, 6)), R"("2015-02-28T01:02:03.000004")");
}

TEST(EtfDecode, DateTimes) {
  EXPECT_EQ(J(DateTime(2024, 1, 31, 13, 45, 0, 0, 0, "Etc/UTC", "UTC", 0, 0)),
            R"("2024-01-31T13:45:00Z")");
  EXPECT_EQ(J(DateTime(2024, 1, 31, 13, 45, 0, 123000, 3, "Etc/UTC", "UTC", 0, 0)),
            R"("2024-01-31T13:45:00.123Z")");
  EXPECT_EQ(J(DateTime(2024, 7, 1, 8, 0, 0, 0, 0, "Europe/Paris", "CEST", 3600, 3600)),
            R"("2024-07-01T08:00:00+02:00")");
  EXPECT_EQ(J(DateTime(2024, 1, 1, 8, 0, 0, 0, 0, "Asia/Kolkata", "IST", 19800, 0)),
            R"("2024-01-01T08:00:00+05:30")");
  EXPECT_EQ(J(DateTime(2024, 1, 1, 8, 0, 0, 0, 0, "America/St_Johns", "NST", -12600, 0)),
            R"("2024-01-01T08:00:00-03:30")");
  // "Z" needs both the Etc/UTC zone and a zero offset.
  EXPECT_EQ(J(DateTime(2024, 1, 1, 8, 0, 0, 0, 0, "Europe/London", "GMT", 0, 0)),
            R"("2024-01-01T08:00:00+00:00")");
  EXPECT_EQ(J(DateTime(2024, 1, 1, 8, 0, 0, 0, 0, "Etc/UTC", "UTC", 3600, 0)),
            R"("2024-01-01T08:00:00+01:00")");
  // Seconds of an offset are not shown.
  EXPECT_EQ(J(DateTime(1900, 1, 1, 0, 0, 0, 0, 0, "Europe/Amsterdam", "AMT", 1172, 0)),
            R"("1900-01-01T00:00:00+00:19")");
  EXPECT_EQ(J(DateTime(-1, 12, 31, 23, 0, 0, 0, 0, "Etc/UTC", "UTC", 0, 0)),
            R"("-0001-12-31T23:00:00Z")");
}

TEST(EtfDecode, Durations) {
  EXPECT_EQ(J(Duration(1, 2, 0, 3, 4, 5, 6, 500000, 1)), R"("P1Y2M3DT4H5M6.5S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 0, 0, 0)), R"("PT0S")");
  EXPECT_EQ(J(Duration(3, 0, 0, 0, 0, 0, 0, 0, 0)), R"("P3Y")");
  EXPECT_EQ(J(Duration(0, 3, 3, 3, 0, 0, 0, 0, 0)), R"("P3M3W3D")");
  EXPECT_EQ(J(Duration(0, 0, 0, 40, 12, 42, 12, 0, 0)), R"("P40DT12H42M12S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 30, 0, 0)), R"("PT30S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 1, 2200, 3)), R"("PT1.002S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 1, -1200000, 4)), R"("PT-0.2000S")");
  EXPECT_EQ(J(Duration(0, -1, 0, 0, -2, 0, -3, 0, 0)), R"("P-1MT-2H-3S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 0, 5, 6)), R"("PT0.000005S")");
  EXPECT_EQ(J(Duration(0, 0, 0, 0, 0, 0, 0, 5, 0)), R"("PT0S")");  // precision 0 hides it
  EXPECT_EQ(J(Duration(1, 0, 0, 0, 0, 0, 0, 0, 3)), R"("P1Y")");
}

TEST(EtfDecode, CalendarStructsAreValidatedLikeElixir) {
  auto msg = [](const T& t) { return Err(t).message(); };
  EXPECT_THAT(msg(Time(24, 0, 0, 0, 0)), HasSubstr("hour field must be an integer from 0 to 23"));
  EXPECT_THAT(msg(Time(1, 60, 0, 0, 0)), HasSubstr("minute"));
  EXPECT_THAT(msg(Time(1, 0, 60, 0, 0)), HasSubstr("second"));
  EXPECT_THAT(msg(Time(1, 0, 0, 1000000, 6)), HasSubstr("{0..999999, 0..6}"));
  EXPECT_THAT(msg(Time(1, 0, 0, 0, 7)), HasSubstr("{0..999999, 0..6}"));
  EXPECT_THAT(msg(Duration(0, 0, 0, 0, 0, 0, 1, 0, 7)), HasSubstr("precision must be from 0 to 6"));
  EXPECT_THAT(msg(Struct("Elixir.Date", {{"calendar", Iso()}, {"year", Int(2024)}})),
              HasSubstr("it has no month field"));
  EXPECT_THAT(
      msg(Struct("Elixir.Date",
                 {{"calendar", Iso()}, {"year", Bin("2024")}, {"month", Int(1)}, {"day", Int(1)}})),
      HasSubstr("year field must be an integer"));
  EXPECT_THAT(msg(Struct("Elixir.Time", {{"calendar", Iso()},
                                         {"hour", Int(1)},
                                         {"minute", Int(1)},
                                         {"second", Int(1)},
                                         {"microsecond", Int(0)}})),
              HasSubstr("{value, precision} tuple"));
  // The error says which struct and where.
  EXPECT_THAT(msg(List({Time(24, 0, 0, 0, 0)})),
              HasSubstr("cannot store the Elixir.Time struct at [0]: its hour field"));
}

TEST(EtfDecode, OtherCalendarsAreRefused) {
  Status s = Err(Struct("Elixir.Date", {{"calendar", Atom("Elixir.Calendar.Holocene")},
                                        {"year", Int(12024)},
                                        {"month", Int(1)},
                                        {"day", Int(1)}}));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("Elixir.Calendar.Holocene"), HasSubstr("only Calendar.ISO")));
}

TEST(EtfDecode, OtherStructsAreRefusedWithAdvice) {
  Status s =
      Err(List({Int(1), Map({{Atom("user"), Struct("Elixir.MyApp.User", {{"id", Int(1)}})}})}));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_EQ(s.message(),
            "struct Elixir.MyApp.User at [1].user is not storable; convert it to a map or string "
            "first (or derive JSON.Encoder and convert before stashing)");
}

TEST(EtfDecode, StructFieldOrderDoesNotMatter) {
  // __struct__ after the microsecond tuple, as a hash-ordered map (> 32 keys) may put it.
  T t = Map({{Atom("microsecond"), Micro(5, 6)},
             {Atom("hour"), Int(1)},
             {Atom("minute"), Int(2)},
             {Atom("second"), Int(3)},
             {Atom("calendar"), Iso()},
             {Atom("__struct__"), Atom("Elixir.Time")}});
  EXPECT_EQ(J(t), R"("01:02:03.000005")");
}

TEST(EtfDecode, TuplesOutsideStructsAreRefused) {
  // A map that only looks like a Time (no __struct__) may not hold the tuple.
  Status s = Err(Map({{Atom("microsecond"), Micro(0, 0)}}));
  EXPECT_THAT(s.message(), HasSubstr("cannot store a tuple at microsecond"));
}

// ---- Rejected types -------------------------------------------------------------------------

TEST(EtfDecode, RefusedTypesNameTypeAndPath) {
  struct Case {
    T term;
    std::string expected;
  };
  const Case cases[] = {
      {List({Int(1), Int(2), Map({{Atom("pos"), Tuple({Int(1), Int(2)})}})}),
       "cannot store a tuple at [2].pos: JSON has no tuples; convert it to a list or a map first"},
      {Map({{Atom("owner"), Pid()}}), "cannot store a pid at owner"},
      {Map({{Atom("owner"), OldPid()}}), "cannot store a pid at owner"},
      {List({Port()}), "cannot store a port at [0]"},
      {Map({{Bin("a b"), Ref()}}), "cannot store a reference at [\"a b\"]"},
      {Map({{Atom("f"), Fun()}}), "cannot store a function at f"},
      {Map({{Atom("f"), Export()}}), "cannot store a function at f"},
      {Tuple({}), "cannot store a tuple at the top level"},
      {Map({{Atom("a"), Map({{Atom("b"), List({Nil(), Tuple({})})}})}}),
       "cannot store a tuple at a.b[1]"},
  };
  for (const Case& c : cases) {
    Status s = Err(c.term);
    EXPECT_EQ(s.code(), StatusCode::kBadValue);
    EXPECT_THAT(s.message(), HasSubstr(c.expected));
  }
}

// ---- Framing --------------------------------------------------------------------------------

TEST(EtfFraming, VersionByteRequired) {
  EXPECT_THAT(Err(std::string_view()).message(), HasSubstr("empty"));
  EXPECT_THAT(Err(Int(1).bytes).message(), HasSubstr("version byte 131"));
}

TEST(EtfFraming, TrailingBytesAreRefused) {
  Status s = Err(Etf(Int(1)) + "x");
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), HasSubstr("1 extra bytes after the term, from byte 3"));
}

TEST(EtfFraming, CompressedTermsAreRefused) {
  Status s = Err(FromHex("83500000000E789CCB61606060146100000F5C01F9"));
  EXPECT_EQ(s.code(), StatusCode::kBadValue);
  EXPECT_THAT(s.message(), HasSubstr("compressed"));
}

TEST(EtfFraming, UnknownAndDistributionOnlyTags) {
  EXPECT_THAT(Err(FromHex("83C8")).message(), HasSubstr("unknown tag 200"));
  EXPECT_THAT(Err(FromHex("835201")).message(), HasSubstr("atom cache"));
  EXPECT_THAT(Err(FromHex("8379")).message(), HasSubstr("LOCAL_EXT"));
}

TEST(EtfFraming, LengthsLargerThanTheInputAreRefusedCheaply) {
  // Claims of billions of elements or bytes fail on the count, before any allocation.
  EXPECT_THAT(Err(FromHex("836CFFFFFFFF6A")).message(), HasSubstr("4294967295 elements"));
  EXPECT_THAT(Err(FromHex("8374FFFFFFFF")).message(), HasSubstr("a map of 8589934590 elements"));
  EXPECT_THAT(Err(FromHex("836DFFFFFFFF41")).message(), HasSubstr("ends early"));
  EXPECT_THAT(Err(FromHex("836FFFFFFFFF00")).message(), HasSubstr("ends early"));
  EXPECT_THAT(Err(FromHex("8369FFFFFFFF")).message(), HasSubstr("a tuple of 4294967295"));
}

TEST(EtfFraming, TruncationAtEveryOffsetIsAnErrorNotACrash) {
  const std::string samples[] = {
      FromHex("8374000000066400036269676E0900000000000000000040640005636F756E7461036400056974"
              "656D736C0000000761014640040000000000006400036E696C6400047472756564000566616C73"
              "656400026F6B64000C456C697869722E4D794D6F646A6400036E65676E0D01D20A3F4EEEE073C3"
              "F60FE98E016400066E657374656474000000016D000000016B6A6D000000046E616D656D000000"
              "0368C3A9"),
      Etf(DateTime(2024, 1, 31, 13, 45, 0, 0, 0, "Etc/UTC", "UTC", 0, 0)),
      Etf(List({Pid(), Ref(), Port(), Fun(), Export(), OldPid()})),
      Etf(Map(
          {{Str("ab"), List({Float(1.5)}, Str("cd"))}, {Big(std::string(300, 'x'), true), Nil()}})),
      Etf(Raw(std::string("\x63"
                          "1.50000000000000000000e+00\0\0\0\0\0",
                          32))),
  };
  for (const std::string& full : samples) {
    ASSERT_TRUE(DecodeEtf(full).ok() || DecodeEtf(full).status().code() == StatusCode::kBadValue);
    for (size_t n = 0; n < full.size(); ++n) {
      Result<JsonValue> r = DecodeEtf(std::string_view(full).substr(0, n));
      ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes of " << ToHex(full);
      EXPECT_EQ(r.status().code(), StatusCode::kBadValue) << r.status().ToString();
    }
  }
}

TEST(EtfFraming, OffsetsInMessagesCountTheVersionByte) {
  // The list tail is missing: the input ends at byte 7.
  EXPECT_THAT(Err(FromHex("836C000000016101")).message(), HasSubstr("ends early, at byte 8"));
  EXPECT_THAT(Err(FromHex("836C000000016101C8")).message(), HasSubstr("at byte 8: unknown tag"));
}

// ---- Limits ---------------------------------------------------------------------------------

T NestedLists(int levels, const T& leaf) {
  std::string bytes;
  for (int i = 0; i < levels; ++i) bytes += FromHex("6C00000001");
  bytes += leaf.bytes;
  for (int i = 0; i < levels; ++i) bytes += "\x6A";
  return Raw(bytes);
}

TEST(EtfLimits, DepthLimitCountsListsAndMaps) {
  EtfLimits limits;
  limits.max_depth = 4;
  EXPECT_EQ(J(NestedLists(4, Int(1)), limits), "[[[[1]]]]");
  Status s = Err(NestedLists(5, Int(1)), limits);
  EXPECT_EQ(s.code(), StatusCode::kLimit);
  EXPECT_THAT(s.message(), HasSubstr("deeper than 4 levels at [0][0][0][0]"));
  EXPECT_EQ(Err(NestedLists(4, Nil()), limits).code(), StatusCode::kLimit);  // [] counts
  EXPECT_EQ(Err(NestedLists(3, Map({{Atom("a"), Map({})}})), limits).code(), StatusCode::kLimit);
  // A struct at the deepest level is a string, not a container, so it fits.
  EXPECT_EQ(J(NestedLists(4, Time(1, 2, 3, 4, 6)), limits), R"([[[["01:02:03.000004"]]]])");
}

TEST(EtfLimits, DefaultDepthAndHugeNesting) {
  EXPECT_TRUE(DecodeEtf(Etf(NestedLists(256, Int(1)))).ok());
  EXPECT_EQ(Err(NestedLists(257, Int(1))).code(), StatusCode::kLimit);
  // Far deeper than the limit: refused by the framing pass without deep recursion.
  EXPECT_EQ(Err(NestedLists(100000, Int(1))).code(), StatusCode::kLimit);
  std::string tuples = Etf(Raw(""));
  for (int i = 0; i < 100000; ++i) tuples += "\x68\x01";
  tuples += "\x61\x01";
  EXPECT_EQ(Err(tuples).code(), StatusCode::kLimit);
}

TEST(EtfLimits, LongFlatListsDoNotNest) {
  // A list chained through 10,000 one-element tails is one flat list.
  std::string bytes = Etf(Raw(""));
  for (int i = 0; i < 10000; ++i) bytes += FromHex("6C000000016101");
  bytes += "\x6A";
  Result<JsonValue> r = DecodeEtf(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items.size(), 10000u);
}

}  // namespace
}  // namespace ds::codec
