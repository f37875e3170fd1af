// Driver: runs one load against one server and measures it.
//
// Connections are spread over a few threads, each with its own epoll loop; nothing is shared
// between threads while the load runs, and their histograms are merged at the end.
//
// Three ways to send:
//   closed loop  each connection sends `depth` units at once and the next batch when every
//                reply of the previous one has arrived (redis-benchmark's -P). Latency runs
//                from the batch's write to each unit's last reply.
//   open loop    (rate > 0) units are scheduled at a fixed total rate, each connection on its
//                own evenly spaced timetable (batches of `depth`), and sent when their time
//                comes whether or not earlier replies have arrived. Latency runs from the
//                *scheduled* time, so a server that stalls is charged for every request that
//                should have been sent meanwhile: no coordinated omission.
//   sequential   sessions 0..sessions-1 once each, in order, then stop (closed loop); with
//                `requests`, that many units going round the sessions. For populating a
//                server, for the first access of each session, and for a fixed amount of work
//                to profile. Stops after `duration` at the latest.
//
// Measurement window (closed and open loop): the run starts with `warmup` (sent, answered, not
// counted), then `duration` during which sent units are counted. Units sent in the window are
// waited for after it (up to `drain`), so a slow tail is never cut off. Throughput is the
// number of units sent in the window and answered, divided by its length.
#pragma once

#include <cstdint>
#include <string>

#include "histogram.h"
#include "workload.h"

namespace ds::bench {

struct DriverOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 50;
  int threads = 2;
  int depth = 1;    // units per batch (pipeline depth)
  double rate = 0;  // open loop: total units per second; 0 = closed loop
  bool sequential = false;
  uint64_t sessions = 10000;  // units pick a session uniformly in [0, sessions)
  uint64_t requests = 0;      // sequential: units in all (session = n % sessions); 0: sessions
  // sequential: visit the sessions in a scattered but fixed order (a stride coprime with
  // `sessions`) instead of 0, 1, 2...: the same work in every run, with the memory access
  // pattern of random picks (each request lands on a session far from the previous one).
  bool scatter = false;
  double warmup_s = 1;
  double duration_s = 5;
  double drain_s = 10;
  uint64_t seed = 1;
};

struct DriverResult {
  std::string error;  // non-empty: the run failed (could not connect, connection lost)
  uint64_t units = 0;
  double seconds = 0;
  uint64_t answered = 0;       // every unit answered, warm-up and drain included (CPU per unit)
  uint64_t error_replies = 0;  // "-..." replies
  uint64_t unexpected_replies = 0;  // replies not matching the template's expectation
  std::string first_problem;        // the first such reply, for the report
  uint64_t unanswered = 0;          // units still waiting when the drain ended
  Histogram latency;

  double throughput() const { return seconds > 0 ? static_cast<double>(units) / seconds : 0; }
  bool clean() const {
    return error.empty() && error_replies + unexpected_replies + unanswered == 0;
  }
};

DriverResult RunLoad(const DriverOptions& options, const Template& unit);

}  // namespace ds::bench
