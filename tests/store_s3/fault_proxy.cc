// FaultProxy (see fault_proxy.h): blocking sockets, one thread per client connection.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>

namespace ds::store::s3::test {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr size_t kMaxHead = size_t{64} * 1024;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads into `buffer` until it holds a complete head; false on EOF or error.
bool ReadHead(int fd, std::string& buffer, size_t* head_end) {
  for (;;) {
    const size_t at = buffer.find(kHeadEnd);
    if (at != std::string::npos) {
      *head_end = at + kHeadEnd.size();
      return true;
    }
    if (buffer.size() > kMaxHead) return false;
    char chunk[8192];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

bool ReadAtLeast(int fd, std::string& buffer, size_t size) {
  while (buffer.size() < size) {
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

struct Head {
  std::string first_line;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent

  std::string Get(const std::string& lower_name) const {
    for (const auto& [name, value] : headers) {
      if (Lower(name) == lower_name) return value;
    }
    return {};
  }
  bool Has(const std::string& lower_name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return Lower(h.first) == lower_name; });
  }
  void Remove(const std::string& lower_name) {
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [&](const auto& h) { return Lower(h.first) == lower_name; }),
                  headers.end());
  }
  std::string Serialize() const {
    std::string out = first_line + "\r\n";
    for (const auto& [name, value] : headers)
      out.append(name).append(": ").append(value).append("\r\n");
    return out + "\r\n";
  }
};

Head ParseHead(std::string_view text) {
  Head head;
  size_t pos = text.find("\r\n");
  head.first_line = std::string(text.substr(0, pos));
  while (pos != std::string_view::npos && pos + 2 < text.size()) {
    const size_t start = pos + 2;
    pos = text.find("\r\n", start);
    const std::string_view line = text.substr(start, pos - start);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    head.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return head;
}

// Aborts the connection: the peer sees ECONNRESET, not an orderly close.
void ResetAndClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

std::string ErrorResponse(int status, const std::string& code) {
  const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
                           "</Code><Message>injected by fault_proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " Injected\r\nContent-Type: application/xml\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::map<std::string, std::string> QueryParams(const std::string& target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string::npos) return out;
  std::stringstream in(target.substr(q + 1));
  std::string item;
  while (std::getline(in, item, '&')) {
    const size_t eq = item.find('=');
    out[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
  }
  return out;
}

}  // namespace

// --- Fault constructors ------------------------------------------------------------------------

Fault Fault::Status(int status, std::string code, std::string method, int count) {
  Fault f;
  f.kind = Kind::kStatus;
  f.status = status;
  f.code = std::move(code);
  f.method = std::move(method);
  f.count = count;
  return f;
}

Fault Fault::Reset(std::string method, int count) {
  Fault f;
  f.kind = Kind::kReset;
  f.method = std::move(method);
  f.count = count;
  return f;
}

Fault Fault::Hang(std::string method, int count) {
  Fault f = Reset(std::move(method), count);
  f.kind = Kind::kHang;
  return f;
}

Fault Fault::Delay(std::chrono::milliseconds delay, std::string method, int count) {
  Fault f = Reset(std::move(method), count);
  f.kind = Kind::kDelay;
  f.delay = delay;
  return f;
}

Fault Fault::CommitThenDrop(std::string method, int count) {
  Fault f = Reset(std::move(method), count);
  f.kind = Kind::kCommitThenDrop;
  return f;
}

Fault Fault::CommitThenHang(std::string method, int count) {
  Fault f = Reset(std::move(method), count);
  f.kind = Kind::kCommitThenHang;
  return f;
}

// --- Lifecycle ---------------------------------------------------------------------------------

FaultProxy::FaultProxy(std::string upstream_host, int upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {}

std::unique_ptr<FaultProxy> FaultProxy::Start(const std::string& upstream_host, int upstream_port,
                                              int listen_port) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy(upstream_host, upstream_port));
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (proxy->listen_fd_ < 0) return nullptr;
  const int one = 1;
  ::setsockopt(proxy->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // tests bind to 127.0.0.1 only
  addr.sin_port = htons(static_cast<uint16_t>(listen_port));
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(proxy->listen_fd_, 128) != 0) {
    ::close(proxy->listen_fd_);
    proxy->listen_fd_ = -1;
    return nullptr;
  }
  socklen_t len = sizeof addr;
  ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::~FaultProxy() { Stop(); }

void FaultProxy::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    // Unblocks accept() and every recv() of the client threads; each thread closes its own fd.
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    threads.swap(client_threads_);
  }
  for (std::thread& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mu_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++stats_.client_connections;
    client_fds_.push_back(fd);
    client_threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

// --- Faults and stats --------------------------------------------------------------------------

void FaultProxy::Inject(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultProxy::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

size_t FaultProxy::pending_faults() const {
  std::lock_guard lock(mu_);
  return faults_.size();
}

FaultProxy::Stats FaultProxy::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool FaultProxy::TakeFault(const std::string& method, Fault* out) {
  std::lock_guard lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    *out = *it;
    if (--it->count <= 0) faults_.erase(it);
    ++stats_.faults;
    return true;
  }
  return false;
}

bool FaultProxy::Pause(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, timeout, [this] { return stopping_; });
}

// --- Serving one client connection -------------------------------------------------------------

void FaultProxy::Serve(int client_fd) {
  std::string buffer;
  for (;;) {
    size_t head_end = 0;
    if (!ReadHead(client_fd, buffer, &head_end)) break;
    Head head = ParseHead(std::string_view(buffer).substr(0, head_end));
    const std::string method = head.first_line.substr(0, head.first_line.find(' '));
    const size_t sp = head.first_line.find(' ');
    const std::string target = head.first_line.substr(sp + 1, head.first_line.rfind(' ') - sp - 1);
    if (head.Has("transfer-encoding")) {
      WriteAll(client_fd, ErrorResponse(501, "NotImplemented"));
      break;
    }
    const size_t body_size =
        head.Has("content-length") ? std::stoul(head.Get("content-length")) : 0;
    if (!ReadAtLeast(client_fd, buffer, head_end + body_size)) break;
    const std::string body = buffer.substr(head_end, body_size);
    buffer.erase(0, head_end + body_size);

    if (target.rfind("/__fault/", 0) == 0) {
      HandleControl(client_fd, target, method);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.requests;
      ++stats_.by_method[method];
      stats_.max_concurrent = std::max(stats_.max_concurrent, ++in_flight_);
    }
    struct InFlight {
      FaultProxy* p;
      ~InFlight() {
        std::lock_guard lock(p->mu_);
        --p->in_flight_;
      }
    } in_flight{this};

    Fault fault;
    const bool faulty = TakeFault(method, &fault);
    if (faulty && fault.kind == Fault::Kind::kStatus) {
      if (!WriteAll(client_fd, ErrorResponse(fault.status, fault.code))) break;
      continue;
    }
    if (faulty && fault.kind == Fault::Kind::kReset) {
      std::lock_guard lock(mu_);
      client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), client_fd),
                        client_fds_.end());
      ResetAndClose(client_fd);
      return;
    }
    if (faulty && fault.kind == Fault::Kind::kHang) break;  // handled below: wait, then close
    if (faulty && fault.kind == Fault::Kind::kDelay && !Pause(fault.delay)) break;

    // Forward on a fresh upstream connection.
    std::string response;
    {
      const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      ::inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
      timeval tv{60, 0};
      ::setsockopt(up, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      Head upstream_head = head;
      upstream_head.Remove("connection");
      upstream_head.headers.emplace_back("Connection", "close");
      const bool sent = ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                        WriteAll(up, upstream_head.Serialize()) && WriteAll(up, body);
      if (sent) {
        char chunk[65536];
        ssize_t n;
        while ((n = ::recv(up, chunk, sizeof chunk, 0)) > 0) {
          response.append(chunk, static_cast<size_t>(n));
        }
      }
      ::close(up);
      std::lock_guard lock(mu_);
      if (sent) ++stats_.forwarded;
    }
    const size_t response_head_end = response.find(kHeadEnd);
    if (response_head_end == std::string::npos) {
      WriteAll(client_fd, ErrorResponse(502, "BadGateway"));
      continue;
    }
    if (faulty && fault.kind == Fault::Kind::kCommitThenDrop) {
      std::lock_guard lock(mu_);
      client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), client_fd),
                        client_fds_.end());
      ResetAndClose(client_fd);
      return;
    }
    if (faulty && fault.kind == Fault::Kind::kCommitThenHang) break;

    // Re-frame for a kept-alive client connection: the upstream answer was delimited by close.
    Head response_head =
        ParseHead(std::string_view(response).substr(0, response_head_end + kHeadEnd.size()));
    std::string response_body = response.substr(response_head_end + kHeadEnd.size());
    response_head.Remove("connection");
    response_head.Remove("keep-alive");
    const int status = std::atoi(response_head.first_line.c_str() + 9);
    if (!response_head.Has("content-length") && !response_head.Has("transfer-encoding") &&
        method != "HEAD" && status != 204 && status != 304 && status >= 200) {
      response_head.headers.emplace_back("Content-Length", std::to_string(response_body.size()));
    }
    if (!WriteAll(client_fd, response_head.Serialize() + response_body)) break;
  }

  // Leaving: hang faults keep the connection open, unanswered, until the client gives up or the
  // proxy stops; everything else closes it now.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    pollfd p{client_fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 0) {
      char c;
      if (::recv(client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) break;  // closed or reset
      // The client sent more (a new request on a hung connection): keep ignoring it.
      if (!Pause(std::chrono::milliseconds(50))) break;
    }
  }
  std::lock_guard lock(mu_);
  client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), client_fd),
                    client_fds_.end());
  ::close(client_fd);
}

void FaultProxy::HandleControl(int client_fd, const std::string& target,
                               const std::string& method) {
  std::string body;
  int status = 200;
  if (target.rfind("/__fault/stats", 0) == 0) {
    const Stats s = stats();
    body = "{\"requests\":" + std::to_string(s.requests) +
           ",\"forwarded\":" + std::to_string(s.forwarded) +
           ",\"faults\":" + std::to_string(s.faults) +
           ",\"client_connections\":" + std::to_string(s.client_connections) +
           ",\"max_concurrent\":" + std::to_string(s.max_concurrent) +
           ",\"pending_faults\":" + std::to_string(pending_faults()) + "}";
  } else if (target.rfind("/__fault/clear", 0) == 0 && method == "POST") {
    ClearFaults();
    body = "{}";
  } else if (target.rfind("/__fault/inject", 0) == 0 && method == "POST") {
    std::map<std::string, std::string> q = QueryParams(target);
    static const std::map<std::string, Fault::Kind> kinds = {
        {"status", Fault::Kind::kStatus},
        {"reset", Fault::Kind::kReset},
        {"hang", Fault::Kind::kHang},
        {"delay", Fault::Kind::kDelay},
        {"commit_then_drop", Fault::Kind::kCommitThenDrop},
        {"commit_then_hang", Fault::Kind::kCommitThenHang}};
    auto kind = kinds.find(q["kind"]);
    if (kind == kinds.end()) {
      status = 400;
      body =
          "{\"error\":\"kind must be status, reset, hang, delay, commit_then_drop or "
          "commit_then_hang\"}";
    } else {
      Fault f;
      f.kind = kind->second;
      if (!q["status"].empty()) f.status = std::atoi(q["status"].c_str());
      if (!q["code"].empty()) f.code = q["code"];
      f.method = q["method"];
      if (!q["count"].empty()) f.count = std::max(1, std::atoi(q["count"].c_str()));
      f.delay = std::chrono::milliseconds(std::atoi(q["delay_ms"].c_str()));
      Inject(f);
      body = "{}";
    }
  } else {
    status = 404;
    body =
        "{\"error\":\"use POST /__fault/inject?kind=..., POST /__fault/clear, GET "
        "/__fault/stats\"}";
  }
  WriteAll(client_fd, "HTTP/1.1 " + std::to_string(status) +
                          " OK\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
}

}  // namespace ds::store::s3::test
