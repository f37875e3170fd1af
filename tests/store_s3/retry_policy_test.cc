// Which failed S3 attempts are retried, reported as OutcomeUnknown, or final
// (store/s3/retry_policy.h), and the backoff delays.
#include "store/s3/retry_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace ds::store::s3 {
namespace {

using std::chrono::milliseconds;

constexpr RequestKind kIdem = RequestKind::kIdempotent;
constexpr RequestKind kCond = RequestKind::kConditionalWrite;

HttpResponse Status(long status) {
  HttpResponse r;
  r.status = status;
  return r;
}

HttpResponse Transport(TransportError error, bool may_have_arrived) {
  HttpResponse r;
  r.error = error;
  r.may_have_arrived = may_have_arrived;
  return r;
}

TEST(ClassifyAttempt, DefiniteAnswersAreFinal) {
  for (long status : {200L, 204L, 304L, 400L, 403L, 404L, 412L}) {
    EXPECT_EQ(ClassifyAttempt(Status(status), "", kIdem), AttemptVerdict::kFinal) << status;
    EXPECT_EQ(ClassifyAttempt(Status(status), "", kCond), AttemptVerdict::kFinal) << status;
  }
}

TEST(ClassifyAttempt, ServerErrorsAreRetriedForIdempotentRequests) {
  for (long status : {500L, 502L, 503L, 504L, 429L, 599L}) {
    EXPECT_EQ(ClassifyAttempt(Status(status), "", kIdem), AttemptVerdict::kRetry) << status;
  }
}

TEST(ClassifyAttempt, ConditionalWriteIsNeverResentAfterAnAnswerThatMayFollowACommit) {
  // 500 after a conditional PUT: maybe applied (radosgw answers racing If-Match PUTs so).
  for (long status : {500L, 502L, 504L, 501L}) {
    EXPECT_EQ(ClassifyAttempt(Status(status), "InternalError", kCond),
              AttemptVerdict::kOutcomeUnknown)
        << status;
  }
}

TEST(ClassifyAttempt, ThrottlingIsRetriedEvenForConditionalWrites) {
  // 503 SlowDown and 429 refuse the request before it is applied.
  EXPECT_EQ(ClassifyAttempt(Status(503), "SlowDown", kCond), AttemptVerdict::kRetry);
  EXPECT_EQ(ClassifyAttempt(Status(503), "", kCond), AttemptVerdict::kRetry);
  EXPECT_EQ(ClassifyAttempt(Status(429), "", kCond), AttemptVerdict::kRetry);
}

TEST(ClassifyAttempt, ConflictIsFinalForConditionalAndRetriedForPlainWrites) {
  // Conditional: the store maps it to PreconditionFailed. Plain: OperationAborted, try again.
  EXPECT_EQ(ClassifyAttempt(Status(409), "ConditionalRequestConflict", kCond),
            AttemptVerdict::kFinal);
  EXPECT_EQ(ClassifyAttempt(Status(409), "OperationAborted", kIdem), AttemptVerdict::kRetry);
}

TEST(ClassifyAttempt, RequestTimeoutMeansTheBodyNeverArrived) {
  EXPECT_EQ(ClassifyAttempt(Status(400), "RequestTimeout", kCond), AttemptVerdict::kRetry);
  EXPECT_EQ(ClassifyAttempt(Status(400), "RequestTimeout", kIdem), AttemptVerdict::kRetry);
  EXPECT_EQ(ClassifyAttempt(Status(400), "InvalidArgument", kIdem), AttemptVerdict::kFinal);
}

TEST(ClassifyAttempt, TransportFailures) {
  // Never sent: always safe to send again.
  EXPECT_EQ(ClassifyAttempt(Transport(TransportError::kNotSent, false), "", kCond),
            AttemptVerdict::kRetry);
  EXPECT_EQ(ClassifyAttempt(Transport(TransportError::kNotSent, false), "", kIdem),
            AttemptVerdict::kRetry);
  for (TransportError e :
       {TransportError::kTimeout, TransportError::kConnectionLost, TransportError::kOther}) {
    // Sent (maybe): idempotent requests are resent, conditional writes are unknown...
    EXPECT_EQ(ClassifyAttempt(Transport(e, true), "", kIdem), AttemptVerdict::kRetry);
    EXPECT_EQ(ClassifyAttempt(Transport(e, true), "", kCond), AttemptVerdict::kOutcomeUnknown);
    // ...unless the request certainly did not arrive whole (e.g. a connect timeout).
    EXPECT_EQ(ClassifyAttempt(Transport(e, false), "", kCond), AttemptVerdict::kRetry);
  }
}

TEST(ClassifyAttempt, OversizedResponse) {
  // For a GET it is final (the store reports Limit); for a write it is a lost answer.
  EXPECT_EQ(ClassifyAttempt(Transport(TransportError::kResponseTooLarge, true), "", kIdem),
            AttemptVerdict::kFinal);
  EXPECT_EQ(ClassifyAttempt(Transport(TransportError::kResponseTooLarge, true), "", kCond),
            AttemptVerdict::kOutcomeUnknown);
}

TEST(BackoffDelay, GrowsExponentiallyWithinJitterBoundsUpToTheCap) {
  const milliseconds base(50), max(2000);
  for (int retry = 0; retry < 12; ++retry) {
    const int64_t cap = std::min<int64_t>(2000, int64_t{50} << retry);
    for (uint64_t random : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, ~uint64_t{0}}) {
      const milliseconds d = BackoffDelay(retry, base, max, random);
      EXPECT_GE(d.count(), cap / 2) << "retry " << retry;
      EXPECT_LE(d.count(), cap) << "retry " << retry;
    }
  }
}

TEST(BackoffDelay, JitterSpreadsTheDelays) {
  // The whole range [cap/2, cap] is reachable: random 0 gives the bottom, cap/2 the top.
  EXPECT_EQ(BackoffDelay(3, milliseconds(50), milliseconds(2000), 0).count(), 200);
  EXPECT_EQ(BackoffDelay(3, milliseconds(50), milliseconds(2000), 200).count(), 400);
  EXPECT_NE(BackoffDelay(3, milliseconds(50), milliseconds(2000), 17).count(),
            BackoffDelay(3, milliseconds(50), milliseconds(2000), 18).count());
}

TEST(BackoffDelay, HugeRetryCountsDoNotOverflow) {
  EXPECT_LE(BackoffDelay(1000, milliseconds(50), milliseconds(2000), ~uint64_t{0}).count(), 2000);
  EXPECT_GE(BackoffDelay(-1, milliseconds(50), milliseconds(2000), 0).count(), 25);
}

}  // namespace
}  // namespace ds::store::s3
