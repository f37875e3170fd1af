// Shard: one worker thread with its own event loop and its own share of the sessions.
//
// Sessions are spread over shards by a hash of the session key, and a shard's sessions are
// touched only by its thread: shared-nothing, so throughput grows with cores and a busy
// session stalls only its own shard's loop for the microseconds a request takes. Connections
// are spread over shards too (round robin at accept); a request whose session lives on
// another shard is sent there, and its reply sent back (server/session_commands.cc).
//
// Messages between shards are batched (SendTo): waking another thread costs microseconds on
// a virtual machine, far more than the request it carries, so a shard sends at most one
// batch to each other shard per turn of its loop, holding every message produced meanwhile
// (a pipelined read of 16 requests becomes one wake-up, not 16).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "server/command_stats.h"
#include "session/clock.h"
#include "session/session_table.h"

namespace ds::server {

class Connection;

class Shard {
 public:
  struct Deps {
    session::StoreExecutor& reader;
    session::WritePath& writer;
    session::Clock& clock;
    const session::SessionOptions& options;
    Logger& logger;
  };

  Shard(size_t index, Deps deps);
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  size_t index() const { return index_; }
  boost::asio::io_context& loop() { return loop_; }

  // Starts the thread that runs the loop.
  void Start();
  // Stops the loop (pending handlers are abandoned) and joins the thread.
  void StopAndJoin();

  // --- Used only on this shard's thread -------------------------------------------------
  session::SessionTable& sessions() { return sessions_; }
  // The clock this shard's sessions read: a Hold on it gives a batch of requests one reading.
  session::BatchClock& clock() { return clock_; }
  session::SessionStats& session_stats() { return session_stats_; }
  CommandStats& command_stats() { return command_stats_; }
  // Lets the write path complete the writes of the requests just run (WritePath::Flush).
  // Called where no session code is on the stack.
  void FlushWrites() { writer_.Flush(); }
  // How many writes FlushWrites would make and complete now.
  size_t flushable_writes() const { return writer_.flushable(); }

  // Runs `fn` on `to`'s loop. Called on this shard's thread; `to` may be this shard.
  // Messages to one shard run there in the order they were sent.
  void SendTo(Shard& to, std::function<void()> fn);

  // Runs the requests `conn` has just read (Connection::ProcessReads) after the handlers
  // already queued on this loop, together with those the other connections' reads of this turn
  // brought: one posted handler for them all.
  void ProcessSoon(std::shared_ptr<Connection> conn);

  // Starts `conn`'s next read (Connection::ReadMore) after the handlers already queued on this
  // loop: the other ready connections of this turn. The connections waiting are resumed
  // together by one posted handler, not by a handler (an allocation and a pass through the
  // loop's queue) each.
  void ReadSoon(std::shared_ptr<Connection> conn);

  // Writes `conn`'s ready replies (Connection::WriteQueued) after the handlers already queued
  // on this loop, together with those of the other connections served meanwhile, but never
  // behind more than kWritesPerBurst of them. Why: a send to a client that is asleep wakes
  // it, and on a virtual machine the wake-up is most of the send's cost; sent in a burst, the
  // first wakes the client's thread and the others find it awake, as Redis writes its
  // clients' replies just before it waits for events again. The bound keeps a long turn (50
  // pipelining connections ready at once) from holding the first connection's replies until
  // the last one is served. Bursts of 8 gave the best mix of CPU per request and p99 of 4, 8,
  // 16 and a whole turn in alternated runs (BENCHMARKS.md, item 59).
  void WriteSoon(std::shared_ptr<Connection> conn);
  static constexpr size_t kWritesPerBurst = 8;

  void AddConnection(const std::shared_ptr<Connection>& conn);
  void RemoveConnection(uint64_t id);
  // Asks every connection to finish the requests it has and close (graceful shutdown).
  void DrainConnections();
  size_t connection_count() const { return connections_.size(); }

 private:
  void ScheduleMaintenance();
  // Sends the batch of messages waiting for `to` as one handler on its loop.
  void FlushOutbox(Shard& to);
  // Runs the reads deferred by ProcessSoon.
  void ProcessWaiting();
  // Starts the reads deferred by ReadSoon.
  void ResumeReads();
  // Writes the replies of the connections waiting since WriteSoon.
  void WriteWaiting();

  const size_t index_;
  boost::asio::io_context loop_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;

  session::WritePath& writer_;
  session::SessionStats session_stats_;
  session::BatchClock clock_;
  CommandStats command_stats_;
  session::SessionTable sessions_;
  boost::asio::steady_timer maintenance_timer_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
  // Messages for other shards produced during this turn of the loop, by destination index.
  std::unordered_map<size_t, std::vector<std::function<void()>>> outboxes_;
  // Connections whose input waits for ProcessWaiting, and the ones it is processing (the two
  // swap, keeping their capacity).
  std::vector<std::shared_ptr<Connection>> input_waiting_;
  std::vector<std::shared_ptr<Connection>> input_processing_;
  // Connections whose next read waits for ResumeReads, and the ones it is resuming (the two
  // swap, keeping their capacity).
  std::vector<std::shared_ptr<Connection>> reads_waiting_;
  std::vector<std::shared_ptr<Connection>> reads_resuming_;
  // Connections whose replies wait for WriteWaiting, and the ones it is writing (as above).
  std::vector<std::shared_ptr<Connection>> writes_waiting_;
  std::vector<std::shared_ptr<Connection>> writes_running_;
};

}  // namespace ds::server
