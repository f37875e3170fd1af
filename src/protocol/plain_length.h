// ReadPlainLength: the length field of a RESP array or bulk header, in its common form.
//
// Shared by the request parser's one-pass path and by PeekRequest (request_peek.h), which both
// read whole requests out of a buffer and leave anything unusual to the parser's state machine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ds::protocol {

// Reads a plain length of up to 19 digits (no sign, no leading zero) followed by CRLF, starting
// at *pos, into *out; leaves *pos after the CRLF. False, with *pos unchanged, for anything else
// and for a length over `limit`. Always inlined (into RequestParser::ParseWholeRequest and
// PeekRequest): it runs once per argument and is most of that function's work, and as a call of its
// own (which the compiler makes of it otherwise) it cost a recover some 100 instructions more.
[[gnu::always_inline]] inline bool ReadPlainLength(std::string_view buffer, size_t* pos,
                                                   uint64_t limit, uint64_t* out) {
  const char* const data = buffer.data();
  const size_t size = buffer.size();
  const size_t first = *pos;
  // Nearly every length has one or two digits (a command name, a session key, a small value):
  // those are read without the loop, whose per-digit checks cost more than the digits.
  if (size - first >= 4) {
    const auto d0 = static_cast<unsigned char>(data[first] - '1');  // '1'..'9' -> 0..8
    const auto d1 = static_cast<unsigned char>(data[first + 1] - '0');
    if (d0 < 9 && data[first + 1] == '\r' && data[first + 2] == '\n') {
      if (d0 + 1u > limit) return false;
      *pos = first + 3;
      *out = d0 + 1u;
      return true;
    }
    if (d0 < 9 && d1 < 10 && data[first + 2] == '\r' && data[first + 3] == '\n') {
      const uint64_t v = (d0 + 1u) * 10u + d1;
      if (v > limit) return false;
      *pos = first + 4;
      *out = v;
      return true;
    }
  }
  const size_t reach = std::min(size, first + 19);
  if (first >= reach || data[first] < '1' || data[first] > '9') return false;
  uint64_t v = 0;
  size_t i = first;
  for (; i < reach && data[i] >= '0' && data[i] <= '9'; ++i) {
    v = v * 10 + static_cast<uint64_t>(data[i] - '0');
  }
  if (i + 1 >= size || data[i] != '\r' || data[i + 1] != '\n' || v > limit) return false;
  *pos = i + 2;
  *out = v;
  return true;
}

}  // namespace ds::protocol
