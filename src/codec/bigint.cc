// Base conversion between ETF big-integer magnitudes and decimal text (see bigint.h).
//
// Schoolbook arithmetic on 32-bit limbs, nine decimal digits at a time: simple, and fast
// enough for integers within kMaxIntegerDigits (a 10,000-digit number converts in well under a
// millisecond).

#include "codec/bigint.h"

#include <cstdint>
#include <vector>

namespace ds::codec {

namespace {

constexpr uint32_t kChunk = 1000000000;  // 10^9, the largest power of ten below 2^32
constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

}  // namespace

std::string MagnitudeToDecimal(std::string_view little_endian, bool negative) {
  size_t n = little_endian.size();
  while (n > 0 && little_endian[n - 1] == '\0') --n;
  if (n == 0) return "0";

  std::vector<uint32_t> limbs((n + 3) / 4, 0);
  for (size_t i = 0; i < n; ++i) {
    limbs[i / 4] |= static_cast<uint32_t>(static_cast<unsigned char>(little_endian[i]))
                    << (8 * (i % 4));
  }

  // Repeatedly divide by 10^9; the remainders are the base-10^9 digits, lowest first.
  std::vector<uint32_t> chunks;
  chunks.reserve(limbs.size() * 32 / 29 + 1);
  while (!limbs.empty()) {
    uint64_t rem = 0;
    for (size_t i = limbs.size(); i-- > 0;) {
      const uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<uint32_t>(cur / kChunk);
      rem = cur % kChunk;
    }
    chunks.push_back(static_cast<uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }

  std::string out;
  out.reserve(chunks.size() * 9 + 1);
  if (negative) out.push_back('-');
  out += std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) {
    char buf[9];
    uint32_t v = chunks[i];
    for (int k = 8; k >= 0; --k) {
      buf[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out.append(buf, 9);
  }
  return out;
}

std::string DecimalToMagnitude(std::string_view digits) {
  std::vector<uint32_t> limbs;  // little-endian base 2^32
  limbs.reserve(digits.size() / 9 + 1);
  size_t pos = 0;
  size_t take = digits.size() % 9 == 0 ? 9 : digits.size() % 9;
  while (pos < digits.size()) {
    uint32_t chunk = 0;
    for (size_t k = 0; k < take; ++k)
      chunk = chunk * 10 + static_cast<uint32_t>(digits[pos + k] - '0');
    // limbs = limbs * 10^take + chunk
    uint64_t carry = chunk;
    for (uint32_t& limb : limbs) {
      const uint64_t cur = static_cast<uint64_t>(limb) * kPow10[take] + carry;
      limb = static_cast<uint32_t>(cur);
      carry = cur >> 32;
    }
    if (carry != 0) limbs.push_back(static_cast<uint32_t>(carry));
    pos += take;
    take = 9;
  }

  std::string out;
  out.reserve(limbs.size() * 4);
  for (uint32_t limb : limbs) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((limb >> (8 * k)) & 0xFF));
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

}  // namespace ds::codec
