// CommandStats: per-shard counters of commands, errors and latency, reported by INFO.
//
// Latency is kept in a fixed log-scale histogram (powers of two of microseconds) so that
// percentiles can be read without storing samples; INFO merges the shards' histograms.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <string>

namespace ds::server {

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
  std::map<std::string, uint64_t> calls;            // by command name, e.g. "ds.stash"
  std::map<std::string, uint64_t> errors;           // by error kind, e.g. "LIMIT"
  std::map<std::string, LatencyHistogram> latency;  // by command name, session commands only

  CommandStats& operator+=(const CommandStats& o) {
    for (const auto& [k, v] : o.calls) calls[k] += v;
    for (const auto& [k, v] : o.errors) errors[k] += v;
    for (const auto& [k, v] : o.latency) latency[k] += v;
    return *this;
  }
};

}  // namespace ds::server
