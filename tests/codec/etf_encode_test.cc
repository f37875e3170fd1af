// EncodeEtf: fixed bytes checked against :erlang.term_to_binary/1 from `erl` (atoms are
// written as SMALL_ATOM_UTF8_EXT, as OTP 26+ does), and round trips through DecodeEtf.

#include <gtest/gtest.h>

#include <string>

#include "codec/etf.h"
#include "codec/json.h"
#include "etf_builder.h"
#include "random_value.h"

namespace ds::codec {
namespace {

using testing::ToHex;

std::string E(const JsonValue& v) { return ToHex(EncodeEtf(v)); }
JsonValue I(std::string text) { return JsonValue::Integer(std::move(text)); }

TEST(EtfEncode, Atoms) {
  EXPECT_EQ(E(JsonValue::Null()), "8377036E696C");
  EXPECT_EQ(E(JsonValue::Bool(true)), "83770474727565");
  EXPECT_EQ(E(JsonValue::Bool(false)), "83770566616C7365");
}

TEST(EtfEncode, IntegersUseTheSmallestForm) {
  EXPECT_EQ(E(I("0")), "836100");
  EXPECT_EQ(E(I("255")), "8361FF");
  EXPECT_EQ(E(I("256")), "836200000100");
  EXPECT_EQ(E(I("-1")), "8362FFFFFFFF");
  EXPECT_EQ(E(I("2147483647")), "83627FFFFFFF");
  EXPECT_EQ(E(I("-2147483648")), "836280000000");
  EXPECT_EQ(E(I("2147483648")), "836E040000000080");
  EXPECT_EQ(E(I("-2147483649")), "836E040101000080");
  EXPECT_EQ(E(I("9223372036854775807")), "836E0800FFFFFFFFFFFFFF7F");
  EXPECT_EQ(E(I("-9223372036854775808")), "836E08010000000000000080");
  EXPECT_EQ(E(I("18446744073709551616")), "836E0900000000000000000001");
  EXPECT_EQ(E(I("1" + std::string(100, '0'))),
            "836E2A00000000000000000000000000108F2EA80843B2AA7C1A218E40CE8AF30BCEC484270BEB7C"
            "C39425AD4912");
  EXPECT_EQ(E(I("-1" + std::string(30, '0'))), "836E0D0100000040EAED7446D09C2C9F0C");
  EXPECT_EQ(E(I("999999999999999999")), "836E0800FFFF63A7B3B6E00D");   // 18 digits, fast path
  EXPECT_EQ(E(I("1000000000000000000")), "836E0800000064A7B3B6E00D");  // 19 digits, bignum path
}

TEST(EtfEncode, LargeBigForIntegersOver255Bytes) {
  // 2^2048 (257 bytes): LARGE_BIG_EXT, as term_to_binary writes it.
  const std::string two_2048 =
      "3231700607131100730071487668866995196044410266971548403213034542752465513886789089319720"
      "1411522913463688717960921898019494119559150490921095088152386448283120630877367300996091"
      "7501977503896521067960576383840675682767922186426197561618380943384761704705816458520363"
      "0504288757589154106580860755239912393038552191433338966834242068497478656456949485617603"
      "5326322058077805659331026192708460314150258592864177116725943603718461857357598351152301"
      "6459044036976132332872312271256847108202097251571017269313234696785425806566979350459972"
      "6835299863821552516638943733554360213543322960464531847860495214819355585361105959623065"
      "6";
  std::string expected = "836F0000010100" + std::string(512, '0') + "01";
  EXPECT_EQ(E(I(two_2048)), expected);
}

TEST(EtfEncode, FloatsStringsListsMaps) {
  EXPECT_EQ(E(JsonValue::Float(1.5)), "83463FF8000000000000");
  EXPECT_EQ(E(JsonValue::Float(-0.0)), "83468000000000000000");
  EXPECT_EQ(E(JsonValue::String("h\xC3\xA9")), "836D0000000368C3A9");
  EXPECT_EQ(E(JsonValue::String("")), "836D00000000");
  EXPECT_EQ(E(JsonValue::Array({})), "836A");
  // term_to_binary would write [1,2,3] as STRING_EXT (836B0003010203); LIST_EXT decodes the same.
  EXPECT_EQ(E(JsonValue::Array({I("1"), I("2"), I("3")})),
            "836C00000003610161026103"
            "6A");
  EXPECT_EQ(E(JsonValue::Object({})), "837400000000");
  // #{<<"a">> => [], <<"b">> => 1, <<"c">> => nil}
  EXPECT_EQ(
      E(JsonValue::Object({{"a", JsonValue::Array({})}, {"b", I("1")}, {"c", JsonValue::Null()}})),
      "8374000000036D00000001616A6D0000000162"
      "61016D00000001637703"
      "6E696C");
}

TEST(EtfEncode, RoundTripsThroughDecodeEtf) {
  testing::RandomValues random(42);
  for (int i = 0; i < 3000; ++i) {
    const JsonValue v = random.Value();
    const std::string bytes = EncodeEtf(v);
    Result<JsonValue> back = DecodeEtf(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << WriteJson(v);
    ASSERT_EQ(*back, v) << WriteJson(v);
    ASSERT_EQ(EncodeEtf(*back), bytes);
  }
}

TEST(EtfEncode, BigIntegersRoundTripBothWays) {
  for (const std::string& text :
       {std::string("4294967295"), std::string("4294967296"), std::string("-4294967296"),
        std::string("340282366920938463463374607431768211455"),
        std::string("-340282366920938463463374607431768211456"), "1" + std::string(999, '0'),
        "-" + std::string(10000, '9')}) {
    Result<JsonValue> back = DecodeEtf(EncodeEtf(I(text)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->text, text);
  }
}

}  // namespace
}  // namespace ds::codec
