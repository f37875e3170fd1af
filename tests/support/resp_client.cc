#include "resp_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ds::testing {

std::string RespValue::Debug() const {
  switch (type) {
    case Type::kSimple:
      return "+" + str;
    case Type::kError:
      return "-" + str;
    case Type::kInteger:
      return ":" + std::to_string(integer);
    case Type::kBulk:
      return "\"" + str + "\"";
    case Type::kNull:
      return "(nil)";
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i) out += ", ";
        out += elements[i].Debug();
      }
      return out + "]";
    }
  }
  return "?";
}

RespClient::RespClient(uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::fprintf(stderr, "RespClient: cannot connect to port %u: %s\n", port, strerror(errno));
    std::abort();
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // A reply that never comes fails the read and the test after kReplyTimeoutSeconds (Fill),
  // rather than holding the test until ctest's timeout.
  timeval timeout{};
  timeout.tv_sec = kReplyTimeoutSeconds;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

RespClient::~RespClient() {
  if (fd_ >= 0) close(fd_);
}

std::string RespClient::Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  }
  return out;
}

void RespClient::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the peer closed; the test sees it when reading
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

RespValue RespClient::Call(const std::vector<std::string>& args) {
  SendRaw(Encode(args));
  RespValue v;
  if (!Read(&v)) {
    v.type = RespValue::Type::kError;
    v.str = "CLOSED connection closed by the daemon";
  }
  return v;
}

bool RespClient::Fill() {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char chunk[65536];
  ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    // A failure here, whatever the caller makes of the false: some callers read false as "the
    // daemon closed the connection", which a test that kills daemons accepts.
    ADD_FAILURE() << "RespClient: nothing received for " << kReplyTimeoutSeconds << " s";
  }
  if (n <= 0) return false;
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool RespClient::ReadLine(std::string* line) {
  for (;;) {
    size_t end = buf_.find("\r\n", pos_);
    if (end != std::string::npos) {
      *line = buf_.substr(pos_, end - pos_);
      pos_ = end + 2;
      return true;
    }
    if (!Fill()) return false;
  }
}

bool RespClient::ReadValue(RespValue* out) {
  std::string line;
  if (!ReadLine(&line) || line.empty()) return false;
  char kind = line[0];
  std::string rest = line.substr(1);
  switch (kind) {
    case '+':
      out->type = RespValue::Type::kSimple;
      out->str = rest;
      return true;
    case '-':
      out->type = RespValue::Type::kError;
      out->str = rest;
      return true;
    case ':':
      out->type = RespValue::Type::kInteger;
      out->integer = std::stoll(rest);
      return true;
    case '$': {
      long long len = std::stoll(rest);
      if (len < 0) {
        out->type = RespValue::Type::kNull;
        return true;
      }
      while (buf_.size() - pos_ < static_cast<size_t>(len) + 2) {
        if (!Fill()) return false;
      }
      out->type = RespValue::Type::kBulk;
      out->str = buf_.substr(pos_, static_cast<size_t>(len));
      pos_ += static_cast<size_t>(len) + 2;
      return true;
    }
    case '*': {
      long long n = std::stoll(rest);
      if (n < 0) {
        out->type = RespValue::Type::kNull;
        return true;
      }
      out->type = RespValue::Type::kArray;
      out->elements.resize(static_cast<size_t>(n));
      for (auto& e : out->elements) {
        if (!ReadValue(&e)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

bool RespClient::Read(RespValue* out) {
  *out = RespValue();
  return ReadValue(out);
}

bool RespClient::ReadRaw(size_t n, std::string* out) {
  while (buf_.size() - pos_ < n) {
    if (!Fill()) return false;
  }
  *out = buf_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool RespClient::ReceiveOnce(std::string* out) {
  if (pos_ == buf_.size() && !Fill()) return false;
  *out = buf_.substr(pos_);
  pos_ = buf_.size();
  return true;
}

bool RespClient::PeerClosed() {
  if (pos_ < buf_.size()) return false;
  char c;
  ssize_t n = recv(fd_, &c, 1, 0);
  if (n == 1) {
    buf_.push_back(c);
    return false;
  }
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

}  // namespace ds::testing
