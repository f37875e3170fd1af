#include "driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

namespace ds::bench {
namespace {

int64_t NowNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t SecondsToNanos(double s) { return static_cast<int64_t>(s * 1e9); }

uint64_t NextRandom(uint64_t& x) {  // xorshift64*
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x * 2685821657736338717ULL;
}

// The step of a scattered walk over `sessions` (DriverOptions::scatter): near 0.618 of the
// count, so that consecutive requests land far apart, and coprime with it, so that every
// `sessions` consecutive requests visit each session exactly once (session n * stride mod count).
uint64_t ScatterStride(uint64_t sessions) {
  uint64_t stride = sessions * 618 / 1000 + 1;
  while (std::gcd(stride, sessions) != 1) ++stride;
  return stride;
}

int Connect(const std::string& host, uint16_t port, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    *error = "not an IPv4 address: " + host;
    close(fd);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Settings and clocks shared by the threads of one run: read-only while it runs, except the
// sequential counter.
struct Shared {
  const DriverOptions& options;
  const Template& unit;
  int64_t start = 0;         // when sending begins
  int64_t measure_from = 0;  // the measured window
  int64_t measure_to = 0;
  int64_t drain_until = 0;  // give up waiting for replies
  int64_t interval = 0;     // open loop: between one connection's batches
  std::atomic<uint64_t> next_sequential{0};
  const uint64_t scatter_stride = ScatterStride(options.sessions);
};

struct Conn {
  int fd = -1;
  std::string out;  // bytes not yet written
  size_t out_pos = 0;
  std::vector<char> in = std::vector<char>(size_t{64} * 1024);
  size_t in_start = 0;
  size_t in_end = 0;
  std::deque<int64_t> sent;  // send (closed) or scheduled (open) time of each pending unit
  size_t replies_in_unit = 0;
  uint64_t rng = 0;
  int64_t next_send = 0;  // open loop: time of the next batch
  bool polling_out = false;
  bool done = false;  // sequential: nothing left to send
};

class Worker {
 public:
  Worker(Shared& shared, int first_conn, int conns) : s_(shared), first_(first_conn) {
    conns_.resize(static_cast<size_t>(conns));
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    if (epoll_ >= 0) close(epoll_);
  }

  // Connects every connection of this worker (before the clock starts).
  bool Connect() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      c.fd = ds::bench::Connect(s_.options.host, s_.options.port, &result_.error);
      if (c.fd < 0) return false;
      c.rng = ((s_.options.seed * 1000003 + static_cast<uint64_t>(first_) + i) *
               0x9E3779B97F4A7C15ULL) |
              1;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    }
    return true;
  }

  void Run() {
    // Open-loop wake-ups are scheduled to the microsecond; the default 50 µs timer slack
    // would make every batch late by that much.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    const bool open = s_.options.rate > 0;
    while (NowNanos() < s_.start) {
      timespec ts{0, 100'000};
      nanosleep(&ts, nullptr);
    }
    for (Conn& c : conns_) {
      if (open) {
        c.next_send =
            s_.start + static_cast<int64_t>(NextRandom(c.rng) % static_cast<uint64_t>(s_.interval));
      } else {
        SendBatch(c, NowNanos());
      }
    }
    std::vector<epoll_event> events(conns_.size() + 1);
    while (true) {
      int64_t now = NowNanos();
      if (open) SendDue(now);
      if (Finished(now)) break;
      int64_t wait = 100'000'000;  // at most 100 ms, to notice the end of the run
      if (open) {
        for (const Conn& c : conns_) {
          if (c.next_send < s_.measure_to) wait = std::min(wait, c.next_send - now);
        }
      }
      wait = std::max<int64_t>(0, wait);
      timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
      const int n =
          epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
      if (n < 0 && errno != EINTR) {
        Fail(std::string("epoll: ") + std::strerror(errno));
        break;
      }
      now = NowNanos();
      for (int i = 0; i < n; ++i) {
        Conn& c = conns_[events[i].data.u64];
        if (events[i].events & EPOLLOUT) Flush(c);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadReplies(c, now);
        if (!result_.error.empty()) return;
      }
    }
    for (const Conn& c : conns_) result_.unanswered += c.sent.size();
  }

  DriverResult& result() { return result_; }

 private:
  bool Finished(int64_t now) const {
    if (!result_.error.empty()) return true;
    bool idle = true;
    bool all_done = true;
    for (const Conn& c : conns_) {
      idle = idle && c.sent.empty();
      all_done = all_done && c.done;
    }
    if (now >= s_.drain_until) return true;
    if (s_.options.sequential) return all_done && idle;
    return now >= s_.measure_to && idle;
  }

  // Appends up to `count` units, each stamped `stamp`, and writes what the socket takes.
  void Append(Conn& c, int count, int64_t stamp) {
    for (int i = 0; i < count; ++i) {
      uint64_t session = 0;
      if (s_.options.sequential) {
        const uint64_t n = s_.next_sequential.fetch_add(1, std::memory_order_relaxed);
        const uint64_t total = s_.options.requests > 0 ? s_.options.requests : s_.options.sessions;
        if (n >= total) {
          c.done = true;
          break;
        }
        session = s_.options.scatter
                      ? (n % s_.options.sessions) * s_.scatter_stride % s_.options.sessions
                      : n % s_.options.sessions;
      } else {
        session = NextRandom(c.rng) % s_.options.sessions;
      }
      s_.unit.Append(session, c.out);
      c.sent.push_back(stamp);
    }
    Flush(c);
  }

  // Closed loop: the next batch, if the window is still open.
  void SendBatch(Conn& c, int64_t now) {
    if (c.done || (!s_.options.sequential && now >= s_.measure_to)) return;
    Append(c, s_.options.depth, now);
  }

  // Open loop: every batch whose time has come, stamped with its scheduled time.
  void SendDue(int64_t now) {
    for (Conn& c : conns_) {
      while (c.next_send <= now && c.next_send < s_.measure_to) {
        Append(c, s_.options.depth, c.next_send);
        c.next_send += s_.interval;
      }
    }
  }

  void Flush(Conn& c) {
    while (c.out_pos < c.out.size()) {
      const ssize_t n = write(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos);
      if (n > 0) {
        c.out_pos += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return Fail(std::string("write: ") + std::strerror(errno));
    }
    const bool pending = c.out_pos < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_pos = 0;
    }
    if (pending != c.polling_out) {
      epoll_event ev{};
      ev.events = pending ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
      ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
      c.polling_out = pending;
    }
  }

  void ReadReplies(Conn& c, int64_t now) {
    constexpr size_t kMinRoom = size_t{16} * 1024;
    if (c.in_start == c.in_end) c.in_start = c.in_end = 0;
    if (c.in.size() - c.in_end < kMinRoom) {
      std::memmove(c.in.data(), c.in.data() + c.in_start, c.in_end - c.in_start);
      c.in_end -= c.in_start;
      c.in_start = 0;
      if (c.in.size() - c.in_end < kMinRoom) c.in.resize(c.in.size() * 2);
    }
    const ssize_t n = read(c.fd, c.in.data() + c.in_end, c.in.size() - c.in_end);
    if (n == 0) return Fail("the server closed a connection");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      return Fail(std::string("read: ") + std::strerror(errno));
    }
    c.in_end += static_cast<size_t>(n);
    while (c.in_start < c.in_end) {
      const std::string_view data(c.in.data() + c.in_start, c.in_end - c.in_start);
      bool bad = false;
      const size_t len = ReplyLength(data, &bad);
      if (bad) return Fail("malformed reply: " + std::string(data.substr(0, 80)));
      if (len == 0) break;
      OnReply(c, data.substr(0, len), now);
      c.in_start += len;
    }
  }

  void OnReply(Conn& c, std::string_view reply, int64_t now) {
    if (c.sent.empty()) return Fail("a reply to no request: " + std::string(reply.substr(0, 80)));
    if (reply[0] == '-') {
      ++result_.error_replies;
      Problem(reply);
    } else if (!reply.starts_with(s_.unit.expected(c.replies_in_unit))) {
      ++result_.unexpected_replies;
      Problem(reply);
    }
    if (++c.replies_in_unit < s_.unit.replies_per_unit()) return;
    c.replies_in_unit = 0;
    const int64_t stamp = c.sent.front();
    c.sent.pop_front();
    ++result_.answered;
    if (s_.options.sequential || (stamp >= s_.measure_from && stamp < s_.measure_to)) {
      ++result_.units;
      result_.latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - stamp)));
    }
    if (s_.options.rate <= 0 && c.sent.empty()) SendBatch(c, now);
  }

  void Problem(std::string_view reply) {
    if (result_.first_problem.empty()) result_.first_problem = std::string(reply.substr(0, 120));
  }

  void Fail(std::string message) {
    if (result_.error.empty()) result_.error = std::move(message);
  }

  Shared& s_;
  const int first_;
  std::vector<Conn> conns_;
  int epoll_ = -1;
  DriverResult result_;
};

}  // namespace

DriverResult RunLoad(const DriverOptions& options, const Template& unit) {
  Shared shared{options, unit};
  const int threads = std::max(1, std::min(options.threads, options.connections));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0, first = 0; t < threads; ++t) {
    const int count = options.connections / threads + (t < options.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, first, count));
    first += count;
  }
  for (auto& w : workers) {
    if (!w->Connect()) return std::move(w->result());
  }
  if (options.rate > 0) {
    // Each connection sends a batch every `interval`, so together they send `rate` units/s.
    shared.interval = std::max<int64_t>(
        1, static_cast<int64_t>(1e9 * options.depth * options.connections / options.rate));
  }
  shared.start = NowNanos() + 20'000'000;  // every thread starts together
  if (options.sequential) {
    shared.measure_from = shared.start;
    shared.measure_to = shared.start + SecondsToNanos(options.duration_s);
    shared.drain_until = shared.measure_to;
  } else {
    shared.measure_from = shared.start + SecondsToNanos(options.warmup_s);
    shared.measure_to = shared.measure_from + SecondsToNanos(options.duration_s);
    shared.drain_until = shared.measure_to + SecondsToNanos(options.drain_s);
  }

  std::vector<std::thread> running;
  running.reserve(workers.size());
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });
  for (auto& t : running) t.join();
  const int64_t ended = NowNanos();

  DriverResult total;
  for (auto& w : workers) {
    const DriverResult& r = w->result();
    if (total.error.empty()) total.error = r.error;
    if (total.first_problem.empty()) total.first_problem = r.first_problem;
    total.units += r.units;
    total.answered += r.answered;
    total.error_replies += r.error_replies;
    total.unexpected_replies += r.unexpected_replies;
    total.unanswered += r.unanswered;
    total.latency += r.latency;
  }
  total.seconds =
      options.sequential ? static_cast<double>(ended - shared.start) / 1e9 : options.duration_s;
  return total;
}

}  // namespace ds::bench
