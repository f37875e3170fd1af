// Parsing of s3:// store URLs and of the AWS environment (store/s3/s3_config.h).
#include "store/s3/s3_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

namespace ds::store::s3 {
namespace {

using Env = std::map<std::string, std::string>;

GetEnvFn EnvOf(Env env) {
  return [env = std::move(env)](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

const Env kKeys = {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}};

Env With(const Env& extra) {
  Env env = kKeys;
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

S3Config MustParse(const std::string& url, const Env& env = kKeys) {
  Result<S3Config> config = ParseS3Config(url, EnvOf(env));
  EXPECT_TRUE(config.ok()) << url << ": " << config.status().ToString();
  return config.ok() ? *config : S3Config{};
}

std::string ErrorOf(const std::string& url, const Env& env = kKeys) {
  Result<S3Config> config = ParseS3Config(url, EnvOf(env));
  EXPECT_FALSE(config.ok()) << url;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  return config.status().message();
}

TEST(S3Config, AwsDefaults) {
  const S3Config c = MustParse("s3://my-bucket/stash/");
  EXPECT_EQ(c.bucket, "my-bucket");
  EXPECT_EQ(c.prefix, "stash/");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.scheme, "https");
  EXPECT_EQ(c.host, "s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(c.path_style);  // AWS: virtual-hosted addressing
  EXPECT_EQ(c.unquoted_if_match, UnquotedIfMatch::kAuto);
  EXPECT_EQ(c.credentials.access_key_id, "AKID");
  EXPECT_EQ(c.credentials.secret_access_key, "SECRET");
  EXPECT_EQ(c.credentials.session_token, "");
  EXPECT_EQ(c.Describe(), "s3:https://my-bucket.s3.us-east-1.amazonaws.com/stash/");
}

TEST(S3Config, PrefixGetsATrailingSlashAndMayBeEmpty) {
  EXPECT_EQ(MustParse("s3://bucket/stash").prefix, "stash/");
  EXPECT_EQ(MustParse("s3://bucket/a/b").prefix, "a/b/");
  EXPECT_EQ(MustParse("s3://bucket/").prefix, "");
  EXPECT_EQ(MustParse("s3://bucket").prefix, "");
  EXPECT_EQ(MustParse("s3://bucket/with%20space").prefix, "with space/");
}

TEST(S3Config, RegionFromEnvironmentSelectsTheAwsEndpoint) {
  const S3Config c = MustParse("s3://bucket/p", With({{"AWS_REGION", "eu-west-3"}}));
  EXPECT_EQ(c.region, "eu-west-3");
  EXPECT_EQ(c.host, "s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(MustParse("s3://bucket/p", With({{"AWS_DEFAULT_REGION", "ap-south-1"}})).region,
            "ap-south-1");
  // AWS_REGION wins over AWS_DEFAULT_REGION, the URL over both.
  EXPECT_EQ(MustParse("s3://bucket/p", With({{"AWS_REGION", "a-1"}, {"AWS_DEFAULT_REGION", "b-2"}}))
                .region,
            "a-1");
  EXPECT_EQ(MustParse("s3://bucket/p?region=c-3", With({{"AWS_REGION", "a-1"}})).region, "c-3");
}

TEST(S3Config, CustomEndpointMeansPathStyle) {
  const S3Config c =
      MustParse("s3://bucket/p", With({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"}}));
  EXPECT_EQ(c.scheme, "http");
  EXPECT_EQ(c.host, "127.0.0.1:7480");
  EXPECT_TRUE(c.path_style);
  EXPECT_EQ(c.Describe(), "s3:http://127.0.0.1:7480/bucket/p/");
}

TEST(S3Config, EndpointPrecedence) {
  // URL option, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL.
  EXPECT_EQ(MustParse("s3://b-1/p", With({{"AWS_ENDPOINT_URL", "https://generic.example"}})).host,
            "generic.example");
  EXPECT_EQ(MustParse("s3://b-1/p", With({{"AWS_ENDPOINT_URL", "https://generic.example"},
                                          {"AWS_ENDPOINT_URL_S3", "https://s3only.example"}}))
                .host,
            "s3only.example");
  EXPECT_EQ(MustParse("s3://b-1/p?endpoint=http://localhost:9000",
                      With({{"AWS_ENDPOINT_URL_S3", "https://s3only.example"}}))
                .host,
            "localhost:9000");
}

TEST(S3Config, DefaultPortsAreDroppedFromTheHostHeader) {
  EXPECT_EQ(MustParse("s3://b-1/p?endpoint=https://r2.example:443/").host, "r2.example");
  EXPECT_EQ(MustParse("s3://b-1/p?endpoint=http://minio.local:80").host, "minio.local");
  EXPECT_EQ(MustParse("s3://b-1/p?endpoint=http://[::1]:9000").host, "[::1]:9000");
  EXPECT_EQ(MustParse("s3://b-1/p?endpoint=HTTP://Upper.Example").host, "upper.example");
}

TEST(S3Config, BadEndpointsAreRefused) {
  EXPECT_NE(ErrorOf("s3://b-1/p?endpoint=ftp://x").find("http"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?endpoint=127.0.0.1:9000").find("http"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?endpoint=http://x/some/path").find("path"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?endpoint=http://x:99999").find("port"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?endpoint=http://key:secret@x").find("credentials"),
            std::string::npos);
}

TEST(S3Config, Options) {
  const S3Config c = MustParse(
      "s3://b-1/p?path_style=false&ceph_unquoted_if_match=true&max_in_flight=7"
      "&connect_timeout_ms=100&request_timeout_ms=200&deadline_ms=300&max_object_bytes=1000"
      "&endpoint=http://127.0.0.1:1");
  EXPECT_FALSE(c.path_style);
  EXPECT_EQ(c.unquoted_if_match, UnquotedIfMatch::kAlways);
  EXPECT_EQ(c.max_in_flight, 7u);
  EXPECT_EQ(c.connect_timeout.count(), 100);
  EXPECT_EQ(c.request_timeout.count(), 200);
  EXPECT_EQ(c.deadline.count(), 300);
  EXPECT_EQ(c.max_object_bytes, 1000u);
  EXPECT_EQ(MustParse("s3://b-1/p?ceph_unquoted_if_match=false").unquoted_if_match,
            UnquotedIfMatch::kNever);
  EXPECT_EQ(MustParse("s3://b-1/p?ceph_unquoted_if_match=auto").unquoted_if_match,
            UnquotedIfMatch::kAuto);
  EXPECT_TRUE(MustParse("s3://b-1/p?path_style=true").path_style);
}

TEST(S3Config, OptionsFromDurableStashEnvironmentUnlessTheUrlSaysOtherwise) {
  const Env env = With({{"DURABLE_STASH_S3_PATH_STYLE", "true"},
                        {"DURABLE_STASH_S3_MAX_IN_FLIGHT", "5"},
                        {"DURABLE_STASH_S3_CEPH_UNQUOTED_IF_MATCH", "true"},
                        {"DURABLE_STASH_S3_ENDPOINT", "http://127.0.0.2:7480"}});
  const S3Config c = MustParse("s3://b-1/p", env);
  EXPECT_TRUE(c.path_style);
  EXPECT_EQ(c.max_in_flight, 5u);
  EXPECT_EQ(c.unquoted_if_match, UnquotedIfMatch::kAlways);
  EXPECT_EQ(c.host, "127.0.0.2:7480");
  EXPECT_EQ(MustParse("s3://b-1/p?max_in_flight=9", env).max_in_flight, 9u);
}

TEST(S3Config, BadOptionsAreRefusedWithTheReason) {
  EXPECT_NE(ErrorOf("s3://b-1/p?path_stile=true").find("unknown option \"path_stile\""),
            std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?path_style=maybe").find("path_style"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?max_in_flight=0").find("max_in_flight"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?deadline_ms=ten").find("deadline_ms"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p?ceph_unquoted_if_match=sometimes").find("auto"), std::string::npos);
}

TEST(S3Config, CredentialsInTheUrlAreRefused) {
  const std::string error = ErrorOf("s3://b-1/p?secret_access_key=x");
  EXPECT_NE(error.find("never from the URL"), std::string::npos) << error;
  EXPECT_NE(ErrorOf("s3://b-1/p?access_key_id=x").find("never from the URL"), std::string::npos);
}

TEST(S3Config, BadUrlsAreRefused) {
  EXPECT_NE(ErrorOf("s3:/b-1/p").find("s3://"), std::string::npos);
  EXPECT_NE(ErrorOf("file:/tmp").find("s3://"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://").find("bucket"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://ab/p").find("bucket"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://bad*bucket/p").find("bucket"), std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/bad%zzescape").find("escape"), std::string::npos);
}

TEST(S3Config, BucketWithDotsUsesPathStyleOnAws) {
  EXPECT_TRUE(MustParse("s3://my.dotted.bucket/p").path_style);
}

TEST(S3Config, SessionToken) {
  const S3Config c = MustParse("s3://b-1/p", With({{"AWS_SESSION_TOKEN", "TOKEN"}}));
  EXPECT_EQ(c.credentials.session_token, "TOKEN");
}

TEST(S3Config, MissingOrHalfCredentialsAreRefused) {
  EXPECT_NE(ErrorOf("s3://b-1/p", {{"HOME", "/nonexistent"}}).find("AWS_ACCESS_KEY_ID"),
            std::string::npos);
  EXPECT_NE(ErrorOf("s3://b-1/p", {{"AWS_ACCESS_KEY_ID", "AKID"}}).find("both"), std::string::npos);
  // Empty variables count as unset.
  EXPECT_NE(
      ErrorOf("s3://b-1/p",
              {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"HOME", "/nonexistent"}})
          .find("no S3 credentials"),
      std::string::npos);
}

class CredentialsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "ds-s3-credentials-" + std::to_string(::getpid());
    std::ofstream out(path_);
    out << "# comment\n"
           "[default]\n"
           "aws_access_key_id = DEFAULTKEY\n"
           "aws_secret_access_key=DEFAULTSECRET\n"
           "\n"
           "[other]\n"
           "  aws_access_key_id = OTHERKEY  \n"
           "aws_secret_access_key = OTHER/SECRET+=\n"
           "aws_session_token = OTHERTOKEN\n";
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  std::string path_;
};

TEST_F(CredentialsFileTest, DefaultProfile) {
  const S3Config c = MustParse("s3://b-1/p", {{"AWS_SHARED_CREDENTIALS_FILE", path_}});
  EXPECT_EQ(c.credentials.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(c.credentials.secret_access_key, "DEFAULTSECRET");
  EXPECT_EQ(c.credentials.session_token, "");
}

TEST_F(CredentialsFileTest, NamedProfile) {
  const S3Config c =
      MustParse("s3://b-1/p", {{"AWS_SHARED_CREDENTIALS_FILE", path_}, {"AWS_PROFILE", "other"}});
  EXPECT_EQ(c.credentials.access_key_id, "OTHERKEY");
  EXPECT_EQ(c.credentials.secret_access_key, "OTHER/SECRET+=");
  EXPECT_EQ(c.credentials.session_token, "OTHERTOKEN");
}

TEST_F(CredentialsFileTest, EnvironmentWinsOverTheFile) {
  const S3Config c = MustParse("s3://b-1/p", With({{"AWS_SHARED_CREDENTIALS_FILE", path_}}));
  EXPECT_EQ(c.credentials.access_key_id, "AKID");
}

TEST_F(CredentialsFileTest, MissingProfileIsNamedInTheError) {
  const std::string error =
      ErrorOf("s3://b-1/p", {{"AWS_SHARED_CREDENTIALS_FILE", path_}, {"AWS_PROFILE", "nope"}});
  EXPECT_NE(error.find("\"nope\""), std::string::npos) << error;
  EXPECT_NE(error.find(path_), std::string::npos) << error;
}

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(PercentDecode("%", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%4", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
}

}  // namespace
}  // namespace ds::store::s3
