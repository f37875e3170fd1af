// Config: everything durable-stashd can be told at start (SPEC §7).
//
// Sources, later ones overriding earlier ones:
//   1. built-in defaults (below),
//   2. a TOML file given with --config FILE (keys named as the long flags, with '_' for '-'),
//   3. environment variables DURABLE_STASH_<NAME> (e.g. DURABLE_STASH_PORT=7400),
//   4. command-line flags (--port 7400).
// Secrets never come from the command line, where `ps` shows them: the auth token is read
// from the file named by --auth-token-file, or from DURABLE_STASH_AUTH_TOKEN.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ds::config {

struct Config {
  // Network
  std::string bind = "127.0.0.1";
  uint16_t port = 7379;
  std::string auth_token;  // empty: no AUTH required
  bool allow_remote_without_auth = false;
  size_t max_clients = 10000;
  size_t max_request_bytes = size_t{16} * 1024 * 1024;  // one request, all arguments together

  // Engine
  std::string store = "memory:";
  size_t shards = 0;  // 0: one per CPU core
  size_t store_threads = 16;
  std::string writer_id;  // default: <hostname>:<pid>

  // Sessions (SPEC §3)
  std::chrono::seconds ttl{7 * 24 * 3600};
  std::chrono::seconds idle_timeout{300};
  size_t max_resident_bytes = size_t{1} << 30;
  size_t max_value_bytes = size_t{64} * 1024;
  size_t max_session_bytes = size_t{1024} * 1024;
  size_t max_keys_per_view = 256;
  size_t max_views = 64;
  size_t max_key_bytes = 256;
  size_t max_view_bytes = 256;
  std::chrono::seconds sweep_interval{3600};  // between TTL sweeps of the store; 0: never
  size_t sweep_rate = 50;                     // sessions the sweep checks per second at most

  // Operations
  std::string log_level = "info";
  std::chrono::seconds shutdown_timeout{30};
  bool check_config = false;  // validate, print the effective configuration, exit
};

// What LoadConfig decided: run with `config`, or exit at once (after --help / --version,
// whose text is in `exit_text`).
struct LoadOutcome {
  Config config;
  bool exit_now = false;
  std::string exit_text;
};

// Reads flags, the TOML file and the environment. `getenv` is injectable for tests.
Result<LoadOutcome> LoadConfig(
    int argc, const char* const* argv,
    const std::function<std::optional<std::string>(const char*)>& getenv);

// Rules that span several settings, e.g. a non-loopback bind needs an auth token.
Status Validate(const Config& config);

// The effective configuration as TOML, with the auth token masked (for --check-config).
std::string Describe(const Config& config);

}  // namespace ds::config
