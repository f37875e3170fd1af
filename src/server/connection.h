// Connection: one client's TCP connection, living on one shard's event loop.
//
// Reading: bytes go into a buffer that grows only as far as one request needs (bounded by
// --max-request-bytes); RequestParser cuts complete requests out of it and each is handed to
// the command table (commands.h). The reads that complete in one turn of the shard's loop are
// run together, after the sessions they name have been prefetched (ProcessReads). Everything
// that arrived is parsed before anything is written, so a pipeline of N requests is answered
// with one write. That write is made with those of the other connections served in the same
// turn of the loop, a few at a time (Shard::WriteSoon), and the next read is tried after them
// (ProcessReads), by when a client that waits for its replies has usually sent again.
//
// Replies in request order: every request reserves a reply slot, numbered in arrival order.
// A reply that is ready at once (PING, a session on this shard that is loaded) fills its slot
// immediately; a reply from another shard or after a store read fills it later. Filled slots
// at the front are moved to the output buffer, so clients always see replies in the order
// they sent requests, however the work was spread.
//
// Replies of one read that all concern one session go out together: when every request that
// a read brought named the same session and some of them wait (a DS.SYNC for the store, or
// requests for a session being loaded), the replies that are ready are held until the last of
// that read's requests is answered, and written with it. A client that pipelines a stash and
// its DS.SYNC then gets both replies in one packet: one send instead of two, and one wake-up of
// the client, for the durable path's unit of work. Only replies the client asked for in the
// same breath wait: a multiplexed connection whose read mixes sessions, or carries any other
// command, is answered as replies become ready, and a read that arrives while earlier replies
// are still to come holds nothing (those earlier replies would otherwise wait for it). Holding
// saves sends and never delays more than that: when a write of earlier replies completes
// meanwhile, OnWritten sends whatever is ready, held replies included.
//
// Back-pressure: a client that sends faster than it reads stops being read while it has
// more than kMaxPendingReplies unanswered requests or kMaxOutputBytes of unread replies; its
// memory use is bounded by those limits and the request size limit.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_parser.h"
#include "protocol/resp_writer.h"
#include "session/session_key.h"

namespace ds::server {

class Server;
class SessionPrefetch;
class Shard;

enum class Codec { kJson, kEtf };

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, Shard& shard, boost::asio::ip::tcp::socket socket, uint64_t id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  void Start();
  // Graceful shutdown: stop reading, answer what was received, then close.
  void Drain();
  // Starts the next read, unless one is running or reading is paused. The shard calls it for
  // the connections whose reads it deferred (Shard::ReadSoon).
  void ReadMore();
  // Writes the replies that are ready; the shard calls it for the connections whose writes it
  // deferred (Shard::WriteSoon).
  void WriteQueued();
  // Runs the requests that the reads of one turn of the loop brought to `conns` (all of one
  // shard), the sessions they name prefetched together first, then tries each one's next read
  // after the other ready connections (Shard::ReadSoon). The shard calls it for the
  // connections whose reads completed meanwhile (Shard::ProcessSoon).
  static void ProcessReads(const std::vector<std::shared_ptr<Connection>>& conns);

  uint64_t id() const { return id_; }
  Shard& shard() { return shard_; }
  Server& server() { return server_; }

  // --- Reply slots (used by the command handlers, on this connection's shard) -------------
  using Slot = uint64_t;
  Slot Reserve();
  // Fills a reserved slot with complete RESP bytes.
  void Complete(Slot slot, std::string reply);
  // Fills a reserved slot with at most `bound` bytes that `write(char* at)` writes at `at`,
  // returning the end of what it wrote. When the slot is next in line (every reply before it is
  // in the output buffer, as for nearly every request) they are written there directly: no
  // string of their own, no copy. On this connection's shard.
  template <typename Write>
  void CompleteWriting(Slot slot, size_t bound, Write&& write) {
    if (closed_) return;
    if (slot != first_pending_) return Complete(slot, protocol::WriteBounded(bound, write));
    const size_t start = out_.size();
    out_.resize(start + bound);
    out_.resize(static_cast<size_t>(write(out_.data() + start) - out_.data()));
    pending_.pop_front();  // this slot's entry, at the front since slot == first_pending_
    ++first_pending_;
    if (!processing_) WriteReadyReplies();
  }
  // Reserves and fills a slot at once (the common synchronous case).
  void Reply(std::string_view reply);
  // Fills `slot` from shard `from`, on `from`'s thread: sends the reply to this connection's
  // shard when that is another one.
  static void CompleteFrom(Shard& from, const std::shared_ptr<Connection>& conn, Slot slot,
                           std::string reply);
  // Closes after every reply up to now has been written (QUIT).
  void CloseAfterReplies() { close_after_replies_ = true; }
  // When the bytes of the requests being run were read (one clock reading per read).
  std::chrono::steady_clock::time_point read_at() const { return read_at_; }
  // Tells the connection which session the request being run names (session commands call it
  // once per request, with a valid key; see "Replies of one read" above).
  void NoteRequestSession(std::string_view session_key) {
    if (read_session_requests_++ == 0) {
      read_session_length_ = std::min(session_key.size(), read_session_.size());
      std::memcpy(read_session_.data(), session_key.data(), read_session_length_);
    } else if (read_one_session_ &&
               session_key != std::string_view(read_session_.data(), read_session_length_)) {
      read_one_session_ = false;
    }
  }

  // --- Per-connection protocol state -------------------------------------------------------
  Codec codec = Codec::kJson;
  bool authenticated = false;
  std::string name;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();

 private:
  static constexpr size_t kReadChunk = size_t{16} * 1024;
  // ProcessReads flushes the writes of the connections run so far once they are this many: the
  // memory store prefetches what a flush overwrites in groups of 16.
  static constexpr size_t kWritesFlushedTogether = 16;
  static constexpr size_t kMaxPendingReplies = 4096;
  static constexpr size_t kMaxOutputBytes = size_t{8} * 1024 * 1024;

  void OnRead(const boost::system::error_code& ec, size_t n);
  // Parses ahead the whole requests at the start of the input, at most `max`, and adds them to
  // `prefetch`; returns how many (ProcessReads).
  size_t PrefetchInput(SessionPrefetch& prefetch, size_t max);
  // Runs the requests in the input. The writes they start wait for the caller's
  // Shard::FlushWrites, so that one flush covers the requests of several connections.
  void ProcessInput();
  void MoveReadyReplies();
  // MoveReadyReplies, then WriteSoon unless a read's replies are being held (hold_until_).
  void WriteReadyReplies();
  // Has the shard write the ready replies with the other connections' (Shard::WriteSoon), or
  // leaves them to the write in flight, which sends them when it completes.
  void WriteSoon();
  void MaybeWrite();
  void OnWritten(const boost::system::error_code& ec);
  bool ShouldPauseReading() const;
  // True when the read just run brought more than one request and all of them named one session.
  bool ReadConcernedOneSession() const {
    return read_requests_ > 1 && read_session_requests_ == read_requests_ && read_one_session_;
  }
  void Close();

  Server& server_;
  Shard& shard_;
  boost::asio::ip::tcp::socket socket_;
  const uint64_t id_;

  protocol::RequestParser parser_;
  std::vector<char> in_;
  size_t in_start_ = 0;  // first unconsumed byte
  size_t in_end_ = 0;    // one past the last received byte
  std::chrono::steady_clock::time_point read_at_;
  bool reading_ = false;
  bool processing_ = false;
  // PrefetchInput parsed the input's first requests ahead: ProcessInput does not look ahead
  // again for them.
  bool input_prefetched_ = false;
  // What the requests of the read being run named (NoteRequestSession); reset per read.
  size_t read_requests_ = 0;
  size_t read_session_requests_ = 0;
  // A copy: an argument may live in the parser, which the next request overwrites.
  std::array<char, session::kMaxSessionKeyBytes> read_session_{};
  size_t read_session_length_ = 0;
  bool read_one_session_ = true;

  Slot next_slot_ = 0;      // slot number of the next request
  Slot first_pending_ = 0;  // slot number of pending_.front()
  // Replies are held while a request before this slot is unanswered: the end of the last read
  // that concerned one session (see "Replies of one read" above).
  Slot hold_until_ = 0;
  std::deque<std::optional<std::string>> pending_;
  std::string out_;      // replies ready to write
  std::string writing_;  // replies being written
  bool write_in_flight_ = false;
  bool write_queued_ = false;  // waiting in the shard's list for WriteQueued
  bool close_after_replies_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace ds::server
