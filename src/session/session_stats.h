// SessionStats: counters kept by one shard's session layer, reported by INFO.
//
// Each shard owns one and touches it only from its own thread; INFO collects a copy from every
// shard (by posting to each loop) and adds them up, so no counter needs to be atomic.
#pragma once

#include <cstdint>

namespace ds::session {

struct SessionStats {
  // Sessions
  uint64_t resident = 0;        // actors in memory now
  uint64_t resident_bytes = 0;  // approximate bytes they hold
  uint64_t loads = 0;           // store reads to bring a session into memory
  uint64_t evictions_idle = 0;
  uint64_t evictions_memory = 0;
  uint64_t expired = 0;  // sessions found expired on access

  // Commands
  uint64_t stashes = 0;
  uint64_t recovers = 0;
  uint64_t recovers_without_io = 0;  // nothing in scope: answered without touching the store

  // Store traffic caused by sessions
  uint64_t store_gets = 0;
  uint64_t store_puts = 0;
  uint64_t store_deletes = 0;
  uint64_t store_errors = 0;             // failed store operations (each retry counts)
  uint64_t precondition_conflicts = 0;   // another writer changed a session we wrote
  uint64_t outcome_unknown = 0;          // writes whose reply was lost, resolved by re-reading
  uint64_t flushes_coalesced = 0;        // mutations that rode along in an already-due write
  uint64_t dirty_sessions = 0;           // sessions with accepted writes not yet durable
  uint64_t pending_bytes = 0;            // bytes of accepted changes not yet durable
  uint64_t stashes_refused_backlog = 0;  // stashes refused: too much waiting for the store

  // Revalidation of resident sessions on a store shared with other writers
  uint64_t revalidations = 0;               // conditional GETs before a read
  uint64_t revalidations_not_modified = 0;  // ... that found the session unchanged
  uint64_t revalidations_changed = 0;       // ... that found another writer's newer version

  SessionStats& operator+=(const SessionStats& o) {
    resident += o.resident;
    resident_bytes += o.resident_bytes;
    loads += o.loads;
    evictions_idle += o.evictions_idle;
    evictions_memory += o.evictions_memory;
    expired += o.expired;
    stashes += o.stashes;
    recovers += o.recovers;
    recovers_without_io += o.recovers_without_io;
    store_gets += o.store_gets;
    store_puts += o.store_puts;
    store_deletes += o.store_deletes;
    store_errors += o.store_errors;
    precondition_conflicts += o.precondition_conflicts;
    outcome_unknown += o.outcome_unknown;
    flushes_coalesced += o.flushes_coalesced;
    dirty_sessions += o.dirty_sessions;
    pending_bytes += o.pending_bytes;
    stashes_refused_backlog += o.stashes_refused_backlog;
    revalidations += o.revalidations;
    revalidations_not_modified += o.revalidations_not_modified;
    revalidations_changed += o.revalidations_changed;
    return *this;
  }
};

}  // namespace ds::session
