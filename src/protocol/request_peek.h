// PeekRequest: the command name and first argument of a whole request, read ahead of parsing.
//
// The server reads a pipelined client's requests many at a time, and before running them it
// looks at what they will touch (server/session_prefetch.h): for a session command the first
// argument names the session. This reads just that much of each request, in the
// common form only (a RESP array of bulk strings with plain lengths, all of it in the buffer);
// anything else ends the peek, and the request is left to RequestParser, which alone decides
// what a request is and answers malformed ones. A peek changes nothing and promises nothing.
#pragma once

#include <cstddef>
#include <string_view>

namespace ds::protocol {

struct RequestHead {
  std::string_view name;   // the first argument: the command's name
  std::string_view first;  // the second argument, or empty when there is none
};

// Reads the request at the start of `input` into *head and returns the bytes it takes, or 0 if
// `input` does not start with a whole request in the common form.
size_t PeekRequest(std::string_view input, RequestHead* head);

}  // namespace ds::protocol
