// RetryPolicy: which failed S3 requests are sent again, and how long to wait before.
//
// The rule that keeps writes safe: a request is sent again only when sending it twice cannot
// change the outcome. GET, HEAD, LIST, DELETE and unconditional PUT are idempotent and are
// retried after any transient failure. A conditional PUT (If-None-Match / If-Match) is not: if
// the first copy was applied and its answer lost, the second copy fails its condition against
// our own write. So a conditional PUT is retried only when the server certainly did not apply it
// (no connection, 503 SlowDown / 429 throttling, which S3 answers before doing anything), and is
// otherwise reported as OutcomeUnknown for the caller to resolve by re-reading (SPEC §5).
//
// Backoff: "equal jitter", the n-th retry waits a uniformly random time in
// [cap/2, cap] with cap = min(max, base * 2^n): it grows like plain exponential backoff, and the
// randomness spreads out many clients that failed at the same moment (503 SlowDown storms).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "store/s3/http_client.h"

namespace ds::store::s3 {

enum class RequestKind {
  kIdempotent,        // GET, HEAD, LIST, DELETE, unconditional PUT
  kConditionalWrite,  // PUT with If-None-Match: * or If-Match
};

enum class AttemptVerdict {
  kFinal,           // a definite answer (success or a non-transient error): map it and return
  kRetry,           // transient, and safe to send again
  kOutcomeUnknown,  // transient, and a conditional write that may have been applied
};

// `s3_error_code` is the <Code> of the error body, if any (e.g. "SlowDown", "RequestTimeout").
AttemptVerdict ClassifyAttempt(const HttpResponse& response, const std::string& s3_error_code,
                               RequestKind kind);

// The wait before retry number `retry` (0 for the first retry). `random` is any uniformly
// distributed 64-bit number.
std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds base,
                                       std::chrono::milliseconds max, uint64_t random);

}  // namespace ds::store::s3
