// TtlSweeper: deletes expired sessions from the store in the background (SPEC §3 "TTL").
//
// An expired session is never returned by a recover — the actor checks expiry on every load
// and access — but a session nobody asks for again would stay in the store forever. Every
// `interval` the sweeper walks the store's session objects (a List, a page at a time) and
// hands each one that may have expired to the session's actor, which loads it, and, if it
// has expired, deletes it through its normal write path: the sweep therefore never races
// with a request for the same session, because both go through the same actor.
//
// Cost is bounded: at most `rate` sessions are checked per second (each check is one GET,
// plus one DELETE when expired), and objects whose last-modified time is within the TTL are
// skipped without being read at all (a session's object is rewritten at least every
// ttl / 100 while it is used, so its last-modified time is a safe lower bound of its last use).
//
// Runs on the server's control loop; its counters are atomics because INFO reads them from
// the shards' threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "common/log.h"
#include "session/clock.h"
#include "session/store_executor.h"

namespace ds::server {

class TtlSweeper {
 public:
  struct Options {
    std::chrono::seconds interval{3600};  // between the starts of two passes; 0 disables
    double rate = 50;                     // sessions checked per second at most
    std::string key_prefix = "sessions/";
    session::Micros ttl = 0;
  };
  // Asks the session's actor to expire it if due; calls `done` (from any thread) when the
  // check has been made.
  using CheckFn = std::function<void(const std::string& session_key, std::function<void()> done)>;

  struct Stats {
    std::atomic<uint64_t> passes_started{0};
    std::atomic<uint64_t> passes_completed{0};
    std::atomic<uint64_t> listed{0};            // objects seen so far in the current pass
    std::atomic<uint64_t> listed_last_pass{0};  // objects in the store at the last full pass
    std::atomic<uint64_t> checked{0};           // sessions handed to their actors, all passes
    std::atomic<uint64_t> list_errors{0};
    std::atomic<bool> running{false};
  };

  TtlSweeper(boost::asio::io_context& loop, session::StoreExecutor& executor, session::Clock& clock,
             Options options, CheckFn check, Logger& logger);
  TtlSweeper(const TtlSweeper&) = delete;
  TtlSweeper& operator=(const TtlSweeper&) = delete;

  // Schedules the first pass one interval from now (no-op when the interval is 0).
  void Start();
  void Stop();
  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }

 private:
  static constexpr size_t kPageSize = 1000;
  static constexpr size_t kMaxInFlight = 64;

  void ScheduleNextPass();
  void StartPass();
  void ListNext();
  void CheckNext();
  void EndPass();

  boost::asio::io_context& loop_;
  session::StoreExecutor& executor_;
  session::Clock& clock_;
  Options options_;
  CheckFn check_;
  Logger& logger_;
  boost::asio::steady_timer pass_timer_;
  boost::asio::steady_timer pace_timer_;
  bool stopped_ = false;

  std::deque<std::string> queue_;  // session keys of the current page still to check
  std::string continuation_;       // of the next page; empty after the last one
  bool last_page_ = false;
  size_t in_flight_ = 0;
  bool pacing_ = false;
  std::chrono::steady_clock::time_point pass_started_;
  Stats stats_;
};

}  // namespace ds::server
