// Info: reads a running server's INFO fields with one blocking request, and a process's
// resident memory and CPU time from /proc. Used between load runs, never during one.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace ds::bench {

using InfoFields = std::map<std::string, std::string>;

// Sends INFO [section] to host:port and parses the "field:value" lines. On failure returns
// false with the reason in `*error`.
bool ReadInfo(const std::string& host, uint16_t port, const std::string& section,
              InfoFields* fields, std::string* error);

// A field as an integer, 0 if absent.
uint64_t InfoNumber(const InfoFields& fields, const std::string& name);

// VmRSS of process `pid` in bytes (0 if it cannot be read).
uint64_t ResidentBytes(uint64_t pid);

// CPU time, user and system, that process `pid` has used so far (all its threads), in
// microseconds; 0 if it cannot be read (e.g. the server runs on another host). The kernel
// counts it in clock ticks (10 ms here), so it suits runs of seconds.
uint64_t CpuMicros(uint64_t pid);

}  // namespace ds::bench
