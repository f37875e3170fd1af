// Eight bytes at a time: the scan that JSON strings spend most of their time in.
//
// Strings in JSON are mostly plain ASCII text that needs no escape. Checking them a word at a
// time (SWAR: SIMD within a register) instead of byte by byte makes writing names and
// checking canonical values cheaper, portably and without intrinsics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ds::codec {

inline uint64_t LoadWord(const char* p) {
  uint64_t w = 0;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// Whether all eight bytes of `w` are plain JSON string text: ASCII (below 0x80), not a control
// byte (below 0x20), not '"' (0x22) and not '\' (0x5c).
//
// With b(x) the byte x in every lane and H = b(0x80): if no byte of w has its high bit set,
// then for every lane, lane - 0x20 sets the lane's high bit exactly when the byte is below
// 0x20, and (lane ^ c) - 1 exactly when the byte equals c. A borrow out of such a lane can only
// disturb the lanes above it, so the word as a whole is judged exactly. Bytes with the high bit
// set are caught by `w` itself in the same OR.
inline bool IsPlainJsonTextWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const uint64_t special =
      w | (w - kOnes * 0x20) | ((w ^ (kOnes * 0x22)) - kOnes) | ((w ^ (kOnes * 0x5c)) - kOnes);
  return (special & kHighBits) == 0;
}

// Skips whole words of plain JSON string text from `pos`; returns where the first word that is
// not all plain text begins (or where fewer than eight bytes are left). The caller examines the
// rest byte by byte.
inline size_t SkipPlainJsonText(std::string_view s, size_t pos) {
  while (pos + 8 <= s.size() && IsPlainJsonTextWord(LoadWord(s.data() + pos))) pos += 8;
  return pos;
}

}  // namespace ds::codec
