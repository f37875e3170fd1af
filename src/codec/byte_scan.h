// Sixteen or eight bytes at a time: the scan that JSON strings spend most of their time in.
//
// Strings in JSON are mostly plain ASCII text that needs no escape. Checking them a vector
// (SSE2, which every x86-64 processor has) or a word (SWAR: SIMD within a register, portable)
// at a time instead of byte by byte makes writing names and checking canonical values
// cheaper: a 1 KiB value's text was a sixth of a DS.STASH's instructions scanned by words.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ds::codec {

inline uint64_t LoadWord(const char* p) {
  uint64_t w = 0;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// The bytes of `w` that are not plain JSON string text — not ASCII (0x80 and above), a control
// byte (below 0x20), '"' (0x22) or '\' (0x5c) — as the high bits of their lanes; 0 if all eight
// are plain.
//
// With b(x) the byte x in every lane and H = b(0x80): if no byte of w has its high bit set,
// then for every lane, lane - 0x20 sets the lane's high bit exactly when the byte is below
// 0x20, and (lane ^ c) - 1 exactly when the byte equals c. A borrow out of such a lane can only
// disturb the lanes above it, so the lowest flagged lane — the first such byte in memory, on a
// little-endian machine — is always exact, and so is "no lane flagged". Bytes with the high bit
// set are caught by `w` itself in the same OR.
inline uint64_t NotPlainJsonTextLanes(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const uint64_t special =
      w | (w - kOnes * 0x20) | ((w ^ (kOnes * 0x22)) - kOnes) | ((w ^ (kOnes * 0x5c)) - kOnes);
  return special & kHighBits;
}

// Whether a byte is plain JSON string text, by value: for strings shorter than a word.
inline constexpr auto kPlainJsonTextByte = [] {
  std::array<bool, 256> plain{};
  for (size_t c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

#if defined(__SSE2__)
// The bytes of the sixteen at `p` that are not plain JSON string text, as 0xff lanes of a
// vector. Compared as signed bytes, everything below 0x20 and everything from 0x80 up (negative)
// is less than 0x20. Flipping bit 1 first moves '"' (0x22) to 0x20 and keeps every other byte
// below 0x21 where it was (0x20..0x23 only trade places among themselves), so one comparison
// with 0x21 finds control bytes, non-ASCII and '"' alike; one more finds '\'.
inline __m128i NotPlainJsonTextLanes16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(v, _mm_set1_epi8(0x02)), _mm_set1_epi8(0x21)),
                      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
}

// The same as a bit mask (bit i for byte i); 0 if all sixteen are plain.
inline unsigned NotPlainJsonTextMask16(const char* p) {
  return static_cast<unsigned>(_mm_movemask_epi8(NotPlainJsonTextLanes16(p)));
}
#endif

// The position of the first byte at or after `pos` that is not plain JSON string text, or
// s.size() if there is none. Sixty-four, then sixteen bytes at a time where SSE2 is available,
// then whole words; then the last few bytes as the end of the last word of `s` (bytes already
// judged shifted out, spaces — plain text — shifted in), or one by one when `s` is shorter
// than a word.
[[gnu::always_inline]] inline size_t FindNotPlainJsonText(std::string_view s, size_t pos) {
  static_assert(std::endian::native == std::endian::little, "lane order must be memory order");
#if defined(__SSE2__)
  // Long plain runs (a 1 KiB value's text) a cache line at a time: the four vectors' lanes are
  // OR-ed so that 64 bytes cost one test and branch; the loop below then finds the byte.
  for (; pos + 64 <= s.size(); pos += 64) {
    const char* p = s.data() + pos;
    const __m128i any = _mm_or_si128(
        _mm_or_si128(NotPlainJsonTextLanes16(p), NotPlainJsonTextLanes16(p + 16)),
        _mm_or_si128(NotPlainJsonTextLanes16(p + 32), NotPlainJsonTextLanes16(p + 48)));
    if (_mm_movemask_epi8(any) != 0) break;
  }
  for (; pos + 16 <= s.size(); pos += 16) {
    if (const unsigned mask = NotPlainJsonTextMask16(s.data() + pos); mask != 0) {
      return pos + static_cast<size_t>(std::countr_zero(mask));
    }
  }
#endif
  for (; pos + 8 <= s.size(); pos += 8) {
    if (const uint64_t lanes = NotPlainJsonTextLanes(LoadWord(s.data() + pos)); lanes != 0) {
      return pos + static_cast<size_t>(std::countr_zero(lanes)) / 8;
    }
  }
  if (pos >= s.size()) return s.size();
  if (s.size() >= 8) {
    const size_t gone = 8 - (s.size() - pos);  // bytes of the last word before `pos`: 1..7
    const uint64_t w = (LoadWord(s.data() + s.size() - 8) >> (8 * gone)) |
                       (0x2020202020202020ULL << (8 * (8 - gone)));
    const uint64_t lanes = NotPlainJsonTextLanes(w);
    return lanes != 0 ? pos + static_cast<size_t>(std::countr_zero(lanes)) / 8 : s.size();
  }
  while (pos < s.size() && kPlainJsonTextByte[static_cast<unsigned char>(s[pos])]) ++pos;
  return pos;
}

}  // namespace ds::codec
