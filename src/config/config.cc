#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace ds::config {
namespace {

// ---------------------------------------------------------------------------------------------
// Value parsers. Each returns InvalidArgument with a message that shows an accepted example.

Result<uint64_t> ParseUint(std::string_view name, std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: expected a whole number, got \"{}\"", name, text));
  }
  return v;
}

// "65536", "64KiB", "1MiB", "2GiB" (also KB/MB/GB, taken as powers of 1024).
Result<uint64_t> ParseSize(std::string_view name, std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  Result<uint64_t> number = ParseUint(name, text.substr(0, digits));
  std::string unit(text.substr(digits));
  std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
  static const std::map<std::string, uint64_t> kUnits = {{"", 1},
                                                         {"b", 1},
                                                         {"k", 1ULL << 10},
                                                         {"kb", 1ULL << 10},
                                                         {"kib", 1ULL << 10},
                                                         {"m", 1ULL << 20},
                                                         {"mb", 1ULL << 20},
                                                         {"mib", 1ULL << 20},
                                                         {"g", 1ULL << 30},
                                                         {"gb", 1ULL << 30},
                                                         {"gib", 1ULL << 30}};
  auto u = kUnits.find(unit);
  if (!number.ok() || u == kUnits.end()) {
    return Status::InvalidArgument(
        fmt::format("{}: expected a size like 65536, 64KiB or 1MiB, got \"{}\"", name, text));
  }
  return *number * u->second;
}

// "30" (seconds), "500ms" (rounded up to whole seconds), "30s", "5m", "2h", "7d".
Result<std::chrono::seconds> ParseDuration(std::string_view name, std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  Result<uint64_t> number = ParseUint(name, text.substr(0, digits));
  std::string_view unit = text.substr(digits);
  static const std::map<std::string_view, uint64_t> kSeconds = {
      {"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  if (number.ok() && unit == "ms") return std::chrono::seconds((*number + 999) / 1000);
  auto u = kSeconds.find(unit);
  if (!number.ok() || u == kSeconds.end()) {
    return Status::InvalidArgument(
        fmt::format("{}: expected a duration like 30s, 5m, 2h or 7d, got \"{}\"", name, text));
  }
  return std::chrono::seconds(*number * u->second);
}

Result<bool> ParseBool(std::string_view name, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return Status::InvalidArgument(fmt::format("{}: expected true or false, got \"{}\"", name, text));
}

Result<std::string> ReadSecretFile(std::string_view name, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument(fmt::format("{}: cannot read \"{}\"", name, path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string token = buf.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) {
    return Status::InvalidArgument(fmt::format("{}: \"{}\" is empty", name, path));
  }
  return token;
}

// ---------------------------------------------------------------------------------------------
// The option table: one row per setting, shared by flags, TOML keys and environment variables.

using Setter = std::function<Status(Config&, std::string_view name, const std::string& value)>;

struct Option {
  const char* name;  // long flag without "--"; TOML key with '-' -> '_'
  const char* help;
  Setter set;
  bool boolean_flag = false;
};

template <typename T>
Setter SetSize(T Config::*field) {
  return [field](Config& c, std::string_view name, const std::string& v) -> Status {
    Result<uint64_t> r = ParseSize(name, v);
    if (!r.ok()) return r.status();
    c.*field = static_cast<T>(*r);
    return Status::OK();
  };
}

template <typename T>
Setter SetCount(T Config::*field) {
  return [field](Config& c, std::string_view name, const std::string& v) -> Status {
    Result<uint64_t> r = ParseUint(name, v);
    if (!r.ok()) return r.status();
    c.*field = static_cast<T>(*r);
    return Status::OK();
  };
}

Setter SetDuration(std::chrono::seconds Config::*field) {
  return [field](Config& c, std::string_view name, const std::string& v) -> Status {
    Result<std::chrono::seconds> r = ParseDuration(name, v);
    if (!r.ok()) return r.status();
    c.*field = *r;
    return Status::OK();
  };
}

Setter SetString(std::string Config::*field) {
  return [field](Config& c, std::string_view, const std::string& v) -> Status {
    c.*field = v;
    return Status::OK();
  };
}

Setter SetBool(bool Config::*field) {
  return [field](Config& c, std::string_view name, const std::string& v) -> Status {
    Result<bool> r = ParseBool(name, v);
    if (!r.ok()) return r.status();
    c.*field = *r;
    return Status::OK();
  };
}

const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"bind", "Address to listen on (default 127.0.0.1; others need an auth token)",
       SetString(&Config::bind)},
      {"port", "TCP port (default 7379)",
       [](Config& c, std::string_view name, const std::string& v) -> Status {
         Result<uint64_t> r = ParseUint(name, v);
         if (!r.ok() || *r > 65535) {
           return Status::InvalidArgument(fmt::format("{}: expected 0-65535, got \"{}\"", name, v));
         }
         c.port = static_cast<uint16_t>(*r);
         return Status::OK();
       }},
      {"store", "Where sessions are kept: memory:, file:PATH or s3://BUCKET/PREFIX",
       SetString(&Config::store)},
      {"auth-token-file", "File holding the token clients must send with AUTH",
       [](Config& c, std::string_view name, const std::string& v) -> Status {
         Result<std::string> r = ReadSecretFile(name, v);
         if (!r.ok()) return r.status();
         c.auth_token = *r;
         return Status::OK();
       }},
      {"allow-remote-without-auth",
       "Allow a non-loopback --bind without an auth token (anyone who can reach the port can "
       "read every session)",
       SetBool(&Config::allow_remote_without_auth), true},
      {"max-clients", "Connections accepted at once (default 10000)",
       SetCount(&Config::max_clients)},
      {"max-request-bytes", "Largest request, all arguments together (default 16MiB)",
       SetSize(&Config::max_request_bytes)},
      {"shards",
       "Worker threads, each owning a share of the sessions (default: half the cores, at least 1)",
       SetCount(&Config::shards)},
      {"store-threads", "Store requests in flight at once (default 16)",
       SetCount(&Config::store_threads)},
      {"writer-id", "Name written into stored objects (default hostname:pid)",
       SetString(&Config::writer_id)},
      {"ttl", "A session expires this long after its last use (default 7d)",
       SetDuration(&Config::ttl)},
      {"idle-timeout", "An unused session leaves memory after this long (default 5m)",
       SetDuration(&Config::idle_timeout)},
      {"max-resident-memory", "Memory for resident sessions before LRU eviction (default 1GiB)",
       SetSize(&Config::max_resident_bytes)},
      {"max-value-bytes", "Largest value, as normalized JSON (default 64KiB)",
       SetSize(&Config::max_value_bytes)},
      {"max-session-bytes", "Largest session: names, keys and values (default 1MiB)",
       SetSize(&Config::max_session_bytes)},
      {"max-keys-per-view", "Keys one view may store (default 256)",
       SetCount(&Config::max_keys_per_view)},
      {"max-views", "Views one session may hold (default 64)", SetCount(&Config::max_views)},
      {"max-key-bytes", "Longest key name (default 256)", SetSize(&Config::max_key_bytes)},
      {"max-view-bytes", "Longest view name (default 256)", SetSize(&Config::max_view_bytes)},
      {"sweep-interval",
       "Time between background sweeps that delete expired sessions from the store (default "
       "1h; 0 turns the sweep off)",
       SetDuration(&Config::sweep_interval)},
      {"sweep-rate", "Sessions the sweep checks per second at most (default 50)",
       SetCount(&Config::sweep_rate)},
      {"log-level", "debug, info, warn or error (default info)", SetString(&Config::log_level)},
      {"shutdown-timeout", "Longest a graceful stop waits for the store (default 30s)",
       SetDuration(&Config::shutdown_timeout)},
  };
  return kOptions;
}

std::string EnvName(std::string_view option) {
  std::string out = "DURABLE_STASH_";
  for (char c : option) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

const Option* FindOption(std::string_view name) {
  for (const Option& o : Options()) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

Status ApplyTomlFile(const std::string& path, Config& config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return Status::InvalidArgument(
        fmt::format("config file {}: {} at {}", path, e.description(), where.str()));
  }
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    std::replace(name.begin(), name.end(), '_', '-');
    const Option* option = FindOption(name);
    if (option == nullptr) {
      return Status::InvalidArgument(fmt::format(
          "config file {}: unknown setting \"{}\" (see durable-stashd --help)", path, key.str()));
    }
    std::string value;
    if (auto s = node.value<std::string>()) {
      value = *s;
    } else if (auto i = node.value<int64_t>()) {
      value = std::to_string(*i);
    } else if (auto b = node.value<bool>()) {
      value = *b ? "true" : "false";
    } else {
      return Status::InvalidArgument(fmt::format(
          "config file {}: \"{}\" must be a string, an integer or a boolean", path, key.str()));
    }
    if (Status st = option->set(config, name, value); !st.ok()) return st;
  }
  return Status::OK();
}

std::string DefaultWriterId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host[0] ? host : "localhost", getpid());
}

}  // namespace

Result<LoadOutcome> LoadConfig(
    int argc, const char* const* argv,
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  CLI::App app(
      "durable-stashd: keeps Phoenix LiveView state alive in durable storage.\n"
      "Speaks RESP (redis-cli works). Settings come from flags, a TOML file (--config) and\n"
      "DURABLE_STASH_<NAME> environment variables; the auth token only from a file or\n"
      "DURABLE_STASH_AUTH_TOKEN.",
      "durable-stashd");
  app.set_help_flag("-h,--help", "Print this help and exit");

  std::map<std::string, std::string> flag_values;
  std::map<std::string, bool> flag_switches;
  for (const Option& o : Options()) {
    std::string flag = std::string("--") + o.name;
    if (o.boolean_flag) {
      flag_switches[o.name] = false;
      app.add_flag(flag, flag_switches[o.name], o.help);
    } else {
      app.add_option(flag, flag_values[o.name], o.help);
    }
  }
  std::string config_file;
  bool check_config = false;
  bool version = false;
  app.add_option("--config", config_file,
                 "TOML file with settings (keys as the flags, '_' for '-')");
  app.add_flag("--check-config", check_config,
               "Validate the configuration, print it, and exit (0 if valid)");
  app.add_flag("--version", version, "Print the version and exit");

  LoadOutcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.exit_now = true;
    out.exit_text = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (see durable-stashd --help)");
  }
  if (version) {
    out.exit_now = true;
    out.exit_text = "durable-stashd 0.1.0\n";
    return out;
  }

  Config& config = out.config;
  if (!config_file.empty()) {
    if (Status st = ApplyTomlFile(config_file, config); !st.ok()) return st;
  }
  for (const Option& o : Options()) {
    if (auto v = getenv(EnvName(o.name).c_str())) {
      if (Status st = o.set(config, EnvName(o.name), *v); !st.ok()) return st;
    }
  }
  if (auto token = getenv("DURABLE_STASH_AUTH_TOKEN")) config.auth_token = *token;
  for (const Option& o : Options()) {
    std::string flag = std::string("--") + o.name;
    if (app.count(flag) == 0) continue;
    std::string value = o.boolean_flag ? "true" : flag_values[o.name];
    if (Status st = o.set(config, flag, value); !st.ok()) return st;
  }
  config.check_config = check_config;
  if (config.writer_id.empty()) config.writer_id = DefaultWriterId();
  if (Status st = Validate(config); !st.ok()) return st;
  return out;
}

Status Validate(const Config& c) {
  bool loopback = c.bind == "127.0.0.1" || c.bind == "::1" || c.bind == "localhost" ||
                  c.bind.rfind("127.", 0) == 0;
  if (!loopback && c.auth_token.empty() && !c.allow_remote_without_auth) {
    return Status::InvalidArgument(fmt::format(
        "refusing to listen on {} without an auth token: anyone who reaches the port could "
        "read and change every session. Set --auth-token-file FILE (or "
        "DURABLE_STASH_AUTH_TOKEN), or pass --allow-remote-without-auth if a firewall "
        "protects the port",
        c.bind));
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    return Status::InvalidArgument(
        fmt::format("--log-level: expected debug, info, warn or error, got \"{}\"", c.log_level));
  }
  if (c.store_threads == 0) return Status::InvalidArgument("--store-threads must be at least 1");
  if (c.max_value_bytes == 0 || c.max_session_bytes < c.max_value_bytes) {
    return Status::InvalidArgument(
        "--max-session-bytes must be at least --max-value-bytes, and both above 0");
  }
  if (c.ttl.count() == 0) return Status::InvalidArgument("--ttl must be above 0");
  return Status::OK();
}

std::string Describe(const Config& c) {
  std::string out;
  auto line = [&out](std::string_view k, const std::string& v) {
    out += fmt::format("{} = {}\n", k, v);
  };
  auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
  line("bind", quoted(c.bind));
  line("port", std::to_string(c.port));
  line("store", quoted(c.store));
  line("auth_token", c.auth_token.empty() ? "\"\"  # none: AUTH not required" : "\"***\"");
  line("allow_remote_without_auth", c.allow_remote_without_auth ? "true" : "false");
  line("max_clients", std::to_string(c.max_clients));
  line("max_request_bytes", std::to_string(c.max_request_bytes));
  line("shards",
       std::to_string(c.shards) + (c.shards == 0 ? "  # half the cores, at least 1" : ""));
  line("store_threads", std::to_string(c.store_threads));
  line("writer_id", quoted(c.writer_id));
  line("ttl", quoted(std::to_string(c.ttl.count()) + "s"));
  line("idle_timeout", quoted(std::to_string(c.idle_timeout.count()) + "s"));
  line("max_resident_memory", std::to_string(c.max_resident_bytes));
  line("max_value_bytes", std::to_string(c.max_value_bytes));
  line("max_session_bytes", std::to_string(c.max_session_bytes));
  line("max_keys_per_view", std::to_string(c.max_keys_per_view));
  line("max_views", std::to_string(c.max_views));
  line("max_key_bytes", std::to_string(c.max_key_bytes));
  line("max_view_bytes", std::to_string(c.max_view_bytes));
  line("sweep_interval", quoted(std::to_string(c.sweep_interval.count()) + "s"));
  line("sweep_rate", std::to_string(c.sweep_rate));
  line("log_level", quoted(c.log_level));
  line("shutdown_timeout", quoted(std::to_string(c.shutdown_timeout.count()) + "s"));
  return out;
}

}  // namespace ds::config
