// Status: the one result type for every operation in the engine that can fail.
//
// A Status is either OK or carries an error code and a human-readable message. The code is what
// callers branch on (a store's precondition failure must never be mistaken for a transient
// failure); the message is for people and ends up in RESP error replies and log lines.
//
// The engine does not throw exceptions across module boundaries: functions return Status, or
// Result<T> (result.h) when they also produce a value.
//
// Thread safety: a Status is a value type; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ds {

enum class StatusCode {
  kOk = 0,
  kNotFound,            // the object / session / key does not exist
  kNotModified,         // conditional read: the object still has the given etag
  kPreconditionFailed,  // a conditional write lost: another writer changed the object
  kUnavailable,         // transient failure (network, 5xx, timeout): retrying may succeed
  kOutcomeUnknown,      // a write may or may not have been applied (lost response)
  kInvalidArgument,     // the request is malformed (wrong arity, bad number, unknown option)
  kBadValue,            // a value cannot be normalized to JSON (SPEC §3 "Values")
  kLimit,               // a configured size or count limit would be exceeded
  kCorruption,          // stored bytes cannot be decoded
  kIOError,             // a local I/O failure that is not expected to go away by itself
  kTimeout,             // a deadline passed before the operation completed
  kShuttingDown,        // the daemon is stopping and no longer accepts the operation
};

class Status {
 public:
  Status() = default;  // OK

  static Status OK() { return {}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status NotModified(std::string msg) { return {StatusCode::kNotModified, std::move(msg)}; }
  static Status PreconditionFailed(std::string msg) {
    return {StatusCode::kPreconditionFailed, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status OutcomeUnknown(std::string msg) {
    return {StatusCode::kOutcomeUnknown, std::move(msg)};
  }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status BadValue(std::string msg) { return {StatusCode::kBadValue, std::move(msg)}; }
  static Status Limit(std::string msg) { return {StatusCode::kLimit, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Timeout(std::string msg) { return {StatusCode::kTimeout, std::move(msg)}; }
  static Status ShuttingDown(std::string msg) {
    return {StatusCode::kShuttingDown, std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsNotModified() const { return code_ == StatusCode::kNotModified; }
  bool IsPreconditionFailed() const { return code_ == StatusCode::kPreconditionFailed; }
  // True for failures worth retrying with backoff: the store may answer next time.
  bool IsTransient() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kTimeout ||
           code_ == StatusCode::kOutcomeUnknown;
  }

  // "NotFound: session abc" style, for logs and tests.
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// The name of a code, e.g. "PreconditionFailed".
std::string_view StatusCodeName(StatusCode code);

}  // namespace ds
