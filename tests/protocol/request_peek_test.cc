// PeekRequest: reads the name and first argument of whole requests in the common form, takes
// exactly the bytes RequestParser takes for them, and gives up (0) on anything else.
#include "protocol/request_peek.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "protocol/resp_parser.h"

namespace ds::protocol {
namespace {

// What RequestParser says the first request of `input` takes, or 0 if it is not complete.
size_t ParserConsumed(std::string_view input) {
  RequestParser parser;
  return parser.Parse(input) == RequestParser::State::kComplete ? parser.consumed() : 0;
}

TEST(RequestPeekTest, ReadsTheNameAndFirstArgumentOfEachRequestInTurn) {
  const std::string input =
      "*5\r\n$8\r\nDS.STASH\r\n$3\r\nabc\r\n$4\r\nview\r\n$1\r\n1\r\n$2\r\n{}\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*2\r\n$10\r\nDS.RECOVER\r\n$24\r\nsession-key-0123456789ab\r\n";
  std::string_view rest = input;
  RequestHead head;

  size_t used = PeekRequest(rest, &head);
  ASSERT_EQ(used, ParserConsumed(rest));
  EXPECT_EQ(head.name, "DS.STASH");
  EXPECT_EQ(head.first, "abc");
  rest.remove_prefix(used);

  used = PeekRequest(rest, &head);
  ASSERT_EQ(used, ParserConsumed(rest));
  EXPECT_EQ(head.name, "PING");
  EXPECT_EQ(head.first, "") << "a request of one argument has no first argument";
  rest.remove_prefix(used);

  used = PeekRequest(rest, &head);
  ASSERT_EQ(used, ParserConsumed(rest));
  EXPECT_EQ(head.name, "DS.RECOVER");
  EXPECT_EQ(head.first, "session-key-0123456789ab");
  rest.remove_prefix(used);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(PeekRequest(rest, &head), 0u);
}

TEST(RequestPeekTest, ARequestNotWhollyInTheBufferIsNotPeeked) {
  const std::string whole = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$12\r\nhello world!\r\n";
  RequestHead head;
  ASSERT_EQ(PeekRequest(whole, &head), whole.size());
  for (size_t n = 0; n < whole.size(); ++n) {
    EXPECT_EQ(PeekRequest(std::string_view(whole).substr(0, n), &head), 0u) << n;
  }
}

TEST(RequestPeekTest, AnythingButTheCommonFormIsLeftToTheParser) {
  RequestHead head;
  for (std::string_view input : {
           std::string_view("PING\r\n"),                   // inline
           std::string_view("*0\r\n"),                     // no arguments
           std::string_view("*-1\r\n"),                    // null array
           std::string_view("*01\r\n$4\r\nPING\r\n"),      // leading zero
           std::string_view("*1\r\n$04\r\nPING\r\n"),      // leading zero in a bulk length
           std::string_view("*1\r\n$0\r\n\r\n"),           // an empty argument
           std::string_view("*1\r\n:4\r\nPING\r\n"),       // not a bulk string
           std::string_view("*1\r\n$4\r\nPINGxx"),         // no CRLF after the body
           std::string_view("*1\n$4\r\nPING\r\n"),         // a bare LF
           std::string_view("*99999999999999999999\r\n"),  // a count too large
       }) {
    EXPECT_EQ(PeekRequest(input, &head), 0u) << input;
  }
}

}  // namespace
}  // namespace ds::protocol
