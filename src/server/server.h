// Server: the daemon's top level — listening socket, shards, store threads, shutdown.
//
// Threads: the caller of Run() runs the control loop (accepting connections, signals,
// shutdown); each shard runs its own loop (connections and sessions); the store executor's
// pool runs blocking store calls. A new connection is handed to the shards round robin.
//
// Shutdown (SIGTERM, SPEC §3/§7): stop accepting; let every connection finish the requests it
// has sent and close; wait until every accepted write is durable or --shutdown-timeout
// passes; log every session whose writes could not be made durable, with its key; stop.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "config/config.h"
#include "server/shard.h"
#include "server/ttl_sweeper.h"
#include "session/clock.h"
#include "session/session_options.h"
#include "session/store_executor.h"
#include "session/write_path.h"
#include "store/store.h"

namespace ds::server {

class Server {
 public:
  Server(const config::Config& config, store::Store& store, Logger& logger);
  // Tests inject a clock.
  Server(const config::Config& config, store::Store& store, Logger& logger, session::Clock& clock);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds the listening socket and starts the shards. Port 0 picks a free port (see port()).
  Status Start();
  uint16_t port() const { return port_; }

  // Runs the control loop on the calling thread until the server has stopped. Returns the
  // number of sessions whose accepted writes could not be made durable (0 after a clean stop).
  size_t Run();
  // Starts a graceful shutdown; callable from any thread (or a signal handler via the loop).
  void RequestShutdown();
  // Stops at once, abandoning writes not yet durable (second SIGINT).
  void StopNow();
  boost::asio::io_context& control_loop() { return control_loop_; }

  // --- For the command handlers ----------------------------------------------------------
  const config::Config& config() const { return config_; }
  const session::SessionOptions& session_options() const { return session_options_; }
  Shard& ShardFor(std::string_view session_key) const;
  const std::vector<std::unique_ptr<Shard>>& shards() const { return shards_; }
  std::string store_description() const { return store_.Describe(); }
  const store::Store& store() const { return store_; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  uint64_t connected_clients() const { return connected_.load(); }
  uint64_t total_connections() const { return total_connections_.load(); }
  uint64_t rejected_connections() const { return rejected_connections_.load(); }
  bool shutting_down() const { return shutting_down_.load(); }
  Logger& logger() { return logger_; }
  const TtlSweeper::Stats& sweep_stats() const { return sweeper_.stats(); }

  void OnConnectionClosed() { connected_--; }

 private:
  Server(const config::Config& config, store::Store& store, Logger& logger,
         std::unique_ptr<session::Clock> owned_clock, session::Clock* clock);
  void Accept();
  // The TTL sweep's check: hands `key` to its actor on the owner shard.
  void CheckSessionExpiry(const std::string& key, std::function<void()> done);
  void ContinueShutdown(std::chrono::steady_clock::time_point deadline);
  size_t CountUndurableAndLog(bool log);
  void StopShards();

  config::Config config_;
  session::SessionOptions session_options_;
  store::Store& store_;
  Logger& logger_;
  std::unique_ptr<session::Clock> owned_clock_;
  session::Clock& clock_;

  // Declaration order is destruction order in reverse, and it matters: the control loop must
  // go before the shards, because a pending accept holds a socket that belongs to a shard's
  // loop; the store executor's threads are joined (StopShards) before anything goes.
  session::StoreExecutor executor_;
  // One per shard (a BatchingWritePath collects one loop's writes), indexed like shards_.
  std::vector<std::unique_ptr<session::WritePath>> write_paths_;
  std::vector<std::unique_ptr<Shard>> shards_;

  boost::asio::io_context control_loop_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer shutdown_timer_;
  TtlSweeper sweeper_;
  uint16_t port_ = 0;
  size_t next_shard_ = 0;
  uint64_t next_connection_id_ = 1;

  std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  std::atomic<uint64_t> connected_{0};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::atomic<bool> shutting_down_{false};
  size_t undurable_at_exit_ = 0;
  bool stopped_ = false;
};

}  // namespace ds::server
