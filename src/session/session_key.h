// Session keys: the names under which sessions are stored.
//
// Clients send an HMAC of the cookie's sid (hex or base64url), never the sid itself, so that
// object names in the store reveal nothing about cookies. The daemon accepts 1-128 characters
// from A-Z a-z 0-9 - _: safe in every store's naming scheme (object keys, file names).
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ds::session {

inline constexpr size_t kMaxSessionKeyBytes = 128;

// Which bytes a session key may hold, as a table: one load per byte. (std::isalnum consults the
// C locale on every call, which was a measurable part of each request, and could accept more
// letters in another locale.)
inline constexpr std::array<bool, 256> kSessionKeyChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
  }
  return table;
}();

#if defined(__SSE2__)
// The bytes of the sixteen at `p` that a session key may not hold, as a bit mask (bit i for
// byte i). OR-ing 0x20 folds A-Z onto a-z and maps no other byte there; compared as signed
// bytes, everything from 0x80 up is negative and so outside every range.
inline unsigned NotSessionKeyMask16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const auto in_range = [](__m128i x, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
  const __m128i allowed = _mm_or_si128(
      _mm_or_si128(letter, in_range(v, '0', '9')),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
  return ~static_cast<unsigned>(_mm_movemask_epi8(allowed)) & 0xFFFFu;
}
#endif

inline bool IsValidSessionKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxSessionKeyBytes) return false;
#if defined(__SSE2__)
  // Every request checks its key, and keys are usually 20 to 50 bytes (an HMAC in hex or
  // base64url): sixteen bytes at a time, the last sixteen overlapping the ones before.
  if (key.size() >= 16) {
    unsigned bad = 0;
    for (size_t i = 0; i + 16 <= key.size(); i += 16) bad |= NotSessionKeyMask16(key.data() + i);
    bad |= NotSessionKeyMask16(key.data() + key.size() - 16);
    return bad == 0;
  }
#endif
  // Short keys byte by byte, without a branch each, so that the loop runs straight through.
  bool valid = true;
  for (char c : key) valid &= kSessionKeyChars[static_cast<unsigned char>(c)];
  return valid;
}

// A session key as an actor holds it: inline up to kInlineBytes (the Elixir plug's keys are 43
// bytes), in an allocation of its own beyond. 56 bytes, where the small_vector it replaced (48
// inline) took 72: the actor's fields that a stash reads then fit in five cache lines instead of
// six (session_actor.h). Immutable.
class InlineKey {
 public:
  static constexpr size_t kInlineBytes = 47;
  static_assert(kMaxSessionKeyBytes <= UINT8_MAX, "the size is held in one byte");

  // REQUIRES: key.size() <= kMaxSessionKeyBytes (IsValidSessionKey).
  explicit InlineKey(std::string_view key) : size_(static_cast<uint8_t>(key.size())) {
    assert(key.size() <= kMaxSessionKeyBytes);  // the size is held in one byte
    char* to = inline_.data();
    if (key.size() > kInlineBytes) {
      heap_ = std::make_unique_for_overwrite<char[]>(key.size());
      to = heap_.get();
    }
    std::memcpy(to, key.data(), key.size());
  }
  InlineKey(const InlineKey&) = delete;
  InlineKey& operator=(const InlineKey&) = delete;

  std::string_view view() const { return {heap_ ? heap_.get() : inline_.data(), size_}; }
  // Bytes allocated outside the object (for memory estimates): 0 while the key fits inline.
  size_t HeapBytes() const { return heap_ ? size_ : 0; }

 private:
  std::unique_ptr<char[]> heap_;           // the key, when it does not fit inline
  std::array<char, kInlineBytes> inline_;  // the key, when it fits
  uint8_t size_;
};

}  // namespace ds::session
