// Prefetch: asks the CPU to start loading memory that code is about to read.
//
// With many sessions, the first touch of a session's memory by a request is nearly always a
// cache miss, and the misses of one request depend on each other (the table gives the actor,
// the actor its keys, the keys their values), so they come one after another. A pipelined
// client's requests are independent, though: issuing the loads of all of them before running
// any lets their misses overlap (server/connection.cc, PrefetchSessions). A prefetch is only a
// hint: it never faults, changes nothing, and is dropped if the memory system is busy.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ds {

inline constexpr size_t kCacheLineBytes = 64;

enum class PrefetchFor { kRead, kWrite };

// Prefetches the cache lines holding [p, p + bytes), at most `max_lines` of them. kWrite asks
// for the lines in a state that lets them be written without another trip to memory.
template <PrefetchFor kFor = PrefetchFor::kRead>
inline void PrefetchBytes(const void* p, size_t bytes, size_t max_lines = 8) {
  auto line = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{kCacheLineBytes - 1};
  const auto end = reinterpret_cast<uintptr_t>(p) + bytes;
  for (size_t n = 0; line < end && n < max_lines; line += kCacheLineBytes, ++n) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), kFor == PrefetchFor::kWrite ? 1 : 0);
  }
}

}  // namespace ds
