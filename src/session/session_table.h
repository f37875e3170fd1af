// SessionTable: which sessions of one shard are resident in memory (SPEC §3 "Residency").
//
// Actors are kept in least-recently-used order. Maintenance (called periodically by the
// shard) evicts actors idle for longer than the idle timeout, then, while the shard's resident
// bytes exceed its cap, the least recently used ones. Only evictable actors go (everything they
// accepted is durable and nobody waits on them): their state is already in the store and is
// reloaded by the next request. Used only from the shard's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "session/session_actor.h"

namespace ds::session {

class SessionTable {
 public:
  explicit SessionTable(ActorEnv env) : env_(env) {}
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // The resident actor for `key`, or nullptr. Marks it recently used.
  std::shared_ptr<SessionActor> Find(std::string_view key);
  // The resident actor for `key`, creating an unloaded one if needed. Marks it recently used.
  std::shared_ptr<SessionActor> FindOrCreate(std::string_view key);

  // Evicts idle actors and enforces the memory cap. Updates stats.resident(_bytes).
  void Maintain(std::chrono::steady_clock::time_point now);

  size_t size() const { return index_.size(); }
  // Number of resident sessions with accepted writes that are not durable yet.
  size_t CountUndurable() const;
  void ForEach(const std::function<void(SessionActor&)>& fn) const;
  // Drops every actor (shutdown, after the shard has flushed what it could).
  void Clear();

 private:
  struct Entry {
    std::shared_ptr<SessionActor> actor;
    std::chrono::steady_clock::time_point last_used;
  };
  using Lru = std::list<Entry>;  // front = most recently used

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void Touch(Lru::iterator it);

  ActorEnv env_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator, StringHash, std::equal_to<>> index_;
};

}  // namespace ds::session
