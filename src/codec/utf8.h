// UTF-8 helpers for the codecs: strict validation that reports where the input goes wrong, and
// encoding of a code point.
//
// "Strict" means what RFC 3629 and Erlang's `json` module accept: no overlong forms, no
// UTF-16 surrogates (U+D800..U+DFFF) and nothing above U+10FFFF. Every string that reaches a
// JsonValue has passed this check, so WriteJson can copy string bytes without looking at them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ds::codec {

// Length (2..4) of the valid multi-byte sequence at the start of `s`, or 0 when `s` does not
// start with one (ASCII bytes also give 0). REQUIRES: !s.empty().
size_t Utf8SequenceLength(std::string_view s);

// Offset of the first byte that does not start a complete, valid UTF-8 sequence in `s`, or
// std::string_view::npos when all of `s` is valid.
size_t Utf8ErrorOffset(std::string_view s);

inline bool IsValidUtf8Text(std::string_view s) {
  return Utf8ErrorOffset(s) == std::string_view::npos;
}

// True for Unicode scalar values: 0..0x10FFFF without the surrogate range.
inline bool IsUnicodeScalar(uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Appends the UTF-8 encoding of `cp`. REQUIRES: IsUnicodeScalar(cp).
void AppendUtf8(uint32_t cp, std::string& out);

}  // namespace ds::codec
