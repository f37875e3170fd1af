// UTF-8 helpers for the codecs: strict validation that reports where the input goes wrong, and
// encoding of a code point.
//
// "Strict" means what RFC 3629 and Erlang's `json` module accept: no overlong forms, no
// UTF-16 surrogates (U+D800..U+DFFF) and nothing above U+10FFFF. Every string that reaches a
// JsonValue has passed this check, so WriteJson can copy string bytes without looking at them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ds::codec {

// Length (2..4) of the valid multi-byte sequence at the start of `s`, or 0 when `s` does not
// start with one (ASCII bytes also give 0). REQUIRES: !s.empty().
size_t Utf8SequenceLength(std::string_view s);

// Offset of the first byte that does not start a complete, valid UTF-8 sequence in `s`, or
// std::string_view::npos when all of `s` is valid.
size_t Utf8ErrorOffset(std::string_view s);

// True when every byte of `s` is ASCII (below 0x80). Inline, a word at a time (the last word
// overlapping the one before it), byte by byte under eight bytes.
inline bool IsAsciiText(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t bits = 0;
  if (n >= 8) {
    uint64_t word = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&word, p + i, 8);
      bits |= word;
    }
    std::memcpy(&word, p + n - 8, 8);
    bits |= word;
  } else {
    for (size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
  }
  return (bits & 0x8080808080808080ULL) == 0;
}

// Why the ASCII test comes first: every session request checks its view and key names, which
// are nearly always short ASCII, and a call into the full validation cost more than the check.
inline bool IsValidUtf8Text(std::string_view s) {
  return IsAsciiText(s) || Utf8ErrorOffset(s) == std::string_view::npos;
}

// True for Unicode scalar values: 0..0x10FFFF without the surrogate range.
inline bool IsUnicodeScalar(uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Appends the UTF-8 encoding of `cp`. REQUIRES: IsUnicodeScalar(cp).
void AppendUtf8(uint32_t cp, std::string& out);

}  // namespace ds::codec
