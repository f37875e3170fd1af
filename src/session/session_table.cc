#include "session/session_table.h"

#include <algorithm>

namespace ds::session {

void SessionTable::LinkNewest(SessionActor& actor) {
  SessionActor::Residency& r = actor.residency();
  r.older = newest_;
  r.newer = nullptr;
  if (newest_ != nullptr) newest_->residency().newer = &actor;
  newest_ = &actor;
  if (oldest_ == nullptr) oldest_ = &actor;
}

void SessionTable::Unlink(SessionActor& actor) {
  SessionActor::Residency& r = actor.residency();
  (r.newer != nullptr ? r.newer->residency().older : newest_) = r.older;
  (r.older != nullptr ? r.older->residency().newer : oldest_) = r.newer;
  r.newer = r.older = nullptr;
}

std::chrono::steady_clock::time_point SessionTable::TimeOfPlacement(
    std::chrono::steady_clock::time_point now) const {
  // `now` is when the request was read, and a request from another shard can come after a
  // later-read one: taking the newest entry's time if it is later keeps the list sorted by
  // time, which idle eviction relies on (it stops at the first recent entry).
  return newest_ != nullptr ? std::max(now, newest_->placed()) : now;
}

std::chrono::steady_clock::duration SessionTable::ReorderInterval() const {
  const SessionOptions& o = env_.options;
  return std::min<std::chrono::steady_clock::duration>(o.lru_reorder_interval, o.idle_timeout / 16);
}

void SessionTable::Touch(SessionActor& actor, std::chrono::steady_clock::time_point now) {
  // Placed recently enough: it stays, and its neighbours are not written.
  if (now < actor.placed() + ReorderInterval()) return;
  actor.placed() = TimeOfPlacement(now);
  if (newest_ == &actor) return;
  Unlink(actor);
  LinkNewest(actor);
}

void SessionTable::Erase(SessionActor& actor) {
  Unlink(actor);
  actor.StopAccounting();
  env_.stats.resident_bytes -= kEntryBytes;
  // The slot holds the table's reference: erasing it may destroy the actor, which nothing reads
  // afterwards.
  index_.erase(index_.find(actor.key()));
}

std::shared_ptr<SessionActor> SessionTable::Find(std::string_view key,
                                                 std::chrono::steady_clock::time_point now) {
  auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  Touch(**found, now);
  return *found;
}

std::shared_ptr<SessionActor> SessionTable::FindOrCreate(
    std::string_view key, std::chrono::steady_clock::time_point now) {
  if (auto actor = Find(key, now)) return actor;
  auto actor = std::make_shared<SessionActor>(env_, key);
  actor->placed() = TimeOfPlacement(now);
  index_.insert(actor);
  LinkNewest(*actor);
  env_.stats.resident = index_.size();
  env_.stats.resident_bytes += kEntryBytes;
  actor->StartAccounting();
  return actor;
}

void SessionTable::Maintain(std::chrono::steady_clock::time_point now) {
  // Idle eviction: walk from the least recently used end until the first recent entry.
  auto idle_before = now - env_.options.idle_timeout;
  for (SessionActor* a = oldest_; a != nullptr && a->placed() <= idle_before;) {
    SessionActor* newer = a->residency().newer;
    if (a->Evictable()) {
      Erase(*a);
      env_.stats.evictions_idle++;
    }
    a = newer;
  }

  // Memory cap: least recently used first. Actors with writes still in flight stay. The
  // resident bytes are kept current by the actors themselves (SessionActor::StartAccounting),
  // so this pass visits only the sessions it evicts.
  for (SessionActor* a = oldest_;
       env_.stats.resident_bytes > env_.options.max_resident_bytes && a != nullptr;) {
    SessionActor* newer = a->residency().newer;
    if (a->Evictable()) {
      Erase(*a);
      env_.stats.evictions_memory++;
    }
    a = newer;
  }
  env_.stats.resident = index_.size();
}

size_t SessionTable::RecountResidentBytes() const {
  size_t bytes = 0;
  for (const SessionActor* a = newest_; a != nullptr; a = a->residency().older) {
    bytes += ResidentBytes(*a);
  }
  return bytes;
}

size_t SessionTable::CountUndurable() const {
  size_t n = 0;
  for (const SessionActor* a = newest_; a != nullptr; a = a->residency().older) {
    n += a->HasUndurableWrites() ? 1 : 0;
  }
  return n;
}

void SessionTable::ForEach(const std::function<void(SessionActor&)>& fn) const {
  for (SessionActor* a = newest_; a != nullptr; a = a->residency().older) fn(*a);
}

void SessionTable::Clear() {
  for (SessionActor* a = newest_; a != nullptr; a = a->residency().older) a->StopAccounting();
  newest_ = oldest_ = nullptr;
  index_.clear();
  env_.stats.resident = 0;
  env_.stats.resident_bytes = 0;
}

}  // namespace ds::session
