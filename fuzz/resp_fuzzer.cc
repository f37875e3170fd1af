// libFuzzer target for the RESP request parser.
//
// The input is a byte stream from a client. It is parsed three times: whole; split into chunks at
// positions derived from the input itself, through a buffer that is copied to a fresh
// allocation before every call (so a parser that kept pointers across calls reads freed memory
// and AddressSanitizer stops); and chunked so again while parsing ahead after every request
// (RequestParser::ParseAhead), whose heads must match the requests then returned. All runs must
// produce the same requests and end in the same state with the same error. Along the way:
// consumed() never exceeds the buffer, a request always has arguments, multibulk arguments lie
// inside the buffer, every argument is readable, and an incomplete request never makes the caller
// hold more than the limits allow.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/resp_parser.h"

namespace {

using ds::protocol::ParserLimits;
using ds::protocol::RequestParser;
using State = RequestParser::State;

// Small limits, so that the fuzzer reaches every limit with short inputs.
ParserLimits FuzzLimits() {
  ParserLimits limits;
  limits.max_args = 8;
  limits.max_bulk_bytes = 64;
  limits.max_inline_bytes = 48;
  return limits;
}

// Longest header line the parser buffers (see kMaxHeaderLine in resp_parser.cc).
constexpr size_t kMaxHeaderLine = 64;

struct Outcome {
  std::vector<std::vector<std::string>> requests;
  State last = State::kIncomplete;
  std::string error;
};

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "resp_fuzzer: check failed: %s\n", what);
    abort();
  }
}

// Most bytes a caller may hold while the parser says kIncomplete: the empty requests skipped
// in front, then either an inline line or a multibulk request of max_args headers and bodies.
size_t MaxHeldBytes(const ParserLimits& l) {
  const size_t skipped = l.max_inline_bytes;
  const size_t inline_line = l.max_inline_bytes + 2;
  const size_t multibulk =
      kMaxHeaderLine + 2 + l.max_args * (kMaxHeaderLine + 2 + l.max_bulk_bytes + 2);
  return skipped + std::max(inline_line, multibulk);
}

// Feeds `data` ending each chunk at the offsets in `ends` (ascending, last == data.size()),
// parsing up to `look_ahead` requests ahead after each one.
Outcome Run(std::string_view data, const std::vector<size_t>& ends, size_t look_ahead = 0) {
  const ParserLimits limits = FuzzLimits();
  RequestParser parser(limits);
  Outcome out;
  std::deque<std::pair<std::string, std::string>> heads;  // parsed ahead, not yet returned
  std::string pending;
  size_t from = 0;
  for (size_t end : ends) {
    pending.append(data.substr(from, end - from));
    from = end;
    while (true) {
      const std::vector<char> moved(pending.begin(), pending.end());
      const std::string_view buffer(moved.data(), moved.size());
      out.last = parser.Parse(buffer);
      if (out.last == State::kError) {
        out.error = parser.error();
        Check(!out.error.empty(), "an error has a message");
        Check(parser.Parse(buffer) == State::kError, "the error state sticks");
        return out;
      }
      if (out.last == State::kIncomplete) {
        Check(parser.args().empty(), "no args while incomplete");
        Check(buffer.size() <= MaxHeldBytes(limits), "held bytes are bounded by the limits");
        break;
      }
      const size_t consumed = parser.consumed();
      Check(consumed > 0 && consumed <= buffer.size(), "consumed() lies within the buffer");
      Check(!parser.args().empty(), "a request has arguments");
      Check(parser.args().size() <= limits.max_args, "max_args holds");
      const std::string_view request_bytes = buffer.substr(0, consumed);
      const bool quoted = request_bytes.find_first_of("\"'") != std::string_view::npos;
      std::vector<std::string> request;
      size_t total = 0;
      for (std::string_view arg : parser.args()) {
        Check(arg.size() <= std::max(limits.max_bulk_bytes, limits.max_inline_bytes),
              "argument sizes are bounded by the limits");
        // Arguments are views into the request's bytes, except unescaped quoted inline words.
        const bool inside = arg.data() >= request_bytes.data() &&
                            arg.data() + arg.size() <= request_bytes.data() + consumed;
        Check(inside || arg.empty() || quoted, "args are views into the consumed bytes");
        total += arg.size();
        request.emplace_back(arg);  // touches every byte: ASan checks the view is readable
      }
      Check(total <= consumed, "arguments are no longer than the bytes they came from");
      if (!heads.empty()) {
        Check(request[0] == heads.front().first, "a request parsed ahead has its head's name");
        Check((request.size() >= 2 ? request[1] : "") == heads.front().second,
              "a request parsed ahead has its head's first argument");
        heads.pop_front();
      }
      if (look_ahead > 0) {
        const size_t ahead = parser.ParseAhead(buffer.substr(consumed), look_ahead);
        Check(ahead <= look_ahead, "a look-ahead stops at its maximum");
        Check(ahead == 0 || heads.empty(), "nothing is parsed ahead twice");
        for (size_t i = 0; i < ahead; ++i) {
          const ds::protocol::RequestHead head = parser.ahead(i);
          heads.emplace_back(head.name, head.first);
        }
      }
      out.requests.push_back(std::move(request));
      pending.erase(0, consumed);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const Outcome whole = Run(input, {size});

  // Chunk lengths from 1 to 16 bytes, drawn from a generator seeded by the input, so the
  // fuzzer explores the splits too and every crash reproduces from its input alone.
  uint32_t seed = 2166136261U;
  for (uint8_t b : input) seed = (seed ^ b) * 16777619U;
  std::vector<size_t> ends;
  for (size_t pos = 0; pos < size;) {
    seed = seed * 1664525U + 1013904223U;
    pos = std::min(size, pos + 1 + ((seed >> 24) & 15));
    ends.push_back(pos);
  }
  if (ends.empty()) ends.push_back(0);
  const Outcome chunked = Run(input, ends);
  const Outcome ahead = Run(input, ends, /*look_ahead=*/1 + (seed >> 28));

  Check(whole.requests == chunked.requests, "same requests whole and chunked");
  Check(whole.last == chunked.last, "same final state whole and chunked");
  Check(whole.error == chunked.error, "same error whole and chunked");
  Check(whole.requests == ahead.requests, "same requests whole and parsed ahead");
  Check(whole.last == ahead.last, "same final state whole and parsed ahead");
  Check(whole.error == ahead.error, "same error whole and parsed ahead");
  return 0;
}
