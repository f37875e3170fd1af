// FaultProxy: an HTTP/1.1 proxy on 127.0.0.1 that sits between the s3 store and a real S3
// server and makes the failures happen that a healthy server rarely shows:
//
//   kStatus          answer with an error status instead of forwarding (503 SlowDown bursts,
//                    500 InternalError, 409 ...); the request never reaches the server
//   kReset           reset the connection after reading the request, without forwarding it
//   kHang            read the request and never answer (the client times out)
//   kDelay           forward after a delay (slow responses)
//   kCommitThenDrop  forward, let the server apply the request, then reset the connection
//                    instead of delivering the answer: the "lost response" of a committed write
//   kCommitThenHang  forward, then never deliver the answer (a timeout after the commit)
//
// Faults are queued; each request takes the first queued fault whose method matches and uses up
// one of its `count`. Requests without a fault are forwarded unchanged (the Host header too, so
// SigV4 signatures made for the proxy's address stay valid). Each forwarded request uses a new
// upstream connection; client connections are kept alive as the client wishes, so connection
// reuse by the client is observable (Stats::client_connections).
//
// Used in-process by the tests (tests/store_s3/s3_fault_test.cc), and as the program
// `fault_proxy` (fault_proxy_main.cc) by tests of other modules, steered over HTTP:
//   POST /__fault/inject?kind=status&status=503&code=SlowDown&method=PUT&count=3&delay_ms=0
//   POST /__fault/clear        GET /__fault/stats
//
// Thread safety: all methods may be called from any thread; one thread serves each client
// connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ds::store::s3::test {

struct Fault {
  enum class Kind { kStatus, kReset, kHang, kDelay, kCommitThenDrop, kCommitThenHang };
  Kind kind = Kind::kStatus;
  int status = 503;                    // kStatus
  std::string code = "SlowDown";       // kStatus: the S3 error code in the body
  std::chrono::milliseconds delay{0};  // kDelay
  std::string method;                  // applies to this method only; empty: any
  int count = 1;                       // number of requests it applies to

  static Fault Status(int status, std::string code, std::string method = "", int count = 1);
  static Fault Reset(std::string method = "", int count = 1);
  static Fault Hang(std::string method = "", int count = 1);
  static Fault Delay(std::chrono::milliseconds delay, std::string method = "", int count = 1);
  static Fault CommitThenDrop(std::string method = "", int count = 1);
  static Fault CommitThenHang(std::string method = "", int count = 1);
};

class FaultProxy {
 public:
  struct Stats {
    uint64_t requests = 0;  // requests received from clients
    std::map<std::string, uint64_t> by_method;
    uint64_t forwarded = 0;           // requests that reached the server
    uint64_t faults = 0;              // requests that got a fault
    uint64_t client_connections = 0;  // connections accepted from clients
    uint64_t max_concurrent = 0;      // most requests being handled at once
  };

  // Listens on 127.0.0.1:`listen_port` (0: any free port) and forwards to
  // upstream_host:upstream_port (an IPv4 address). nullptr if the port cannot be bound.
  static std::unique_ptr<FaultProxy> Start(const std::string& upstream_host, int upstream_port,
                                           int listen_port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Inject(Fault fault);
  void ClearFaults();
  Stats stats() const;
  // Faults still queued (a test checks that its faults were all used).
  size_t pending_faults() const;

  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  FaultProxy(std::string upstream_host, int upstream_port);

  void AcceptLoop();
  void Serve(int client_fd);
  bool TakeFault(const std::string& method, Fault* out);
  // Waits until Stop() or `timeout`; false when stopping.
  bool Pause(std::chrono::milliseconds timeout);
  void HandleControl(int client_fd, const std::string& target, const std::string& method);

  const std::string upstream_host_;
  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                    // guarded by mu_
  std::deque<Fault> faults_;                 // guarded by mu_
  std::vector<int> client_fds_;              // guarded by mu_
  std::vector<std::thread> client_threads_;  // guarded by mu_
  Stats stats_;                              // guarded by mu_
  uint64_t in_flight_ = 0;                   // guarded by mu_
};

}  // namespace ds::store::s3::test
