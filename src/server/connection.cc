#include "server/connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <utility>

#include "protocol/resp_writer.h"
#include "server/commands.h"
#include "server/server.h"
#include "server/session_prefetch.h"
#include "server/shard.h"

namespace ds::server {

Connection::Connection(Server& server, Shard& shard, boost::asio::ip::tcp::socket socket,
                       uint64_t id)
    : server_(server),
      shard_(shard),
      socket_(std::move(socket)),
      id_(id),
      parser_(protocol::ParserLimits{
          .max_args = size_t{1024} * 1024,
          .max_bulk_bytes = server.config().max_request_bytes,
          .max_inline_bytes = size_t{64} * 1024,
      }) {
  authenticated = server.config().auth_token.empty();
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
}

Connection::~Connection() = default;

void Connection::Start() {
  shard_.AddConnection(shared_from_this());
  ReadMore();
}

void Connection::Drain() {
  if (closed_) return;
  // Requests already received are answered; a read still pending stays armed but whatever it
  // brings is not served (OnRead). Neither cancelling the socket (which would abort a reply
  // being written) nor shutting down its receive side (Linux answers a peer that keeps
  // sending with a reset, which loses the replies too) would do.
  draining_ = true;
  MaybeWrite();
}

// ---------------------------------------------------------------------------------------------
// Reading and dispatching

bool Connection::ShouldPauseReading() const {
  return pending_.size() >= kMaxPendingReplies || out_.size() + writing_.size() >= kMaxOutputBytes;
}

void Connection::ReadMore() {
  if (reading_ || closed_ || draining_ || close_after_replies_ || ShouldPauseReading()) return;
  if (in_.size() - in_end_ < kReadChunk) {
    // Make room: first by moving the unconsumed bytes to the front, then by growing. The
    // buffer never holds more than one incomplete request (ProcessInput consumed the rest),
    // and ProcessInput refuses a request larger than the limit.
    if (in_start_ > 0) {
      std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    if (in_.size() - in_end_ < kReadChunk)
      in_.resize(std::max(in_.size() * 2, in_end_ + kReadChunk));
  }
  reading_ = true;
  socket_.async_read_some(boost::asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    if (ec == boost::asio::error::eof) {
      // The client finished sending: answer what it sent, then close.
      draining_ = true;
      MaybeWrite();
    } else {
      Close();
    }
    return;
  }
  if (draining_) {
    // The daemon is stopping: requests arriving now are not served.
    MaybeWrite();
    return;
  }
  in_end_ += n;
  read_at_ = std::chrono::steady_clock::now();
  // Run with the other reads of this turn (ProcessReads), not at once.
  shard_.ProcessSoon(shared_from_this());
}

void Connection::ProcessReads(const std::vector<std::shared_ptr<Connection>>& conns) {
  if (conns.empty()) return;
  // The sessions of all the reads first. A client that sends one request per round trip brings
  // one request per read, and a turn of the loop brings the reads of all the clients that sent
  // meanwhile: prefetched together, their sessions' cache misses overlap, as a pipelined read's
  // do (session_prefetch.h), instead of each request waiting for its own in turn. A pipelining
  // client's read fills the prefetch alone; the reads that find it full look ahead for
  // themselves in ProcessInput.
  SessionPrefetch prefetch(conns.front()->server_, conns.front()->shard_);
  size_t room = SessionPrefetch::kMaxRequests;
  for (const std::shared_ptr<Connection>& conn : conns) {
    if (room == 0) break;
    room -= conn->PrefetchInput(prefetch, room);
  }
  prefetch.Finish();
  // Their writes are made a few connections at a time (with a store that runs inline: the
  // others batch theirs per turn anyway). One request per read makes one write per connection:
  // flushed together, what they overwrite is prefetched together (Store::PrefetchForWrites)
  // rather than one miss after another. Pipelined reads bring enough each: waiting for more
  // connections' would only let their sessions and encoded bytes leave the cache (a whole turn
  // of 50 such connections per flush cost a pipelined stash ~15% more CPU).
  Shard& shard = conns.front()->shard_;
  for (const std::shared_ptr<Connection>& conn : conns) {
    conn->ProcessInput();
    if (shard.flushable_writes() >= kWritesFlushedTogether) shard.FlushWrites();
  }
  shard.FlushWrites();
  // The next read is tried after the other ready connections have been served, not at once. A
  // client that waits for its replies before sending more (one request per round trip) has then
  // usually sent again, and the read succeeds; tried at once it would find nothing, costing a
  // failed recv(2) and a wait for epoll per request.
  for (const std::shared_ptr<Connection>& conn : conns) shard.ReadSoon(conn);
}

size_t Connection::PrefetchInput(SessionPrefetch& prefetch, size_t max) {
  if (in_start_ == in_end_ || closed_ || close_after_replies_ || ShouldPauseReading()) return 0;
  // The parser looks ahead only from a request boundary (everything before was consumed),
  // which is where nearly every read starts; otherwise it parses nothing here.
  const size_t count =
      parser_.ParseAhead(std::string_view(in_.data() + in_start_, in_end_ - in_start_), max);
  for (size_t i = 0; i < count; ++i) {
    const protocol::RequestHead head = parser_.ahead(i);
    prefetch.Add(head.name, head.first);
  }
  input_prefetched_ = count > 0;
  return count;
}

void Connection::ProcessInput() {
  processing_ = true;
  // The requests of this read get one reading of the wall clock (session/clock.h BatchClock).
  session::BatchClock::Hold one_time(shard_.clock());
  // Only a read that starts with nothing unanswered holds its replies: replies of earlier
  // requests still to come must not wait for this read's (see the header).
  const bool earlier_replies_pending = !pending_.empty();
  read_requests_ = 0;
  read_session_requests_ = 0;
  read_one_session_ = true;
  const size_t limit =
      server_.config().max_request_bytes + size_t{64} * 1024;  // + framing overhead
  // Requests parsed ahead by PrefetchInput have had their sessions prefetched already.
  bool first = !std::exchange(input_prefetched_, false);
  while (in_start_ < in_end_ && !closed_ && !close_after_replies_ && !ShouldPauseReading()) {
    std::string_view input(in_.data() + in_start_, in_end_ - in_start_);
    auto state = parser_.Parse(input);
    if (state == protocol::RequestParser::State::kComplete) {
      const auto& args = parser_.args();
      if (first && parser_.consumed() < input.size()) {
        // More follows the first request: a pipelined read, whose requests are parsed ahead
        // and their sessions prefetched together (a read of one request costs nothing here).
        SessionPrefetch prefetch(server_, shard_);
        if (args.size() >= 2) prefetch.Add(args[0], args[1]);
        const size_t ahead =
            parser_.ParseAhead(input.substr(parser_.consumed()), SessionPrefetch::kMaxRequests - 1);
        for (size_t i = 0; i < ahead; ++i) {
          const protocol::RequestHead head = parser_.ahead(i);
          prefetch.Add(head.name, head.first);
        }
        prefetch.Finish();
      }
      first = false;
      if (!args.empty()) {
        ++read_requests_;
        DispatchCommand(*this, args);
      }
      in_start_ += parser_.consumed();
      continue;
    }
    std::string error;
    if (state == protocol::RequestParser::State::kError) {
      error = parser_.error();
    } else if (input.size() > limit) {
      error = "Protocol error: request larger than --max-request-bytes";
    } else {
      break;  // wait for more bytes
    }
    std::string reply;
    protocol::AppendError(reply, "ERR", error);
    Reply(reply);
    CloseAfterReplies();
    break;
  }
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  processing_ = false;
  if (!earlier_replies_pending && ReadConcernedOneSession()) hold_until_ = next_slot_;
  WriteReadyReplies();
}

// ---------------------------------------------------------------------------------------------
// Replies

Connection::Slot Connection::Reserve() {
  pending_.emplace_back(std::nullopt);
  return next_slot_++;
}

void Connection::Reply(std::string_view reply) {
  if (pending_.empty()) {
    // Nothing is waiting ahead of this reply: it can go straight to the output buffer.
    out_.append(reply);
    ++next_slot_;
    ++first_pending_;
    if (!processing_) WriteSoon();
    return;
  }
  Complete(Reserve(), std::string(reply));
}

void Connection::Complete(Slot slot, std::string reply) {
  if (closed_) return;
  pending_[slot - first_pending_] = std::move(reply);
  if (!processing_) WriteReadyReplies();
}

void Connection::CompleteFrom(Shard& from, const std::shared_ptr<Connection>& conn, Slot slot,
                              std::string reply) {
  if (&from == &conn->shard_) {
    conn->Complete(slot, std::move(reply));
    return;
  }
  from.SendTo(conn->shard_, [conn, slot, reply = std::move(reply)]() mutable {
    conn->Complete(slot, std::move(reply));
  });
}

void Connection::MoveReadyReplies() {
  while (!pending_.empty() && pending_.front().has_value()) {
    out_ += *pending_.front();
    pending_.pop_front();
    ++first_pending_;
  }
}

void Connection::WriteReadyReplies() {
  MoveReadyReplies();
  // first_pending_ is now the first unanswered request (or next_slot_ if there is none).
  if (first_pending_ < hold_until_) return;
  WriteSoon();
}

void Connection::WriteSoon() {
  if (write_in_flight_ || write_queued_ || closed_ || out_.empty()) {
    MaybeWrite();  // closes a draining connection with nothing left to send
    return;
  }
  write_queued_ = true;
  shard_.WriteSoon(shared_from_this());
}

void Connection::WriteQueued() {
  write_queued_ = false;
  MaybeWrite();
}

void Connection::MaybeWrite() {
  if (write_in_flight_ || write_queued_ || closed_) return;
  if (out_.empty()) {
    if ((draining_ || close_after_replies_) && pending_.empty()) Close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       size_t) { self->OnWritten(ec); });
}

void Connection::OnWritten(const boost::system::error_code& ec) {
  write_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  writing_.clear();
  bool was_paused = !reading_;
  MaybeWrite();
  if (was_paused && !closed_ && !draining_ && !ShouldPauseReading()) {
    // Reading may have stopped for back-pressure with requests still buffered (or not have
    // started again yet after the last read: then this is where it does, see ProcessReads).
    if (in_start_ < in_end_ && !processing_) {
      ProcessInput();
      shard_.FlushWrites();
    }
    ReadMore();
  }
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  pending_.clear();
  shard_.RemoveConnection(id_);
  server_.OnConnectionClosed();
}

}  // namespace ds::server
