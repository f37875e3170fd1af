// RESP2 reply writer: appends encoded replies to a connection's output buffer.
//
// Every function builds its framing (type byte, decimal length, CRLF) in a small stack buffer
// and appends it in one call, so a reply costs at most two appends and no temporary strings.
// Numbers are formatted with std::to_chars: no locale, no allocation, no iostream.
#include "protocol/resp_writer.h"

#include <charconv>

namespace ds::protocol {

namespace {

// Longest framing line: a type byte, 20 digits (or '-' and 19), CRLF.
constexpr size_t kFramingMax = 1 + 20 + 2;

template <typename Int>
void AppendFraming(std::string& out, char type, Int n) {
  char buf[kFramingMax];
  buf[0] = type;
  const std::to_chars_result r = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  // Cannot fail: the buffer holds the longest 64-bit decimal.
  char* end = r.ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, static_cast<size_t>(end - buf));
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
  out.reserve(out.size() + bytes.size() + kFramingMax + 2);
  AppendFraming(out, '$', bytes.size());
  out.append(bytes);
  out.append("\r\n", 2);
}

void AppendNull(std::string& out) { out.append("$-1\r\n", 5); }

void AppendArrayHeader(std::string& out, size_t n) { AppendFraming(out, '*', n); }

}  // namespace ds::protocol
