// FormatFloatShort: Erlang's `float_to_binary(F, [short])`, the float text of Elixir's
// JSON.encode!.
//
// Two steps, as in OTP (erts/emulator/ryu): find the shortest digit string that reads back as
// the same double (std::to_chars does that — it is Ryu too), then choose between plain and
// exponent notation. Erlang always writes a fraction ("1.0", "1.0e20"), never writes '+' in
// the exponent, and picks the layout by the position of the digits, as below. The rule was
// confirmed against `erl` for powers of ten from 1e-30 to 1e30, long mantissas, subnormals,
// the extremes and a large sample of random doubles; tests/codec/float_format_test.cc holds
// the expectations.

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "codec/json.h"

namespace ds::codec {

namespace {

// The decimal form of a finite, non-zero |d|: digits D (no leading or trailing zeros) and
// exponent E such that |d| reads back from D × 10^E.
struct Decimal {
  char digits[17];
  int length;
  int exponent;
};

Decimal ShortestDecimal(double magnitude) {
  // Scientific shortest form: "d[.ddd]e±XX".
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof(buf), magnitude, std::chars_format::scientific);
  assert(res.ec == std::errc());
  Decimal dec{};
  const char* p = buf;
  while (p < res.ptr && *p != 'e') {
    if (*p != '.') dec.digits[dec.length++] = *p;
    ++p;
  }
  // p points at 'e', followed by a sign and at least two digits (the text is not terminated).
  ++p;
  const bool negative = *p++ == '-';
  int scientific = 0;
  std::from_chars(p, res.ptr, scientific);
  if (negative) scientific = -scientific;
  dec.exponent = scientific - (dec.length - 1);
  return dec;
}

bool UsePlainNotation(const Decimal& dec) {
  const int scientific = dec.exponent + dec.length - 1;
  // Plain notation is used while it is not much longer than exponent notation: the bounds
  // are on E, the exponent of the last digit.
  int lower;
  int upper;
  if (dec.length == 1) {
    lower = -4;  // 0.0001 but 1.0e-5
    upper = 2;   // 100.0 but 1.0e3
  } else {
    lower = -(dec.length + 2);         // 0.0012345 but 1.2345e-4
    upper = scientific >= 10 ? 2 : 1;  // 123450.0 but 1.2345e6
  }
  if (dec.exponent < lower || dec.exponent > upper) return false;

  // Beyond 2^53 not every integer is a double; Erlang then prefers exponent notation, so that
  // the text does not look like an exact integer.
  uint64_t mantissa = 0;
  for (int i = 0; i < dec.length; ++i) mantissa = mantissa * 10 + (dec.digits[i] - '0');
  if (dec.exponent == 0 && mantissa >= (uint64_t{1} << 53)) return false;
  if (dec.exponent == 1 && mantissa > (uint64_t{1} << 52) / 5) return false;
  if (dec.exponent == 2 && mantissa > (uint64_t{1} << 51) / 25) return false;
  return true;
}

}  // namespace

std::string FormatFloatShort(double d) {
  assert(std::isfinite(d));
  std::string out;
  if (std::signbit(d)) out.push_back('-');
  if (d == 0.0) {
    out += "0.0";
    return out;
  }
  const Decimal dec = ShortestDecimal(std::fabs(d));
  const std::string_view digits(dec.digits, static_cast<size_t>(dec.length));

  if (UsePlainNotation(dec)) {
    const int whole = dec.length + dec.exponent;  // digits before the decimal point
    if (dec.exponent >= 0) {                      // 17290.0
      out += digits;
      out.append(static_cast<size_t>(dec.exponent), '0');
      out += ".0";
    } else if (whole > 0) {  // 17.29
      out += digits.substr(0, static_cast<size_t>(whole));
      out.push_back('.');
      out += digits.substr(static_cast<size_t>(whole));
    } else {  // 0.001729
      out += "0.";
      out.append(static_cast<size_t>(-whole), '0');
      out += digits;
    }
    return out;
  }

  // 1.729e-7, 1.0e20
  out.push_back(digits[0]);
  out.push_back('.');
  if (dec.length > 1) {
    out += digits.substr(1);
  } else {
    out.push_back('0');
  }
  out.push_back('e');
  out += std::to_string(dec.exponent + dec.length - 1);
  return out;
}

}  // namespace ds::codec
