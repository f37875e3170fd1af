// The file store's key <-> file name mapping and fan-out (store/file_names.h).
#include "store/file_names.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "store_test_util.h"

namespace ds::store::file_names {
namespace {

using test::CodeOf;

TEST(FileNamesTest, LettersAndDigitsAreKeptOtherBytesEscapedByRange) {
  EXPECT_EQ(Encode("Az09"), "Az09");
  EXPECT_EQ(Encode("sessions/ab12"), "sessions%2Fab12");
  EXPECT_EQ(Encode(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(Encode("a-b.c d%"), "a%2Db%2Ec%20d%25");
  EXPECT_EQ(Encode(":@"), "@3A@40");
  EXPECT_EQ(Encode("[_`"), "^5B^5F^60");
  EXPECT_EQ(Encode("{~\x7f\x80\xff"), "~7B~7E~7F~80~FF");
}

TEST(FileNamesTest, NamesNeverStartWithADot) {
  EXPECT_EQ(Encode("."), "%2E");
  EXPECT_EQ(Encode(".."), "%2E%2E");
  EXPECT_EQ(Encode(".hidden"), "%2Ehidden");
}

TEST(FileNamesTest, NamesSortLikeTheirKeys) {
  // Every pair of single bytes, and each byte against a longer key starting with it.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string ka(1, static_cast<char>(a));
      const std::string kb(1, static_cast<char>(b));
      ASSERT_EQ(ka < kb, Encode(ka) < Encode(kb)) << a << " vs " << b;
      ASSERT_LT(Encode(ka), Encode(ka + kb)) << a << " then " << b;
    }
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string k1(rng() % 5, '\0');
    std::string k2(rng() % 5, '\0');
    for (char& c : k1) c = static_cast<char>(rng());
    for (char& c : k2) c = rng() % 2 == 0 ? static_cast<char>(rng()) : 'q';
    if (rng() % 3 == 0) k2.insert(0, k1);
    ASSERT_EQ(k1 < k2, Encode(k1) < Encode(k2));
    ASSERT_EQ(k1 == k2, Encode(k1) == Encode(k2));
  }
}

TEST(FileNamesTest, EmptyAndTooLongKeysAreInvalid) {
  EXPECT_EQ(CodeOf(EncodeKey("")), StatusCode::kInvalidArgument);
  EXPECT_TRUE(EncodeKey(std::string(kMaxFileName, 'x')).ok());
  EXPECT_EQ(CodeOf(EncodeKey(std::string(kMaxFileName + 1, 'x'))), StatusCode::kInvalidArgument);
  EXPECT_TRUE(EncodeKey(std::string(85, '\xff')).ok());  // 255 bytes encoded
  EXPECT_EQ(CodeOf(EncodeKey(std::string(86, '\xff'))), StatusCode::kInvalidArgument);
}

TEST(FileNamesTest, EveryByteRoundTripsInEveryPosition) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    for (const std::string& key : {std::string(1, c), std::string("x") + c + "y"}) {
      std::string decoded;
      ASSERT_TRUE(DecodeFileName(EncodeKey(key).value(), &decoded)) << "byte " << b;
      EXPECT_EQ(decoded, key) << "byte " << b;
    }
  }
}

TEST(FileNamesTest, RandomKeysRoundTrip) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string key(1 + rng() % 60, '\0');
    for (char& c : key) c = static_cast<char>(rng() % 4 == 0 ? rng() : 'a' + rng() % 26);
    std::string decoded;
    ASSERT_TRUE(DecodeFileName(EncodeKey(key).value(), &decoded));
    EXPECT_EQ(decoded, key);
  }
}

TEST(FileNamesTest, OnlyCanonicalNamesDecode) {
  std::string key;
  for (const char* name :
       {"", ".tmp", ".", "..", "%2f", "%41", "%2", "%", "a%G0", "a b", "a/b", "%zz", "x%2"}) {
    EXPECT_FALSE(DecodeFileName(name, &key)) << '"' << name << '"';
  }
  EXPECT_TRUE(DecodeFileName("%2E%2E", &key));
  EXPECT_EQ(key, "..");
}

TEST(FileNamesTest, PrefixOfAKeyIsPrefixOfItsFileName) {
  std::mt19937 rng(11);
  const std::string alphabet = std::string("ab./%") + '\0' + '\xff';
  auto random_string = [&](size_t max_len) {
    std::string s(rng() % (max_len + 1), '\0');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    std::string key = random_string(6);
    if (key.empty()) key = "a";
    const std::string prefix = random_string(3);
    EXPECT_EQ(key.starts_with(prefix), Encode(key).starts_with(Encode(prefix)))
        << "key " << Encode(key) << " prefix " << Encode(prefix);
  }
}

TEST(FileNamesTest, FanoutSpreadsKeysOverAllSubdirectories) {
  EXPECT_EQ(FanoutDirName(0), "00");
  EXPECT_EQ(FanoutDirName(0xa7), "a7");
  EXPECT_EQ(FanoutDirName(255), "ff");
  std::set<size_t> used;
  for (int i = 0; i < 10000; ++i) {
    const size_t index = FanoutIndex(KeyHash("sessions/" + std::to_string(i)));
    ASSERT_LT(index, kFanout);
    used.insert(index);
  }
  EXPECT_EQ(used.size(), kFanout);
}

}  // namespace
}  // namespace ds::store::file_names
