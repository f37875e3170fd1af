// Tests of the stored envelope (SessionState::Encode / Decode, docs/STORAGE.md): the exact
// bytes, the round trip, the format-version policy (format 2 written, format 1 still read) and
// the errors for damaged objects.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "mutations.h"
#include "session/session_state.h"

namespace ds::session {
namespace {

using test::Drop;
using test::Entries;
using test::Reset;
using test::Stash;

Mutation Touch(Micros at) {
  Mutation m;
  m.kind = Mutation::Kind::kTouch;
  m.at = at;
  return m;
}

// Expects Decode(bytes) to fail with Corruption and a message containing `part`.
void ExpectCorrupt(std::string_view bytes, std::string_view part) {
  Result<SessionState> r = SessionState::Decode(bytes);
  ASSERT_FALSE(r.ok()) << bytes;
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(part), std::string::npos)
      << "'" << part << "' not in: " << r.status().message();
}

// A valid format-2 envelope with one view and one key, with the top-level members between
// "format" and "reset", the slice's members after "data", or the entry's members replaced.
std::string Envelope(std::string_view top = R"("last_seen_at":5,)",
                     std::string_view slice = R"("vsn":1,"vsn_at":2)",
                     std::string_view entry = R"("t":3,"v":1)") {
  std::string out = R"({"dropped":{},"format":2,)";
  out += top;
  out += R"("reset":{},"views":{"V":{"data":{"k":{)";
  out += entry;
  out += "}},";
  out += slice;
  out += R"(}},"writer":"w"})";
  return out;
}

TEST(EnvelopeTest, TheValidTestEnvelopeDecodes) {
  Result<SessionState> r = SessionState::Decode(Envelope());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Encode("w"), Envelope());
}

// =============================================================================================
// Encode

TEST(EnvelopeTest, AnEmptySession) {
  SessionState s;
  EXPECT_EQ(s.Encode("d1"),
            R"({"dropped":{},"format":2,"last_seen_at":0,"reset":{},"views":{},"writer":"d1"})");
}

TEST(EnvelopeTest, ExactBytesAreCanonical) {
  SessionState s;
  s.Apply(Stash("b.Live", 2, {{"z", "[1,{\"a\":null}]"}, {"a", "\"x\""}}, 1700000000000000));
  s.Apply(Stash("a.Live", 1, {{"n", "1.5e-7"}}, 1700000000000001));
  s.Apply(Touch(1700000000000009));
  EXPECT_EQ(s.Encode("host-1/42"),
            R"({"dropped":{},"format":2,"last_seen_at":1700000000000009,"reset":{},"views":{)"
            R"("a.Live":{"data":{"n":{"t":1700000000000001,"v":1.5e-7}},"vsn":1,)"
            R"("vsn_at":1700000000000001},)"
            R"("b.Live":{"data":{"a":{"t":1700000000000000,"v":"x"},)"
            R"("z":{"t":1700000000000000,"v":[1,{"a":null}]}},"vsn":2,)"
            R"("vsn_at":1700000000000000}},"writer":"host-1/42"})");
}

TEST(EnvelopeTest, NamesAreSortedByBytes) {
  SessionState s;
  // Byte order: "Z" (0x5a) < "a" (0x61) < "\u00e9" (0xc3 0xa9), whatever the locale.
  s.Apply(Stash("V", 1, {{"\u00e9", "1"}, {"a", "2"}, {"Z", "3"}}, 1));
  EXPECT_EQ(s.Encode("w"),
            "{\"dropped\":{},\"format\":2,\"last_seen_at\":1,\"reset\":{},\"views\":{\"V\":{"
            "\"data\":{"
            "\"Z\":{\"t\":1,\"v\":3},\"a\":{\"t\":1,\"v\":2},\"\u00e9\":{\"t\":1,\"v\":1}},"
            "\"vsn\":1,\"vsn_at\":1}},\"writer\":\"w\"}");
}

TEST(EnvelopeTest, DeletionRecordsAreWrittenSortedAfterTheViewsTheyBelongTo) {
  SessionState s;
  s.Apply(Stash("b.Live", 1, {{"y", "1"}, {"x", "2"}, {"z", "3"}}, 10));
  s.Apply(Stash("a.Live", 1, {{"k", "1"}}, 11));
  s.Apply(Drop("b.Live", {"z", "x"}, 12));  // b.Live keeps y
  s.Apply(Reset("a.Live", 13));             // a.Live is gone, its reset stays
  EXPECT_EQ(s.Encode("w"),
            R"({"dropped":{"b.Live":{"x":12,"z":12}},"format":2,"last_seen_at":13,)"
            R"("reset":{"a.Live":13},"views":{"b.Live":{"data":{"y":{"t":10,"v":1}},"vsn":1,)"
            R"("vsn_at":10}},"writer":"w"})");
  Result<SessionState> r = SessionState::Decode(s.Encode("w"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, s);
}

TEST(EnvelopeTest, NamesAndWriterAreEscaped) {
  SessionState s;
  s.Apply(Stash("q\"v", 1, {{"line\nbreak\\", "0"}}, 1));
  std::string bytes = s.Encode("w\"1");
  EXPECT_NE(bytes.find(R"("q\"v":)"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find(R"("line\nbreak\\":)"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find(R"("writer":"w\"1")"), std::string::npos) << bytes;
  std::string writer;
  Result<SessionState> r = SessionState::Decode(bytes, &writer);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, s);
  EXPECT_EQ(writer, "w\"1");
}

// Encode sizes its buffer once for the worst case: names that are nothing but control bytes
// (six bytes each when escaped) and integers at their longest, everywhere a name or an integer
// goes, must fit (the ASan build checks every byte) and come back unchanged. Small sessions are
// written in a buffer on the stack, large ones on the heap: 3 views take the first path, 40 the
// second.
TEST(EnvelopeTest, WorstCaseNamesAndIntegersFit) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string controls = "\x01\x02\x1f\x01\x02\x1f\x01\x02\x1f\x01";
  for (int views : {3, 40}) {
    SessionState s;
    for (int i = 0; i < views; ++i) {
      const std::string view = controls + std::to_string(i);
      s.Apply(
          Stash(view, kMin, {{controls + "a", "1"}, {controls + "b", "\"\\u0001\""}}, kMin + i));
      s.Apply(Stash(view + "x", kMin, {{controls + "c", "[]"}}, kMin + 100 + i));
      s.Apply(Drop(view, {controls + "a"}, kMin + 200 + i));
      s.Apply(Reset(view + "x", kMin + 300 + i));
    }
    const std::string bytes = s.Encode(controls);
    std::string writer;
    Result<SessionState> r = SessionState::Decode(bytes, &writer);
    ASSERT_TRUE(r.ok()) << views << " views: " << r.status().ToString();
    EXPECT_EQ(*r, s) << views << " views";
    EXPECT_EQ(writer, controls);
  }
}

TEST(EnvelopeTest, ExtremeTimesAndVersionsRoundTrip) {
  SessionState s;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  s.Apply(Stash("V", kMin, {{"k", "1"}}, -5));
  s.Apply(Stash("W", kMax, {{"k", "1"}}, kMax));
  std::string bytes = s.Encode("w");
  EXPECT_NE(bytes.find("\"vsn\":-9223372036854775808"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\"t\":-5"), std::string::npos) << bytes;
  Result<SessionState> r = SessionState::Decode(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, s);
}

// Integers are written by a routine of the envelope's own; around every digit count, every
// power of two (its digit count comes from the bit width) and at the ends of the range it must
// write what std::to_string writes.
TEST(EnvelopeTest, IntegersAreWrittenAsDecimalText) {
  std::vector<int64_t> values = {0, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()};
  for (int64_t p = 1;; p *= 10) {
    for (int64_t v : {p - 1, p, p + 1}) {
      values.push_back(v);
      values.push_back(-v);
    }
    if (p > std::numeric_limits<int64_t>::max() / 10) break;
  }
  for (int shift = 0; shift < 63; ++shift) {
    const int64_t p = int64_t{1} << shift;
    for (int64_t v : {p - 1, p, p + 1}) {
      values.push_back(v);
      values.push_back(-v);
    }
  }
  // And random values of every length, whose digits exercise each lane of the eight-digit
  // blocks.
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 2000; ++i) {
    const auto v = static_cast<int64_t>(rng() >> (rng() % 64));
    values.push_back(i % 2 == 0 ? v : -v);
  }
  for (int64_t v : values) {
    SessionState s;
    s.Apply(Stash("V", v, {{"k", "1"}}, 1));
    EXPECT_NE(s.Encode("w").find("\"vsn\":" + std::to_string(v) + ","), std::string::npos) << v;
  }
}

// The digits of a time that was written shortly before are copied rather than computed again;
// times of different lengths and signs, some a digit apart, repeated in every order, must still
// come back exactly.
TEST(EnvelopeTest, RepeatedTimesOfEveryLengthRoundTrip) {
  const std::vector<Micros> times = {
      1795875597132690, 1795875597132691, 7, 8, -42, 1000, std::numeric_limits<int64_t>::min()};
  std::mt19937 rng(4242);
  auto pick_time = [&] { return times[rng() % times.size()]; };
  for (int round = 0; round < 300; ++round) {
    SessionState s;
    for (int i = static_cast<int>(rng() % 8); i >= 0; --i) {
      const std::string view = "V" + std::to_string(rng() % 3);
      switch (rng() % 4) {
        case 0:
          s.Apply(Drop(view, {"k" + std::to_string(rng() % 4)}, pick_time()));
          break;
        case 1:
          s.Apply(Reset(view, pick_time()));
          break;
        default:
          s.Apply(Stash(view, 1, {{"k" + std::to_string(rng() % 4), "1"}}, pick_time()));
      }
    }
    s.Apply(Touch(pick_time()));
    const std::string bytes = s.Encode("w");
    Result<SessionState> r = SessionState::Decode(bytes);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << bytes;
    ASSERT_EQ(*r, s) << bytes;
  }
}

// =============================================================================================
// Round trip

TEST(EnvelopeTest, DecodeOfEncodeIsTheSameStateForRandomStates) {
  std::mt19937 rng(777);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> values = {"null",
                                           "true",
                                           "false",
                                           "0",
                                           "-12",
                                           "123456789012345678901234567890",
                                           "1.0",
                                           "1.0e20",
                                           "\"\"",
                                           "\"a\\\"b\\\\c\\n\\u0000\"",
                                           "\"\u00fc\u20ac\xf0\x9f\x98\x80\"",
                                           "[]",
                                           "{}",
                                           "[1,[2,[3]]]",
                                           "{\"a\":{\"b\":[true,null]},\"z\":\"\"}"};
  for (int round = 0; round < 200; round++) {
    SessionState s;
    int n = pick(20);
    for (int i = 0; i < n; i++) {
      Entries e;
      for (int k = pick(4); k > 0; k--) {
        e.emplace_back("key" + std::to_string(pick(6)), values[pick(values.size())]);
      }
      std::string view = "Elixir.V" + std::to_string(pick(4));
      switch (pick(6)) {
        case 0:
          s.Apply(Drop(view, {"key" + std::to_string(pick(6)), "key" + std::to_string(pick(6))},
                       pick(1000) - 100));
          break;
        case 1:
          s.Apply(Reset(view, pick(1000) - 100));
          break;
        default:
          s.Apply(Stash(view, pick(3), e, pick(1000) - 100));
      }
    }
    std::string writer = "w" + std::to_string(round);
    std::string bytes = s.Encode(writer);
    std::string decoded_writer;
    Result<SessionState> r = SessionState::Decode(bytes, &decoded_writer);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << bytes;
    ASSERT_EQ(*r, s) << bytes;
    ASSERT_EQ(decoded_writer, writer);
    ASSERT_EQ(r->Encode(writer), bytes);
  }
}

TEST(EnvelopeTest, DecodeReturnsCanonicalValuesFromHandEditedObjects) {
  std::string edited =
      "{ \"writer\" : \"w\",\n \"views\": {\"V\": {\"vsn_at\": 2, \"vsn\": 1, \"data\": "
      "{\"k\": {\"v\": { \"b\" : [ 1 , 2.50 ], \"a\" : \"\\u00e9\" }, \"t\": 3}}}},\n"
      " \"last_seen_at\": 5, \"format\": 1 }";
  Result<SessionState> r = SessionState::Decode(edited);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const StoredValue& v = r->views().at("V").data.at("k");
  EXPECT_EQ(v.json, "{\"a\":\"\u00e9\",\"b\":[1,2.5]}");
  EXPECT_EQ(v.written_at, 3);
  EXPECT_EQ(r->last_seen_at(), 5);
  EXPECT_EQ(r->Encode("w"), Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":2)",
                                     "\"t\":3,\"v\":{\"a\":\"\u00e9\",\"b\":[1,2.5]}"));
}

TEST(EnvelopeTest, DeeplyNestedStoredValuesDecode) {
  // A value at the codec's default depth limit, plus the envelope's own nesting.
  std::string deep(250, '[');
  deep += std::string(250, ']');
  SessionState s;
  s.Apply(Stash("V", 1, {{"k", deep}}, 1));
  Result<SessionState> r = SessionState::Decode(s.Encode("w"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, s);
}

// =============================================================================================
// Format versions

TEST(EnvelopeTest, ANewerFormatAsksForAnUpgrade) {
  Result<SessionState> r = SessionState::Decode(R"({"format":3,"something":"else","writer":"w"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(r.status().message(),
            "stored session uses format 3, newer than this daemon understands; upgrade "
            "durable-stashd");
}

// A session written by a daemon of the first release, byte for byte: it must stay readable, and
// the next write turns it into format 2 with no deletion records.
TEST(EnvelopeTest, AFormat1ObjectIsReadAndRewrittenAsFormat2) {
  const std::string format1 =
      R"({"format":1,"last_seen_at":1764280000000000,"views":{"Elixir.MyAppWeb.FormLive":)"
      R"({"data":{"draft":{"t":1764279990000000,"v":{"body":"Dear Ana,","to":)"
      R"(["ana@example.com"]}},"theme":{"t":1764270000000000,"v":"dark"}},"vsn":2,)"
      R"("vsn_at":1764270000000000}},"writer":"web-3:41873"})";
  std::string writer;
  Result<SessionState> r = SessionState::Decode(format1, &writer);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(writer, "web-3:41873");
  EXPECT_EQ(r->last_seen_at(), 1764280000000000);
  EXPECT_FALSE(r->has_deletion_records());
  const Slice& slice = r->views().at("Elixir.MyAppWeb.FormLive");
  EXPECT_EQ(slice.vsn, 2);
  EXPECT_EQ(slice.vsn_at, 1764270000000000);
  EXPECT_EQ(slice.data.at("draft"),
            (StoredValue{R"({"body":"Dear Ana,","to":["ana@example.com"]})", 1764279990000000}));
  EXPECT_EQ(slice.data.at("theme"), (StoredValue{"\"dark\"", 1764270000000000}));
  EXPECT_EQ(r->Encode("web-3:41873"),
            R"({"dropped":{},"format":2,"last_seen_at":1764280000000000,"reset":{},"views":)"
            R"({"Elixir.MyAppWeb.FormLive":{"data":{"draft":{"t":1764279990000000,"v":)"
            R"({"body":"Dear Ana,","to":["ana@example.com"]}},"theme":{"t":1764270000000000,)"
            R"("v":"dark"}},"vsn":2,"vsn_at":1764270000000000}},"writer":"web-3:41873"})");
}

TEST(EnvelopeTest, EachFormatHasExactlyItsOwnMembers) {
  // Format 1 knows no deletion records; format 2 needs both members.
  ExpectCorrupt(R"({"dropped":{},"format":1,"last_seen_at":0,"views":{},"writer":"w"})",
                "unexpected member \"dropped\" (format 1 has no such member)");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"reset":{},"views":{},"writer":"w"})",
                "unexpected member \"reset\" (format 1 has no such member)");
  ExpectCorrupt(R"({"format":2,"last_seen_at":0,"reset":{},"views":{},"writer":"w"})",
                "has no \"dropped\"");
  ExpectCorrupt(R"({"dropped":{},"format":2,"last_seen_at":0,"views":{},"writer":"w"})",
                "has no \"reset\"");
  ExpectCorrupt(R"({"format":2,"last_seen_at":0,"views":{},"writer":"w"})", "has no \"dropped\"");
}

TEST(EnvelopeTest, DamagedDeletionRecordsAreCorrupt) {
  auto with = [](std::string_view dropped, std::string_view reset) {
    return R"({"dropped":)" + std::string(dropped) + R"(,"format":2,"last_seen_at":0,"reset":)" +
           std::string(reset) + R"(,"views":{},"writer":"w"})";
  };
  ASSERT_TRUE(SessionState::Decode(with(R"({"V":{"k":1}})", R"({"W":2})")).ok());
  ExpectCorrupt(with("[]", "{}"), "\"dropped\" is not an object");
  ExpectCorrupt(with("{}", "[]"), "\"reset\" is not an object");
  ExpectCorrupt(with(R"({"V":[]})", "{}"), "view \"V\" of \"dropped\" is not an object");
  ExpectCorrupt(with(R"({"V":{"k":"1"}})", "{}"),
                "\"k\" of view \"V\" of \"dropped\" is not a 64-bit integer");
  ExpectCorrupt(with("{}", R"({"W":1.5})"), "\"W\" of \"reset\" is not a 64-bit integer");
  ExpectCorrupt(with(R"({"":{"k":1}})", "{}"), "empty name");
  ExpectCorrupt(with(R"({"V":{"":1}})", "{}"), "empty name");
  ExpectCorrupt(with("{}", R"({"":1})"), "empty name");
}

TEST(EnvelopeTest, AnEmptyMapOfDroppedKeysRecordsNothing) {
  Result<SessionState> r = SessionState::Decode(
      R"({"dropped":{"V":{}},"format":2,"last_seen_at":0,"reset":{},"views":{},"writer":"w"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_deletion_records());
}

TEST(EnvelopeTest, AMissingOrBadFormatIsCorrupt) {
  ExpectCorrupt(R"({"last_seen_at":0,"views":{},"writer":"w"})", "no \"format\"");
  ExpectCorrupt(R"({"format":"1","last_seen_at":0,"views":{},"writer":"w"})",
                "\"format\" is not an integer");
  ExpectCorrupt(R"({"format":1.0,"last_seen_at":0,"views":{},"writer":"w"})",
                "\"format\" is not an integer");
  ExpectCorrupt(R"({"format":0,"last_seen_at":0,"views":{},"writer":"w"})", "unknown format 0");
  ExpectCorrupt(R"({"format":-1,"last_seen_at":0,"views":{},"writer":"w"})", "unknown format -1");
}

// =============================================================================================
// Damaged objects

TEST(EnvelopeTest, NotJsonOrNotAnObjectIsCorrupt) {
  ExpectCorrupt("", "not valid JSON");
  ExpectCorrupt("{\"format\":1", "not valid JSON");
  ExpectCorrupt("{\"format\":1,\"format\":1}", "not valid JSON");  // duplicate member
  ExpectCorrupt("[1]", "not a JSON object");
}

TEST(EnvelopeTest, UnexpectedMembersAreCorrupt) {
  ExpectCorrupt(Envelope(R"("last_seen_at":5,"extra":1,)"), "unexpected member \"extra\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("more":1,"vsn":1,"vsn_at":2)"),
                "view \"V\" has an unexpected member \"more\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":2)", R"("t":3,"v":1,"x":0)"),
                "key \"k\" of view \"V\" has an unexpected member \"x\"");
}

TEST(EnvelopeTest, MissingMembersAreCorrupt) {
  ExpectCorrupt(Envelope(""), "has no \"last_seen_at\"");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{}})", "has no \"writer\"");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"writer":"w"})", "has no \"views\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn_at":2)"), "view \"V\" has no \"vsn\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":2)"), "view \"V\" has no \"vsn_at\"");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{"V":{"vsn":1,"vsn_at":1}},"writer":"w"})",
                "view \"V\" has no \"data\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":2)", R"("v":1)"),
                "key \"k\" of view \"V\" has no \"t\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":2)", R"("t":1)"),
                "key \"k\" of view \"V\" has no \"v\"");
}

TEST(EnvelopeTest, MembersOfTheWrongTypeAreCorrupt) {
  ExpectCorrupt(Envelope(R"("last_seen_at":"5",)"), "\"last_seen_at\" of the envelope");
  ExpectCorrupt(Envelope(R"("last_seen_at":5.5,)"), "\"last_seen_at\" of the envelope");
  ExpectCorrupt(Envelope(R"("last_seen_at":9223372036854775808,)"), "64-bit integer");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":null,"vsn_at":2)"),
                "\"vsn\" of view \"V\" is not a 64-bit integer");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":[])"),
                "\"vsn_at\" of view \"V\"");
  ExpectCorrupt(Envelope(R"("last_seen_at":5,)", R"("vsn":1,"vsn_at":2)", R"("t":1e3,"v":1)"),
                "\"t\" of key \"k\" of view \"V\"");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":[],"writer":"w"})",
                "\"views\" is not an object");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{"V":1},"writer":"w"})",
                "view \"V\" is not an object");
  ExpectCorrupt(
      R"({"format":1,"last_seen_at":0,"views":{"V":{"data":[],"vsn":1,"vsn_at":1}},"writer":"w"})",
      "\"data\" of view \"V\" is not an object");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{"V":{"data":{"k":2},"vsn":1,"vsn_at":1}},)"
                R"("writer":"w"})",
                "key \"k\" of view \"V\" is not an object");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{},"writer":7})",
                "\"writer\" is not a string");
}

TEST(EnvelopeTest, EmptyNamesAreCorrupt) {
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{"":{"data":{},"vsn":1,"vsn_at":1}},)"
                R"("writer":"w"})",
                "empty name");
  ExpectCorrupt(R"({"format":1,"last_seen_at":0,"views":{"V":{"data":{"":{"t":1,"v":1}},"vsn":1,)"
                R"("vsn_at":1}},"writer":"w"})",
                "empty name");
}

TEST(EnvelopeTest, TheWriterIdComesOutOnlyOnSuccess) {
  std::string writer = "unchanged";
  EXPECT_FALSE(SessionState::Decode("[]", &writer).ok());
  EXPECT_EQ(writer, "unchanged");
  ASSERT_TRUE(SessionState::Decode(Envelope(), &writer).ok());
  EXPECT_EQ(writer, "w");
}

}  // namespace
}  // namespace ds::session
