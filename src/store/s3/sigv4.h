// AWS Signature Version 4 for S3 requests, computed with OpenSSL (SHA-256, HMAC-SHA256).
//
// Why not libcurl's built-in CURLOPT_AWS_SIGV4: the Debian 12 libcurl (7.88) did not sort query
// parameters when it signed, so a signed ListObjectsV2 with several parameters was rejected by a
// verifying server (shared/reference/s3.md). Signing here also lets the tests check every step
// against the published AWS test vectors (tests/store_s3/sigv4_test.cc).
//
// The steps, as AWS documents them:
//   1. canonical request  = method, canonical URI, canonical query string, canonical headers,
//                           signed header names, hex SHA-256 of the payload (one per line);
//   2. string to sign     = "AWS4-HMAC-SHA256", timestamp, credential scope, hex SHA-256 of (1);
//   3. signing key        = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request";
//   4. signature          = hex HMAC-SHA256(signing key, string to sign).
//
// S3 differs from the other AWS services in two ways that this file follows: the canonical URI
// is the path URI-encoded once (never normalized, never double-encoded), and every request
// carries x-amz-content-sha256.
//
// Thread safety: free functions and a stateless signer; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::store::s3 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);
// Hex SHA-256 of `data`, the form x-amz-content-sha256 and the canonical request want.
std::string Sha256Hex(std::string_view data);
// Raw (binary) HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
// Hex MD5 of `data` (what S3 returns as the ETag of a single-part upload).
std::string Md5Hex(std::string_view data);

// SigV4 URI encoding: A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX (upper-case
// hex); '/' is kept unless `encode_slash` (object key paths keep it, query values do not).
std::string UriEncode(std::string_view in, bool encode_slash);

// "name=value&..." with names and values UriEncode'd and sorted by name, then by value: the
// same string is both signed and sent, so the two can never disagree.
std::string CanonicalQueryString(const QueryList& query);

// "20150830T123600Z" for a UTC time point.
std::string AmzDate(std::chrono::system_clock::time_point when);

struct CanonicalRequestInput {
  std::string method;         // "GET", "PUT", ...
  std::string canonical_uri;  // the path, already UriEncode'd (encode_slash = false)
  QueryList query;
  HeaderList headers;  // every header to sign, names in any case; duplicates are joined by ','
  std::string payload_hash;  // hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
};

struct CanonicalRequest {
  std::string text;            // step 1
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
};

CanonicalRequest BuildCanonicalRequest(const CanonicalRequestInput& input);

// "20150830/us-east-1/s3/aws4_request"
std::string CredentialScope(std::string_view date8, std::string_view region,
                            std::string_view service);

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// Binary signing key (step 3).
std::string SigningKey(std::string_view secret_access_key, std::string_view date8,
                       std::string_view region, std::string_view service);

struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// Signs requests for one region and service with one set of credentials.
class SigV4Signer {
 public:
  SigV4Signer(SigningCredentials credentials, std::string region, std::string service = "s3");

  // Adds x-amz-date (and x-amz-security-token with temporary credentials) to `input.headers`,
  // signs, and returns the value of the Authorization header. `input.headers` must already hold
  // host and, for S3, x-amz-content-sha256.
  std::string Sign(CanonicalRequestInput& input, std::chrono::system_clock::time_point now) const;

  const std::string& region() const { return region_; }

 private:
  SigningCredentials credentials_;
  std::string region_;
  std::string service_;
};

}  // namespace ds::store::s3
