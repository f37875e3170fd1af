// Helpers that build complete RESP replies, shared by the command handlers.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/resp_writer.h"

namespace ds::server {

// The machine-readable first word of an error reply for a Status (SPEC §4): clients branch on
// it. ERR for malformed requests, BADVALUE, LIMIT, TIMEOUT, UNAVAILABLE (retry later),
// CORRUPT (a stored object cannot be read), IOERR.
std::string_view ErrorKind(const Status& status);

inline std::string ErrorReply(std::string_view kind, std::string_view message) {
  std::string out;
  protocol::AppendError(out, kind, message);
  return out;
}

inline std::string ErrorReply(const Status& status) {
  return ErrorReply(ErrorKind(status), status.message());
}

// The reply of a command that succeeded with nothing to return. The bytes are also written in
// place where a stash answers (session_commands.cc, SendOk).
inline constexpr std::string_view kOkReply = "+OK\r\n";
inline std::string OkReply() { return std::string(kOkReply); }

inline std::string IntegerReply(int64_t n) {
  std::string out;
  protocol::AppendInteger(out, n);
  return out;
}

inline std::string BulkReply(std::string_view bytes) {
  std::string out;
  protocol::AppendBulk(out, bytes);
  return out;
}

}  // namespace ds::server
