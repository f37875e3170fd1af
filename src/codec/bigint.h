// Arbitrary-size integers as the codecs need them: ETF carries big integers as little-endian
// base-256 magnitudes (SMALL_BIG_EXT / LARGE_BIG_EXT), JsonValue holds them as decimal text.
// These two conversions are all the arithmetic the daemon ever does on them.
//
// Both conversions are quadratic in the number of digits, so integers are capped at
// kMaxIntegerDigits decimal digits (about 33,000 bits) in both codecs; a longer one is
// rejected with Status::Limit. The cap is the same for JSON and ETF so that any value one
// client can store, a client on the other codec can recover.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ds::codec {

inline constexpr size_t kMaxIntegerDigits = 10000;

// True when a magnitude of `significant_bytes` bytes (highest byte non-zero) certainly has
// more than kMaxIntegerDigits decimal digits; checked before converting, to bound the work.
inline bool MagnitudeTooLong(size_t significant_bytes) {
  // A number of n bytes is at least 256^(n-1), i.e. has more than (n-1)*log10(256) digits;
  // 2.4082 is just below log10(256) = 2.40824, so this never rejects an integer within the cap.
  return significant_bytes > 1 && (significant_bytes - 1) * 24082 / 10000 >= kMaxIntegerDigits;
}

// Decimal text of a magnitude given as little-endian bytes, with a leading '-' when
// `negative` and the magnitude is not zero. Leading zero bytes (at the end) are allowed.
std::string MagnitudeToDecimal(std::string_view little_endian, bool negative);

// Little-endian base-256 magnitude of a string of decimal digits (no sign), without
// high zero bytes; empty for zero. REQUIRES: `digits` is non-empty and all '0'..'9'.
std::string DecimalToMagnitude(std::string_view digits);

}  // namespace ds::codec
