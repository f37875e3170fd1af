// Prefetch: asks the CPU to start loading memory that code is about to read.
//
// With many sessions, the first touch of a session's memory by a request is nearly always a
// cache miss, and the misses of one request depend on each other (the table gives the actor,
// the actor its keys, the keys their values), so they come one after another. A pipelined
// client's requests are independent, though: issuing the loads of all of them before running
// any lets their misses overlap (server/session_prefetch.h). A prefetch is only a hint: it never
// faults and changes nothing, whatever the address.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ds {

inline constexpr size_t kCacheLineBytes = 64;

// Prefetches the cache line holding `p` into every level of cache. (A line the thread then
// writes needs no second trip either: a line no other core holds comes in writable.)
//
// An asm statement rather than __builtin_prefetch: GCC counts a function whose only effects
// are __builtin_prefetch calls as having none, and deletes calls to it (GCC 12 at -O2 did so
// to every prefetch of this daemon). A volatile asm is never deleted.
inline void PrefetchLine(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// How much of a buffer that is about to be overwritten by a copy is worth prefetching whole.
// A copy into memory that is not in the cache stalls on every line it writes: the CPU's own
// prefetcher follows a stream only after a few misses, and a 1 KiB value is over before that
// pays off. Prefetching all of its lines, with the other requests of a pipelined read, let
// the daemon spend ~8% less CPU per 1 KiB stash than prefetching its first 4 or 8 lines
// (BENCHMARKS.md, thirteenth round). Beyond 2 KiB a copy is long enough to be a stream.
inline constexpr size_t kCopyPrefetchLines = 32;

// Prefetches the cache lines holding [p, p + bytes), at most `max_lines` of them.
inline void PrefetchBytes(const void* p, size_t bytes, size_t max_lines = 8) {
  if (bytes == 0) return;
  const char* const first = static_cast<const char*>(p);
  const size_t offset = reinterpret_cast<uintptr_t>(first) % kCacheLineBytes;
  const size_t lines = std::min((offset + bytes - 1) / kCacheLineBytes + 1, max_lines);
  for (size_t i = 0; i < lines; ++i) {
    // A byte of the i-th line: i lines after `p`, but within the range (for the last line).
    PrefetchLine(first + std::min(i * kCacheLineBytes, bytes - 1));
  }
}

}  // namespace ds
