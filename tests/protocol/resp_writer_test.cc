// Tests for the RESP2 reply writer: the exact bytes of every reply form.
#include "protocol/resp_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ds::protocol {
namespace {

using namespace std::string_literals;

TEST(RespWriterTest, SimpleString) {
  std::string out;
  AppendSimpleString(out, "OK");
  AppendSimpleString(out, "");
  EXPECT_EQ(out, "+OK\r\n+\r\n");
}

TEST(RespWriterTest, Error) {
  std::string out;
  AppendError(out, "ERR", "unknown command 'FOO'");
  EXPECT_EQ(out, "-ERR unknown command 'FOO'\r\n");
}

TEST(RespWriterTest, ErrorTurnsCrAndLfIntoSpaces) {
  std::string out;
  AppendError(out, "BADVALUE", "line one\r\nline two\rthree\nfour");
  EXPECT_EQ(out, "-BADVALUE line one  line two three four\r\n");
}

TEST(RespWriterTest, ErrorSanitizesOnlyWhatItAppends) {
  std::string out = "keep\r\n";
  AppendError(out, "LIMIT", "x");
  EXPECT_EQ(out, "keep\r\n-LIMIT x\r\n");
}

TEST(RespWriterTest, Integer) {
  std::string out;
  AppendInteger(out, 0);
  AppendInteger(out, 1);
  AppendInteger(out, -1);
  AppendInteger(out, 1234567890123);
  AppendInteger(out, std::numeric_limits<int64_t>::max());
  AppendInteger(out, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out,
            ":0\r\n:1\r\n:-1\r\n:1234567890123\r\n:9223372036854775807\r\n"
            ":-9223372036854775808\r\n");
}

TEST(RespWriterTest, Bulk) {
  std::string out;
  AppendBulk(out, "hello");
  AppendBulk(out, "");
  AppendBulk(out, "a\r\n\0b"s);
  EXPECT_EQ(out, "$5\r\nhello\r\n$0\r\n\r\n$5\r\na\r\n\0b\r\n"s);
}

TEST(RespWriterTest, LargeBulk) {
  const std::string value(100000, 'x');
  std::string out;
  AppendBulk(out, value);
  EXPECT_EQ(out, "$100000\r\n" + value + "\r\n");
}

TEST(RespWriterTest, Null) {
  std::string out;
  AppendNull(out);
  EXPECT_EQ(out, "$-1\r\n");
}

TEST(RespWriterTest, ArrayHeader) {
  std::string out;
  AppendArrayHeader(out, 0);
  AppendArrayHeader(out, 3);
  AppendArrayHeader(out, std::numeric_limits<size_t>::max());
  EXPECT_EQ(out, "*0\r\n*3\r\n*18446744073709551615\r\n");
}

TEST(RespWriterTest, RepliesAppendToWhatIsThere) {
  std::string out;
  AppendArrayHeader(out, 3);
  AppendSimpleString(out, "recovered");
  AppendInteger(out, 7);
  AppendNull(out);
  EXPECT_EQ(out, "*3\r\n+recovered\r\n:7\r\n$-1\r\n");
}

// The Write forms put exactly what the Append forms append, within the room they promise.
TEST(RespWriterTest, WriteFormsMatchAppendFormsWithinTheirRoom) {
  const std::vector<int64_t> integers = {0,
                                         7,
                                         -1,
                                         1234567890123,
                                         std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::min()};
  for (int64_t n : integers) {
    std::string appended;
    AppendInteger(appended, n);
    std::string written(kMaxFramingBytes, '#');
    written.resize(static_cast<size_t>(WriteInteger(written.data(), n) - written.data()));
    EXPECT_EQ(written, appended) << n;
  }
  for (size_t n : {size_t{0}, size_t{3}, std::numeric_limits<size_t>::max()}) {
    std::string appended;
    AppendArrayHeader(appended, n);
    std::string written(kMaxFramingBytes, '#');
    written.resize(static_cast<size_t>(WriteArrayHeader(written.data(), n) - written.data()));
    EXPECT_EQ(written, appended) << n;
  }
  for (const std::string& bytes : {""s, "hello"s, "a\r\n\0b"s, std::string(100000, 'x')}) {
    std::string appended;
    AppendBulk(appended, bytes);
    std::string written(MaxBulkBytes(bytes.size()), '#');
    written.resize(static_cast<size_t>(WriteBulk(written.data(), bytes) - written.data()));
    EXPECT_EQ(written, appended) << bytes.size();
  }
}

}  // namespace
}  // namespace ds::protocol
