// ListObjectsV2 and error-body parsing (store/s3/s3_xml.h), on documents shaped like those AWS
// and radosgw send.
#include "store/s3/s3_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace ds::store::s3 {
namespace {

// As radosgw 16 answers encoding-type=url: keys encoded ('/' too), the prefix not.
constexpr char kCephPage[] =
    R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
    R"(<EncodingType>url</EncodingType><Name>bucket</Name><Prefix>x/</Prefix><MaxKeys>2</MaxKeys>)"
    R"(<IsTruncated>true</IsTruncated>)"
    R"(<Contents><Key>x%2F%26amp%3C</Key><LastModified>2026-11-27T22:22:09.412Z</LastModified>)"
    R"(<ETag>&quot;9e3669d19b675bd57058fd4664205d2a&quot;</ETag><Size>1</Size>)"
    R"(<StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>)"
    R"(<Contents><Key>x%2F%C3%A9t%C3%A9</Key><LastModified>2026-11-27T22:22:09.450Z</LastModified>)"
    R"(<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>12345678901</Size>)"
    R"(<StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>)"
    R"(<KeyCount>2</KeyCount><NextContinuationToken>x/&amp;tok&lt;en</NextContinuationToken>)"
    R"(</ListBucketResult>)";

TEST(ParseListObjectsV2, CephPageWithUrlEncodedKeys) {
  Result<ListObjectsResult> r = ParseListObjectsV2(kCephPage);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "x/&amp<");
  EXPECT_EQ(r->objects[0].etag, "\"9e3669d19b675bd57058fd4664205d2a\"");
  EXPECT_EQ(r->objects[0].size, 1u);
  EXPECT_EQ(r->objects[1].key, "x/\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(r->objects[1].size, 12345678901u);
  EXPECT_TRUE(r->is_truncated);
  // The token is opaque: entities decoded, nothing else.
  EXPECT_EQ(r->next_continuation_token, "x/&tok<en");
}

TEST(ParseListObjectsV2, AwsEncodesASpaceAsPlusAndAPlusAsPercent2B) {
  // AWS puts EncodingType last and form-encodes keys.
  const std::string xml =
      "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%2Bc%0Ad</Key><ETag>\"e1\"</ETag><Size>3</Size></Contents>"
      "<EncodingType>url</EncodingType></ListBucketResult>";
  Result<ListObjectsResult> r = ParseListObjectsV2(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "a b+c\nd");
  EXPECT_FALSE(r->is_truncated);
  EXPECT_EQ(r->next_continuation_token, "");
}

TEST(ParseListObjectsV2, WithoutUrlEncodingKeysAreTakenAsWritten) {
  const std::string xml =
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%2B&amp;&#x41;<![CDATA[<z>]]></Key><ETag>e</ETag><Size>0</Size>"
      "</Contents></ListBucketResult>";
  Result<ListObjectsResult> r = ParseListObjectsV2(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "a+b%2B&A<z>");
  EXPECT_EQ(r->objects[0].size, 0u);
}

TEST(ParseListObjectsV2, EmptyListing) {
  Result<ListObjectsResult> r = ParseListObjectsV2(
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>p/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->objects.empty());
  EXPECT_FALSE(r->is_truncated);
}

TEST(ParseListObjectsV2, MalformedDocumentsAreCorruption) {
  const char* bad[] = {
      "",
      "not xml",
      "<ListBucketResult><Contents><Key>a</Key></ListBucketResult>",  // not well-formed
      "<Error><Code>AccessDenied</Code></Error>",                     // not a listing
      "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",  // no key
      ("<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%G1</Key></Contents>"
       "</ListBucketResult>"),
      // Truncated, but no way to continue: following it would loop forever.
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
  };
  for (const char* xml : bad) {
    Result<ListObjectsResult> r = ParseListObjectsV2(xml);
    EXPECT_FALSE(r.ok()) << xml;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << xml;
    }
  }
}

TEST(ParseS3Error, CodeAndMessage) {
  const S3Error e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
      "<Message>Please reduce your request rate.</Message><RequestId>x</RequestId></Error>");
  EXPECT_EQ(e.code, "SlowDown");
  EXPECT_EQ(e.message, "Please reduce your request rate.");
}

TEST(ParseS3Error, CephPreconditionFailed) {
  const S3Error e = ParseS3Error(
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message></Message>)"
      R"(<BucketName>b</BucketName><RequestId>tx0-default</RequestId><HostId>1-default</HostId></Error>)");
  EXPECT_EQ(e.code, "PreconditionFailed");
  EXPECT_EQ(e.message, "");
}

TEST(ParseS3Error, AnythingElseHasNoCode) {
  EXPECT_EQ(ParseS3Error("").code, "");
  EXPECT_EQ(ParseS3Error("<html><body>502 Bad Gateway</body></html>").code, "");
  EXPECT_EQ(ParseS3Error("<Error><Code>Trunc").code, "");
}

}  // namespace
}  // namespace ds::store::s3
