// durable-stashd: entry point. Reads the configuration, opens the store, runs the server
// until SIGTERM or SIGINT.
//
// Signals: SIGTERM or a first SIGINT (Ctrl-C) stop gracefully — no new connections, requests
// already received are answered, every accepted write is flushed to the store, then exit 0.
// A second SIGINT stops at once. Exit codes: 0 clean stop; 1 some accepted writes could not
// be made durable (each such session is logged with its key); 2 bad configuration or start
// failure.
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "common/log.h"
#include "config/config.h"
#include "server/server.h"
#include "store/store_factory.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitNotDurable = 1;
constexpr int kExitConfig = 2;

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads start
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

int Run(int argc, char** argv) {
  ds::Result<ds::config::LoadOutcome> loaded = ds::config::LoadConfig(argc, argv, GetEnv);
  if (!loaded.ok()) {
    std::fprintf(stderr, "durable-stashd: %s\n", loaded.status().message().c_str());
    return kExitConfig;
  }
  if (loaded->exit_now) {
    std::fputs(loaded->exit_text.c_str(), stdout);
    return kExitOk;
  }
  const ds::config::Config& config = loaded->config;
  ds::LogLevel level = ds::LogLevel::kInfo;
  ds::ParseLogLevel(config.log_level, &level);
  ds::Logger logger(level);

  if (config.check_config) {
    // Opening the store proves the URL works (and, for a file store, that the lock is free).
    ds::Result<std::unique_ptr<ds::store::Store>> store =
        ds::store::OpenStore(config.store, GetEnv);
    if (!store.ok()) {
      std::fprintf(stderr, "durable-stashd: --store: %s\n", store.status().message().c_str());
      return kExitConfig;
    }
    std::fputs(ds::config::Describe(config).c_str(), stdout);
    std::fputs("# configuration is valid\n", stdout);
    return kExitOk;
  }

  ds::Result<std::unique_ptr<ds::store::Store>> store = ds::store::OpenStore(config.store, GetEnv);
  if (!store.ok()) {
    logger.Error("store_open_failed",
                 {{"store", config.store}, {"error", store.status().message()}});
    return kExitConfig;
  }

  // Handle signals on the control loop rather than in an async-signal context. Block them in
  // every thread first, so the shard threads started below inherit the mask.
  ds::server::Server server(config, **store, logger);
  boost::asio::signal_set signals(server.control_loop(), SIGTERM, SIGINT);
  int interrupts = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGINT && ++interrupts >= 2) {
          server.StopNow();
          return;
        }
        logger.Info("signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        server.RequestShutdown();
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  if (ds::Status st = server.Start(); !st.ok()) {
    logger.Error("start_failed", {{"error", st.message()}});
    return kExitConfig;
  }
  size_t not_durable = server.Run();
  return not_durable == 0 ? kExitOk : kExitNotDurable;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing in the engine throws across module boundaries; this catches what the standard
  // library itself may throw (std::bad_alloc) so the process ends with a message, not abort().
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "durable-stashd: fatal: %s\n", e.what());
    return kExitConfig;
  }
}
