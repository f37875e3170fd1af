// Functions that append RESP2 replies to an output buffer.
//
// Replies are appended to a std::string that the connection writes to its socket in one go, so
// that a pipeline of N requests costs one write system call, not N.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ds::protocol {

// +OK\r\n. REQUIRES: s contains no CR or LF.
void AppendSimpleString(std::string& out, std::string_view s);
// -<kind> <message>\r\n, e.g. kind "ERR", "LIMIT", "BADVALUE". CR/LF in message become spaces.
void AppendError(std::string& out, std::string_view kind, std::string_view message);
// :<n>\r\n
void AppendInteger(std::string& out, int64_t n);
// $<len>\r\n<bytes>\r\n
void AppendBulk(std::string& out, std::string_view bytes);
// $-1\r\n (RESP2 null)
void AppendNull(std::string& out);
// *<n>\r\n; the caller then appends n elements.
void AppendArrayHeader(std::string& out, size_t n);

// The same forms written at `at` into a buffer the caller has sized, each returning the end of
// what it wrote: for a reply built in one pass (a recover's keys and values), with no capacity
// check or call per piece. Room needed: kMaxFramingBytes for a header or an integer,
// MaxBulkBytes(size) for a bulk string.
inline constexpr size_t kMaxFramingBytes = 1 + 20 + 2;  // type byte, 64-bit decimal, CRLF
constexpr size_t MaxBulkBytes(size_t size) { return kMaxFramingBytes + size + 2; }
char* WriteInteger(char* at, int64_t n);
char* WriteBulk(char* at, std::string_view bytes);
char* WriteArrayHeader(char* at, size_t n);

// A reply of at most `bound` bytes that `write(char* at)` writes in one pass (returning the end
// of what it wrote), in a string of its own.
template <typename Write>
std::string WriteBounded(size_t bound, Write&& write) {
  std::string out(bound, '\0');
  out.resize(static_cast<size_t>(write(out.data()) - out.data()));
  return out;
}

}  // namespace ds::protocol
