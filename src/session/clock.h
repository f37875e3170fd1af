// Clock: where the session layer gets wall-clock time from.
//
// Write times (per-key last-write-wins across daemons) and TTL both use wall-clock
// microseconds. Tests substitute a ManualClock to exercise expiry without waiting.
#pragma once

#include <atomic>
#include <chrono>

#include "session/session_state.h"

namespace ds::session {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() = 0;
};

class SystemClock final : public Clock {
 public:
  Micros Now() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start = 1'700'000'000'000'000) : now_(start) {}
  Micros Now() override { return now_.load(); }
  void Advance(Micros delta) { now_ += delta; }

 private:
  std::atomic<Micros> now_;
};

}  // namespace ds::session
