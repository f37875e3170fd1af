// SessionOptions: the knobs of the session layer, filled from the daemon's configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "session/session_state.h"

namespace ds::session {

struct SessionOptions {
  Limits limits;

  // A session expires this long after its last write or recover (SPEC §3 "TTL").
  Micros ttl = Micros{7} * 24 * 3600 * 1'000'000;

  // A recover refreshes the stored last_seen_at only when it is older than ttl / this divisor,
  // so that reads do not cost a store write each (with the default TTL: once every ~1.7 hours).
  int touch_divisor = 100;

  // An idle resident session is evicted from memory after this long (SPEC §3 "Residency").
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};

  // Resident sessions of one shard beyond this many bytes are evicted least recently used
  // first (the daemon divides its configured total among its shards).
  size_t max_resident_bytes = size_t{1} << 30;

  // A session used again within this long of its last move to the most recently used end of
  // its table's order stays where it is (SessionTable): moving it writes its two neighbours,
  // sessions picked at random by other requests, each a likely cache miss, and a busy session
  // is used many times a second. The order is therefore least-recently-used to within this
  // interval, for the memory cap and for idle eviction alike; the table uses at most 1/16 of
  // idle_timeout, so that no session is evicted before 15/16 of it. Zero keeps the order exact.
  std::chrono::milliseconds lru_reorder_interval{1000};

  // Identifies this daemon in the objects it writes (diagnostics only).
  std::string writer_id = "durable-stashd";

  // Object name of a session: key_prefix + session key.
  std::string key_prefix = "sessions/";

  // Retrying failed store operations: jittered exponential backoff from `retry_initial` up to
  // `retry_max` between attempts. Writes retry forever (an accepted write is never dropped);
  // a load gives up after `load_deadline` and fails the requests that waited for it.
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{5000};
  std::chrono::milliseconds load_deadline{10000};
};

}  // namespace ds::session
