// INFO [section]: the running daemon's state, in Redis's "# Section" / "field:value" format
// so that existing Redis tooling and exporters can read it (SPEC §4, §7).
//
// Counters live in each shard and are touched only by that shard's thread, so INFO posts a
// collector to every shard and formats the sum once the last one has answered.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "server/command_handlers.h"
#include "server/command_stats.h"
#include "server/connection.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/shard.h"
#include "session/session_stats.h"

namespace ds::server {
namespace {

struct Totals {
  std::mutex mu;
  size_t remaining = 0;
  session::SessionStats sessions;
  CommandStats commands;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ::tolower);
  return out;
}

std::string Format(Server& server, const Totals& t, const std::string& section) {
  auto want = [&](std::string_view name) {
    return section.empty() || section == "all" || section == "default" || section == "everything" ||
           section == name;
  };
  std::string out;
  auto field = [&out](std::string_view k, const auto& v) { out += fmt::format("{}:{}\r\n", k, v); };
  const session::SessionStats& s = t.sessions;

  if (want("server")) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - server.started_at())
                      .count();
    out += "# Server\r\n";
    field("durable_stash_version", "0.1.0");
    field("redis_version", "7.0.0");  // the protocol level clients may check for
    field("process_id", getpid());
    field("tcp_port", server.port());
    field("uptime_in_seconds", uptime);
    field("shards", server.shards().size());
    field("shutting_down", server.shutting_down() ? 1 : 0);
    out += "\r\n";
  }
  if (want("clients")) {
    out += "# Clients\r\n";
    field("connected_clients", server.connected_clients());
    field("total_connections_received", server.total_connections());
    field("rejected_connections", server.rejected_connections());
    field("maxclients", server.config().max_clients);
    out += "\r\n";
  }
  if (want("sessions")) {
    out += "# Sessions\r\n";
    field("resident_sessions", s.resident);
    field("resident_bytes", s.resident_bytes);
    field("dirty_sessions", s.dirty_sessions);
    field("pending_bytes", s.pending_bytes);
    field("stashes_refused_backlog", s.stashes_refused_backlog);
    field("session_loads", s.loads);
    field("evicted_idle", s.evictions_idle);
    field("evicted_memory", s.evictions_memory);
    field("expired_sessions", s.expired);
    field("stashes", s.stashes);
    field("recovers", s.recovers);
    field("recovers_without_io", s.recovers_without_io);
    field("ttl_seconds", server.config().ttl.count());
    field("idle_timeout_seconds", server.config().idle_timeout.count());
    out += "\r\n";
  }
  if (want("store")) {
    out += "# Store\r\n";
    field("store", server.store_description());
    field("store_gets", s.store_gets);
    field("store_puts", s.store_puts);
    field("store_deletes", s.store_deletes);
    field("store_errors", s.store_errors);
    field("precondition_conflicts", s.precondition_conflicts);
    field("outcome_unknown_writes", s.outcome_unknown);
    field("writes_coalesced", s.flushes_coalesced);
    field("revalidations", s.revalidations);
    field("revalidations_not_modified", s.revalidations_not_modified);
    field("revalidations_changed", s.revalidations_changed);
    field("store_shared", server.store().MayHaveOtherWriters() ? 1 : 0);
    // The store implementation's own counters (the s3 store: requests, retries, throttling...).
    for (const auto& [name, value] : server.store().Metrics()) field(name, value);
    const TtlSweeper::Stats& sweep = server.sweep_stats();
    field("stored_sessions_at_last_sweep", sweep.listed_last_pass.load());
    field("sweep_running", sweep.running.load() ? 1 : 0);
    field("sweep_passes_completed", sweep.passes_completed.load());
    field("sweep_listed_this_pass", sweep.listed.load());
    field("sweep_checked", sweep.checked.load());
    field("sweep_list_errors", sweep.list_errors.load());
    out += "\r\n";
  }
  if (want("latency")) {
    out += "# Latency\r\n";
    for (const auto& [name, h] : t.commands.latency) {
      out += fmt::format("latency_{}:count={},p50_us={},p99_us={},p999_us={}\r\n", name, h.total,
                         h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999));
    }
    for (const auto& [name, calls] : t.commands.calls) {
      field("calls_" + name, calls);
    }
    out += "\r\n";
  }
  if (want("errors")) {
    out += "# Errors\r\n";
    for (const auto& [kind, count] : t.commands.errors) field("errorstat_" + kind, count);
    out += "\r\n";
  }
  return out;
}

}  // namespace

void CmdInfo(Connection& conn, const Args& args) {
  std::string section = args.size() > 1 ? Lower(args[1]) : "";
  Connection::Slot slot = conn.Reserve();
  auto totals = std::make_shared<Totals>();
  Server& server = conn.server();
  totals->remaining = server.shards().size();
  for (const auto& shard : server.shards()) {
    boost::asio::post(shard->loop(), [totals, s = shard.get(), &server, section, slot,
                                      conn = conn.shared_from_this()] {
      std::lock_guard<std::mutex> lock(totals->mu);
      totals->sessions += s->session_stats();
      totals->commands += s->command_stats();
      if (--totals->remaining == 0) {
        Connection::CompleteFrom(*s, conn, slot, BulkReply(Format(server, *totals, section)));
      }
    });
  }
}

}  // namespace ds::server
