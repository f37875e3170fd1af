// S3Store: the Store contract (store/store.h) over an S3-compatible object store.
//
//   --store s3://BUCKET/PREFIX?options      (options, endpoint and credentials: s3_config.h)
//
// Mapping of the contract onto S3 requests, one request per call in the common case:
//   Get(key)                 GET /key                        200 -> object, 404 -> NotFound
//   Get(key, etag)           GET /key, If-None-Match: "etag" 304 -> NotModified
//   Put(key, None)           PUT /key
//   Put(key, CreateOnly)     PUT /key, If-None-Match: *      412 / 409 -> PreconditionFailed
//   Put(key, IfMatch(etag))  PUT /key, If-Match: "etag"      412 / 409 / 404 -> PreconditionFailed
//   Delete(key)              DELETE /key                     404 -> OK (already gone)
//   List(prefix, token, n)   GET /?list-type=2&prefix=..&max-keys=n&continuation-token=..
// Keys are stored under the URL's prefix; etags are returned without their quotes.
//
// Why 409 is a precondition failure: S3 answers 409 ConditionalRequestConflict when another
// conditional write to the same key was in progress and it aborted ours. Ours was not applied,
// and the caller's response to PreconditionFailed (re-read, merge, retry with the new etag) is
// exactly right for "someone else is writing this key". It is never mistaken for success.
//
// Failures: transient ones (5xx, 503 SlowDown, 429, timeouts, resets) are retried with jittered
// exponential backoff until the call's deadline, for every request that is safe to send twice;
// a conditional PUT that may have been applied is never resent but reported as OutcomeUnknown,
// and the caller re-reads and compares (retry_policy.h explains which is which).
//
// Server quirks handled here (docs/OPERATIONS.md, "Server quirks", has the list per server):
//   - Ceph radosgw compares If-Match on PUT with the stored etag *without* quotes, so a quoted
//     If-Match never matches. Set ceph_unquoted_if_match=true, or leave it at auto: the first
//     time an If-Match PUT gets 412 although a HEAD shows the object still has that etag, the
//     store sends it once more unquoted and, if that succeeds, uses unquoted etags from then on.
//   - AWS answers an If-Match PUT on a missing key with 404 NoSuchKey, Ceph with 412: both are
//     PreconditionFailed ("the object is gone").
//   - Ceph answers some of several racing If-Match PUTs with 500: OutcomeUnknown, as for any 500
//     after a conditional write.
//
// Thread safety: all methods may be called concurrently; at most max_in_flight requests are in
// flight at once, on kept-alive connections (http_client.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/s3/http_client.h"
#include "store/s3/retry_policy.h"
#include "store/s3/s3_config.h"
#include "store/s3/sigv4.h"
#include "store/store.h"

namespace ds::store::s3 {

class S3Store final : public Store {
 public:
  // Counters since the store was opened, for INFO and tests.
  struct Stats {
    uint64_t requests = 0;             // HTTP requests sent (attempts, retries included)
    uint64_t retries = 0;              // attempts after the first of a call
    uint64_t throttled = 0;            // 503 / 429 answers
    uint64_t server_errors = 0;        // other 5xx answers
    uint64_t transport_errors = 0;     // timeouts, resets, refused connections
    uint64_t precondition_failed = 0;  // conditional writes that lost (412 / 409)
    uint64_t outcome_unknown = 0;      // conditional writes reported OutcomeUnknown
    uint64_t failed_calls = 0;         // calls that ran out of deadline on transient failures
    uint64_t connections_opened = 0;
    bool unquoted_if_match = false;  // the Ceph quirk is in use (configured or detected)
  };

  // Opens the store named by an s3:// URL, reading credentials and defaults through `getenv`.
  // Makes no request: a wrong bucket or wrong credentials show up at the first call.
  static Result<std::unique_ptr<S3Store>> Open(
      std::string_view url, const std::function<std::optional<std::string>(const char*)>& getenv);

  // The same from an already parsed configuration (tests tune timeouts this way).
  static std::unique_ptr<S3Store> OpenWithConfig(S3Config config);

  ~S3Store() override;

  Result<Object> Get(std::string_view key, std::string_view if_none_match = {}) override;
  Result<std::string> Put(std::string_view key, std::string_view data,
                          const WriteCondition& condition) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view continuation,
                        size_t max_keys) override;
  std::string Describe() const override;
  // A bucket can always be shared by several daemons.
  bool MayHaveOtherWriters() const override { return true; }
  // stats() as "s3_<name>" counters.
  std::vector<std::pair<std::string, uint64_t>> Metrics() const override;

  Stats stats() const;
  const S3Config& config() const { return config_; }

 private:
  explicit S3Store(S3Config config);

  // One S3 call: a request that Execute signs, sends and retries as its kind allows.
  struct Call {
    std::string method;
    std::string object_key;  // full key, prefix included; empty for a bucket-level request
    QueryList query;
    HeaderList headers;  // besides host, x-amz-date, x-amz-content-sha256 and Authorization
    std::string_view body;
    RequestKind kind = RequestKind::kIdempotent;
    size_t max_response_bytes = size_t{1} << 20;
  };
  // A definite answer from the server (any status), with its parsed error body.
  struct Reply {
    HttpResponse http;
    std::string error_code;
    std::string error_message;
  };

  Result<Reply> Execute(const Call& call);
  Result<std::string> PutOnce(std::string_view full_key, std::string_view data,
                              const WriteCondition& condition, bool unquoted);
  // Status for a reply that the operation does not expect.
  Status UnexpectedReply(const Call& call, const Reply& reply) const;
  std::string FullKey(std::string_view key) const;
  uint64_t Random();

  const S3Config config_;
  const SigV4Signer signer_;
  HttpClient http_;

  // The Ceph If-Match quirk: 0 unknown, 1 quoted etags match, 2 only unquoted ones do.
  std::atomic<int> if_match_style_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_

  struct Counters {
    std::atomic<uint64_t> requests{0}, retries{0}, throttled{0}, server_errors{0},
        transport_errors{0}, precondition_failed{0}, outcome_unknown{0}, failed_calls{0};
  };
  mutable Counters counters_;
};

// "abc" for "\"abc\"", W/"abc" and abc: S3 etags are compared without their quotes.
std::string NormalizeEtag(std::string_view etag);

}  // namespace ds::store::s3
