// Declarations shared by the files that implement commands (internal to src/server).
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"

namespace ds::server {

class Connection;
class Shard;
using Args = std::vector<std::string_view>;

// Connection commands (commands.cc)
void CmdPing(Connection& conn, const Args& args);
void CmdEcho(Connection& conn, const Args& args);
void CmdAuth(Connection& conn, const Args& args);
void CmdHello(Connection& conn, const Args& args);
void CmdQuit(Connection& conn, const Args& args);
void CmdClient(Connection& conn, const Args& args);
void CmdCommand(Connection& conn, const Args& args);
void CmdConfig(Connection& conn, const Args& args);
void CmdSelect(Connection& conn, const Args& args);
void CmdCodec(Connection& conn, const Args& args);

// INFO (info.cc)
void CmdInfo(Connection& conn, const Args& args);

// Session commands (session_commands.cc)
void CmdStash(Connection& conn, const Args& args);
void CmdRecover(Connection& conn, const Args& args);
void CmdDrop(Connection& conn, const Args& args);
void CmdReset(Connection& conn, const Args& args);
void CmdDelete(Connection& conn, const Args& args);
void CmdSync(Connection& conn, const Args& args);
void CmdDump(Connection& conn, const Args& args);

// Replies with an error and counts it in the shard's error statistics.
void ReplyError(Connection& conn, const Status& status);
void ReplyError(Connection& conn, std::string_view kind, std::string_view message);
// Counts an error reply produced on `shard` (for replies built away from the connection).
void CountError(Shard& shard, std::string_view kind);

}  // namespace ds::server
