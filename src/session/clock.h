// Clock: where the session layer gets wall-clock time from.
//
// Write times (per-key last-write-wins across daemons) and TTL both use wall-clock
// microseconds. Tests substitute a ManualClock to exercise expiry without waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

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

// A clock that gives every reading taken while a Hold lives the same answer: one reading of
// its source, taken at the first call.
//
// Why: a stash reads the time twice (its write time and the TTL check), and so does a recover;
// on a virtual machine a reading costs about 30 ns, a few percent of a pipelined request. The
// requests a connection sent together are answered within microseconds of one another, and
// giving them one reading changes nothing any of them can observe: write times stay strictly
// increasing per session (SessionActor::NextWriteTime), and a TTL is measured in days. Outside
// a Hold (timers, store completions, requests handed over from another shard) every call reads
// the source. Used from one thread (each shard has its own).
class BatchClock final : public Clock {
 public:
  explicit BatchClock(Clock& source) : source_(source) {}

  Micros Now() override {
    if (!holding_) return source_.Now();
    if (!held_) held_ = source_.Now();
    return *held_;
  }

  // Holds one reading for its lifetime (see above). A Hold made inside another keeps the outer
  // one's reading.
  class Hold {
   public:
    explicit Hold(BatchClock& clock) : clock_(clock), outer_(clock.holding_) {
      clock_.holding_ = true;
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() {
      if (outer_) return;
      clock_.holding_ = false;
      clock_.held_.reset();
    }

   private:
    BatchClock& clock_;
    const bool outer_;
  };

 private:
  Clock& source_;
  bool holding_ = false;
  std::optional<Micros> held_;  // the reading of the current Hold, once taken
};

}  // namespace ds::session
