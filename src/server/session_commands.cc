// The DS.* session commands: argument checks and value normalization on the connection's
// shard, then the session actor on the shard that owns the session.
#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "codec/etf.h"
#include "codec/json.h"
#include "codec/utf8.h"
#include "common/name_compare.h"
#include "protocol/resp_writer.h"
#include "server/command_handlers.h"
#include "server/command_stats.h"
#include "server/connection.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/shard.h"
#include "session/session_actor.h"
#include "session/session_key.h"

namespace ds::server {
namespace {

using session::KeyScope;
using session::MountKind;
using session::Mutation;
using session::RecoverReply;
using session::RecoverRequest;
using session::Scope;

constexpr std::chrono::milliseconds kDefaultSyncTimeout{5000};

// ---------------------------------------------------------------------------------------------
// Argument parsing

Status CheckSessionKey(std::string_view key) {
  if (session::IsValidSessionKey(key)) return Status::OK();
  return Status::InvalidArgument(
      "invalid session key: use 1-128 characters from A-Z a-z 0-9 - _ (clients send an HMAC "
      "of the cookie's sid in hex or base64url)");
}

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument(std::string(what) + " name must not be empty");
  if (!codec::IsValidUtf8Text(name)) {
    return Status::InvalidArgument(std::string(what) + " name must be valid UTF-8");
  }
  return Status::OK();
}

Status ParseInt64(std::string_view what, std::string_view text, int64_t* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument(std::string(what) + " must be an integer");
  }
  return Status::OK();
}

Status ParseMount(std::string_view text, MountKind* out) {
  if (text == "dead")
    *out = MountKind::kDead;
  else if (text == "fresh")
    *out = MountKind::kFresh;
  else if (text == "rejoin")
    *out = MountKind::kRejoin;
  else
    return Status::InvalidArgument("mount must be dead, fresh or rejoin");
  return Status::OK();
}

Status ParseScope(std::string_view text, Scope* out) {
  if (text == "session")
    *out = Scope::kSession;
  else if (text == "reconnect")
    *out = Scope::kReconnect;
  else
    return Status::InvalidArgument("scope must be session or reconnect");
  return Status::OK();
}

// Turns a value as the client sent it (JSON text or ETF) into canonical JSON text (SPEC §3
// "Values"). Errors name the key.
Result<std::string> NormalizeValue(Codec codec, std::string_view key, std::string_view raw) {
  // Most JSON values arrive already canonical (an encoder's output with sorted keys): then
  // normalizing would rebuild the same bytes, and a copy is the result.
  if (codec == Codec::kJson && codec::IsCanonicalJson(raw)) return std::string(raw);
  Result<codec::JsonValue> value =
      codec == Codec::kJson ? codec::ParseJson(raw) : codec::DecodeEtf(raw);
  if (!value.ok()) {
    std::string msg = "key \"" + std::string(key) + "\": " + value.status().message();
    return value.status().code() == StatusCode::kLimit ? Status::Limit(std::move(msg))
                                                       : Status::BadValue(std::move(msg));
  }
  return codec::WriteJson(*value);
}

// The first key of a stash that repeats an earlier one, or nullptr. Stashes are small: up to
// 16 keys are compared pairwise, without allocating; beyond that a set bounds the work.
const std::string* FindRepeatedKey(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  constexpr size_t kPairwise = 16;
  if (entries.size() <= kPairwise) {
    for (size_t i = 1; i < entries.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (NameEqual(entries[j].first, entries[i].first)) return &entries[i].first;
      }
    }
    return nullptr;
  }
  std::set<std::string_view> seen;
  for (const auto& [key, value] : entries) {
    if (!seen.insert(key).second) return &key;
  }
  return nullptr;
}

// A stored (canonical JSON) value in the connection's encoding.
void AppendValue(std::string& out, Codec codec, std::string_view json) {
  if (codec == Codec::kJson) return protocol::AppendBulk(out, json);
  Result<codec::JsonValue> value = codec::ParseJson(json);
  protocol::AppendBulk(out, value.ok() ? codec::EncodeEtf(*value) : std::string());
}

// ---------------------------------------------------------------------------------------------
// Routing to the owning shard

// Where a session command's reply goes: the reserved slot of the connection that sent it,
// from whichever shard produced it. Records the command's latency and counts an error reply
// on the owner shard, so every session command is measured the same way. Small and copyable:
// it is captured by value in the actor's completion callback (one allocation for both).
class ReplyTo {
 public:
  // `start` is when the request was read: its latency includes waiting behind the requests
  // before it in the same read.
  ReplyTo(std::shared_ptr<Connection> conn, Connection::Slot slot, Shard& owner, CommandId id,
          std::chrono::steady_clock::time_point start)
      : conn_(std::move(conn)), slot_(slot), owner_(&owner), id_(id), start_(start) {}

  std::chrono::steady_clock::time_point start() const { return start_; }

  void operator()(std::string bytes) const {
    RecordLatency();
    if (!bytes.empty() && bytes[0] == '-') {
      CountError(*owner_, std::string_view(bytes).substr(1, bytes.find(' ') - 1));
    }
    Connection::CompleteFrom(*owner_, conn_, slot_, std::move(bytes));
  }

  // A reply that is not an error, of at most `bound` bytes that `write(char* at)` writes at
  // `at` (returning the end of what it wrote): on the connection's own shard it is written
  // straight into the output buffer when it is next in line (Connection::CompleteWriting).
  template <typename Write>
  void Written(size_t bound, Write&& write) const {
    if (owner_ != &conn_->shard()) return (*this)(protocol::WriteBounded(bound, write));
    RecordLatency();
    conn_->CompleteWriting(slot_, bound, write);
  }

 private:
  void RecordLatency() const {
    auto took = std::chrono::steady_clock::now() - start_;
    owner_->command_stats().RecordLatency(
        id_,
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  }

  std::shared_ptr<Connection> conn_;
  Connection::Slot slot_;
  Shard* owner_;
  CommandId id_;
  std::chrono::steady_clock::time_point start_;
};

// Runs `op(owner, session_key, reply)` on the shard that owns `session_key`, where `owner` is
// that shard and `reply` a ReplyTo for this request's slot. `op` is called exactly once. Ops
// look the session up with `reply.start()` as its time of use, before `reply` moves into the
// session's callback.
//
// On the common path the owner is this connection's own shard and `op` runs here and now,
// with the key still a view into the request: nothing is copied or type-erased for the trip.
// Otherwise `op` travels to the owner's loop with its own copy of the key (Shard::SendTo).
template <typename Op>
void OnOwnerShard(Connection& conn, CommandId id, std::string_view session_key, Op op) {
  conn.NoteRequestSession(session_key);
  Connection::Slot slot = conn.Reserve();
  Shard& owner = conn.server().ShardFor(session_key);
  ReplyTo reply(conn.shared_from_this(), slot, owner, id, conn.read_at());
  if (&owner == &conn.shard()) {
    op(owner, session_key, std::move(reply));
    return;
  }
  conn.shard().SendTo(owner, [&owner, key = std::string(session_key), op = std::move(op),
                              reply = std::move(reply)]() mutable {
    op(owner, std::string_view(key), std::move(reply));
  });
}

// A recover's outcome as a RESP bulk string, framed here once rather than on every reply.
std::string_view OutcomeBulk(RecoverReply::Outcome outcome) {
  switch (outcome) {
    case RecoverReply::Outcome::kRecovered:
      return "$9\r\nrecovered\r\n";
    case RecoverReply::Outcome::kNotFound:
      return "$9\r\nnot_found\r\n";
    case RecoverReply::Outcome::kVsnMismatch:
      return "$12\r\nvsn_mismatch\r\n";
  }
  return {};
}

// The most bytes a recover's reply in JSON takes: the reply is bounded up front and written in
// one pass, with no capacity check or call per piece (half the cost of appending).
size_t JsonRecoverReplyBound(const RecoverReply& r) {
  size_t bound = 2 * protocol::kMaxFramingBytes + OutcomeBulk(r.outcome).size();
  for (const auto& [key, json] : r.values) {
    bound += protocol::MaxBulkBytes(key.size()) + protocol::MaxBulkBytes(json.size());
  }
  return bound;
}

// Writes a recover's reply in JSON at `at`, which has JsonRecoverReplyBound bytes; returns the
// end of what it wrote. JSON values go out as stored.
char* WriteJsonRecoverReply(char* at, const RecoverReply& r) {
  const std::string_view outcome = OutcomeBulk(r.outcome);
  at = protocol::WriteArrayHeader(at, 2 + 2 * r.values.size());
  std::memcpy(at, outcome.data(), outcome.size());
  at = protocol::WriteInteger(at + outcome.size(), r.stored_vsn);
  for (const auto& [key, json] : r.values) {
    at = protocol::WriteBulk(at, key);
    at = protocol::WriteBulk(at, json);
  }
  return at;
}

std::string RecoverReplyBytes(const RecoverReply& r, Codec codec) {
  if (codec != Codec::kJson) {
    std::string out;
    protocol::AppendArrayHeader(out, 2 + 2 * r.values.size());
    out.append(OutcomeBulk(r.outcome));
    protocol::AppendInteger(out, r.stored_vsn);
    for (const auto& [key, json] : r.values) {
      protocol::AppendBulk(out, key);
      AppendValue(out, codec, json);
    }
    return out;
  }
  return protocol::WriteBounded(JsonRecoverReplyBound(r),
                                [&r](char* at) { return WriteJsonRecoverReply(at, r); });
}

// Sends a recover's outcome through `reply`: JSON replies are written where they go
// (ReplyTo::Written), the others built first.
void SendRecoverReply(const ReplyTo& reply, const Result<RecoverReply>& r, Codec codec) {
  if (!r.ok()) return reply(ErrorReply(r.status()));
  if (codec != Codec::kJson) return reply(RecoverReplyBytes(*r, codec));
  reply.Written(JsonRecoverReplyBound(*r),
                [&r](char* at) { return WriteJsonRecoverReply(at, *r); });
}

// "+OK" through `reply`, written where it goes (ReplyTo::Written) rather than built first: what a
// stash answers, once per request.
void SendOk(const ReplyTo& reply) {
  reply.Written(kOkReply.size(),
                [](char* at) { return std::copy(kOkReply.begin(), kOkReply.end(), at); });
}

}  // namespace

// DS.STASH session view vsn key value [key value ...]
void CmdStash(Connection& conn, const Args& args) {
  if ((args.size() - 4) % 2 != 0) {
    return ReplyError(conn, "ERR", "DS.STASH takes session view vsn followed by key value pairs");
  }
  Mutation m;
  m.kind = Mutation::Kind::kStash;
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  if (Status st = CheckName("view", args[2]); !st.ok()) return ReplyError(conn, st);
  if (Status st = ParseInt64("vsn", args[3], &m.vsn); !st.ok()) return ReplyError(conn, st);
  m.view = std::string(args[2]);
  m.entries.reserve((args.size() - 4) / 2);
  for (size_t i = 4; i < args.size(); i += 2) {
    if (Status st = CheckName("key", args[i]); !st.ok()) return ReplyError(conn, st);
    Result<std::string> json = NormalizeValue(conn.codec, args[i], args[i + 1]);
    if (!json.ok()) return ReplyError(conn, json.status());
    m.entries.emplace_back(std::string(args[i]), std::move(json).value());
  }
  if (const std::string* repeated = FindRepeatedKey(m.entries)) {
    return ReplyError(conn, "ERR", "key \"" + *repeated + "\" appears twice in one DS.STASH");
  }
  OnOwnerShard(conn, CommandId::kStash, args[1],
               [m = std::move(m)](Shard& owner, std::string_view key, ReplyTo reply) mutable {
                 auto session = owner.sessions().FindOrCreate(key, reply.start());
                 session->Stash(std::move(m), [reply = std::move(reply)](const Status& st) {
                   if (!st.ok()) return reply(ErrorReply(st));
                   SendOk(reply);
                 });
               });
}

// DS.RECOVER session view vsn mount [key scope ...]
void CmdRecover(Connection& conn, const Args& args) {
  if ((args.size() - 5) % 2 != 0) {
    return ReplyError(conn, "ERR",
                      "DS.RECOVER takes session view vsn mount followed by key scope pairs");
  }
  RecoverRequest req;
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  if (Status st = CheckName("view", args[2]); !st.ok()) return ReplyError(conn, st);
  if (Status st = ParseInt64("vsn", args[3], &req.vsn); !st.ok()) return ReplyError(conn, st);
  if (Status st = ParseMount(args[4], &req.mount); !st.ok()) return ReplyError(conn, st);
  req.view = session::ViewName(args[2]);
  req.keys.reserve((args.size() - 5) / 2);
  for (size_t i = 5; i < args.size(); i += 2) {
    KeyScope ks;
    if (Status st = CheckName("key", args[i]); !st.ok()) return ReplyError(conn, st);
    if (Status st = ParseScope(args[i + 1], &ks.scope); !st.ok()) return ReplyError(conn, st);
    ks.key = std::string(args[i]);
    req.keys.push_back(std::move(ks));
  }
  if (!session::RecoverNeedsStore(req.mount, req.keys)) {
    // Nothing in scope for this mount: answer without touching the session or the store.
    conn.shard().session_stats().recovers_without_io++;
    return conn.Reply(RecoverReplyBytes(RecoverReply{}, conn.codec));
  }
  OnOwnerShard(conn, CommandId::kRecover, args[1],
               [req = std::move(req), codec = conn.codec](Shard& owner, std::string_view key,
                                                          ReplyTo reply) mutable {
                 auto session = owner.sessions().FindOrCreate(key, reply.start());
                 // The reply views the session: it becomes bytes before the callback returns.
                 session->Recover(std::move(req),
                                  [reply = std::move(reply), codec](const Result<RecoverReply>& r) {
                                    SendRecoverReply(reply, r, codec);
                                  });
               });
}

// DS.DROP session view key [key ...]
void CmdDrop(Connection& conn, const Args& args) {
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  if (Status st = CheckName("view", args[2]); !st.ok()) return ReplyError(conn, st);
  std::vector<std::string> keys;
  for (size_t i = 3; i < args.size(); ++i) keys.emplace_back(args[i]);
  OnOwnerShard(
      conn, CommandId::kDrop, args[1],
      [view = std::string(args[2]), keys = std::move(keys)](Shard& owner, std::string_view key,
                                                            ReplyTo reply) mutable {
        auto session = owner.sessions().FindOrCreate(key, reply.start());
        session->Drop(
            std::move(view), std::move(keys), [reply = std::move(reply)](Result<size_t> r) {
              reply(r.ok() ? IntegerReply(static_cast<int64_t>(*r)) : ErrorReply(r.status()));
            });
      });
}

// DS.RESET session view
void CmdReset(Connection& conn, const Args& args) {
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  if (Status st = CheckName("view", args[2]); !st.ok()) return ReplyError(conn, st);
  OnOwnerShard(
      conn, CommandId::kReset, args[1],
      [view = std::string(args[2])](Shard& owner, std::string_view key, ReplyTo reply) mutable {
        auto session = owner.sessions().FindOrCreate(key, reply.start());
        session->Reset(std::move(view), [reply = std::move(reply)](Result<bool> r) {
          reply(r.ok() ? IntegerReply(*r ? 1 : 0) : ErrorReply(r.status()));
        });
      });
}

// DS.DELETE session
void CmdDelete(Connection& conn, const Args& args) {
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  OnOwnerShard(conn, CommandId::kDelete, args[1],
               [](Shard& owner, std::string_view key, ReplyTo reply) {
                 auto session = owner.sessions().FindOrCreate(key, reply.start());
                 session->Delete([reply = std::move(reply)](Result<bool> r) {
                   reply(r.ok() ? IntegerReply(*r ? 1 : 0) : ErrorReply(r.status()));
                 });
               });
}

// DS.SYNC session [timeout_ms]
void CmdSync(Connection& conn, const Args& args) {
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  int64_t timeout_ms = kDefaultSyncTimeout.count();
  if (args.size() == 3) {
    if (Status st = ParseInt64("timeout_ms", args[2], &timeout_ms); !st.ok() || timeout_ms < 0) {
      return ReplyError(conn, "ERR", "timeout_ms must be a non-negative integer");
    }
  }
  OnOwnerShard(conn, CommandId::kSync, args[1],
               [timeout_ms](Shard& owner, std::string_view key, ReplyTo reply) {
                 auto actor = owner.sessions().Find(key, reply.start());
                 if (!actor) return reply(OkReply());  // nothing accepted, nothing to wait for
                 actor->Sync(std::chrono::milliseconds(timeout_ms),
                             [reply = std::move(reply)](const Status& st) {
                               reply(st.ok() ? OkReply() : ErrorReply(st));
                             });
               });
}

// DS.DUMP session
void CmdDump(Connection& conn, const Args& args) {
  if (Status st = CheckSessionKey(args[1]); !st.ok()) return ReplyError(conn, st);
  OnOwnerShard(conn, CommandId::kDump, args[1],
               [](Shard& owner, std::string_view key, ReplyTo reply) {
                 auto session = owner.sessions().FindOrCreate(key, reply.start());
                 session->Dump([reply = std::move(reply)](Result<std::optional<std::string>> r) {
                   if (!r.ok()) return reply(ErrorReply(r.status()));
                   std::string out;
                   if (r->has_value()) {
                     protocol::AppendBulk(out, **r);
                   } else {
                     protocol::AppendNull(out);
                   }
                   reply(std::move(out));
                 });
               });
}

}  // namespace ds::server
