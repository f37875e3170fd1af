// Histogram: latency recording for the load generator, in the manner of HdrHistogram.
//
// Values (nanoseconds) go into log-linear buckets: every power-of-two range is split into
// kSubBuckets equal parts, so any recorded value is known to within 1/kSubBuckets (~1.6%) of
// itself, from a nanosecond to hours, in a fixed array and without storing samples.
// Recording is an index computation and an increment, cheap enough to do for every request.
// A quantile is reported as the highest value of the bucket that holds it (as HdrHistogram's
// valueAtPercentile does), so a figure never understates what was measured.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ds::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 6;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 64
  // Values below 2 * kSubBuckets are counted exactly; above, by (power of two, sub-bucket).
  static constexpr int kMaxShift = 40;  // up to 2^47 ns (~39 hours): far beyond any run
  static constexpr size_t kBuckets = 2 * kSubBuckets + kMaxShift * kSubBuckets;

  void Record(uint64_t nanos) {
    counts_[Index(nanos)]++;
    total_++;
    max_ = std::max(max_, nanos);
  }

  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }

  // The value at quantile q (0..1): the highest value equivalent to the sample at that rank.
  uint64_t Quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return std::min(HighestInBucket(i), max_);
    }
    return max_;
  }

  Histogram& operator+=(const Histogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
    return *this;
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < 2 * kSubBuckets) return static_cast<size_t>(v);
    // Keep the top kSubBucketBits + 1 bits: shift >= 1 here.
    const int shift = std::bit_width(v) - (kSubBucketBits + 1);
    if (shift > kMaxShift) return kBuckets - 1;
    return static_cast<size_t>(2 * kSubBuckets + static_cast<uint64_t>(shift - 1) * kSubBuckets +
                               ((v >> shift) - kSubBuckets));
  }

  static uint64_t HighestInBucket(size_t i) {
    if (i < 2 * kSubBuckets) return i;
    const uint64_t shift = (i - 2 * kSubBuckets) / kSubBuckets + 1;
    const uint64_t sub = (i - 2 * kSubBuckets) % kSubBuckets + kSubBuckets;
    return ((sub + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace ds::bench
