#include "server/shard.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "server/connection.h"

namespace ds::server {

namespace {
// How often a shard looks for idle sessions to evict and re-counts resident memory.
constexpr std::chrono::seconds kMaintenanceInterval{1};
}  // namespace

Shard::Shard(size_t index, Deps deps)
    : index_(index),
      work_(boost::asio::make_work_guard(loop_)),
      writer_(deps.writer),
      clock_(deps.clock),
      sessions_(session::ActorEnv{loop_, deps.reader, deps.writer, clock_, deps.options,
                                  session_stats_, deps.logger}),
      maintenance_timer_(loop_) {}

Shard::~Shard() { StopAndJoin(); }

void Shard::Start() {
  ScheduleMaintenance();
  thread_ = std::thread([this] { loop_.run(); });
}

void Shard::StopAndJoin() {
  work_.reset();
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

void Shard::ScheduleMaintenance() {
  maintenance_timer_.expires_after(kMaintenanceInterval);
  maintenance_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sessions_.Maintain(std::chrono::steady_clock::now());
    ScheduleMaintenance();
  });
}

void Shard::SendTo(Shard& to, std::function<void()> fn) {
  if (&to == this) {
    boost::asio::post(loop_, std::move(fn));
    return;
  }
  std::vector<std::function<void()>>& box = outboxes_[to.index()];
  box.push_back(std::move(fn));
  // The first message of a batch schedules its dispatch behind the handlers already queued
  // here (the rest of this turn's ready sockets), so those can add to the batch.
  if (box.size() == 1) boost::asio::post(loop_, [this, &to] { FlushOutbox(to); });
}

void Shard::FlushOutbox(Shard& to) {
  auto batch = std::make_shared<std::vector<std::function<void()>>>();
  batch->swap(outboxes_[to.index()]);
  boost::asio::post(to.loop(), [batch, &to] {
    for (auto& fn : *batch) fn();
    to.FlushWrites();
  });
}

void Shard::ProcessSoon(std::shared_ptr<Connection> conn) {
  input_waiting_.push_back(std::move(conn));
  if (input_waiting_.size() == 1) boost::asio::post(loop_, [this] { ProcessWaiting(); });
}

void Shard::ProcessWaiting() {
  // Taken out first: running requests may complete reads of other connections (never
  // synchronously, but the list must not change under the walk whatever happens).
  input_processing_.swap(input_waiting_);
  Connection::ProcessReads(input_processing_);
  input_processing_.clear();
}

void Shard::ReadSoon(std::shared_ptr<Connection> conn) {
  reads_waiting_.push_back(std::move(conn));
  if (reads_waiting_.size() == 1) boost::asio::post(loop_, [this] { ResumeReads(); });
}

void Shard::ResumeReads() {
  // Taken out first, so that the list being walked never changes under the walk.
  reads_resuming_.swap(reads_waiting_);
  for (const std::shared_ptr<Connection>& conn : reads_resuming_) conn->ReadMore();
  reads_resuming_.clear();
}

void Shard::WriteSoon(std::shared_ptr<Connection> conn) {
  writes_waiting_.push_back(std::move(conn));
  if (writes_waiting_.size() == 1) {
    boost::asio::post(loop_, [this] { WriteWaiting(); });
  } else if (writes_waiting_.size() >= kWritesPerBurst && writes_running_.empty()) {
    WriteWaiting();  // the posted handler will find nothing left, or the next burst's start
  }
}

void Shard::WriteWaiting() {
  // Taken out first, so that the list being walked never changes under the walk (WriteSoon
  // does not start a burst while one is being written).
  writes_running_.swap(writes_waiting_);
  for (const std::shared_ptr<Connection>& conn : writes_running_) conn->WriteQueued();
  writes_running_.clear();
}

void Shard::AddConnection(const std::shared_ptr<Connection>& conn) {
  connections_[conn->id()] = conn;
}

void Shard::RemoveConnection(uint64_t id) { connections_.erase(id); }

void Shard::DrainConnections() {
  // Copy first: draining may close a connection, which removes it from the map.
  std::vector<std::shared_ptr<Connection>> live;
  for (auto& [id, weak] : connections_) {
    if (auto conn = weak.lock()) live.push_back(std::move(conn));
  }
  for (auto& conn : live) conn->Drain();
}

}  // namespace ds::server
