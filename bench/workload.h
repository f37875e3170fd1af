// Workload: what the load generator sends, as ready-made RESP bytes.
//
// A unit of work is one or more commands sent together (DS.STASH, or DS.STASH followed by
// DS.SYNC) whose latency ends with the unit's last reply. Each unit concerns one session,
// picked per unit; the session's number is the only thing that changes between units, so a
// unit is a byte template with fixed-width digit fields that are overwritten in place. That
// keeps request building to a memcpy and a few digit stores — the client must cost far less
// than either server, or it would measure itself.
//
// The same Template type carries both the daemon's commands and Redis's, so the two targets
// are driven by identical client code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ds::bench {

// Session keys are kSessionPrefix followed by kSessionDigits decimal digits: 24 characters,
// valid for the daemon ([A-Za-z0-9_-]) and about the length of a client's HMAC.
inline constexpr std::string_view kSessionPrefix = "bench-session-";
inline constexpr size_t kSessionDigits = 10;

class Template {
 public:
  // Placeholder for the session key in AddCommand arguments. An argument may also contain it
  // (e.g. "{session}:view:key" as a Redis key name).
  static constexpr std::string_view kSession = "{session}";

  // Appends one command to the unit.
  void AddCommand(const std::vector<std::string>& args);
  // The unit's next reply must begin with `prefix` (e.g. "+OK\r\n"); others are counted as
  // unexpected. Replies without an expectation must only not be errors.
  void ExpectReply(std::string prefix) { expect_.push_back(std::move(prefix)); }

  // Appends a unit for session `index` to `out`.
  void Append(uint64_t index, std::string& out) const;

  size_t replies_per_unit() const { return commands_; }
  // The expected prefix of the unit's `i`th reply ("" if none was given).
  std::string_view expected(size_t i) const {
    return i < expect_.size() ? std::string_view(expect_[i]) : std::string_view();
  }

 private:
  std::string bytes_;
  std::vector<size_t> digit_offsets_;  // where each session number's digits start
  std::vector<std::string> expect_;
  size_t commands_ = 0;
};

// Scans one complete RESP reply at the start of `data`. Returns its length in bytes, or 0 if
// more bytes are needed. Nested arrays are followed. `*bad` is set for malformed input.
size_t ReplyLength(std::string_view data, bool* bad);

// A JSON document of exactly `bytes` bytes (at least about 70), already in canonical form
// (sorted members, no whitespace), shaped like typical LiveView state: a few fields and text.
std::string JsonValueOfSize(size_t bytes, uint64_t seed);

}  // namespace ds::bench
