#include "server/server.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

#include "common/hash.h"
#include "server/connection.h"
#include "session/session_key.h"

namespace ds::server {
namespace {

// By default half the cores, at least one. A daemon shares its machine with its clients (a
// Phoenix node, a load generator) and its own store threads, and every shard beyond the first
// sends most requests across threads (a session lives on one shard; a connection reaches them
// all), which costs thread wake-ups. Measured on 2 vCPUs shared with the client (BENCHMARKS.md):
// one shard needed 1.6 us of CPU per pipelined DS.RECOVER where two needed 2.6 us. A machine
// given to the daemon alone can set --shards to its core count.
size_t ShardCount(const config::Config& c) {
  if (c.shards > 0) return c.shards;
  return std::max<size_t>(1, std::thread::hardware_concurrency() / 2);
}

session::SessionOptions MakeSessionOptions(const config::Config& c) {
  session::SessionOptions o;
  o.limits.max_value_bytes = c.max_value_bytes;
  o.limits.max_session_bytes = c.max_session_bytes;
  o.limits.max_keys_per_view = c.max_keys_per_view;
  o.limits.max_views = c.max_views;
  o.limits.max_key_bytes = c.max_key_bytes;
  o.limits.max_view_bytes = c.max_view_bytes;
  o.ttl = std::chrono::duration_cast<std::chrono::microseconds>(c.ttl).count();
  o.idle_timeout = c.idle_timeout;
  // Each shard enforces its share of the resident-memory cap.
  o.max_resident_bytes = c.max_resident_bytes / ShardCount(c);
  o.writer_id = c.writer_id;
  return o;
}

// How often a graceful shutdown checks whether every write has become durable.
constexpr std::chrono::milliseconds kShutdownPoll{10};

}  // namespace

Server::Server(const config::Config& config, store::Store& store, Logger& logger)
    : Server(config, store, logger, std::make_unique<session::SystemClock>(), nullptr) {}

Server::Server(const config::Config& config, store::Store& store, Logger& logger,
               session::Clock& clock)
    : Server(config, store, logger, nullptr, &clock) {}

Server::Server(const config::Config& config, store::Store& store, Logger& logger,
               std::unique_ptr<session::Clock> owned_clock, session::Clock* clock)
    : config_(config),
      session_options_(MakeSessionOptions(config)),
      store_(store),
      logger_(logger),
      owned_clock_(std::move(owned_clock)),
      clock_(clock != nullptr ? *clock : *owned_clock_),
      executor_(store, config.store_threads, session::StoreExecutor::ModeFor(store)),
      acceptor_(control_loop_),
      shutdown_timer_(control_loop_),
      sweeper_(
          control_loop_, executor_, clock_,
          TtlSweeper::Options{config.sweep_interval, static_cast<double>(config.sweep_rate),
                              session_options_.key_prefix, session_options_.ttl},
          [this](const std::string& key, std::function<void()> done) {
            CheckSessionExpiry(key, std::move(done));
          },
          logger_) {
  size_t n = ShardCount(config);
  for (size_t i = 0; i < n; ++i) {
    write_paths_.push_back(session::MakeWritePath(executor_));
    shards_.push_back(std::make_unique<Shard>(
        i, Shard::Deps{executor_, *write_paths_.back(), clock_, session_options_, logger_}));
  }
}

void Server::CheckSessionExpiry(const std::string& key, std::function<void()> done) {
  if (!session::IsValidSessionKey(key)) return done();  // not an object this daemon wrote
  Shard& shard = ShardFor(key);
  boost::asio::post(shard.loop(), [&shard, key, done = std::move(done)]() mutable {
    shard.sessions().FindOrCreate(key)->CheckExpiry(std::move(done));
  });
}

Server::~Server() {
  if (!stopped_) StopShards();
}

Status Server::Start() {
  boost::system::error_code ec;
  std::string host = config_.bind == "localhost" ? "127.0.0.1" : config_.bind;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    return Status::InvalidArgument("--bind: \"" + config_.bind + "\" is not an IP address");
  }
  boost::asio::ip::tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + config_.bind + ":" + std::to_string(config_.port) +
                           ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  for (auto& shard : shards_) shard->Start();
  Accept();
  sweeper_.Start();
  logger_.Info("listening", {{"addr", config_.bind + ":" + std::to_string(port_)},
                             {"shards", shards_.size()},
                             {"store", store_.Describe()},
                             {"auth", config_.auth_token.empty() ? "off" : "on"}});
  return Status::OK();
}

Shard& Server::ShardFor(std::string_view session_key) const {
  if (shards_.size() == 1) return *shards_[0];  // the default on a machine of two cores
  uint64_t h = Hash64(session_key);
  return *shards_[h % shards_.size()];
}

void Server::Accept() {
  Shard& shard = *shards_[next_shard_];
  next_shard_ = (next_shard_ + 1) % shards_.size();
  acceptor_.async_accept(shard.loop(), [this, &shard](const boost::system::error_code& ec,
                                                      boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (connected_.load() >= config_.max_clients) {
        rejected_connections_++;
        boost::system::error_code ignored;
        boost::asio::write(
            socket, boost::asio::buffer(std::string_view("-ERR max number of clients reached\r\n")),
            ignored);
        socket.close(ignored);
      } else {
        connected_++;
        total_connections_++;
        uint64_t id = next_connection_id_++;
        boost::asio::post(shard.loop(), [this, &shard, id, s = std::move(socket)]() mutable {
          std::make_shared<Connection>(*this, shard, std::move(s), id)->Start();
        });
      }
    } else {
      logger_.Warn("accept_failed", {{"error", ec.message()}});
    }
    Accept();
  });
}

// ---------------------------------------------------------------------------------------------
// Shutdown

void Server::RequestShutdown() {
  boost::asio::post(control_loop_, [this] {
    if (shutting_down_.exchange(true)) return;
    logger_.Info("shutdown_started", {{"timeout_s", config_.shutdown_timeout.count()}});
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    sweeper_.Stop();
    for (auto& shard : shards_) {
      boost::asio::post(shard->loop(), [s = shard.get()] { s->DrainConnections(); });
    }
    ContinueShutdown(std::chrono::steady_clock::now() + config_.shutdown_timeout);
  });
}

void Server::ContinueShutdown(std::chrono::steady_clock::time_point deadline) {
  // Ask each shard how much is left: open connections and sessions not yet durable.
  std::vector<std::future<size_t>> answers;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<size_t>>();
    answers.push_back(promise->get_future());
    boost::asio::post(shard->loop(), [s = shard.get(), promise] {
      promise->set_value(s->connection_count() + s->sessions().CountUndurable());
    });
  }
  size_t left = 0;
  for (auto& a : answers) left += a.get();
  bool timed_out = std::chrono::steady_clock::now() >= deadline;
  if (left > 0 && !timed_out) {
    shutdown_timer_.expires_after(kShutdownPoll);
    shutdown_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
      if (!ec) ContinueShutdown(deadline);
    });
    return;
  }
  undurable_at_exit_ = CountUndurableAndLog(/*log=*/true);
  auto took = std::chrono::steady_clock::now() - (deadline - config_.shutdown_timeout);
  logger_.Info("shutdown_complete",
               {{"took_ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count()},
                {"sessions_not_durable", undurable_at_exit_}});
  StopShards();
  control_loop_.stop();
}

size_t Server::CountUndurableAndLog(bool log) {
  std::vector<std::future<size_t>> answers;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<size_t>>();
    answers.push_back(promise->get_future());
    boost::asio::post(shard->loop(), [this, s = shard.get(), promise, log] {
      size_t n = 0;
      s->sessions().ForEach([&](session::SessionActor& actor) {
        if (!actor.HasUndurableWrites()) return;
        ++n;
        if (log) {
          logger_.Error("write_not_durable",
                        {{"session", actor.key()},
                         {"detail", "accepted writes of this session were not stored"}});
        }
      });
      promise->set_value(n);
    });
  }
  size_t total = 0;
  for (auto& a : answers) total += a.get();
  return total;
}

void Server::StopNow() {
  boost::asio::post(control_loop_, [this] {
    logger_.Warn("stopping_now", {});
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    shutdown_timer_.cancel();
    sweeper_.Stop();
    undurable_at_exit_ = CountUndurableAndLog(/*log=*/true);
    StopShards();
    control_loop_.stop();
  });
}

void Server::StopShards() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& shard : shards_) shard->StopAndJoin();
  // Store calls still running post their results to the (stopped) loops; wait for them before
  // the loops are destroyed.
  executor_.Join();
}

size_t Server::Run() {
  control_loop_.run();
  return undurable_at_exit_;
}

}  // namespace ds::server
