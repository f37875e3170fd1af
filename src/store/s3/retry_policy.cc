// Retry classification and backoff (see retry_policy.h).
#include "store/s3/retry_policy.h"

#include <algorithm>

namespace ds::store::s3 {
namespace {

// Statuses with which S3 (and proxies in front of it) refuse a request before acting on it.
bool RejectedUnapplied(long status) { return status == 503 || status == 429; }

// Statuses that may come after the server acted: an internal error mid-write, or a gateway that
// lost the upstream's answer.
bool TransientMaybeApplied(long status) { return status == 500 || status == 502 || status == 504; }

}  // namespace

AttemptVerdict ClassifyAttempt(const HttpResponse& response, const std::string& s3_error_code,
                               RequestKind kind) {
  const bool conditional = kind == RequestKind::kConditionalWrite;
  switch (response.error) {
    case TransportError::kNone:
      break;
    case TransportError::kNotSent:
      return AttemptVerdict::kRetry;
    case TransportError::kTimeout:
    case TransportError::kConnectionLost:
    case TransportError::kResponseTooLarge:
    case TransportError::kOther:
      // kOther covers failures such as a malformed response; like a lost connection they leave
      // the fate of a write open. A response too large is no transient failure for a read (the
      // caller maps it to Limit), but a write's answer is never large: treat it as lost.
      if (response.error == TransportError::kResponseTooLarge && !conditional) {
        return AttemptVerdict::kFinal;
      }
      if (conditional && response.may_have_arrived) return AttemptVerdict::kOutcomeUnknown;
      return AttemptVerdict::kRetry;
  }
  const long status = response.status;
  if (RejectedUnapplied(status)) return AttemptVerdict::kRetry;
  if (TransientMaybeApplied(status) || (status > 500 && status < 600)) {
    return conditional ? AttemptVerdict::kOutcomeUnknown : AttemptVerdict::kRetry;
  }
  // 400 RequestTimeout: the server gave up waiting for the rest of our request body, so it did
  // not apply it. 409 on an unconditional PUT is S3's "OperationAborted: a conflicting operation
  // is in progress": try again. (409 on a conditional PUT is a lost race: final, mapped to
  // PreconditionFailed by the store.)
  if (status == 400 && s3_error_code == "RequestTimeout") return AttemptVerdict::kRetry;
  if (status == 409 && !conditional) return AttemptVerdict::kRetry;
  return AttemptVerdict::kFinal;
}

std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds base,
                                       std::chrono::milliseconds max, uint64_t random) {
  const int shift = std::clamp(retry, 0, 30);
  const int64_t base_ms = std::max<int64_t>(1, base.count());
  const int64_t cap = std::min<int64_t>(max.count(), base_ms << shift);
  const int64_t half = cap / 2;
  const int64_t spread = cap - half + 1;
  return std::chrono::milliseconds(half +
                                   static_cast<int64_t>(random % static_cast<uint64_t>(spread)));
}

}  // namespace ds::store::s3
