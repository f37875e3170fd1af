// ds_bench: the load generator behind `make bench` (BENCHMARKS.md, issue 6).
//
// Subcommands (scripts/bench.sh runs them against servers it starts):
//   compare   the accept path: DS.STASH vs SET, DS.RECOVER vs GET, DS.STASH of 5 keys vs HSET
//             of 5 fields; 64 B and 1 KiB JSON values; closed loop at pipeline depth 1 and 16,
//             and open loop (fixed rate) at depth 1. Each case runs against Redis, then the
//             daemon, with the same client code, and one Markdown table compares them.
//   memory    daemon RSS growth over N resident sessions of 3 small keys each.
//   populate  stashes 3 small keys into sessions 0..N-1 (before `cold`, after a restart).
//   cold      recovers sessions 0..N-1 once each: every one is a load from the store.
//   durable   DS.STASH followed by DS.SYNC as one unit: durable stashes per second, and store
//             writes per 1,000 stashes.
//   fixed     a fixed number of requests of one kind, for profiling (callgrind).
//
// Figures go to stdout as Markdown; progress goes to stderr.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "driver.h"
#include "info.h"
#include "workload.h"

namespace ds::bench {
namespace {

constexpr const char* kView = "Elixir.BenchWeb.PageLive";
const std::string kSessionArg(Template::kSession);

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};

bool ParseEndpoint(const std::string& text, Endpoint* out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  out->host = text.substr(0, colon);
  const int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return false;
  out->port = static_cast<uint16_t>(port);
  return true;
}

struct Common {
  std::string ds = "127.0.0.1:7379";
  std::string redis;
  int connections = 50;
  int threads = 2;
  uint64_t sessions = 10000;
  double duration = 5;
  double warmup = 1;
  uint64_t seed = 1;

  DriverOptions Options() const {
    DriverOptions o;
    o.connections = connections;
    o.threads = threads;
    o.sessions = sessions;
    o.duration_s = duration;
    o.warmup_s = warmup;
    o.seed = seed;
    return o;
  }
};

std::string Ms(uint64_t nanos) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(nanos) / 1e6);
  return buf;
}

std::string Micros(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", micros);
  return buf;
}

std::string Count(double v) {  // 1234567 -> "1,234,567"
  const std::string digits = std::to_string(static_cast<uint64_t>(std::llround(v)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Ratio(double a, double b) {
  if (b <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", a / b);
  return buf;
}

// Runs one load and reports it on stderr, with any trouble (error or unexpected replies).
// Returns nullopt when the run failed outright.
std::optional<DriverResult> Run(const std::string& what, const Endpoint& at, DriverOptions options,
                                const Template& unit) {
  options.host = at.host;
  options.port = at.port;
  std::fprintf(stderr, "  %-46s ", what.c_str());
  std::fflush(stderr);
  DriverResult r = RunLoad(options, unit);
  if (!r.error.empty()) {
    std::fprintf(stderr, "FAILED: %s\n", r.error.c_str());
    return std::nullopt;
  }
  std::fprintf(stderr, "%10s/s  p50 %s ms  p99 %s ms\n", Count(r.throughput()).c_str(),
               Ms(r.latency.Quantile(0.5)).c_str(), Ms(r.latency.Quantile(0.99)).c_str());
  if (!r.clean()) {
    std::fprintf(stderr, "    WARNING: %llu error, %llu unexpected, %llu unanswered; first: %s\n",
                 static_cast<unsigned long long>(r.error_replies),
                 static_cast<unsigned long long>(r.unexpected_replies),
                 static_cast<unsigned long long>(r.unanswered), r.first_problem.c_str());
  }
  return r;
}

bool ReadInfoOrSay(const Endpoint& at, InfoFields* fields) {
  std::string error;
  if (ReadInfo(at.host, at.port, "", fields, &error)) return true;
  std::fprintf(stderr, "%s\n", error.c_str());
  return false;
}

// Waits (up to 60 s) until the daemon has no accepted write left to flush, so that one run's
// backlog does not slow the next, and RSS is read with nothing in flight.
void WaitForDaemonIdle(const Endpoint& ds) {
  for (int i = 0; i < 600; ++i) {
    InfoFields f;
    std::string error;
    if (!ReadInfo(ds.host, ds.port, "sessions", &f, &error)) return;
    if (InfoNumber(f, "dirty_sessions") == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "  (the daemon still has dirty sessions after 60 s)\n");
}

// ---------------------------------------------------------------------------------------------
// The accept-path cases

Template DsStash(const std::vector<std::string>& values) {
  Template t;
  std::vector<std::string> args = {"DS.STASH", kSessionArg, kView, "1"};
  for (size_t i = 0; i < values.size(); ++i) {
    args.push_back("k" + std::to_string(i));
    args.push_back(values[i]);
  }
  t.AddCommand(args);
  t.ExpectReply("+OK\r\n");
  return t;
}

Template DsRecover(size_t value_bytes) {
  Template t;
  t.AddCommand({"DS.RECOVER", kSessionArg, kView, "1", "rejoin", "k0", "session"});
  t.ExpectReply("*4\r\n$9\r\nrecovered\r\n:1\r\n$2\r\nk0\r\n$" + std::to_string(value_bytes) +
                "\r\n");
  return t;
}

// Redis holds the same information under one key per (session, view, key): what a Redis
// adapter would write.
Template RedisSet(const std::string& value) {
  Template t;
  t.AddCommand({"SET", kSessionArg + ":" + kView + ":k0", value});
  t.ExpectReply("+OK\r\n");
  return t;
}

Template RedisGet(size_t value_bytes) {
  Template t;
  t.AddCommand({"GET", kSessionArg + ":" + kView + ":k0"});
  t.ExpectReply("$" + std::to_string(value_bytes) + "\r\n");
  return t;
}

Template RedisHset(const std::vector<std::string>& values) {
  Template t;
  std::vector<std::string> args = {"HSET", kSessionArg + ":" + kView};
  for (size_t i = 0; i < values.size(); ++i) {
    args.push_back("k" + std::to_string(i));
    args.push_back(values[i]);
  }
  t.AddCommand(args);
  t.ExpectReply(":");
  return t;
}

std::vector<std::string> FiveValues() {
  std::vector<std::string> five;
  for (uint64_t i = 0; i < 5; ++i) five.push_back(JsonValueOfSize(64, 11 + i));
  return five;
}

struct Case {
  std::string name;
  Template ds;
  Template redis;
  std::optional<Template> ds_populate;  // recover cases: what must be stored first
  std::optional<Template> redis_populate;
};

std::string SizeLabel(size_t bytes) {
  return bytes >= 1024 && bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB"
                                            : std::to_string(bytes) + " B";
}

std::vector<Case> CompareCases(const std::vector<size_t>& sizes) {
  std::vector<Case> cases;
  for (size_t size : sizes) {
    const std::string value = JsonValueOfSize(size, 7);
    Case stash;
    stash.name = "DS.STASH 1 key " + SizeLabel(size) + " vs SET";
    stash.ds = DsStash({value});
    stash.redis = RedisSet(value);
    cases.push_back(std::move(stash));

    Case recover;
    recover.name = "DS.RECOVER 1 key " + SizeLabel(size) + " vs GET";
    recover.ds = DsRecover(value.size());
    recover.redis = RedisGet(value.size());
    recover.ds_populate = DsStash({value});
    recover.redis_populate = RedisSet(value);
    cases.push_back(std::move(recover));
  }
  Case stash5;
  stash5.name = "DS.STASH 5 keys 64 B vs HSET 5 fields";
  stash5.ds = DsStash(FiveValues());
  stash5.redis = RedisHset(FiveValues());
  cases.push_back(std::move(stash5));
  return cases;
}

struct Mode {
  std::string name;
  int depth;
  bool open;
};

int Compare(const Common& c, double rate_fraction, const std::vector<size_t>& sizes,
            const std::vector<int>& depths, bool open_loop, const std::string& only) {
  Endpoint ds;
  Endpoint redis;
  if (!ParseEndpoint(c.ds, &ds) || !ParseEndpoint(c.redis, &redis)) {
    std::fprintf(stderr, "compare needs --ds HOST:PORT and --redis HOST:PORT\n");
    return 2;
  }
  std::vector<Mode> modes;
  modes.reserve(depths.size() + 1);
  for (int d : depths) modes.push_back({"closed loop, P" + std::to_string(d), d, false});
  if (open_loop) modes.push_back({"fixed rate, P1", 1, true});

  InfoFields before;
  InfoFields redis_info;
  if (!ReadInfoOrSay(ds, &before) || !ReadInfoOrSay(redis, &redis_info)) return 1;
  // CPU per request of each server (both report process_id in INFO): the servers' own cost,
  // which the machine's noise moves far less than throughput (see BENCHMARKS.md "Noise").
  const uint64_t ds_pid = InfoNumber(before, "process_id");
  const uint64_t redis_pid = InfoNumber(redis_info, "process_id");
  const bool measure_cpu = CpuMicros(ds_pid) > 0 && CpuMicros(redis_pid) > 0;
  // Runs `unit` against `at` and returns the result with the server's CPU microseconds per
  // answered unit in `*cpu_per_unit` (0 when not measured).
  auto measured_run = [&](const std::string& what, const Endpoint& at, uint64_t pid,
                          const DriverOptions& o, const Template& unit, double* cpu_per_unit) {
    const uint64_t cpu_before = measure_cpu ? CpuMicros(pid) : 0;
    auto result = Run(what, at, o, unit);
    const uint64_t cpu_after = measure_cpu ? CpuMicros(pid) : 0;
    *cpu_per_unit = result && result->answered > 0 ? static_cast<double>(cpu_after - cpu_before) /
                                                         static_cast<double>(result->answered)
                                                   : 0;
    return result;
  };
  std::vector<std::string> rows;
  int failures = 0;
  for (Case& k : CompareCases(sizes)) {
    if (!only.empty() && k.name.find(only) == std::string::npos) continue;
    std::fprintf(stderr, "%s\n", k.name.c_str());
    if (k.ds_populate) {
      DriverOptions p = c.Options();
      p.sequential = true;
      p.depth = 16;
      p.duration_s = 120;
      Run("populate redis", redis, p, *k.redis_populate);
      Run("populate daemon", ds, p, *k.ds_populate);
      WaitForDaemonIdle(ds);
    }
    double redis_closed_p1 = 0;
    for (const Mode& m : modes) {
      DriverOptions o = c.Options();
      o.depth = m.depth;
      if (m.open) {
        if (redis_closed_p1 <= 0) continue;
        o.rate = std::floor(redis_closed_p1 * rate_fraction);
      }
      const std::string label = m.name + (m.open ? ", " + Count(o.rate) + "/s" : "");
      double r_cpu = 0;
      double d_cpu = 0;
      auto r = measured_run("redis  " + label, redis, redis_pid, o, k.redis, &r_cpu);
      auto d = measured_run("daemon " + label, ds, ds_pid, o, k.ds, &d_cpu);
      WaitForDaemonIdle(ds);
      if (!r || !d) {
        ++failures;
        continue;
      }
      if (!m.open && m.depth == 1) redis_closed_p1 = r->throughput();
      auto row = [&](const char* server, const DriverResult& x, double cpu, bool ratios) {
        std::string out = "| " + k.name + " | " + label + " | " + server + " | " +
                          Count(x.throughput()) + " | " + Ms(x.latency.Quantile(0.5)) + " | " +
                          Ms(x.latency.Quantile(0.99)) + " | " + Ms(x.latency.Quantile(0.999)) +
                          " | " + (cpu > 0 ? Micros(cpu) : "n/a") + " | ";
        if (ratios) {
          out += Ratio(x.throughput(), r->throughput()) + " | " +
                 Ratio(static_cast<double>(x.latency.Quantile(0.99)),
                       static_cast<double>(r->latency.Quantile(0.99))) +
                 " | " + (cpu > 0 && r_cpu > 0 ? Ratio(cpu, r_cpu) : "n/a") + " |";
        } else {
          out += " | | |";
        }
        if (!x.clean()) {
          out += " (" + std::to_string(x.error_replies + x.unexpected_replies + x.unanswered) +
                 " bad replies)";
          ++failures;
        }
        return out;
      };
      rows.push_back(row("redis", *r, r_cpu, false));
      rows.push_back(row("**daemon**", *d, d_cpu, true));
    }
  }
  InfoFields after;
  ReadInfoOrSay(ds, &after);

  std::printf(
      "| case | load | server | req/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | "
      "req/s ÷ Redis | p99 ÷ Redis | CPU/req ÷ Redis |\n"
      "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const std::string& row : rows) std::printf("%s\n", row.c_str());
  const uint64_t stashes = InfoNumber(after, "stashes") - InfoNumber(before, "stashes");
  const uint64_t puts = InfoNumber(after, "store_puts") - InfoNumber(before, "store_puts");
  std::printf(
      "\n%d connections, %d client threads, %llu sessions, %.0f s measured per run after %.0f s "
      "of warm-up. Fixed rate: %.0f%% of Redis's closed-loop P1 throughput in the same case, "
      "offered to both; its req/s column is that offered rate, and latency counts from each "
      "request's scheduled send time. Server CPU: user + system time of the server process "
      "during the run (warm-up and drain included) divided by the requests it answered.\n",
      c.connections, c.threads, static_cast<unsigned long long>(c.sessions), c.duration, c.warmup,
      rate_fraction * 100);
  if (stashes > 0) {
    std::printf(
        "Daemon store writes meanwhile: %llu puts for %llu stashes (%.0f per 1,000 stashes).\n",
        static_cast<unsigned long long>(puts), static_cast<unsigned long long>(stashes),
        1000.0 * static_cast<double>(puts) / static_cast<double>(stashes));
  }
  return failures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// memory, populate, cold, durable, fixed

// Three small keys of a typical session (a counter, a choice, a short form field).
Template ThreeSmallKeys() {
  Template t;
  t.AddCommand({"DS.STASH", kSessionArg, kView, "1", "count", "42", "theme", "\"dark\"", "draft",
                "\"Dear Ana, thanks\""});
  t.ExpectReply("+OK\r\n");
  return t;
}
// Bytes of those keys and values: names plus canonical JSON values.
constexpr size_t kThreeSmallKeysBytes = (5 + 2) + (5 + 6) + (5 + 18);

DriverOptions Sequential(const Common& c, int depth) {
  DriverOptions o = c.Options();
  o.sequential = true;
  o.depth = depth;
  o.duration_s = 600;
  return o;
}

int Memory(const Common& c) {
  Endpoint ds;
  if (!ParseEndpoint(c.ds, &ds)) return 2;
  InfoFields f;
  if (!ReadInfoOrSay(ds, &f)) return 1;
  const uint64_t pid = InfoNumber(f, "process_id");
  const uint64_t resident_before = InfoNumber(f, "resident_sessions");
  const uint64_t rss_before = ResidentBytes(pid);
  if (rss_before == 0) {
    std::fprintf(stderr, "cannot read /proc/%llu/status (the daemon must run on this host)\n",
                 static_cast<unsigned long long>(pid));
    return 1;
  }
  auto r = Run("stash 3 small keys into each session", ds, Sequential(c, 16), ThreeSmallKeys());
  if (!r) return 1;
  WaitForDaemonIdle(ds);
  // resident_bytes is recounted by each shard's maintenance, once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ReadInfoOrSay(ds, &f);
  const uint64_t sessions = InfoNumber(f, "resident_sessions");
  const uint64_t added = sessions - resident_before;
  // Memory freed after the burst (e.g. the file store's dirty objects, once written back) goes
  // back to the kernel from the allocator's background thread some seconds later: read RSS
  // once it has stopped falling (no drop over 3 s in a row), or after 30 s.
  uint64_t rss_after = ResidentBytes(pid);
  for (int steady = 0, waited = 0; steady < 6 && waited < 60; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const uint64_t now = ResidentBytes(pid);
    steady = now < rss_after ? 0 : steady + 1;
    rss_after = std::min(rss_after, now);
  }
  const double per_session = static_cast<double>(rss_after - rss_before) /
                             static_cast<double>(std::max<uint64_t>(1, added));
  std::printf(
      "| resident sessions | RSS before | RSS after | RSS per session | keys + values | "
      "beyond the data | daemon's own estimate (resident_bytes per session) |\n"
      "|--:|--:|--:|--:|--:|--:|--:|\n");
  std::printf("| %s | %.1f MiB | %.1f MiB | %.0f B | %zu B | **%.0f B** | %.0f B |\n",
              Count(static_cast<double>(added)).c_str(),
              static_cast<double>(rss_before) / 1048576.0,
              static_cast<double>(rss_after) / 1048576.0, per_session, kThreeSmallKeysBytes,
              per_session - static_cast<double>(kThreeSmallKeysBytes),
              static_cast<double>(InfoNumber(f, "resident_bytes")) /
                  static_cast<double>(std::max<uint64_t>(1, sessions)));
  return r->clean() ? 0 : 1;
}

int Populate(const Common& c) {
  Endpoint ds;
  if (!ParseEndpoint(c.ds, &ds)) return 2;
  auto r = Run("populate", ds, Sequential(c, 16), ThreeSmallKeys());
  WaitForDaemonIdle(ds);
  return r && r->clean() ? 0 : 1;
}

int Cold(const Common& c) {
  Endpoint ds;
  if (!ParseEndpoint(c.ds, &ds)) return 2;
  InfoFields before;
  if (!ReadInfoOrSay(ds, &before)) return 1;
  Template recover;
  recover.AddCommand({"DS.RECOVER", kSessionArg, kView, "1", "rejoin", "count", "session", "theme",
                      "session", "draft", "reconnect"});
  recover.ExpectReply("*8\r\n$9\r\nrecovered\r\n");
  auto r = Run("recover each session once (cold)", ds, Sequential(c, 1), recover);
  if (!r) return 1;
  InfoFields after;
  ReadInfoOrSay(ds, &after);
  const uint64_t loads = InfoNumber(after, "session_loads") - InfoNumber(before, "session_loads");
  std::printf(
      "| recovers | loads from the store | recovers/s | p50 ms | p99 ms | p99.9 ms |\n"
      "|--:|--:|--:|--:|--:|--:|\n");
  std::printf("| %s | %s | %s | %s | %s | %s |\n", Count(static_cast<double>(r->units)).c_str(),
              Count(static_cast<double>(loads)).c_str(), Count(r->throughput()).c_str(),
              Ms(r->latency.Quantile(0.5)).c_str(), Ms(r->latency.Quantile(0.99)).c_str(),
              Ms(r->latency.Quantile(0.999)).c_str());
  return r->clean() ? 0 : 1;
}

int Durable(const Common& c) {
  Endpoint ds;
  if (!ParseEndpoint(c.ds, &ds)) return 2;
  InfoFields before;
  if (!ReadInfoOrSay(ds, &before)) return 1;
  Template unit = DsStash({JsonValueOfSize(64, 3)});
  unit.AddCommand({"DS.SYNC", kSessionArg});
  unit.ExpectReply("+OK\r\n");
  DriverOptions o = c.Options();
  o.depth = 1;
  auto r = Run("DS.STASH + DS.SYNC, closed loop P1", ds, o, unit);
  if (!r) return 1;
  WaitForDaemonIdle(ds);
  InfoFields after;
  ReadInfoOrSay(ds, &after);
  const uint64_t stashes = InfoNumber(after, "stashes") - InfoNumber(before, "stashes");
  const uint64_t puts = InfoNumber(after, "store_puts") - InfoNumber(before, "store_puts");
  std::printf(
      "| durable stashes/s | p50 ms | p99 ms | p99.9 ms | store puts per 1,000 stashes |\n"
      "|--:|--:|--:|--:|--:|\n");
  std::printf(
      "| %s | %s | %s | %s | %.0f |\n", Count(r->throughput()).c_str(),
      Ms(r->latency.Quantile(0.5)).c_str(), Ms(r->latency.Quantile(0.99)).c_str(),
      Ms(r->latency.Quantile(0.999)).c_str(),
      stashes > 0 ? 1000.0 * static_cast<double>(puts) / static_cast<double>(stashes) : 0.0);
  return r->clean() ? 0 : 1;
}

// A fixed amount of one kind of work: `requests` units going round the sessions in order (or in
// a fixed scattered order), so two runs do exactly the same work (instruction counts under
// callgrind compare).
int Fixed(const Common& c, const std::string& command, size_t value_bytes, uint64_t requests,
          int depth, bool scatter) {
  Endpoint ds;
  if (!ParseEndpoint(c.ds, &ds)) return 2;
  const std::string value = JsonValueOfSize(value_bytes, 7);
  Template unit;
  if (command == "stash") {
    unit = DsStash({value});
  } else if (command == "recover") {
    unit = DsRecover(value.size());
  } else if (command == "stash5") {
    unit = DsStash(FiveValues());
  } else {
    std::fprintf(stderr, "--command must be stash, recover or stash5\n");
    return 2;
  }
  DriverOptions o = Sequential(c, depth);
  o.requests = requests;
  o.scatter = scatter;
  o.duration_s = 3600;
  auto r = Run(command + " " + SizeLabel(value_bytes) + " P" + std::to_string(depth), ds, o, unit);
  return r && r->clean() ? 0 : 1;
}

}  // namespace
}  // namespace ds::bench

namespace {

int Main(int argc, char** argv) {
  using ds::bench::Common;
  CLI::App app{"ds_bench: load generator for durable-stashd and Redis (BENCHMARKS.md)"};
  app.require_subcommand(1);
  Common c;
  auto add_common = [&c](CLI::App* sub) {
    sub->add_option("--ds", c.ds, "daemon HOST:PORT")->capture_default_str();
    sub->add_option("--connections", c.connections, "client connections")->capture_default_str();
    sub->add_option("--threads", c.threads, "client threads")->capture_default_str();
    sub->add_option("--sessions", c.sessions, "distinct sessions")->capture_default_str();
    sub->add_option("--duration", c.duration, "measured seconds per run")->capture_default_str();
    sub->add_option("--warmup", c.warmup, "warm-up seconds per run")->capture_default_str();
    sub->add_option("--seed", c.seed, "random seed")->capture_default_str();
  };

  double rate_fraction = 0.5;
  std::vector<size_t> sizes = {64, 1024};
  std::vector<int> depths = {1, 16};
  bool open_loop = true;
  std::string only;
  CLI::App* compare = app.add_subcommand("compare", "daemon vs Redis on the accept path");
  add_common(compare);
  compare->add_option("--redis", c.redis, "Redis HOST:PORT")->required();
  compare
      ->add_option("--rate-fraction", rate_fraction,
                   "fixed-rate load as a fraction of Redis's closed-loop P1 throughput")
      ->capture_default_str();
  compare->add_option("--value-bytes", sizes, "JSON value sizes")->capture_default_str();
  compare->add_option("--depths", depths, "pipeline depths (closed loop)")->capture_default_str();
  compare->add_flag("!--no-fixed-rate", open_loop, "skip the fixed-rate runs");
  compare->add_option("--only", only, "run only the cases whose name contains this");

  CLI::App* memory = app.add_subcommand("memory", "RSS per resident session");
  add_common(memory);
  CLI::App* populate = app.add_subcommand("populate", "stash sessions 0..N-1 once");
  add_common(populate);
  CLI::App* cold = app.add_subcommand("cold", "recover sessions 0..N-1 once (cold loads)");
  add_common(cold);
  CLI::App* durable = app.add_subcommand("durable", "DS.STASH + DS.SYNC throughput");
  add_common(durable);

  std::string command = "stash";
  size_t value_bytes = 64;
  uint64_t requests = 20000;
  int depth = 1;
  CLI::App* fixed = app.add_subcommand("fixed", "a fixed number of requests (for profiling)");
  add_common(fixed);
  fixed->add_option("--command", command, "stash, recover or stash5")->capture_default_str();
  fixed->add_option("--value-bytes", value_bytes, "JSON value size")->capture_default_str();
  fixed->add_option("--requests", requests, "units in all")->capture_default_str();
  fixed->add_option("--depth", depth, "pipeline depth")->capture_default_str();
  bool scatter = false;
  fixed->add_flag("--scatter", scatter,
                  "visit the sessions in a scattered fixed order (the cache behaviour of random "
                  "picks, the same work every run)");

  CLI11_PARSE(app, argc, argv);
  if (compare->parsed()) {
    return ds::bench::Compare(c, rate_fraction, sizes, depths, open_loop, only);
  }
  if (memory->parsed()) return ds::bench::Memory(c);
  if (populate->parsed()) return ds::bench::Populate(c);
  if (cold->parsed()) return ds::bench::Cold(c);
  if (durable->parsed()) return ds::bench::Durable(c);
  if (fixed->parsed()) return ds::bench::Fixed(c, command, value_bytes, requests, depth, scatter);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // CLI11 reports bad options by exception (CLI11_PARSE catches those); anything else that
  // escapes is a bug, reported rather than left to std::terminate.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ds_bench: %s\n", e.what());
    return 2;
  }
}
