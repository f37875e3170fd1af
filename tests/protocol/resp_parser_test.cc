// Tests for RequestParser: every request form, every chunking of every request, every error,
// every limit at and one past its boundary, and linearity measured by bytes examined.
#include "protocol/resp_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::protocol {
namespace {

using State = RequestParser::State;
using Request = std::vector<std::string>;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// What a caller saw after feeding a whole input.
struct Outcome {
  std::vector<Request> requests;
  std::vector<size_t> consumed;  // consumed() of each request
  State last = State::kIncomplete;
  std::string error;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{requests=[";
  for (const Request& r : o.requests) {
    os << "[";
    for (const std::string& a : r) os << '"' << ::testing::PrintToString(a) << "\" ";
    os << "] ";
  }
  os << "] last=" << static_cast<int>(o.last) << " error=\"" << o.error << "\"}";
  return os;
}

// Acts as a connection: appends each chunk to its pending bytes, parses as many requests as it
// can, drops consumed bytes. Before every Parse call the pending bytes are copied to a fresh
// allocation, so the buffer moves between calls (and the old one is freed: a parser that kept
// pointers would read freed memory, which the sanitizer build reports). `cuts` are the offsets
// at which chunks end, ascending. With `look_ahead`, it also parses ahead after every request
// (RequestParser::ParseAhead, up to that many), and checks that the requests then returned
// begin with the heads the look-ahead gave, and that nothing is parsed ahead while some are
// still to come.
Outcome Feed(std::string_view input, const std::vector<size_t>& cuts, ParserLimits limits = {},
             size_t look_ahead = 0) {
  RequestParser parser(limits);
  Outcome out;
  std::deque<std::pair<std::string, std::string>> heads;  // parsed ahead, not yet returned
  std::string pending;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    pending.append(input.substr(from, end - from));
    from = end;
    while (true) {
      const std::vector<char> moved(pending.begin(), pending.end());
      const std::string_view buffer(moved.data(), moved.size());
      out.last = parser.Parse(buffer);
      if (out.last == State::kError) {
        out.error = parser.error();
        EXPECT_EQ(parser.Parse(buffer), State::kError) << "the error state must stick";
        return out;
      }
      if (out.last == State::kIncomplete) {
        EXPECT_THAT(parser.args(), IsEmpty());
        break;
      }
      EXPECT_GT(parser.consumed(), 0U);
      EXPECT_LE(parser.consumed(), buffer.size());
      EXPECT_FALSE(parser.args().empty()) << "a request always has a command name";
      Request r;
      for (std::string_view a : parser.args()) r.emplace_back(a);
      if (!heads.empty()) {
        EXPECT_EQ(r[0], heads.front().first);
        EXPECT_EQ(r.size() >= 2 ? r[1] : "", heads.front().second);
        heads.pop_front();
      }
      if (look_ahead > 0) {
        const size_t ahead = parser.ParseAhead(buffer.substr(parser.consumed()), look_ahead);
        if (!heads.empty()) {
          EXPECT_EQ(ahead, 0u) << "parsed ahead with requests still to come";
        }
        EXPECT_LE(ahead, look_ahead);
        for (size_t i = 0; i < ahead; ++i) {
          const RequestHead head = parser.ahead(i);
          heads.emplace_back(head.name, head.first);
        }
      }
      out.requests.push_back(std::move(r));
      out.consumed.push_back(parser.consumed());
      pending.erase(0, parser.consumed());
    }
  }
  return out;
}

Outcome FeedWhole(std::string_view input, ParserLimits limits = {}) {
  return Feed(input, {}, limits);
}

Outcome FeedBytewise(std::string_view input, ParserLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return Feed(input, cuts, limits);
}

// Checks that splitting `input` at every byte boundary, at every pair of boundaries (for short
// inputs) and into 1-byte chunks gives exactly the outcome of feeding it whole; and that
// parsing ahead (one request at a time, or many) changes nothing either.
void ExpectChunkingIrrelevant(std::string_view input, ParserLimits limits = {}) {
  SCOPED_TRACE(::testing::PrintToString(std::string(input)));
  const Outcome whole = FeedWhole(input, limits);
  for (size_t look_ahead : {size_t{0}, size_t{1}, size_t{32}}) {
    SCOPED_TRACE("look-ahead " + std::to_string(look_ahead));
    ASSERT_EQ(Feed(input, {}, limits, look_ahead), whole);
    for (size_t i = 0; i <= input.size(); ++i) {
      ASSERT_EQ(Feed(input, {i}, limits, look_ahead), whole) << "split at " << i;
    }
    if (input.size() <= 80) {
      for (size_t i = 1; i < input.size(); ++i) {
        for (size_t j = i + 1; j < input.size(); ++j) {
          ASSERT_EQ(Feed(input, {i, j}, limits, look_ahead), whole)
              << "split at " << i << " and " << j;
        }
      }
    }
  }
  ASSERT_EQ(FeedBytewise(input, limits), whole) << "1-byte chunks";
}

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::string Multibulk(const Request& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += Bulk(a);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Valid requests

struct ValidCase {
  std::string name;
  std::string input;
  std::vector<Request> expected;
};

std::vector<ValidCase> ValidCases() {
  using namespace std::string_literals;
  return {
      {"MultibulkPing", "*1\r\n$4\r\nPING\r\n", {{"PING"}}},
      {"MultibulkSet",
       "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
       {{"SET", "key", "value"}}},
      {"BinarySafeBulk",
       "*2\r\n$4\r\nECHO\r\n$7\r\na\r\n\0b\n\r\r\n"s,
       {{"ECHO", "a\r\n\0b\n\r"s}}},
      {"ZeroLengthBulk", "*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$0\r\n\r\n", {{"ECHO", "", ""}}},
      {"BulkOfStars", "*1\r\n$3\r\n***\r\n", {{"***"}}},
      {"InlineCrlf", "PING\r\n", {{"PING"}}},
      {"InlineBareLf", "PING\n", {{"PING"}}},
      {"InlineWords", "SET key value\r\n", {{"SET", "key", "value"}}},
      {"InlineBlanks", " \t SET\t\tkey   value \t\r\n", {{"SET", "key", "value"}}},
      {"InlineVerticalTabIsBlankBetweenWords", "\vA\fB\r\n", {{"A\fB"}}},
      {"InlineStrayCrSeparates", "A\rB\r\n", {{"A", "B"}}},
      {"InlineNulIsOrdinary", "A\0B C\r\n"s, {{"A\0B"s, "C"}}},
      {"InlineDoubleQuotes", "SET \"a b\" \"\"\r\n", {{"SET", "a b", ""}}},
      {"InlineSingleQuotes", "SET 'a b' ''\r\n", {{"SET", "a b", ""}}},
      {"InlineDoubleQuoteEscapes",
       R"(ECHO "q\"b\\n\nr\rt\tb\ba\az\z")"
       "\r\n",
       {{"ECHO", "q\"b\\n\nr\rt\tb\ba\azz"}}},
      {"InlineHexEscapes",
       R"(ECHO "\x41\x6a\x6A\x00\xff")"
       "\r\n",
       {{"ECHO", "Ajj\0\xff"s}}},
      {"InlineBadHexEscapeIsLiteral",
       R"(ECHO "\xZZ" "\x4")"
       "\r\n",
       {{"ECHO", "xZZ", "x4"}}},
      {"InlineSingleQuoteEscapes",
       R"(ECHO 'it\'s' 'a\nb' 'c"d')"
       "\r\n",
       {{"ECHO", "it's", "a\\nb", "c\"d"}}},
      {"InlineQuoteInsideWord", "ECHO foo\"bar baz\" x'y'\r\n", {{"ECHO", "foobar baz", "xy"}}},
      {"InlineCrlfInsideQuotes", "ECHO \"a\rb\"\n", {{"ECHO", "a\rb"}}},
      {"BlankLinesSkipped", "\r\n\n  \r\nPING\r\n", {{"PING"}}},
      {"EmptyArraysSkipped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", {{"PING"}}},
      {"Pipelined",
       "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n",
       {{"PING"}, {"GET", "k"}, {"PING"}}},
      {"InlineThenMultibulk",
       "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO x\n",
       {{"PING"}, {"ECHO", "hi"}, {"ECHO", "x"}}},
      {"IncompleteTailIsHeld", "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nh", {{"PING"}}},
  };
}

class ValidRequestTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidRequestTest, ParsesWhole) {
  const Outcome out = FeedWhole(GetParam().input);
  EXPECT_EQ(out.requests, GetParam().expected);
  EXPECT_EQ(out.last, State::kIncomplete);
  EXPECT_EQ(out.error, "");
}

TEST_P(ValidRequestTest, ChunkingIsIrrelevant) { ExpectChunkingIrrelevant(GetParam().input); }

INSTANTIATE_TEST_SUITE_P(Forms, ValidRequestTest, ::testing::ValuesIn(ValidCases()),
                         [](const auto& info) { return info.param.name; });

TEST(RequestParserTest, ConsumedCoversExactlyOneRequest) {
  const std::string set = Multibulk({"SET", "k", "v"});
  const Outcome out = FeedWhole(set + "PING\r\n" + set);
  EXPECT_THAT(out.consumed, ElementsAre(set.size(), 6U, set.size()));
}

TEST(RequestParserTest, ConsumedIncludesSkippedEmptyRequests) {
  const Outcome out = FeedWhole("\r\n*0\r\n*-1\r\nPING\r\n*0\r\n");
  EXPECT_THAT(out.consumed, ElementsAre(2U + 4U + 5U + 6U));
  EXPECT_EQ(out.last, State::kIncomplete);
}

TEST(RequestParserTest, ArgsAreViewsIntoTheBufferForMultibulk) {
  const std::string input = Multibulk({"SET", "key", "value"});
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), State::kComplete);
  ASSERT_EQ(parser.args().size(), 3U);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 17);
  EXPECT_EQ(parser.args()[2].data(), input.data() + 26);
}

TEST(RequestParserTest, PlainInlineWordsAreViewsIntoTheBuffer) {
  const std::string input = "GET key\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), State::kComplete);
  ASSERT_EQ(parser.args().size(), 2U);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 4);
}

// ParseAhead takes the whole requests of the common form that follow, up to its maximum, and
// stops at the first other one, which Parse then takes as it would have anyway.
TEST(RequestParserTest, ParseAheadTakesWholeCommonRequestsUpToTheFirstOther) {
  const std::string stash = Multibulk({"DS.STASH", "s1", "view", "1", "k", "1"});
  const std::string get = Multibulk({"GET", "s2"});
  const std::string ping = Multibulk({"PING"});
  const std::string input = ping + stash + get + ping + "ECHO x\r\n" + get;
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), State::kComplete);
  const std::string_view following = std::string_view(input).substr(parser.consumed());
  ASSERT_EQ(parser.ParseAhead(following, 2), 2u) << "at most the maximum";
  EXPECT_EQ(parser.ahead(0).name, "DS.STASH");
  EXPECT_EQ(parser.ahead(0).first, "s1");
  EXPECT_EQ(parser.ahead(0).first.data(), following.data() + 22) << "a view into the input";
  EXPECT_EQ(parser.ahead(1).name, "GET");
  EXPECT_EQ(parser.ahead(1).first, "s2");

  std::string_view rest = following;
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("DS.STASH", "s1", "view", "1", "k", "1"));
  EXPECT_EQ(parser.consumed(), stash.size());
  rest.remove_prefix(parser.consumed());
  EXPECT_EQ(parser.ParseAhead(rest.substr(get.size()), 8), 0u)
      << "nothing more while a request parsed ahead is still to be returned";
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("GET", "s2"));
  rest.remove_prefix(parser.consumed());
  // The PING was not parsed ahead (past the maximum); after it, the look-ahead stops at the
  // inline ECHO, which Parse takes.
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
  rest.remove_prefix(parser.consumed());
  EXPECT_EQ(parser.ParseAhead(rest, 8), 0u);
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("ECHO", "x"));
  rest.remove_prefix(parser.consumed());
  ASSERT_EQ(parser.ParseAhead(rest.substr(0, get.size() - 1), 8), 0u) << "not whole";
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("GET", "s2"));
  EXPECT_EQ(parser.consumed(), rest.size());
}

// What a look-ahead keeps stays small: a request of many arguments ends it.
TEST(RequestParserTest, ParseAheadStopsAtARequestOfManyArguments) {
  const std::string many = Multibulk(Request(65, "a"));
  const std::string input = Multibulk({"PING"}) + Multibulk(Request(64, "a")) + many;
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input), State::kComplete);
  std::string_view rest = std::string_view(input).substr(parser.consumed());
  EXPECT_EQ(parser.ParseAhead(rest, 8), 1u);
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_EQ(parser.args().size(), 64u);
  rest.remove_prefix(parser.consumed());
  ASSERT_EQ(parser.Parse(rest), State::kComplete);
  EXPECT_EQ(parser.args().size(), 65u);
}

// Parsing ahead looks at each byte once: the same bytes_examined() and whole_requests() as
// parsing one request at a time.
TEST(LinearityTest, ParseAheadExaminesNothingTwice) {
  std::string input;
  for (int i = 0; i < 20; ++i) input += Multibulk({"SET", "key" + std::to_string(i), "value"});
  auto parse_all = [&](bool look_ahead) {
    RequestParser parser;
    std::string_view rest = input;
    while (parser.Parse(rest) == State::kComplete) {
      rest.remove_prefix(parser.consumed());
      if (look_ahead) parser.ParseAhead(rest, 8);
    }
    EXPECT_TRUE(rest.empty());
    return std::make_pair(parser.bytes_examined(), parser.whole_requests());
  };
  EXPECT_EQ(parse_all(true), parse_all(false));
  EXPECT_EQ(parse_all(true).second, 20u);
}

TEST(RequestParserTest, EmptyBufferIsIncomplete) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse(""), State::kIncomplete);
  EXPECT_EQ(parser.consumed(), 0U);
}

TEST(RequestParserTest, ParserIsReusableAfterComplete) {
  RequestParser parser;
  std::string buffer = "*1\r\n$4\r\nPING\r\nECHO x\r\n";
  ASSERT_EQ(parser.Parse(buffer), State::kComplete);
  buffer.erase(0, parser.consumed());
  ASSERT_EQ(parser.Parse(buffer), State::kComplete);
  EXPECT_THAT(parser.args(), ElementsAre("ECHO", "x"));
  buffer.erase(0, parser.consumed());
  EXPECT_EQ(parser.Parse(buffer), State::kIncomplete);
}

TEST(RequestParserTest, RandomPipelinesAreChunkingIndependent) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::string input;
    std::vector<Request> expected;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int r = 0; r < n; ++r) {
      Request req;
      const int argc = 1 + static_cast<int>(rng() % 4);
      for (int a = 0; a < argc; ++a) {
        std::string arg(rng() % 12, '\0');
        for (char& c : arg) c = static_cast<char>(rng() % 256);
        req.push_back(arg);
      }
      if (rng() % 4 == 0) {
        // An inline request of plain words.
        std::string line;
        for (std::string& a : req) {
          a = "w" + std::to_string(rng() % 1000);
          line += a + " ";
        }
        input += line + "\r\n";
      } else {
        input += Multibulk(req);
      }
      expected.push_back(req);
    }
    std::vector<size_t> cuts;
    for (size_t pos = rng() % 8; pos < input.size(); pos += 1 + rng() % 8) cuts.push_back(pos);
    const Outcome chunked = Feed(input, cuts);
    ASSERT_EQ(chunked.requests, expected) << "round " << round;
    ASSERT_EQ(chunked, FeedWhole(input));
    ASSERT_EQ(Feed(input, cuts, {}, /*look_ahead=*/32), chunked) << "round " << round;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

struct ErrorCase {
  std::string name;
  std::string input;
  std::string error;
  ParserLimits limits = {};
};

ParserLimits Limits(size_t args, size_t bulk, size_t line) {
  ParserLimits l;
  l.max_args = args;
  l.max_bulk_bytes = bulk;
  l.max_inline_bytes = line;
  return l;
}

std::vector<ErrorCase> ErrorCases() {
  using namespace std::string_literals;
  const std::string kMbulk = "Protocol error: invalid multibulk length";
  const std::string kBulk = "Protocol error: invalid bulk length";
  const std::string kUnterminated = "Protocol error: bulk string not terminated by CRLF";
  const std::string kQuotes = "Protocol error: unbalanced quotes in request";
  const std::string kInline = "Protocol error: too big inline request";
  return {
      {"CountNotANumber", "*x\r\n", kMbulk},
      {"CountEmpty", "*\r\n", kMbulk},
      {"CountTrailingGarbage", "*1x\r\n", kMbulk},
      {"CountLeadingZero", "*01\r\n", kMbulk},
      {"CountPlusSign", "*+1\r\n", kMbulk},
      {"CountSpace", "* 1\r\n", kMbulk},
      {"CountNegative", "*-2\r\n", kMbulk},
      {"CountMinusZero", "*-0\r\n", kMbulk},
      {"CountOverflow", "*99999999999999999999999999\r\n", kMbulk},
      {"CountCrWithoutLf", "*1\rx", kMbulk},
      {"CountLineTooLong", "*" + std::string(63, '1'),
       "Protocol error: too big mbulk count string"},
      {"ExpectedDollar", "*1\r\nx", "Protocol error: expected '$', got 'x'"},
      {"ExpectedDollarGotStar", "*2\r\n$1\r\na\r\n*", "Protocol error: expected '$', got '*'"},
      {"ExpectedDollarControlByte", "*1\r\n\x01"s, "Protocol error: expected '$', got '\\x01'"},
      {"BulkNegative", "*1\r\n$-1\r\n", kBulk},
      {"BulkNotANumber", "*1\r\n$x\r\n", kBulk},
      {"BulkEmpty", "*1\r\n$\r\n", kBulk},
      {"BulkLeadingZero", "*1\r\n$01\r\nx\r\n", kBulk},
      {"BulkOverflow", "*1\r\n$99999999999999999999999999\r\n", kBulk},
      {"BulkCrWithoutLf", "*1\r\n$1\r\r", kBulk},
      {"BulkLineTooLong", "*1\r\n$" + std::string(63, '1'),
       "Protocol error: too big bulk count string"},
      {"BulkMissingCrlf", "*1\r\n$3\r\nabcX", kUnterminated},
      {"BulkMissingLf", "*1\r\n$3\r\nabc\rX", kUnterminated},
      {"BulkLfCr", "*1\r\n$3\r\nabc\n\r", kUnterminated},
      {"BulkLongerThanDeclared", "*1\r\n$2\r\nabc\r\n", kUnterminated},
      {"UnbalancedDouble", "SET \"abc\r\n", kQuotes},
      {"UnbalancedSingle", "SET 'abc\r\n", kQuotes},
      {"UnbalancedEscapedQuote", "SET \"abc\\\"\r\n", kQuotes},
      {"ClosingDoubleQuoteThenWord", "SET \"a\"b\r\n", kQuotes},
      {"ClosingSingleQuoteThenWord", "SET 'a'b\r\n", kQuotes},
      {"ErrorAfterGoodRequest", "PING\r\n*x\r\n", kMbulk},
      // Limits one past the boundary (the at-boundary twins are in LimitTest below).
      {"TooManyArgs", "*3\r\n", kMbulk, Limits(2, 5, 8)},
      {"TooManyInlineArgs", "a b c\r\n", "Protocol error: too many arguments", Limits(2, 5, 8)},
      {"BulkTooBig", "*1\r\n$6\r\n", kBulk, Limits(2, 5, 8)},
      {"InlineTooBigWithNewline", "123456789\r\n", kInline, Limits(2, 5, 8)},
      {"InlineTooBigBareLf", "123456789\n", kInline, Limits(2, 5, 8)},
      {"InlineTooBigNoNewline", "123456789", kInline, Limits(2, 5, 8)},
      {"InlineTooBigCrCr", "12345678\r\r", kInline, Limits(2, 5, 8)},
      {"TooManyEmptyRequests", "\r\n\r\n\r\n\r\n\n", "Protocol error: too many empty requests",
       Limits(2, 5, 8)},
  };
}

class ProtocolErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ProtocolErrorTest, ReportsTheError) {
  const Outcome out = FeedWhole(GetParam().input, GetParam().limits);
  EXPECT_EQ(out.last, State::kError);
  EXPECT_EQ(out.error, GetParam().error);
}

TEST_P(ProtocolErrorTest, ChunkingIsIrrelevant) {
  ExpectChunkingIrrelevant(GetParam().input, GetParam().limits);
}

INSTANTIATE_TEST_SUITE_P(Errors, ProtocolErrorTest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& info) { return info.param.name; });

TEST(RequestParserTest, ErrorStateSticksEvenForValidInput) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("*x\r\n"), State::kError);
  EXPECT_EQ(parser.Parse("PING\r\n"), State::kError);
  EXPECT_EQ(parser.error(), "Protocol error: invalid multibulk length");
  EXPECT_THAT(parser.args(), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Limits exactly at the boundary are accepted (one past is in ErrorCases above).

TEST(LimitTest, ArgsAtLimit) {
  const Outcome out = FeedWhole("*2\r\n$1\r\na\r\n$1\r\nb\r\na b\r\n", Limits(2, 5, 8));
  EXPECT_THAT(out.requests, ElementsAre(Request{"a", "b"}, Request{"a", "b"}));
  EXPECT_EQ(out.last, State::kIncomplete);
}

TEST(LimitTest, BulkAtLimit) {
  const Outcome out = FeedWhole("*1\r\n$5\r\n12345\r\n", Limits(2, 5, 8));
  EXPECT_THAT(out.requests, ElementsAre(Request{"12345"}));
}

TEST(LimitTest, InlineAtLimit) {
  for (const std::string input : {"12345678\r\n", "12345678\n"}) {
    const Outcome out = FeedWhole(input, Limits(2, 5, 8));
    EXPECT_THAT(out.requests, ElementsAre(Request{"12345678"})) << input;
    ExpectChunkingIrrelevant(input, Limits(2, 5, 8));
  }
  // A line at the limit still waiting for its newline, or for the '\n' of its "\r\n".
  EXPECT_EQ(FeedWhole("12345678", Limits(2, 5, 8)).last, State::kIncomplete);
  EXPECT_EQ(FeedWhole("12345678\r", Limits(2, 5, 8)).last, State::kIncomplete);
}

TEST(LimitTest, EmptyRequestsAtLimit) {
  const Outcome out = FeedWhole("\r\n\r\n\r\n\r\n", Limits(2, 5, 8));
  EXPECT_EQ(out.last, State::kIncomplete);
  // Once a real request completes, the skipped bytes are released and the budget starts over.
  const Outcome more = FeedWhole("\r\n\r\n\r\n\r\nA\r\n\r\n\r\n\r\n\r\nB\r\n", Limits(2, 5, 8));
  EXPECT_THAT(more.requests, ElementsAre(Request{"A"}, Request{"B"}));
  EXPECT_EQ(more.last, State::kIncomplete);
}

TEST(LimitTest, HeaderLineAtLimit) {
  // 62 digits plus '*' and '\r' fill the 64-byte window: the line is read (and the number is
  // rejected for its value, not for the line's length).
  const std::string count = "*" + std::string(62, '9') + "\r\n";
  EXPECT_EQ(FeedWhole(count).error, "Protocol error: invalid multibulk length");
  const std::string bulk = "*1\r\n$" + std::string(62, '9') + "\r\n";
  EXPECT_EQ(FeedWhole(bulk).error, "Protocol error: invalid bulk length");
  // The largest length the parser can represent (INT64_MAX less the CRLF) is accepted when the
  // limit allows it, and one more is rejected.
  ParserLimits limits;
  limits.max_bulk_bytes = SIZE_MAX;
  const Outcome big = FeedWhole("*1\r\n$9223372036854775805\r\n", limits);
  EXPECT_EQ(big.last, State::kIncomplete);
  EXPECT_EQ(FeedWhole("*1\r\n$9223372036854775806\r\n", limits).error,
            "Protocol error: invalid bulk length");
}

// ---------------------------------------------------------------------------------------------
// Linear work, proved by counting the bytes the parser examines rather than by timing.

// Feeds `input` one byte at a time into a growing string (the caller's buffer), without the
// copying Feed does, and returns the bytes the parser examined.
size_t ExaminedBytewise(const std::string& input, size_t* requests) {
  RequestParser parser;
  std::string buffer;
  *requests = 0;
  for (char c : input) {
    buffer.push_back(c);
    State s = parser.Parse(buffer);
    while (s == State::kComplete) {
      ++*requests;
      buffer.erase(0, parser.consumed());
      s = parser.Parse(buffer);
    }
    EXPECT_NE(s, State::kError) << parser.error();
  }
  return parser.bytes_examined();
}

TEST(LinearityTest, MegabyteBulkInOneByteChunksIsNeverRescanned) {
  const std::string input = Multibulk({"SET", "k", std::string(1 << 20, 'v')});
  size_t requests = 0;
  const size_t examined = ExaminedBytewise(input, &requests);
  EXPECT_EQ(requests, 1U);
  // O(n) at worst; in fact the body is never examined at all, only headers and CRLFs.
  EXPECT_LE(examined, input.size());
  EXPECT_LE(examined, 64U);
}

TEST(LinearityTest, ManySmallArgumentsInOneByteChunks) {
  Request args(50000, "x");
  const std::string input = Multibulk(args);
  size_t requests = 0;
  const size_t examined = ExaminedBytewise(input, &requests);
  EXPECT_EQ(requests, 1U);
  EXPECT_LE(examined, input.size());
}

TEST(LinearityTest, LongInlineLineInOneByteChunks) {
  std::string input;
  while (input.size() < 60000) input += "word \"quoted\\x41\" ";
  input += "\r\n";
  size_t requests = 0;
  const size_t examined = ExaminedBytewise(input, &requests);
  EXPECT_EQ(requests, 1U);
  // Each byte is examined once by the newline search and once by the split.
  EXPECT_LE(examined, 2 * input.size() + 1);
}

TEST(LinearityTest, ExaminedBytesDoNotDependOnChunking) {
  const std::string input = Multibulk({"SET", "k", std::string(100000, 'v')}) + "PING\r\n";
  size_t requests = 0;
  const size_t bytewise = ExaminedBytewise(input, &requests);
  RequestParser whole;
  std::string buffer = input;
  while (whole.Parse(buffer) == State::kComplete) buffer.erase(0, whole.consumed());
  EXPECT_EQ(bytewise, whole.bytes_examined());
}

// Bytes examined when `input` is parsed from one buffer (`bytewise` false) or as it arrives
// one byte at a time, errors included.
size_t Examined(const std::string& input, bool bytewise) {
  RequestParser parser(ParserLimits{.max_bulk_bytes = 1000});
  std::string buffer;
  for (size_t i = 0; i < input.size(); ++i) {
    if (!bytewise) {
      buffer = input;
      i = input.size() - 1;
    } else {
      buffer.push_back(input[i]);
    }
    State s = parser.Parse(buffer);
    while (s == State::kComplete) {
      buffer.erase(0, parser.consumed());
      s = parser.Parse(buffer);
    }
    if (s == State::kError) break;
  }
  return parser.bytes_examined();
}

// A whole, plain bulk header takes a fast path (resp_parser.cc). It must end where the general
// path ends, with the same bytes examined, for headers at and around its edges.
TEST(LinearityTest, BulkHeaderFastPathMatchesTheGeneralPath) {
  for (const std::string len : {"0", "1", "9", "10", "999", "1000", "1001", "01", "-1", "1x", "",
                                "1234567890123456789", "12345678901234567890"}) {
    SCOPED_TRACE(len);
    const bool plain = len.find_first_not_of("0123456789") == std::string::npos && !len.empty() &&
                       len.size() < 5 && (len == "0" || len[0] != '0');
    const std::string body = plain ? std::string(std::stoul(len), 'v') : "v";
    const std::string input = "*2\r\n$3\r\nGET\r\n$" + len + "\r\n" + body + "\r\nPING\r\n";
    ExpectChunkingIrrelevant(input, ParserLimits{.max_bulk_bytes = 1000});
    EXPECT_EQ(Examined(input, /*bytewise=*/false), Examined(input, /*bytewise=*/true));
  }
}

// Parse takes a whole plain request in one pass (ParseWholeRequest) and everything else through
// the state machine; fed whole (fast path) and byte by byte (never the fast path), every input
// must give the same requests, errors and bytes_examined().
TEST(LinearityTest, WholeRequestFastPathMatchesTheStateMachine) {
  const ParserLimits limits{.max_args = 3, .max_bulk_bytes = 1000};
  for (const std::string& input : std::vector<std::string>{
           "*1\r\n$4\r\nPING\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n",
           "*2\r\n$3\r\nGET\r\n$0\r\n\r\n",                       // empty argument: state machine
           "*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n",               // skipped empty requests first
           "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",  // over max_args
           "*03\r\n$1\r\na\r\n",                                  // leading zero
           "*1\r\n$01\r\na\r\n",                                  // leading zero in a length
           "*1\r\n$1001\r\n",                                     // over max_bulk_bytes
           "*1\r\n$3\r\nabcd\r\n",                                // body longer than announced
           "*1\r\n$3\r\nab\r\n\r\n",                              // body shorter than announced
           "*2\r\n$1\r\na\r\n:1\r\n",                             // not a bulk string
           "*1\n$1\r\na\r\n",                                     // bare LF after the count
           "*1\r\n$1\ra\r\n",                                     // bare CR after a length
           "*1\r\n$1\r\na\n\n",                                   // body not ended by CRLF
           "*2\r\n$1\r\na\r\n",                                   // incomplete: an argument missing
       }) {
    SCOPED_TRACE(::testing::PrintToString(input));
    ExpectChunkingIrrelevant(input, limits);
    EXPECT_EQ(Examined(input, /*bytewise=*/false), Examined(input, /*bytewise=*/true));
  }
}

// Every argument length up to 300 (one, two and three digits, the counts around the
// one-and-two-digit shortcut) goes through the one-pass path, with the right bytes.
TEST(LinearityTest, PlainRequestsOfEveryShortLengthTakeTheFastPath) {
  for (size_t n = 1; n <= 300; ++n) {
    const std::string value(n, 'v');
    const std::string input = "*2\r\n$3\r\nGET\r\n$" + std::to_string(n) + "\r\n" + value + "\r\n";
    RequestParser parser;
    ASSERT_EQ(parser.Parse(input), State::kComplete) << n;
    ASSERT_THAT(parser.args(), ElementsAre("GET", value)) << n;
    EXPECT_EQ(parser.consumed(), input.size()) << n;
    EXPECT_EQ(parser.whole_requests(), 1u) << n;
  }
  // A length at a limit: the largest allowed takes the fast path, one more is refused by it
  // (and then by the state machine, with its error).
  for (uint64_t max : {uint64_t{1}, uint64_t{9}, uint64_t{10}, uint64_t{99}}) {
    const ParserLimits limits{.max_args = 16, .max_bulk_bytes = max};
    for (uint64_t n : {max, max + 1}) {
      const std::string input =
          "*1\r\n$" + std::to_string(n) + "\r\n" + std::string(n, 'v') + "\r\n";
      RequestParser parser(limits);
      const State state = parser.Parse(input);
      EXPECT_EQ(state, n <= max ? State::kComplete : State::kError) << max << " " << n;
      EXPECT_EQ(parser.whole_requests(), n <= max ? 1u : 0u) << max << " " << n;
    }
  }
}

}  // namespace
}  // namespace ds::protocol
