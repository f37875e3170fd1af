// SessionTable: which sessions of one shard are resident in memory (SPEC §3 "Residency").
//
// Actors are kept in least-recently-used order. Maintenance (called periodically by the
// shard) evicts actors idle for longer than the idle timeout, then, while the shard's resident
// bytes (a running count the actors keep current) exceed its cap, the least recently used ones.
// Only evictable actors go (everything they accepted is durable and nobody waits on them): their
// state is already in the store and is reloaded by the next request. Used only from the shard's
// thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

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
  // One resident session. The entries form the LRU order themselves (an intrusive doubly
  // linked list, newest first) and live in a hash set keyed by their actor's key: per session
  // the table makes one allocation and keeps no copy of the key. Unordered sets never move
  // their elements, so the links stay valid until an entry is erased. The links and the time
  // are not part of the set's key, hence mutable.
  struct Entry {
    std::shared_ptr<SessionActor> actor;
    mutable const Entry* newer = nullptr;
    mutable const Entry* older = nullptr;
    mutable std::chrono::steady_clock::time_point last_used;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    size_t operator()(const Entry& e) const { return (*this)(e.actor->key()); }
  };
  struct KeyEqual {
    using is_transparent = void;
    static std::string_view KeyOf(std::string_view key) { return key; }
    static std::string_view KeyOf(const Entry& e) { return e.actor->key(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) == KeyOf(b);
    }
  };
  using Index = std::unordered_set<Entry, KeyHash, KeyEqual>;

  // What the table adds per resident session: the set's node (its next pointer, the entry and
  // the cached hash) with a malloc header, and a bucket pointer.
  static constexpr size_t kEntryBytes =
      sizeof(void*) + sizeof(Entry) + sizeof(size_t) + 16 + sizeof(void*);

  // The time to record for a use at `now`: never before the newest entry's.
  std::chrono::steady_clock::time_point TimeOfUse(std::chrono::steady_clock::time_point now) const;
  void Touch(const Entry& e, std::chrono::steady_clock::time_point now);
  void LinkNewest(const Entry& e);
  void Unlink(const Entry& e);
  // Takes `e` out of the order and the index, which destroys it.
  void Erase(const Entry& e);

  ActorEnv env_;
  Index index_;
  const Entry* newest_ = nullptr;  // most recently used
  const Entry* oldest_ = nullptr;  // least recently used
};

}  // namespace ds::session
