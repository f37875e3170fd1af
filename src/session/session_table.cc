#include "session/session_table.h"

namespace ds::session {

void SessionTable::Touch(Lru::iterator it) {
  it->last_used = std::chrono::steady_clock::now();
  lru_.splice(lru_.begin(), lru_, it);
}

std::shared_ptr<SessionActor> SessionTable::Find(std::string_view key) {
  auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  Touch(found->second);
  return found->second->actor;
}

std::shared_ptr<SessionActor> SessionTable::FindOrCreate(std::string_view key) {
  if (auto actor = Find(key)) return actor;
  auto actor = std::make_shared<SessionActor>(env_, std::string(key));
  lru_.push_front(Entry{actor, std::chrono::steady_clock::now()});
  index_.emplace(std::string(key), lru_.begin());
  env_.stats.resident = index_.size();
  return actor;
}

void SessionTable::Maintain(std::chrono::steady_clock::time_point now) {
  // Idle eviction: walk from the least recently used end until the first recent entry.
  auto idle_before = now - env_.options.idle_timeout;
  for (auto it = lru_.end(); it != lru_.begin();) {
    --it;
    if (it->last_used > idle_before) break;
    if (!it->actor->Evictable()) continue;
    index_.erase(it->actor->key());
    it = lru_.erase(it);
    env_.stats.evictions_idle++;
  }

  // Memory cap: least recently used first. Actors with writes still in flight stay.
  size_t bytes = 0;
  for (const Entry& e : lru_) bytes += e.actor->ApproximateBytes();
  for (auto it = lru_.end(); bytes > env_.options.max_resident_bytes && it != lru_.begin();) {
    --it;
    if (!it->actor->Evictable()) continue;
    bytes -= it->actor->ApproximateBytes();
    index_.erase(it->actor->key());
    it = lru_.erase(it);
    env_.stats.evictions_memory++;
  }
  env_.stats.resident = index_.size();
  env_.stats.resident_bytes = bytes;
}

size_t SessionTable::CountUndurable() const {
  size_t n = 0;
  for (const Entry& e : lru_) n += e.actor->HasUndurableWrites() ? 1 : 0;
  return n;
}

void SessionTable::ForEach(const std::function<void(SessionActor&)>& fn) const {
  for (const Entry& e : lru_) fn(*e.actor);
}

void SessionTable::Clear() {
  index_.clear();
  lru_.clear();
  env_.stats.resident = 0;
}

}  // namespace ds::session
