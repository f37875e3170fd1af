#include "server/commands.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>

#include "protocol/resp_writer.h"
#include "server/command_handlers.h"
#include "server/command_stats.h"
#include "server/connection.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/shard.h"

namespace ds::server {
namespace {

using Handler = void (*)(Connection&, const Args&);

struct Command {
  CommandId id;           // its number in the statistics (command_stats.h)
  std::string_view name;  // upper case, as matched
  Handler handler;
  int min_args;  // including the command name
  int max_args;  // -1: no upper bound
  bool allowed_before_auth;
};

// The command table. Arity is checked here, so handlers can index args freely within it.
// Entries are in CommandId order (checked below), so an id is also an index.
constexpr std::array<Command, kCommandCount> kCommands = {{
    {CommandId::kPing, "PING", CmdPing, 1, 2, false},
    {CommandId::kEcho, "ECHO", CmdEcho, 2, 2, false},
    {CommandId::kAuth, "AUTH", CmdAuth, 2, 3, true},
    {CommandId::kHello, "HELLO", CmdHello, 1, -1, true},
    {CommandId::kQuit, "QUIT", CmdQuit, 1, -1, true},
    {CommandId::kInfo, "INFO", CmdInfo, 1, 2, false},
    {CommandId::kClient, "CLIENT", CmdClient, 2, 3, false},
    {CommandId::kCommand, "COMMAND", CmdCommand, 1, -1, false},
    {CommandId::kConfig, "CONFIG", CmdConfig, 2, -1, false},
    {CommandId::kSelect, "SELECT", CmdSelect, 2, 2, false},
    {CommandId::kCodec, "DS.CODEC", CmdCodec, 2, 2, false},
    {CommandId::kStash, "DS.STASH", CmdStash, 6, -1, false},
    {CommandId::kRecover, "DS.RECOVER", CmdRecover, 5, -1, false},
    {CommandId::kDrop, "DS.DROP", CmdDrop, 4, -1, false},
    {CommandId::kReset, "DS.RESET", CmdReset, 3, 3, false},
    {CommandId::kDelete, "DS.DELETE", CmdDelete, 2, 2, false},
    {CommandId::kSync, "DS.SYNC", CmdSync, 2, 3, false},
    {CommandId::kDump, "DS.DUMP", CmdDump, 2, 2, false},
}};

constexpr bool TableIsInIdOrder() {
  for (size_t i = 0; i < kCommands.size(); ++i) {
    if (static_cast<size_t>(kCommands[i].id) != i) return false;
  }
  return true;
}
static_assert(TableIsInIdOrder(), "kCommands must list the commands in CommandId order");

// ASCII case-insensitive equality; `upper` is already upper case.
bool EqualsUpper(std::string_view upper, std::string_view s) {
  if (upper.size() != s.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

// The commands of each name length, so that a lookup compares a name with at most the few
// commands as long as it (DS.RECOVER with one, DS.STASH with three) instead of walking the
// whole table on every request.
constexpr size_t kMaxCommandName = [] {
  size_t longest = 0;
  for (const Command& c : kCommands) longest = std::max(longest, c.name.size());
  return longest;
}();
constexpr size_t kMostOfOneLength = [] {
  std::array<size_t, kMaxCommandName + 1> count{};
  for (const Command& c : kCommands) ++count[c.name.size()];
  return *std::max_element(count.begin(), count.end());
}();
struct ByLength {
  std::array<uint8_t, kMostOfOneLength> index{};
  size_t count = 0;
};
constexpr std::array<ByLength, kMaxCommandName + 1> kCommandsByLength = [] {
  std::array<ByLength, kMaxCommandName + 1> table{};
  for (size_t i = 0; i < kCommands.size(); ++i) {
    ByLength& same = table[kCommands[i].name.size()];
    same.index[same.count++] = static_cast<uint8_t>(i);
  }
  return table;
}();

const Command* FindCommand(std::string_view name) {
  if (name.size() > kMaxCommandName) return nullptr;
  const ByLength& candidates = kCommandsByLength[name.size()];
  for (size_t i = 0; i < candidates.count; ++i) {
    const Command& c = kCommands[candidates.index[i]];
    if (EqualsUpper(c.name, name)) return &c;
  }
  return nullptr;
}

std::string Printable(std::string_view s, size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

void DispatchCommand(Connection& conn, const Args& args) {
  const Command* cmd = FindCommand(args[0]);
  if (cmd == nullptr) {
    std::string msg = "unknown command '" + Printable(args[0]) + "', with args beginning with:";
    for (size_t i = 1; i < args.size() && i < 4; ++i) msg += " '" + Printable(args[i]) + "'";
    return ReplyError(conn, "ERR", msg);
  }
  conn.shard().command_stats().CountCall(cmd->id);
  int argc = static_cast<int>(args.size());
  if (argc < cmd->min_args || (cmd->max_args >= 0 && argc > cmd->max_args)) {
    return ReplyError(conn, "ERR",
                      "wrong number of arguments for '" + std::string(CommandMetricName(cmd->id)) +
                          "' command (see docs/PROTOCOL.md)");
  }
  if (!conn.authenticated && !cmd->allowed_before_auth) {
    return ReplyError(conn, "NOAUTH", "Authentication required.");
  }
  cmd->handler(conn, args);
}

void ReplyError(Connection& conn, const Status& status) {
  ReplyError(conn, ErrorKind(status), status.message());
}

void ReplyError(Connection& conn, std::string_view kind, std::string_view message) {
  CountError(conn.shard(), kind);
  conn.Reply(ErrorReply(kind, message));
}

void CountError(Shard& shard, std::string_view kind) {
  shard.command_stats().errors[std::string(kind)]++;
}

std::string_view ErrorKind(const Status& status) {
  switch (status.code()) {
    case StatusCode::kBadValue:
      return "BADVALUE";
    case StatusCode::kLimit:
      return "LIMIT";
    case StatusCode::kTimeout:
      return "TIMEOUT";
    case StatusCode::kUnavailable:
    case StatusCode::kOutcomeUnknown:
    case StatusCode::kShuttingDown:
      return "UNAVAILABLE";
    case StatusCode::kCorruption:
      return "CORRUPT";
    case StatusCode::kIOError:
      return "IOERR";
    default:
      return "ERR";
  }
}

// ---------------------------------------------------------------------------------------------
// Connection commands

void CmdPing(Connection& conn, const Args& args) {
  if (args.size() == 2) return conn.Reply(BulkReply(args[1]));
  conn.Reply("+PONG\r\n");
}

void CmdEcho(Connection& conn, const Args& args) { conn.Reply(BulkReply(args[1])); }

namespace {

// Compares in time independent of where the strings differ.
bool TokenMatches(std::string_view given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// AUTH token / AUTH default token (the Redis 6 form with a user name).
bool Authenticate(Connection& conn, std::string_view user, std::string_view token) {
  const std::string& expected = conn.server().config().auth_token;
  if (expected.empty()) return true;
  if (user != "default" || !TokenMatches(token, expected)) return false;
  conn.authenticated = true;
  return true;
}

}  // namespace

void CmdAuth(Connection& conn, const Args& args) {
  if (conn.server().config().auth_token.empty()) {
    return ReplyError(conn, "ERR",
                      "AUTH called, but this daemon needs no token (start it with "
                      "--auth-token-file to require one)");
  }
  std::string_view user = args.size() == 3 ? args[1] : "default";
  if (!Authenticate(conn, user, args.back())) {
    return ReplyError(conn, "WRONGPASS", "invalid token: check --auth-token-file on the daemon");
  }
  conn.Reply(OkReply());
}

void CmdHello(Connection& conn, const Args& args) {
  size_t i = 1;
  if (args.size() > 1) {
    std::string_view ver = args[1];
    if (ver != "2") {
      if (ver == "3") {
        return ReplyError(conn, "NOPROTO", "this daemon speaks RESP2 only; use HELLO 2");
      }
      return ReplyError(conn, "ERR", "Protocol version is not an integer or out of range");
    }
    i = 2;
  }
  for (; i < args.size(); ++i) {
    std::string opt(args[i]);
    std::transform(opt.begin(), opt.end(), opt.begin(), ::toupper);
    if (opt == "AUTH" && i + 2 < args.size()) {
      if (!Authenticate(conn, args[i + 1], args[i + 2])) {
        return ReplyError(conn, "WRONGPASS", "invalid token: check --auth-token-file");
      }
      i += 2;
    } else if (opt == "SETNAME" && i + 1 < args.size()) {
      conn.name = std::string(args[++i]);
    } else {
      return ReplyError(conn, "ERR", "Syntax error in HELLO option '" + Printable(args[i]) + "'");
    }
  }
  if (!conn.authenticated) return ReplyError(conn, "NOAUTH", "Authentication required.");
  std::string out;
  protocol::AppendArrayHeader(out, 14);
  protocol::AppendBulk(out, "server");
  protocol::AppendBulk(out, "durable-stashd");
  protocol::AppendBulk(out, "version");
  protocol::AppendBulk(out, "0.1.0");
  protocol::AppendBulk(out, "proto");
  protocol::AppendInteger(out, 2);
  protocol::AppendBulk(out, "id");
  protocol::AppendInteger(out, static_cast<int64_t>(conn.id()));
  protocol::AppendBulk(out, "mode");
  protocol::AppendBulk(out, "standalone");
  protocol::AppendBulk(out, "role");
  protocol::AppendBulk(out, "master");
  protocol::AppendBulk(out, "modules");
  protocol::AppendArrayHeader(out, 0);
  conn.Reply(out);
}

void CmdQuit(Connection& conn, const Args&) {
  conn.Reply(OkReply());
  conn.CloseAfterReplies();
}

void CmdClient(Connection& conn, const Args& args) {
  std::string sub(args[1]);
  std::transform(sub.begin(), sub.end(), sub.begin(), ::toupper);
  if (sub == "SETNAME" && args.size() == 3) {
    for (char c : args[2]) {
      if (c == ' ' || c == '\n' || c == '\r') {
        return ReplyError(conn, "ERR",
                          "Client names cannot contain spaces, newlines or special characters.");
      }
    }
    conn.name = std::string(args[2]);
    return conn.Reply(OkReply());
  }
  if (sub == "GETNAME" && args.size() == 2) {
    if (conn.name.empty()) {
      std::string out;
      protocol::AppendNull(out);
      return conn.Reply(out);
    }
    return conn.Reply(BulkReply(conn.name));
  }
  if (sub == "ID" && args.size() == 2)
    return conn.Reply(IntegerReply(static_cast<int64_t>(conn.id())));
  ReplyError(conn, "ERR",
             "unknown CLIENT subcommand '" + Printable(args[1]) +
                 "'; supported: SETNAME name, GETNAME, ID");
}

// redis-cli asks for COMMAND DOCS at start (for hints) and redis-benchmark for CONFIG GET:
// an empty answer tells them there is nothing to learn, without an error on their screen.
void CmdCommand(Connection& conn, const Args&) { conn.Reply("*0\r\n"); }
void CmdConfig(Connection& conn, const Args&) { conn.Reply("*0\r\n"); }

void CmdSelect(Connection& conn, const Args& args) {
  if (args[1] != "0") return ReplyError(conn, "ERR", "DB index is out of range (only 0 exists)");
  conn.Reply(OkReply());
}

void CmdCodec(Connection& conn, const Args& args) {
  std::string codec(args[1]);
  std::transform(codec.begin(), codec.end(), codec.begin(), ::toupper);
  if (codec == "JSON") {
    conn.codec = Codec::kJson;
  } else if (codec == "ETF") {
    conn.codec = Codec::kEtf;
  } else {
    return ReplyError(conn, "ERR", "DS.CODEC takes JSON or ETF");
  }
  conn.Reply(OkReply());
}

}  // namespace ds::server
