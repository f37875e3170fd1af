// SigV4 signing against published vectors:
//   - the AWS Signature Version 4 test suite (service "service", credentials AKIDEXAMPLE, time
//     2015-08-30T12:36:00Z), as shipped in awslabs/aws-c-auth tests/aws-signing-test-suite/v4;
//     only the cases that apply to S3 (S3 neither normalizes nor double-encodes paths);
//   - the worked S3 examples of the S3 API reference ("Signature Calculations for the
//     Authorization Header", credentials AKIAIOSFODNN7EXAMPLE, time 2013-05-24T00:00:00Z).
// Expected values are written out here; each test names its vector.
#include "store/s3/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace ds::store::s3 {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// --- The AWS SigV4 test suite ------------------------------------------------------------------

const SigningCredentials kSuiteCredentials{"AKIDEXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const system_clock::time_point kSuiteTime{seconds(1440938160)};  // 2015-08-30T12:36:00Z
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

CanonicalRequestInput SuiteGet(std::string uri = "/", QueryList query = {}) {
  CanonicalRequestInput in;
  in.method = "GET";
  in.canonical_uri = std::move(uri);
  in.query = std::move(query);
  in.headers = {{"Host", "example.amazonaws.com"}};
  in.payload_hash = kEmptySha256;
  return in;
}

std::string SignatureOf(const std::string& authorization) {
  const size_t at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

// Signs `in` with the suite's credentials and returns the Authorization header.
std::string SuiteSign(CanonicalRequestInput in) {
  SigV4Signer signer(kSuiteCredentials, "us-east-1", "service");
  return signer.Sign(in, kSuiteTime);
}

TEST(SigV4Suite, GetVanilla) {
  CanonicalRequestInput in = SuiteGet();
  in.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  const CanonicalRequest creq = BuildCanonicalRequest(in);
  EXPECT_EQ(creq.text,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(creq.signed_headers, "host;x-amz-date");
  const std::string sts = StringToSign(
      "20150830T123600Z", CredentialScope("20150830", "us-east-1", "service"), creq.text);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(HexEncode(HmacSha256(
                SigningKey(kSuiteCredentials.secret_access_key, "20150830", "us-east-1", "service"),
                sts)),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  // And the whole header, as the signer builds it.
  EXPECT_EQ(SuiteSign(SuiteGet()),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase) {
  // GET /?Param2=value2&Param1=value1: parameters are sorted in the canonical request.
  CanonicalRequestInput in = SuiteGet("/", {{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(CanonicalQueryString(in.query), "Param1=value1&Param2=value2");
  in.headers.emplace_back("x-amz-date", "20150830T123600Z");
  EXPECT_EQ(Sha256Hex(BuildCanonicalRequest(in).text),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet("/", {{"Param2", "value2"}, {"Param1", "value1"}}))),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, GetVanillaQueryOrderEncoded) {
  // GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1: sorted by the *encoded* names, so the
  // UTF-8 name ("%E1...") comes first and "Param" before "Param-3".
  const QueryList query = {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}};
  EXPECT_EQ(CanonicalQueryString(query), "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet("/", query))),
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac");
}

TEST(SigV4Suite, GetVanillaQueryUnreserved) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const QueryList query = {{unreserved, unreserved}};
  EXPECT_EQ(CanonicalQueryString(query), unreserved + "=" + unreserved);
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet("/", query))),
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST(SigV4Suite, GetVanillaUtf8Query) {
  const QueryList query = {{"\xE1\x88\xB4", "bar"}};
  EXPECT_EQ(CanonicalQueryString(query), "%E1%88%B4=bar");
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet("/", query))),
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

TEST(SigV4Suite, GetUtf8Path) {
  const std::string uri = UriEncode("/\xE1\x88\xB4", false);
  EXPECT_EQ(uri, "/%E1%88%B4");
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet(uri))),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4Suite, GetUnreservedPath) {
  const std::string path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(UriEncode(path, false), path);
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet(UriEncode(path, false)))),
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST(SigV4Suite, GetSpaceUnnormalized) {
  // The "unnormalized" variant is S3's: the path is encoded, never normalized.
  const std::string uri = UriEncode("/example space/", false);
  EXPECT_EQ(uri, "/example%20space/");
  EXPECT_EQ(SignatureOf(SuiteSign(SuiteGet(uri))),
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST(SigV4Suite, GetHeaderValueTrim) {
  // "My-Header1: value1" and "My-Header2: \"a   b   c\"": values trimmed, inner runs of
  // spaces collapsed.
  CanonicalRequestInput in = SuiteGet();
  in.headers.emplace_back("My-Header1", " value1");
  in.headers.emplace_back("My-Header2", " \"a   b   c\"");
  CanonicalRequestInput copy = in;
  copy.headers.emplace_back("x-amz-date", "20150830T123600Z");
  EXPECT_EQ(BuildCanonicalRequest(copy).text,
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
                std::string(kEmptySha256));
  EXPECT_EQ(SignatureOf(SuiteSign(in)),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(SigV4Suite, GetVanillaWithSessionToken) {
  SigningCredentials credentials = kSuiteCredentials;
  credentials.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  SigV4Signer signer(credentials, "us-east-1", "service");
  CanonicalRequestInput in = SuiteGet();
  const std::string authorization = signer.Sign(in, kSuiteTime);
  EXPECT_EQ(authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date;x-amz-security-token, "
            "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
  // The token header was added for the request to carry.
  bool has_token = false;
  for (const auto& [name, value] : in.headers) {
    if (name == "x-amz-security-token" && value == credentials.session_token) has_token = true;
  }
  EXPECT_TRUE(has_token);
}

TEST(SigV4Suite, PostXWwwFormUrlencoded) {
  // The body participates through x-amz-content-sha256 and the payload hash line.
  const std::string body = "Param1=value1";
  EXPECT_EQ(Sha256Hex(body), "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CanonicalRequestInput in;
  in.method = "POST";
  in.canonical_uri = "/";
  in.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                {"Host", "example.amazonaws.com"},
                {"Content-Length", "13"},
                {"x-amz-content-sha256", Sha256Hex(body)}};
  in.payload_hash = Sha256Hex(body);
  CanonicalRequestInput copy = in;
  copy.headers.emplace_back("x-amz-date", "20150830T123600Z");
  EXPECT_EQ(
      BuildCanonicalRequest(copy).text,
      "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\n"
      "host:example.amazonaws.com\n"
      "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
      "x-amz-date:20150830T123600Z\n\n"
      "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(SignatureOf(SuiteSign(in)),
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
}

// --- The S3 examples ---------------------------------------------------------------------------

const SigningCredentials kS3Credentials{"AKIAIOSFODNN7EXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const system_clock::time_point kS3Time{seconds(1369353600)};  // 2013-05-24T00:00:00Z

CanonicalRequestInput S3Request(std::string method, std::string uri, QueryList query = {},
                                std::string payload_hash = kEmptySha256) {
  CanonicalRequestInput in;
  in.method = std::move(method);
  in.canonical_uri = std::move(uri);
  in.query = std::move(query);
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-content-sha256", payload_hash}};
  in.payload_hash = std::move(payload_hash);
  return in;
}

std::string S3Sign(CanonicalRequestInput in) {
  SigV4Signer signer(kS3Credentials, "us-east-1");
  return signer.Sign(in, kS3Time);
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  CanonicalRequestInput in = S3Request("GET", "/test.txt");
  in.headers.emplace_back("Range", "bytes=0-9");
  CanonicalRequestInput copy = in;
  copy.headers.emplace_back("x-amz-date", "20130524T000000Z");
  const CanonicalRequest creq = BuildCanonicalRequest(copy);
  EXPECT_EQ(creq.text,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                std::string(kEmptySha256) +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptySha256);
  EXPECT_EQ(Sha256Hex(creq.text),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(S3Sign(in),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectWithPayload) {
  // PUT /test$file.text: '$' is encoded in the path; the payload hash is the body's.
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const std::string uri = UriEncode("/test$file.text", false);
  EXPECT_EQ(uri, "/test%24file.text");
  CanonicalRequestInput in = S3Request("PUT", uri, {}, Sha256Hex(body));
  in.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  in.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  const std::string authorization = S3Sign(in);
  EXPECT_NE(authorization.find(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(authorization),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycleSubresourceWithoutValue) {
  // GET /?lifecycle: a parameter without a value is signed as "lifecycle=".
  const QueryList query = {{"lifecycle", ""}};
  EXPECT_EQ(CanonicalQueryString(query), "lifecycle=");
  EXPECT_EQ(SignatureOf(S3Sign(S3Request("GET", "/", query))),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjectsParametersAreSortedWhateverTheirOrder) {
  // The case curl 7.88's own signing got wrong: several query parameters, given out of order.
  const std::string expected = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
  EXPECT_EQ(SignatureOf(S3Sign(S3Request("GET", "/", {{"max-keys", "2"}, {"prefix", "J"}}))),
            expected);
  EXPECT_EQ(SignatureOf(S3Sign(S3Request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}))),
            expected);
}

// --- Encoding rules the store relies on -------------------------------------------------------

TEST(SigV4Encoding, ObjectKeysKeepSlashesAndEncodeEverythingElse) {
  EXPECT_EQ(UriEncode("a b/c+d~e", false), "a%20b/c%2Bd~e");
  EXPECT_EQ(UriEncode("a b/c+d~e", true), "a%20b%2Fc%2Bd~e");
  EXPECT_EQ(UriEncode("%2F", false), "%252F");  // a literal '%' is encoded once, not decoded
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(UriEncode(std::string("\0\xff", 2), false), "%00%FF");
}

TEST(SigV4Encoding, QueryValuesEncodeSlashesAndEqualNamesSortByValue) {
  EXPECT_EQ(CanonicalQueryString({{"prefix", "sessions/a b"}, {"list-type", "2"}}),
            "list-type=2&prefix=sessions%2Fa%20b");
  EXPECT_EQ(CanonicalQueryString({{"a", "2"}, {"a", "1"}}), "a=1&a=2");
  EXPECT_EQ(CanonicalQueryString({}), "");
}

TEST(SigV4Encoding, AmzDateIsUtc) {
  EXPECT_EQ(AmzDate(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(AmzDate(kS3Time), "20130524T000000Z");
}

TEST(SigV4Suite, GetHeaderKeyDuplicate) {
  // Repeated headers become one line, values in the order given.
  CanonicalRequestInput in = SuiteGet();
  in.headers.emplace_back("My-Header1", "value2");
  in.headers.emplace_back("My-Header1", "value2");
  in.headers.emplace_back("My-Header1", "value1");
  EXPECT_NE(BuildCanonicalRequest(in).text.find("my-header1:value2,value2,value1\n"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(SuiteSign(in)),
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

TEST(SigV4Encoding, Md5HexIsTheS3EtagOfASinglePartUpload) {
  EXPECT_EQ(Md5Hex("hello"), "5d41402abc4b2a76b9719d911017c592");
}

}  // namespace
}  // namespace ds::store::s3
