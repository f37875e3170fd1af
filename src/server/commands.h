// The command table: what each RESP command does (SPEC §4, docs/PROTOCOL.md).
//
// DispatchCommand runs on the connection's shard. Connection-level commands (PING, AUTH,
// DS.CODEC, ...) reply at once. Session commands check and normalize their arguments here —
// values are turned into canonical JSON on the connection's thread, so nothing of a stash
// with one bad value is applied — then run on the shard that owns the session
// (session_commands.cc), whose reply comes back to the connection's reply slot.
#pragma once

#include <string_view>
#include <vector>

namespace ds::server {

class Connection;

void DispatchCommand(Connection& conn, const std::vector<std::string_view>& args);

}  // namespace ds::server
