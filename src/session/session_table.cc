#include "session/session_table.h"

#include <algorithm>

namespace ds::session {

void SessionTable::LinkNewest(const Entry& e) {
  e.older = newest_;
  e.newer = nullptr;
  if (newest_ != nullptr) newest_->newer = &e;
  newest_ = &e;
  if (oldest_ == nullptr) oldest_ = &e;
}

void SessionTable::Unlink(const Entry& e) {
  (e.newer != nullptr ? e.newer->older : newest_) = e.older;
  (e.older != nullptr ? e.older->newer : oldest_) = e.newer;
  e.newer = e.older = nullptr;
}

std::chrono::steady_clock::time_point SessionTable::TimeOfUse(
    std::chrono::steady_clock::time_point now) const {
  // `now` is when the request was read, and a request from another shard can come after a
  // later-read one: taking the newest entry's time if it is later keeps the list sorted by
  // time, which idle eviction relies on (it stops at the first recent entry).
  return newest_ != nullptr ? std::max(now, newest_->last_used) : now;
}

void SessionTable::Touch(const Entry& e, std::chrono::steady_clock::time_point now) {
  e.last_used = TimeOfUse(now);
  if (newest_ == &e) return;
  Unlink(e);
  LinkNewest(e);
}

void SessionTable::Erase(const Entry& e) {
  Unlink(e);
  e.actor->StopAccounting();
  env_.stats.resident_bytes -= kEntryBytes;
  index_.erase(index_.find(e.actor->key()));
}

std::shared_ptr<SessionActor> SessionTable::Find(std::string_view key,
                                                 std::chrono::steady_clock::time_point now) {
  auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  Touch(*found, now);
  return found->actor;
}

std::shared_ptr<SessionActor> SessionTable::FindOrCreate(
    std::string_view key, std::chrono::steady_clock::time_point now) {
  if (auto actor = Find(key, now)) return actor;
  auto actor = std::make_shared<SessionActor>(env_, std::string(key));
  auto [it, inserted] = index_.insert(Entry{actor, nullptr, nullptr, TimeOfUse(now)});
  LinkNewest(*it);
  env_.stats.resident = index_.size();
  env_.stats.resident_bytes += kEntryBytes;
  actor->StartAccounting();
  return actor;
}

void SessionTable::Maintain(std::chrono::steady_clock::time_point now) {
  // Idle eviction: walk from the least recently used end until the first recent entry.
  auto idle_before = now - env_.options.idle_timeout;
  for (const Entry* e = oldest_; e != nullptr && e->last_used <= idle_before;) {
    const Entry* newer = e->newer;
    if (e->actor->Evictable()) {
      Erase(*e);
      env_.stats.evictions_idle++;
    }
    e = newer;
  }

  // Memory cap: least recently used first. Actors with writes still in flight stay. The
  // resident bytes are kept current by the actors themselves (SessionActor::StartAccounting),
  // so this pass visits only the sessions it evicts.
  for (const Entry* e = oldest_;
       env_.stats.resident_bytes > env_.options.max_resident_bytes && e != nullptr;) {
    const Entry* newer = e->newer;
    if (e->actor->Evictable()) {
      Erase(*e);
      env_.stats.evictions_memory++;
    }
    e = newer;
  }
  env_.stats.resident = index_.size();
}

size_t SessionTable::RecountResidentBytes() const {
  size_t bytes = 0;
  for (const Entry* e = newest_; e != nullptr; e = e->older) bytes += ResidentBytes(*e->actor);
  return bytes;
}

size_t SessionTable::CountUndurable() const {
  size_t n = 0;
  for (const Entry* e = newest_; e != nullptr; e = e->older) {
    n += e->actor->HasUndurableWrites() ? 1 : 0;
  }
  return n;
}

void SessionTable::ForEach(const std::function<void(SessionActor&)>& fn) const {
  for (const Entry* e = newest_; e != nullptr; e = e->older) fn(*e->actor);
}

void SessionTable::Clear() {
  for (const Entry* e = newest_; e != nullptr; e = e->older) e->actor->StopAccounting();
  newest_ = oldest_ = nullptr;
  index_.clear();
  env_.stats.resident = 0;
  env_.stats.resident_bytes = 0;
}

}  // namespace ds::session
