#include "common/status.h"

namespace ds {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kNotModified:
      return "NotModified";
    case StatusCode::kPreconditionFailed:
      return "PreconditionFailed";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kOutcomeUnknown:
      return "OutcomeUnknown";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kBadValue:
      return "BadValue";
    case StatusCode::kLimit:
      return "Limit";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kTimeout:
      return "Timeout";
    case StatusCode::kShuttingDown:
      return "ShuttingDown";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace ds
