#include "info.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "workload.h"

namespace ds::bench {

bool ReadInfo(const std::string& host, uint16_t port, const std::string& section,
              InfoFields* fields, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "INFO: connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  Template info;
  info.AddCommand(section.empty() ? std::vector<std::string>{"INFO"}
                                  : std::vector<std::string>{"INFO", section});
  std::string request;
  info.Append(0, request);
  std::string reply;
  bool ok = write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size());
  while (ok) {
    bool bad = false;
    if (ReplyLength(reply, &bad) > 0 || bad) {
      ok = !bad && reply[0] == '$';
      break;
    }
    char buf[16384];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      ok = false;
      break;
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (!ok) {
    *error = "INFO: no valid reply from " + host + ":" + std::to_string(port);
    return false;
  }
  std::istringstream lines(reply.substr(reply.find("\r\n") + 2));
  std::string line;
  fields->clear();
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    (*fields)[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return true;
}

uint64_t InfoNumber(const InfoFields& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return 0;
  return std::strtoull(it->second.c_str(), nullptr, 10);
}

uint64_t ResidentBytes(uint64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;  // reported in kB
    }
  }
  return 0;
}

uint64_t CpuMicros(uint64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
  // from the last ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  uint64_t ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i >= 12) ticks += std::strtoull(field.c_str(), nullptr, 10);
  }
  const long per_second = sysconf(_SC_CLK_TCK);
  return per_second > 0 ? ticks * 1000000 / static_cast<uint64_t>(per_second) : 0;
}

}  // namespace ds::bench
