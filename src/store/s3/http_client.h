// HttpClient: blocking HTTP/1.1 requests over libcurl, with kept-alive connections and a bound
// on the number of requests in flight.
//
// Connection reuse: each curl easy handle keeps its connections open after a request; handles
// are kept in a pool (guarded by a mutex) and reused, so a steady stream of store calls reuses a
// few warm connections instead of paying a TCP (and TLS) handshake per request.
//
// Bounded concurrency: at most `max_in_flight` requests run at once; further callers wait for a
// slot, but never past their deadline.
//
// What a failed request tells: the caller of a conditional write must know whether the server
// may have received the complete request (then the write may have happened: outcome unknown) or
// certainly did not (then it is safe to send it again). HttpResponse::may_have_arrived says
// which. One libcurl behaviour matters here: when a reused connection breaks before any response
// byte arrives, libcurl silently sends the request again on a new connection. For a conditional
// write that would turn "my write went through but I lost the answer" into a 412 on the resend,
// i.e. a false precondition failure; so requests with `allow_resend = false` refuse the rewind
// of their body that the resend needs, and fail instead (reported as may_have_arrived).
//
// Thread safety: Perform may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::store::s3 {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "PUT", "DELETE"
  std::string url;     // already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;     // PUT only
  bool allow_resend = true;  // false: never let libcurl resend this request by itself
  std::chrono::milliseconds timeout{5000};  // the whole attempt
  size_t max_response_bytes = size_t{64} << 20;
};

enum class TransportError {
  kNone,              // a complete HTTP response arrived (any status)
  kNotSent,           // no connection could be made: the server cannot have seen the request
  kTimeout,           // the attempt ran out of time
  kConnectionLost,    // reset, closed early, or a send/receive error
  kResponseTooLarge,  // the response body exceeded max_response_bytes
  kOther,             // a local or protocol failure (bad TLS certificate, malformed response, ...)
};

struct HttpResponse {
  TransportError error = TransportError::kNone;
  // False only when the server certainly did not receive the whole request.
  bool may_have_arrived = true;
  std::string error_message;  // for logs, when error != kNone

  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The value of a header (by lower-case name), or empty.
  std::string Header(std::string_view lower_name) const;
};

class HttpClient {
 public:
  struct Options {
    size_t max_in_flight = 32;
    std::chrono::milliseconds connect_timeout{2000};
  };

  explicit HttpClient(Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and waits for the response. Waits for a free slot first, but gives up
  // (kNotSent) when `deadline` passes before one frees up.
  HttpResponse Perform(const HttpRequest& request, std::chrono::steady_clock::time_point deadline);

  // Connections opened so far (for tests of connection reuse and for INFO).
  uint64_t connections_opened() const;

 private:
  struct Handle;

  std::unique_ptr<Handle> Acquire(std::chrono::steady_clock::time_point deadline);
  void Release(std::unique_ptr<Handle> handle);
  HttpResponse Run(Handle& handle, const HttpRequest& request);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable slot_freed_;
  size_t in_flight_ = 0;                       // guarded by mu_
  std::vector<std::unique_ptr<Handle>> idle_;  // guarded by mu_
  uint64_t connections_opened_ = 0;            // guarded by mu_
};

}  // namespace ds::store::s3
