// S3Config: everything the s3 store needs to know, from a `--store` URL and the environment.
//
//   s3://BUCKET[/PREFIX][?option=value&...]
//
// The prefix is used literally as the start of every object key; a "/" is appended when it is
// missing, so s3://b/stash and s3://b/stash/ are the same store. Options (each can also be set
// with an environment variable DURABLE_STASH_S3_<OPTION IN UPPER CASE>; the URL wins):
//
//   endpoint=URL             http(s)://host[:port]; default AWS_ENDPOINT_URL_S3, then
//                            AWS_ENDPOINT_URL, then https://s3.<region>.amazonaws.com
//   region=NAME              default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1
//   path_style=true|false    http://host/BUCKET/KEY instead of http://BUCKET.host/KEY; default
//                            false for AWS, true for any other endpoint (MinIO, Ceph, R2, ...)
//   ceph_unquoted_if_match=auto|true|false
//                            send the etag of If-Match without quotes (Ceph radosgw matches only
//                            the unquoted form); auto (default) detects it at the first If-Match
//                            a server refuses although the object still has that etag
//   max_in_flight=N          requests in flight at once (default 32)
//   connect_timeout_ms=N     per connection attempt (default 2000)
//   request_timeout_ms=N     per request attempt (default 5000)
//   deadline_ms=N            per store call, retries included (default 20000)
//   max_object_bytes=N       the largest object a GET accepts (default 64 MiB)
//
// Credentials never come from the URL or a command line: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), else the profile
// AWS_PROFILE (default "default") of the shared credentials file AWS_SHARED_CREDENTIALS_FILE
// (default ~/.aws/credentials).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/s3/sigv4.h"

namespace ds::store::s3 {

// Looks up an environment variable (injected so tests do not touch the process environment).
using GetEnvFn = std::function<std::optional<std::string>(const char*)>;

enum class UnquotedIfMatch { kAuto, kAlways, kNever };

struct S3Config {
  std::string bucket;
  std::string prefix;  // "" or ends with '/'

  std::string scheme;  // "http" or "https"
  std::string host;    // what goes into the Host header: "host" or "host:port" ("[::1]:port")
  bool path_style = false;
  std::string region = "us-east-1";
  UnquotedIfMatch unquoted_if_match = UnquotedIfMatch::kAuto;

  SigningCredentials credentials;

  size_t max_in_flight = 32;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds deadline{20000};
  size_t max_object_bytes = size_t{64} << 20;

  // Retry backoff: the n-th retry waits about min(backoff_max, backoff_base * 2^n), jittered.
  std::chrono::milliseconds backoff_base{50};
  std::chrono::milliseconds backoff_max{2000};

  // "http://127.0.0.1:7480/bucket/prefix/" style, for logs and INFO (no credentials).
  std::string Describe() const;
};

// Parses `url` and reads the environment through `getenv`. InvalidArgument names what is wrong
// and how to fix it.
Result<S3Config> ParseS3Config(std::string_view url, const GetEnvFn& getenv);

// Percent-decoding as URLs and S3 listings (encoding-type=url) use it: %XX becomes the byte, and
// '+' becomes a space when `plus_is_space` (S3 encodes a literal '+' in a key as %2B).
// Returns nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace ds::store::s3
