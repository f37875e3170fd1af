// RESP2 reply writer: appends encoded replies to a connection's output buffer.
//
// Every Append function builds its framing (type byte, decimal length, CRLF) in a small stack
// buffer and appends it in one call, so a reply costs at most two appends and no temporary
// strings. The Write functions put the same bytes straight into a buffer already sized.
// Numbers are formatted with std::to_chars: no locale, no allocation, no iostream.
#include "protocol/resp_writer.h"

#include <charconv>
#include <cstring>

namespace ds::protocol {

namespace {

// A framing line (type byte, decimal, CRLF) at `at`, which has room for kMaxFramingBytes.
template <typename Int>
char* WriteFraming(char* at, char type, Int n) {
  *at++ = type;
  // Cannot fail: the room holds the longest 64-bit decimal.
  char* end = std::to_chars(at, at + kMaxFramingBytes - 3, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  return end;
}

template <typename Int>
void AppendFraming(std::string& out, char type, Int n) {
  char buf[kMaxFramingBytes];
  out.append(buf, static_cast<size_t>(WriteFraming(buf, type, n) - buf));
}

// Appends `s` with every CR or LF replaced by a space: an error or status line must stay one
// line, or the client would read the rest as another reply and lose its place in the stream.
void AppendOneLine(std::string& out, std::string_view s) {
  const size_t start = out.size();
  out.append(s);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
}

}  // namespace

void AppendSimpleString(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 3);
  out.push_back('+');
  out.append(s);
  out.append("\r\n", 2);
}

void AppendError(std::string& out, std::string_view kind, std::string_view message) {
  out.reserve(out.size() + kind.size() + message.size() + 4);
  out.push_back('-');
  AppendOneLine(out, kind);
  out.push_back(' ');
  AppendOneLine(out, message);
  out.append("\r\n", 2);
}

void AppendInteger(std::string& out, int64_t n) { AppendFraming(out, ':', n); }

void AppendBulk(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + MaxBulkBytes(bytes.size()));
  AppendFraming(out, '$', bytes.size());
  out.append(bytes);
  out.append("\r\n", 2);
}

void AppendNull(std::string& out) { out.append("$-1\r\n", 5); }

void AppendArrayHeader(std::string& out, size_t n) { AppendFraming(out, '*', n); }

char* WriteInteger(char* at, int64_t n) { return WriteFraming(at, ':', n); }

char* WriteBulk(char* at, std::string_view bytes) {
  at = WriteFraming(at, '$', bytes.size());
  std::memcpy(at, bytes.data(), bytes.size());
  at += bytes.size();
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

char* WriteArrayHeader(char* at, size_t n) { return WriteFraming(at, '*', n); }

}  // namespace ds::protocol
