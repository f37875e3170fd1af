// SessionTable: which sessions of one shard are resident in memory (SPEC §3 "Residency").
//
// Actors are kept in least-recently-used order. Maintenance (called periodically by the
// shard) evicts actors idle for longer than the idle timeout, then, while the shard's resident
// bytes (a running count the actors keep current) exceed its cap, the least recently used ones.
// Only evictable actors go (everything they accepted is durable and nobody waits on them): their
// state is already in the store and is reloaded by the next request. Used only from the shard's
// thread.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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
  // An open-addressing table holds each entry in a flat array instead: one group of hash tags,
  // one slot (the key's view and the actor pointer), the key's bytes, the actor. The key viewed
  // is the actor's own (an actor outlives its entry), so the table keeps no copy of it; and
  // since slots move when the table grows, the LRU links live in the actors (Residency).
  struct KeyHash {
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  using Index = boost::unordered_flat_map<std::string_view, std::shared_ptr<SessionActor>, KeyHash>;

  // What the table adds per resident session: a slot of the flat array (at most 7/8 of the
  // slots are in use) and its byte of tags. (The actor's Residency is part of the actor.)
  static constexpr size_t kEntryBytes = sizeof(Index::value_type) * 8 / 7 + 1;

  // The time to record for a use at `now`: never before the newest entry's.
  std::chrono::steady_clock::time_point TimeOfUse(std::chrono::steady_clock::time_point now) const;
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
