// SessionPrefetch: starts loading the sessions a batch of requests will touch, before they run.
//
// With many sessions, a request's first touches of its session's memory (the table's slot, the
// actor, its keys, their values) are cache misses, each depending on the one before, so a
// request waits for them one at a time. Requests of a batch are independent of one another,
// though: the table slots of the whole batch's sessions are requested as they are added
// (SessionTable::PrefetchSlot), then their memory in three more rounds (the actors, their keys,
// their values: SessionTable::PrefetchActor, SessionActor::PrefetchKeys, PrefetchValues), so that
// the misses of all the requests overlap and the requests then find their sessions in the
// cache. The batch is a pipelining client's read (Connection::ProcessInput), whose requests the
// parser has parsed ahead (protocol::RequestParser::ParseAhead). A prefetch is only a
// hint: it changes nothing, and a request it got wrong (not a session command after all) costs a
// lookup.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "session/session_table.h"

namespace ds::server {

class Server;
class Shard;

class SessionPrefetch {
 public:
  static constexpr size_t kMaxRequests = 32;

  // Prefetches for requests that run on `shard`, of `server`.
  SessionPrefetch(const Server& server, Shard& shard) : server_(server), shard_(shard) {}

  // Adds a request of command `name` whose first argument is `first`: a session of this shard
  // for a DS.* command. Past kMaxRequests requests, nothing more is added.
  void Add(std::string_view name, std::string_view first);
  // The further rounds, for the sessions added so far.
  void Finish();

 private:
  const Server& server_;
  Shard& shard_;
  size_t requests_ = 0;
  size_t found_ = 0;
  std::array<session::SessionTable::Slot, kMaxRequests> slots_;  // of the sessions found
};

}  // namespace ds::server
