// SessionTable: which sessions of one shard are resident in memory (SPEC §3 "Residency").
//
// Actors are kept in least-recently-used order, to within a second (SessionOptions::
// lru_reorder_interval: a session used again soon after it was last moved to the front stays in
// place). Maintenance (called periodically by the shard) evicts actors idle for longer than the
// idle timeout, then, while the shard's resident bytes (a running count the actors keep current)
// exceed its cap, the least recently used ones.
// Only evictable actors go (everything they accepted is durable and nobody waits on them): their
// state is already in the store and is reloaded by the next request. Used only from the shard's
// thread.
#pragma once

#include <boost/unordered/unordered_flat_set.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/hash.h"
#include "common/prefetch.h"
#include "session/session_actor.h"

namespace ds::session {

class SessionTable {
 public:
  explicit SessionTable(ActorEnv env) : env_(env) {}
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // The resident actor for `key`, or nullptr. Marks it used at `now` (a request passes the
  // time it was read, which saves reading the clock again).
  std::shared_ptr<SessionActor> Find(
      std::string_view key,
      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // Looking ahead at a read's requests, in rounds so that the cache misses of all its sessions
  // overlap (server/session_prefetch.h). Neither step is a use: the LRU order is unchanged.
  //
  // PrefetchSlot: the table slot probably holding `key`'s actor (a HashProbe candidate: now and
  // then another resident actor's), or nullptr, after requesting the slot's line from memory.
  // Only the table's tags are read, not the slot nor the actor, so the lookups of a whole read
  // are started before any of them has to wait.
  using Slot = const std::shared_ptr<SessionActor>*;
  Slot PrefetchSlot(std::string_view key) const {
    auto candidate = index_.find(HashProbe{Hash64(key)});
    if (candidate == index_.end()) return nullptr;
    PrefetchLine(&*candidate);
    return &*candidate;
  }
  // The next round: the actor in `slot`, after requesting its lines (SessionActor::PrefetchSelf).
  // `slot` must come from PrefetchSlot with no change to the table since.
  static const SessionActor* PrefetchActor(Slot slot) {
    (*slot)->PrefetchSelf();
    return slot->get();
  }
  // The resident actor for `key`, creating an unloaded one if needed. Marks it used at `now`.
  std::shared_ptr<SessionActor> FindOrCreate(
      std::string_view key,
      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Evicts idle actors and enforces the memory cap. Updates stats.resident. The cost is the
  // idle sessions and the evictions, not the resident sessions: stats.resident_bytes is kept
  // current as actors change.
  void Maintain(std::chrono::steady_clock::time_point now);
  // stats.resident_bytes computed from scratch by visiting every actor: what the running
  // count must equal whenever no handler is running (tests check that it does).
  size_t RecountResidentBytes() const;

  size_t size() const { return index_.size(); }
  // What `actor` costs while resident: SessionActor::ApproximateBytes plus its table entry. The
  // memory cap and INFO's resident_bytes count this.
  static size_t ResidentBytes(const SessionActor& actor) {
    return kEntryBytes + actor.ApproximateBytes();
  }
  // Number of resident sessions with accepted writes that are not durable yet.
  size_t CountUndurable() const;
  void ForEach(const std::function<void(SessionActor&)>& fn) const;
  // Drops every actor (shutdown, after the shard has flushed what it could).
  void Clear();

 private:
  // Every request looks its session up here, and with many sessions each memory access of a
  // lookup is a cache miss. A node-based hash set (std::unordered_set) costs a bucket, the node
  // before the wanted one (its list is singly linked), the node, then the actor and its key.
  // An open-addressing set holds the actors' pointers in a flat array instead: one group of
  // hash tags, one slot, then the actor, whose key is held inline (SessionActor::key) and is
  // compared where the request reads the actor anyway. Since slots move when the set grows,
  // the LRU links live in the actors (Residency).
  using ActorPtr = std::shared_ptr<SessionActor>;
  struct KeyHash {  // Hash64 (common/hash.h), whose bits the set may use as they are
    using is_transparent = void;
    using is_avalanching = void;
    size_t operator()(std::string_view key) const { return Hash64(key); }
    size_t operator()(const ActorPtr& actor) const { return Hash64(actor->key()); }
    size_t operator()(HashProbe probe) const { return probe.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    static std::string_view KeyOf(std::string_view key) { return key; }
    static std::string_view KeyOf(const ActorPtr& actor) { return actor->key(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) == KeyOf(b);
    }
    bool operator()(HashProbe /*probe*/, const ActorPtr& /*candidate*/) const { return true; }
  };
  using Index = boost::unordered_flat_set<ActorPtr, KeyHash, KeyEqual>;

  // What the table adds per resident session: a slot of the flat array (at most 7/8 of the
  // slots are in use) and its byte of tags. (The actor's Residency is part of the actor.)
  static constexpr size_t kEntryBytes = sizeof(ActorPtr) * 8 / 7 + 1;

  // The time to record for moving an actor to the newest end at `now`: never before the newest
  // entry's, so that the order stays sorted by it.
  std::chrono::steady_clock::time_point TimeOfPlacement(
      std::chrono::steady_clock::time_point now) const;
  // How long after its placement a use leaves an actor in place: lru_reorder_interval, but at
  // most 1/16 of the idle timeout.
  std::chrono::steady_clock::duration ReorderInterval() const;
  void Touch(SessionActor& actor, std::chrono::steady_clock::time_point now);
  void LinkNewest(SessionActor& actor);
  void Unlink(SessionActor& actor);
  // Takes `actor` out of the order and the index, which may destroy it.
  void Erase(SessionActor& actor);

  ActorEnv env_;
  Index index_;
  SessionActor* newest_ = nullptr;  // most recently used
  SessionActor* oldest_ = nullptr;  // least recently used
};

}  // namespace ds::session
