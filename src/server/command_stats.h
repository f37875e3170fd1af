// CommandStats: per-shard counters of commands, errors and latency, reported by INFO.
//
// Latency is kept in a fixed log-scale histogram (powers of two of microseconds) so that
// percentiles can be read without storing samples; INFO merges the shards' histograms.
//
// Commands are counted by number (CommandId, the command table's order) into fixed arrays:
// the request path does an array increment, not a lookup by name in a map. INFO's merge
// (operator+=) turns the numbers into the named maps it prints, so a shard's own maps hold
// only what is counted by name: error replies, by their first word.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ds::server {

// Every command the daemon answers, in the order of the command table (commands.cc).
enum class CommandId : uint8_t {
  kPing,
  kEcho,
  kAuth,
  kHello,
  kQuit,
  kInfo,
  kClient,
  kCommand,
  kConfig,
  kSelect,
  kCodec,
  kStash,
  kRecover,
  kDrop,
  kReset,
  kDelete,
  kSync,
  kDump,
};
inline constexpr size_t kCommandCount = 18;

// The name INFO reports for each command (calls_<name>, latency_<name>), by CommandId.
inline constexpr std::array<std::string_view, kCommandCount> kCommandMetricNames = {
    "ping",       "echo",    "auth",     "hello",     "quit",     "info",
    "client",     "command", "config",   "select",    "ds.codec", "ds.stash",
    "ds.recover", "ds.drop", "ds.reset", "ds.delete", "ds.sync",  "ds.dump",
};

inline constexpr std::string_view CommandMetricName(CommandId id) {
  return kCommandMetricNames[static_cast<size_t>(id)];
}

struct LatencyHistogram {
  static constexpr int kBuckets = 40;  // bucket i holds durations in [2^(i-1), 2^i) µs
  std::array<uint64_t, kBuckets> counts{};
  uint64_t total = 0;

  void Record(uint64_t micros) {
    int b = micros == 0 ? 0 : std::bit_width(micros);
    if (b >= kBuckets) b = kBuckets - 1;
    counts[b]++;
    total++;
  }
  // Upper bound (µs) of the bucket holding the given quantile, e.g. 0.99.
  uint64_t Quantile(double q) const {
    if (total == 0) return 0;
    auto target = static_cast<uint64_t>(q * static_cast<double>(total));
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts[i];
      if (seen > target) return i == 0 ? 1 : (uint64_t{1} << i);
    }
    return uint64_t{1} << (kBuckets - 1);
  }
  LatencyHistogram& operator+=(const LatencyHistogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts[i] += o.counts[i];
    total += o.total;
    return *this;
  }
};

struct CommandStats {
  // Counted on the request path, by command number.
  std::array<uint64_t, kCommandCount> calls_by_id{};
  std::array<LatencyHistogram, kCommandCount> latency_by_id{};  // session commands only

  // By name, as INFO prints them. `calls` and `latency` are filled by operator+= from the
  // arrays above; `errors` is counted by name directly (error replies are the rare path).
  std::map<std::string, uint64_t> calls;            // e.g. "ds.stash"
  std::map<std::string, uint64_t> errors;           // by error kind, e.g. "LIMIT"
  std::map<std::string, LatencyHistogram> latency;  // e.g. "ds.stash"

  void CountCall(CommandId id) { calls_by_id[static_cast<size_t>(id)]++; }
  void RecordLatency(CommandId id, uint64_t micros) {
    latency_by_id[static_cast<size_t>(id)].Record(micros);
  }

  // Adds `o` into the named maps (commands never called or timed do not appear).
  CommandStats& operator+=(const CommandStats& o) {
    for (size_t i = 0; i < kCommandCount; ++i) {
      const std::string name(kCommandMetricNames[i]);
      if (o.calls_by_id[i] > 0) calls[name] += o.calls_by_id[i];
      if (o.latency_by_id[i].total > 0) latency[name] += o.latency_by_id[i];
    }
    for (const auto& [k, v] : o.calls) calls[k] += v;
    for (const auto& [k, v] : o.errors) errors[k] += v;
    for (const auto& [k, v] : o.latency) latency[k] += v;
    return *this;
  }
};

}  // namespace ds::server
