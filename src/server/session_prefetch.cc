#include "server/session_prefetch.h"

#include <array>

#include "server/server.h"
#include "server/shard.h"
#include "session/session_actor.h"

namespace ds::server {

void SessionPrefetch::Add(std::string_view name, std::string_view first) {
  if (requests_ == kMaxRequests) return;
  ++requests_;
  // The DS.* commands take the session key first, all but DS.CODEC, whose argument then finds
  // no session: one wasted lookup, where checking the name against the command table would
  // cost one for every request. Only sessions of this shard are looked at: the table belongs
  // to its thread.
  if (name.size() < 4 || (name[0] | 0x20) != 'd' || (name[1] | 0x20) != 's' || name[2] != '.' ||
      first.empty() || &server_.ShardFor(first) != &shard_) {
    return;
  }
  if (session::SessionTable::Slot slot = shard_.sessions().PrefetchSlot(first)) {
    slots_[found_++] = slot;
  }
}

void SessionPrefetch::Finish() {
  std::array<const session::SessionActor*, kMaxRequests> actors;
  for (size_t i = 0; i < found_; ++i) actors[i] = session::SessionTable::PrefetchActor(slots_[i]);
  for (size_t i = 0; i < found_; ++i) actors[i]->PrefetchKeys();
  for (size_t i = 0; i < found_; ++i) actors[i]->PrefetchValues();
}

}  // namespace ds::server
