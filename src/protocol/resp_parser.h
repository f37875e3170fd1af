// RequestParser: turns the bytes a client sends into commands (arrays of arguments).
//
// Accepts the two request forms Redis accepts, so that redis-cli, redis-benchmark and
// `nc`/telnet all work:
//   - RESP2 multibulk:  *<n>\r\n $<len>\r\n<bytes>\r\n ...   (what every client library sends)
//   - inline commands:  PING\r\n  (words separated by spaces, for humans at a terminal)
//
// The parser is incremental: a request may arrive split at any byte boundary, across any number
// of reads. It keeps its progress between calls so the total work is linear in the bytes
// received, however they are chunked, and it never buffers data itself: the caller owns the
// buffer. Limits bound what one request may make the caller hold in memory; a request over a
// limit, or bytes that cannot be a request, produce kError with a message suitable for a RESP
// error reply, after which the connection should be closed (the stream cannot be resynchronized).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ds::protocol {

// The command name and first argument of a request: what a look-ahead at a pipelined read
// wants to know of each request (RequestParser::ParseAhead).
struct RequestHead {
  std::string_view name;   // the first argument: the command's name
  std::string_view first;  // the second argument, or empty when there is none
};

struct ParserLimits {
  size_t max_args = size_t{1024} * 1024;             // arguments in one request
  size_t max_bulk_bytes = size_t{16} * 1024 * 1024;  // bytes in one argument
  size_t max_inline_bytes = size_t{64} * 1024;       // length of one inline command line
};

class RequestParser {
 public:
  enum class State { kComplete, kIncomplete, kError };

  explicit RequestParser(ParserLimits limits = {});

  // Parses the request that starts at the beginning of `buffer`, which holds all bytes received
  // and not yet consumed.
  //   kComplete:   args() holds the arguments (views into `buffer`, or into the parser for
  //                inline words that were quoted; valid until the next call) and consumed() the
  //                number of bytes the request took. The caller drops those bytes before the
  //                next call.
  //   kIncomplete: more bytes are needed. The next call must pass the same unconsumed bytes
  //                (possibly moved to another address) followed by whatever arrived since.
  //   kError:      error() says why; the parser stays in the error state.
  // An empty inline line (a bare "\r\n"), "*0" and "*-1" are skipped: they produce no request,
  // and their bytes are counted in consumed() of the next request that completes.
  State Parse(std::string_view buffer);

  // Look-ahead, for a pipelined read or a turn's reads (server/session_prefetch.h). After a
  // kComplete and before the next call of Parse (in the same read, or at the start of a later
  // one, more bytes having arrived meanwhile), parses the requests in `following` — the bytes
  // after the request last returned — that are whole and in the common form (a RESP array of
  // bulk strings, all of it in `following`), up to `max` of them, and returns how many. The next
  // calls of Parse return them in turn without looking at their bytes again, so a look-ahead
  // costs no more than parsing; the first request that is not such, and everything after it, is
  // left to Parse, which alone answers malformed requests. The caller keeps its side of Parse's
  // contract: each call passes the bytes that follow what it consumed (they may have moved).
  // ahead(i), i < the count returned, is the i-th request's head, valid until the next call of
  // Parse. Nothing is parsed ahead while requests parsed ahead earlier are still to be returned.
  size_t ParseAhead(std::string_view following, size_t max);
  RequestHead ahead(size_t i) const;

  const std::vector<std::string_view>& args() const { return args_; }
  size_t consumed() const { return consumed_; }
  const std::string& error() const { return error_; }

  // Total bytes of input this parser has looked at since it was constructed. Bulk bodies are
  // never looked at, and no byte is looked at twice however the input is chunked, so this grows
  // linearly with the input; tests use it to prove that without timing anything.
  size_t bytes_examined() const { return bytes_examined_; }
  // Requests parsed in one pass (ParseWholeRequest) rather than by the state machine. Both give
  // the same result, so only this shows that the common forms take the fast path (tests).
  uint64_t whole_requests() const { return whole_requests_; }

 private:
  // Implementation state lives in resp_parser.cc; see the comments there. All positions are
  // offsets from the start of the caller's buffer, never pointers, because the buffer may move.
  enum class Phase : unsigned char { kStart, kInline, kArrayHeader, kBulkHeader, kBulkBody };
  struct ArgSpan {
    size_t offset;
    size_t length;
  };

  // A request parsed ahead: where it starts in ParseAhead's `following`, its arguments
  // (ahead_spans_[first_span, first_span + spans), offsets from the request's start) and its
  // size in bytes.
  struct AheadRequest {
    size_t start;
    size_t first_span;
    size_t spans;
    size_t bytes;
  };

  bool ParseWholeRequest(std::string_view buffer);
  State TakeAhead(std::string_view buffer);
  State ParseInline(std::string_view buffer);
  State ParseArrayHeader(std::string_view buffer);
  State ParseBulkHeader(std::string_view buffer);
  State ParseBulkBody(std::string_view buffer);
  State FindHeaderEnd(std::string_view buffer, const char* too_long_message, size_t* cr);
  State Fail(std::string message);
  void StartNextRequest();

  ParserLimits limits_;
  std::vector<std::string_view> args_;
  std::vector<ArgSpan> spans_;  // offsets of arguments parsed so far in the current request
  // Inline arguments that were quoted or escaped cannot be views into the buffer: they are
  // unescaped here and args() points into this string (valid until the next Parse call).
  std::string inline_storage_;
  std::string error_;
  // Requests parsed ahead (ParseAhead); those from ahead_next_ on are still to be returned.
  std::vector<AheadRequest> ahead_;
  std::vector<ArgSpan> ahead_spans_;
  size_t ahead_next_ = 0;
  const char* ahead_base_ = nullptr;  // ParseAhead's `following`, for ahead()
  size_t consumed_ = 0;
  size_t request_start_ = 0;  // where the current request begins (after skipped empty ones)
  size_t line_start_ = 0;     // start of the header line or inline line being read
  size_t scan_pos_ = 0;       // next byte to examine
  size_t expected_args_ = 0;  // from the *<n> header
  size_t pending_bulk_ = 0;   // length of the bulk string being waited for
  size_t bytes_examined_ = 0;
  uint64_t whole_requests_ = 0;
  Phase phase_ = Phase::kStart;
  bool completed_ = false;  // the previous call returned kComplete
  bool failed_ = false;
};

}  // namespace ds::protocol
