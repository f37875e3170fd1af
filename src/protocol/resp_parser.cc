// RequestParser: an incremental parser for RESP2 requests (multibulk and inline).
//
// The parser is a small state machine over offsets into the caller's buffer:
//
//   kStart ──'*'──> kArrayHeader ──> kBulkHeader ──> kBulkBody ──┐
//     │                                   ^                       │ (more arguments)
//     │                                   └───────────────────────┘
//     └──other──> kInline
//
// Each call resumes where the previous one stopped (scan_pos_), so no byte is looked at twice
// and a bulk body is never looked at at all: once its length is known, the parser only compares
// that length with the number of bytes available, then checks the two bytes of CRLF after it.
// That keeps the total work linear in the bytes received however the client chunks them (a
// parser that restarts from the request's first byte on every read is quadratic when a large
// value trickles in). Offsets, not pointers, survive between calls because the caller may move
// its buffer (e.g. when a std::string grows).
//
// Memory: the parser never copies the buffer. What it makes the caller hold while a request is
// incomplete is bounded by the limits: a header line is at most kMaxHeaderLine bytes, a bulk
// string at most max_bulk_bytes, a request at most max_args of them, an inline line at most
// max_inline_bytes, and the empty requests skipped in front of a request at most
// max_inline_bytes too (see SkipEmptyRequest below).
//
// Wording of errors follows Redis's networking.c, so clients and tests that know Redis see the
// messages they expect; error() holds the text without the "ERR " prefix, which the reply
// writer adds.
#include "protocol/resp_parser.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace ds::protocol {

namespace {

// A "*<n>" or "$<n>" line, type byte included, must show its '\r' within this many bytes. The
// longest meaningful one is 21 bytes ("$" and 20 digits), so 64 rejects nothing legitimate and
// stops a client from making us (and our caller) buffer an endless digit string.
constexpr size_t kMaxHeaderLine = 64;

// Vectors grown by one huge request are released before the next one, so that a single
// 1M-argument request does not pin megabytes for the life of the connection.
constexpr size_t kMaxRetainedArgs = 1024;

// A look-ahead (ParseAhead) stops at a request of more arguments than this, which Parse then
// takes: what it keeps of the requests parsed ahead stays small.
constexpr size_t kMaxAheadArgs = 64;

// Reads a plain length of up to 19 digits (no sign, no leading zero) followed by CRLF, starting
// at *pos, into *out; leaves *pos after the CRLF. False, with *pos unchanged, for anything else
// and for a length over `limit`. Always inlined (into ReadWholeRequest): it runs once per
// argument and is most of that function's work, and as a call of its own (which the compiler
// makes of it otherwise) it cost a recover some 100 instructions more.
[[gnu::always_inline]] inline bool ReadPlainLength(std::string_view buffer, size_t* pos,
                                                   uint64_t limit, uint64_t* out) {
  const char* const data = buffer.data();
  const size_t size = buffer.size();
  const size_t first = *pos;
  // Nearly every length has one or two digits (a command name, a session key, a small value):
  // those are read without the loop, whose per-digit checks cost more than the digits.
  if (size - first >= 4) {
    const auto d0 = static_cast<unsigned char>(data[first] - '1');  // '1'..'9' -> 0..8
    const auto d1 = static_cast<unsigned char>(data[first + 1] - '0');
    if (d0 < 9 && data[first + 1] == '\r' && data[first + 2] == '\n') {
      if (d0 + 1u > limit) return false;
      *pos = first + 3;
      *out = d0 + 1u;
      return true;
    }
    if (d0 < 9 && d1 < 10 && data[first + 2] == '\r' && data[first + 3] == '\n') {
      const uint64_t v = (d0 + 1u) * 10u + d1;
      if (v > limit) return false;
      *pos = first + 4;
      *out = v;
      return true;
    }
  }
  const size_t reach = std::min(size, first + 19);
  if (first >= reach || data[first] < '1' || data[first] > '9') return false;
  uint64_t v = 0;
  size_t i = first;
  for (; i < reach && data[i] >= '0' && data[i] <= '9'; ++i) {
    v = v * 10 + static_cast<uint64_t>(data[i] - '0');
  }
  if (i + 1 >= size || data[i] != '\r' || data[i + 1] != '\n' || v > limit) return false;
  *pos = i + 2;
  *out = v;
  return true;
}

// Reads the whole, plain multibulk request at `pos` of `buffer` in one pass (what "plain" means:
// RequestParser::ParseWholeRequest), calling add(offset, length) for each argument in turn.
// Returns the offset just past the request and adds the bytes of its header lines and CRLFs to
// *examined; 0 if `buffer` holds no such request at `pos`, perhaps after some calls of add.
template <typename AddArg>
[[gnu::always_inline]] inline size_t ReadWholeRequest(std::string_view buffer, size_t pos,
                                                      uint64_t max_args, uint64_t max_bulk,
                                                      AddArg&& add, size_t* examined) {
  const char* const data = buffer.data();
  const size_t size = buffer.size();
  if (pos >= size || data[pos] != '*') return 0;
  const size_t line_start = pos++;
  uint64_t count = 0;
  if (!ReadPlainLength(buffer, &pos, std::min<uint64_t>(max_args, INT64_MAX), &count)) return 0;
  size_t header_bytes = pos - line_start;
  max_bulk = std::min<uint64_t>(max_bulk, INT64_MAX - 2);
  for (uint64_t n = 0; n < count; ++n) {
    const size_t header_start = pos;
    if (pos >= size || data[pos] != '$') return 0;
    ++pos;
    uint64_t length = 0;
    if (!ReadPlainLength(buffer, &pos, max_bulk, &length)) return 0;
    header_bytes += pos - header_start;
    if (size - pos < length + 2) return 0;  // the body and its CRLF have not all arrived
    const size_t end = pos + static_cast<size_t>(length);
    if (data[end] != '\r' || data[end + 1] != '\n') return 0;
    add(pos, static_cast<size_t>(length));
    header_bytes += 2;
    pos = end + 2;
  }
  *examined += header_bytes;
  return pos;
}

// Parses a RESP length: "0" or an optional '-' followed by a digit 1-9 and more digits, with
// no sign, spaces or leading zeros, as Redis's string2ll accepts. Values above `max` (and
// overflow) fail. Returns false if `s` is not such a number.
bool ParseLength(std::string_view s, int64_t max, int64_t* out) {
  if (s.empty()) return false;
  if (s.size() == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;
  // Every value we accept is at most `max` (or -1), so anything that exceeds it while
  // accumulating is rejected before it can overflow.
  const uint64_t limit = negative ? 1 : static_cast<uint64_t>(max);
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > limit) return false;
  }
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// Blanks between inline arguments, as C's isspace() in the "C" locale (what sdssplitargs uses).
bool IsInlineBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Bytes that end an unquoted inline argument. Redis's sdssplitargs ends a token only on these
// (so "\v" and "\f" are separators between tokens but ordinary bytes inside one); NUL, which
// ends the line in Redis because it works on C strings, is an ordinary byte here.
bool IsInlineTerminator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits one inline command line (without its line ending) into arguments the way redis-cli's
// and Redis's sdssplitargs do:
//   - arguments are separated by blanks;
//   - "double quotes" allow \xHH, \n, \r, \t, \b, \a and \<any other byte> (that byte) escapes;
//   - 'single quotes' allow only \' as an escape, every other byte is literal;
//   - a quote may start in the middle of a word (foo"bar baz" is one argument, "foobar baz"),
//     but a closing quote must be followed by a blank or the end of the line.
// Unquoted words are views into `line`; words with quotes are unescaped into `storage`, which is
// reserved up front to the line's length (unescaping never grows the text) so that views into
// it stay valid while it is filled. Returns false on unbalanced quotes or a closing quote
// followed by something other than a blank.
bool SplitInline(std::string_view line, std::string& storage, std::vector<std::string_view>& out) {
  storage.clear();
  storage.reserve(line.size());
  const size_t n = line.size();
  size_t i = 0;
  while (true) {
    while (i < n && IsInlineBlank(line[i])) ++i;
    if (i == n) return true;

    // Fast path: a plain word is a view into the line.
    size_t j = i;
    while (j < n && !IsInlineTerminator(line[j]) && line[j] != '"' && line[j] != '\'') ++j;
    if (j == n || IsInlineTerminator(line[j])) {
      out.push_back(line.substr(i, j - i));
      i = j;
      continue;
    }

    // Slow path: the word contains a quote. Copy the plain prefix, then unescape.
    const size_t word_start = storage.size();
    storage.append(line.data() + i, j - i);
    i = j;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      if (in_double) {
        if (i == n) return false;  // unterminated quotes
        const char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          storage.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 4;
        } else if (c == '\\' && i + 1 < n) {
          char e = line[i + 1];
          switch (e) {
            case 'n':
              e = '\n';
              break;
            case 'r':
              e = '\r';
              break;
            case 't':
              e = '\t';
              break;
            case 'b':
              e = '\b';
              break;
            case 'a':
              e = '\a';
              break;
            default:
              break;
          }
          storage.push_back(e);
          i += 2;
        } else if (c == '"') {
          if (i + 1 < n && !IsInlineBlank(line[i + 1])) return false;
          ++i;
          done = true;
        } else {
          storage.push_back(c);
          ++i;
        }
      } else if (in_single) {
        if (i == n) return false;  // unterminated quotes
        const char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          storage.push_back('\'');
          i += 2;
        } else if (c == '\'') {
          if (i + 1 < n && !IsInlineBlank(line[i + 1])) return false;
          ++i;
          done = true;
        } else {
          storage.push_back(c);
          ++i;
        }
      } else if (i == n || IsInlineTerminator(line[i])) {
        done = true;
      } else if (line[i] == '"') {
        in_double = true;
        ++i;
      } else if (line[i] == '\'') {
        in_single = true;
        ++i;
      } else {
        storage.push_back(line[i]);
        ++i;
      }
    }
    out.emplace_back(storage.data() + word_start, storage.size() - word_start);
  }
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

RequestParser::State RequestParser::Fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  args_.clear();
  consumed_ = 0;
  return State::kError;
}

void RequestParser::StartNextRequest() {
  // (args_ alone grows when ParseWholeRequest took the request.)
  if (spans_.capacity() > kMaxRetainedArgs || args_.capacity() > kMaxRetainedArgs) {
    std::vector<ArgSpan>().swap(spans_);
    std::vector<std::string_view>().swap(args_);
  }
  spans_.clear();
  args_.clear();
  consumed_ = 0;
  request_start_ = 0;
  line_start_ = 0;
  scan_pos_ = 0;
  expected_args_ = 0;
  pending_bulk_ = 0;
  phase_ = Phase::kStart;
  completed_ = false;
}

RequestParser::State RequestParser::Parse(std::string_view buffer) {
  if (failed_) return State::kError;
  if (completed_) StartNextRequest();
  args_.clear();
  consumed_ = 0;
  // REQUIRES: the caller passes at least the bytes it passed last time (see the header).
  assert(buffer.size() >= scan_pos_);
  if (ahead_next_ < ahead_.size()) return TakeAhead(buffer);

  if (phase_ == Phase::kStart) {
    if (ParseWholeRequest(buffer)) return State::kComplete;
    args_.clear();  // what the fast path had parsed before it gave up
  }

  while (true) {
    if (phase_ == Phase::kStart) {
      if (request_start_ >= buffer.size()) return State::kIncomplete;
      ++bytes_examined_;
      line_start_ = request_start_;
      scan_pos_ = request_start_;
      phase_ = buffer[request_start_] == '*' ? Phase::kArrayHeader : Phase::kInline;
    }

    State state = State::kIncomplete;
    if (phase_ == Phase::kInline) {
      state = ParseInline(buffer);
    } else {
      // The hot path: one iteration per header line or bulk string, no allocation except
      // growing spans_ (whose capacity is kept between requests).
      while (true) {
        switch (phase_) {
          case Phase::kArrayHeader:
            state = ParseArrayHeader(buffer);
            break;
          case Phase::kBulkHeader:
            state = ParseBulkHeader(buffer);
            break;
          default:
            state = ParseBulkBody(buffer);
            break;
        }
        if (state != State::kComplete || phase_ == Phase::kStart) break;
      }
      if (state == State::kComplete) {
        args_.reserve(spans_.size());
        for (const ArgSpan& span : spans_) {
          args_.emplace_back(buffer.data() + span.offset, span.length);
        }
      }
    }
    if (state != State::kComplete) return state;

    if (!args_.empty()) {
      consumed_ = scan_pos_;
      completed_ = true;
      return State::kComplete;
    }

    // An empty request (a blank inline line, "*0" or "*-1"): Redis ignores these, and so do we.
    // They are skipped here rather than reported, so callers never see a request without a
    // command name; the skipped bytes are counted in consumed() of the next real request. The
    // caller holds them until then, which is why their total is bounded like an inline line:
    // otherwise a client sending nothing but "\r\n" would make the caller buffer forever.
    request_start_ = scan_pos_;
    phase_ = Phase::kStart;
    if (request_start_ > limits_.max_inline_bytes) {
      return Fail("Protocol error: too many empty requests");
    }
  }
}

// The fast path for what nearly every read holds: a whole, plain multibulk request. Parses it
// in one pass, straight into args_, and lands exactly where the state machine would (same
// args, consumed() and bytes_examined()). Anything else, and a request not complete in
// `buffer`, returns false having changed nothing but args_ (which the caller clears): the state
// machine then parses the same bytes and produces the errors, so each request is scanned at most
// twice and the work stays linear. Plain means: "*<n>" with 1 <= n <= max_args, and every argument
// "$<len>" with len >= 1 (no leading zero) and within max_bulk_bytes, each line ended by CRLF, each
// body by CRLF.
bool RequestParser::ParseWholeRequest(std::string_view buffer) {
  const char* const data = buffer.data();
  size_t examined = 0;
  const size_t end = ReadWholeRequest(
      buffer, request_start_, limits_.max_args, limits_.max_bulk_bytes,
      [&](size_t offset, size_t length) { args_.emplace_back(data + offset, length); }, &examined);
  if (end == 0) return false;
  bytes_examined_ += examined;
  consumed_ = end;
  scan_pos_ = end;
  completed_ = true;
  ++whole_requests_;
  return true;
}

size_t RequestParser::ParseAhead(std::string_view following, size_t max) {
  if (!completed_ || failed_ || ahead_next_ < ahead_.size()) return 0;
  ahead_.clear();
  ahead_spans_.clear();
  ahead_next_ = 0;
  ahead_base_ = following.data();
  size_t pos = 0;
  while (ahead_.size() < max) {
    const size_t start = pos;
    const size_t first_span = ahead_spans_.size();
    size_t examined = 0;
    const size_t end = ReadWholeRequest(
        following, start, std::min(limits_.max_args, kMaxAheadArgs), limits_.max_bulk_bytes,
        [&](size_t offset, size_t length) {
          ahead_spans_.push_back({offset - start, length});
        },
        &examined);
    if (end == 0) {
      ahead_spans_.resize(first_span);
      break;
    }
    bytes_examined_ += examined;
    ++whole_requests_;
    ahead_.push_back({start, first_span, ahead_spans_.size() - first_span, end - start});
    pos = end;
  }
  return ahead_.size();
}

RequestHead RequestParser::ahead(size_t i) const {
  assert(i < ahead_.size());
  const AheadRequest& request = ahead_[i];
  const char* const start = ahead_base_ + request.start;
  const ArgSpan& name = ahead_spans_[request.first_span];
  RequestHead head{{start + name.offset, name.length}, {}};
  if (request.spans >= 2) {
    const ArgSpan& first = ahead_spans_[request.first_span + 1];
    head.first = {start + first.offset, first.length};
  }
  return head;
}

// Returns the next request parsed ahead, from the bytes at the start of `buffer`: the same
// bytes ParseAhead saw, since the caller passes what follows the requests returned so far.
RequestParser::State RequestParser::TakeAhead(std::string_view buffer) {
  const AheadRequest& request = ahead_[ahead_next_++];
  assert(buffer.size() >= request.bytes);
  args_.resize(request.spans);
  const ArgSpan* const spans = ahead_spans_.data() + request.first_span;
  for (size_t i = 0; i < request.spans; ++i) {
    args_[i] = std::string_view(buffer.data() + spans[i].offset, spans[i].length);
  }
  consumed_ = request.bytes;
  scan_pos_ = request.bytes;
  completed_ = true;
  return State::kComplete;
}

// Finds the CRLF ending the header line that starts at line_start_ (its type byte is already
// checked). On kComplete, *cr is the offset of the '\r'. Resumes at scan_pos_, so each byte of
// the line is examined once however the line is chunked.
RequestParser::State RequestParser::FindHeaderEnd(std::string_view buffer,
                                                  const char* too_long_message, size_t* cr) {
  const size_t window_end = std::min(buffer.size(), line_start_ + kMaxHeaderLine);
  size_t i = scan_pos_;
  while (i < window_end && buffer[i] != '\r') ++i;
  bytes_examined_ += i - scan_pos_;
  scan_pos_ = i;  // if '\r' was found but '\n' has not arrived, the next call resumes at '\r'
  if (i == window_end) {
    if (window_end == line_start_ + kMaxHeaderLine) return Fail(too_long_message);
    return State::kIncomplete;
  }
  if (i + 1 >= buffer.size()) return State::kIncomplete;
  bytes_examined_ += 2;
  *cr = i;
  return State::kComplete;
}

RequestParser::State RequestParser::ParseArrayHeader(std::string_view buffer) {
  if (scan_pos_ == line_start_) scan_pos_ = line_start_ + 1;  // past the '*'
  size_t cr = 0;
  const State state = FindHeaderEnd(buffer, "Protocol error: too big mbulk count string", &cr);
  if (state != State::kComplete) return state;
  int64_t count = 0;
  const std::string_view digits = buffer.substr(line_start_ + 1, cr - line_start_ - 1);
  const int64_t max_args = static_cast<int64_t>(std::min<size_t>(limits_.max_args, INT64_MAX));
  // "*-1" is the null array and "*0" the empty one; both are skipped by Parse like Redis
  // does. Other negative counts are nonsense and rejected.
  if (buffer[cr + 1] != '\n' || !ParseLength(digits, max_args, &count) || count < -1) {
    return Fail("Protocol error: invalid multibulk length");
  }
  scan_pos_ = cr + 2;
  if (count <= 0) {
    expected_args_ = 0;
    phase_ = Phase::kStart;
    return State::kComplete;
  }
  expected_args_ = static_cast<size_t>(count);
  line_start_ = scan_pos_;
  phase_ = Phase::kBulkHeader;
  return State::kComplete;
}

RequestParser::State RequestParser::ParseBulkHeader(std::string_view buffer) {
  if (scan_pos_ == line_start_) {
    // Fast path for what nearly every request holds: the whole header line has arrived and
    // is plain ('$', 1-19 digits without a leading zero, CRLF) within the limit. It reaches
    // the state, and counts the bytes examined, exactly as the general path below would; that
    // path handles everything else (a partial line, anything malformed, the error messages).
    const size_t first = line_start_ + 1;
    const size_t reach = std::min(buffer.size(), first + 19);
    if (first < reach && buffer[line_start_] == '$' && buffer[first] >= '1' &&
        buffer[first] <= '9') {
      uint64_t length = 0;
      size_t i = first;
      for (; i < reach && buffer[i] >= '0' && buffer[i] <= '9'; ++i) {
        length = length * 10 + static_cast<uint64_t>(buffer[i] - '0');
      }
      if (i + 1 < buffer.size() && buffer[i] == '\r' && buffer[i + 1] == '\n' &&
          length <= std::min<uint64_t>(limits_.max_bulk_bytes, INT64_MAX - 2)) {
        bytes_examined_ += i + 2 - line_start_;
        pending_bulk_ = static_cast<size_t>(length);
        scan_pos_ = i + 2;
        phase_ = Phase::kBulkBody;
        return State::kComplete;
      }
    }
    if (line_start_ >= buffer.size()) return State::kIncomplete;
    ++bytes_examined_;
    const char type = buffer[line_start_];
    if (type != '$') {
      // Redis prints the byte as is; a control byte would garble the reply, so show it as hex.
      char shown[8];
      if (type >= 0x20 && type < 0x7f) {
        shown[0] = type;
        shown[1] = '\0';
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        const auto u = static_cast<unsigned char>(type);
        shown[0] = '\\';
        shown[1] = 'x';
        shown[2] = kHex[u >> 4];
        shown[3] = kHex[u & 0xf];
        shown[4] = '\0';
      }
      return Fail(std::string("Protocol error: expected '$', got '") + shown + "'");
    }
    scan_pos_ = line_start_ + 1;
  }
  size_t cr = 0;
  const State state = FindHeaderEnd(buffer, "Protocol error: too big bulk count string", &cr);
  if (state != State::kComplete) return state;
  int64_t length = 0;
  const std::string_view digits = buffer.substr(line_start_ + 1, cr - line_start_ - 1);
  const int64_t max_bulk =
      static_cast<int64_t>(std::min<size_t>(limits_.max_bulk_bytes, INT64_MAX - 2));
  if (buffer[cr + 1] != '\n' || !ParseLength(digits, max_bulk, &length) || length < 0) {
    return Fail("Protocol error: invalid bulk length");
  }
  pending_bulk_ = static_cast<size_t>(length);
  scan_pos_ = cr + 2;
  phase_ = Phase::kBulkBody;
  return State::kComplete;
}

RequestParser::State RequestParser::ParseBulkBody(std::string_view buffer) {
  // The body is [scan_pos_, end) and is never examined; only the CRLF after it is.
  const size_t end = scan_pos_ + pending_bulk_;
  if (buffer.size() <= end) return State::kIncomplete;
  // The '\r' is checked as soon as it arrives so that a missing terminator is reported at the
  // same point however the bytes are chunked.
  if (buffer[end] != '\r' || (buffer.size() > end + 1 && buffer[end + 1] != '\n')) {
    bytes_examined_ += 2;
    return Fail("Protocol error: bulk string not terminated by CRLF");
  }
  if (buffer.size() == end + 1) return State::kIncomplete;
  bytes_examined_ += 2;
  spans_.push_back(ArgSpan{scan_pos_, pending_bulk_});
  scan_pos_ = end + 2;
  line_start_ = scan_pos_;
  if (spans_.size() == expected_args_) {
    phase_ = Phase::kStart;  // tells Parse the request is complete
    return State::kComplete;
  }
  phase_ = Phase::kBulkHeader;
  return State::kComplete;
}

RequestParser::State RequestParser::ParseInline(std::string_view buffer) {
  // Search for '\n' only as far as a line of max_inline_bytes plus "\r\n" could reach, from
  // where the previous call stopped.
  const size_t max_line = limits_.max_inline_bytes;
  const size_t reach = max_line > SIZE_MAX - 2 ? SIZE_MAX : max_line + 2;
  const size_t window_end =
      buffer.size() - line_start_ > reach ? line_start_ + reach : buffer.size();
  const char* base = buffer.data();
  const void* found = scan_pos_ < window_end
                          ? std::memchr(base + scan_pos_, '\n', window_end - scan_pos_)
                          : nullptr;
  if (found == nullptr) {
    bytes_examined_ += window_end - scan_pos_;
    scan_pos_ = window_end;
    // The line so far, less a '\r' that may turn out to be the start of its "\r\n".
    size_t so_far = window_end - line_start_;
    if (so_far > 0 && buffer[window_end - 1] == '\r') --so_far;
    if (so_far > max_line) return Fail("Protocol error: too big inline request");
    return State::kIncomplete;
  }
  const auto newline = static_cast<size_t>(static_cast<const char*>(found) - base);
  bytes_examined_ += newline + 1 - scan_pos_;
  size_t line_end = newline;
  if (line_end > line_start_ && buffer[line_end - 1] == '\r') --line_end;
  if (line_end - line_start_ > max_line) return Fail("Protocol error: too big inline request");

  const std::string_view line = buffer.substr(line_start_, line_end - line_start_);
  bytes_examined_ += line.size();
  if (!SplitInline(line, inline_storage_, args_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  if (args_.size() > limits_.max_args) return Fail("Protocol error: too many arguments");
  scan_pos_ = newline + 1;
  return State::kComplete;  // with no args if the line was blank: Parse skips it
}

}  // namespace ds::protocol
