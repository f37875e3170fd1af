#include "daemon_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace ds::testing {

std::string DaemonPath() { return DS_DAEMON_PATH; }

std::string FreshStoreDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/ds-" + name + "-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

DaemonProcess::DaemonProcess(std::vector<std::string> args, std::vector<std::string> extra_env)
    : args_(std::move(args)), extra_env_(std::move(extra_env)) {
  if (std::find(args_.begin(), args_.end(), "--port") == args_.end()) {
    args_.insert(args_.end(), {"--port", "0"});
  }
  if (std::find(args_.begin(), args_.end(), "--bind") == args_.end()) {
    args_.insert(args_.end(), {"--bind", "127.0.0.1"});
  }
  // Several shards whatever the machine, so that every test also crosses between shards (the
  // default on a 2-core machine is one).
  if (std::find(args_.begin(), args_.end(), "--shards") == args_.end()) {
    args_.insert(args_.end(), {"--shards", "2"});
  }
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !exited_) Kill();
  if (reader_.joinable()) reader_.join();
}

bool DaemonProcess::Start(std::chrono::seconds timeout) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return false;
  std::string path = DaemonPath();
  std::vector<std::string> argv_s = {path};
  argv_s.insert(argv_s.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), extra_env_.begin(), extra_env_.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipefd[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(pipefd[1]);
  if (pid_ < 0) {
    close(pipefd[0]);
    return false;
  }
  reader_ = std::thread([this, fd = pipefd[0]] { ReadStderr(fd); });

  const std::string marker = "event=listening addr=127.0.0.1:";
  std::unique_lock<std::mutex> lock(mu_);
  bool ready = cv_.wait_for(
      lock, timeout, [&] { return log_.find(marker) != std::string::npos || stderr_closed_; });
  size_t at = log_.find(marker);
  if (!ready || at == std::string::npos) return false;
  port_ = static_cast<uint16_t>(std::atoi(log_.c_str() + at + marker.size()));
  return port_ != 0;
}

void DaemonProcess::ReadStderr(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  stderr_closed_ = true;
  cv_.notify_all();
}

void DaemonProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

std::optional<int> DaemonProcess::Wait(std::chrono::seconds timeout) {
  if (exited_) return exit_code_;
  // waitpid has no timeout, so wait for the child's pidfd to become readable (it does when
  // the child exits), then reap it.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd pfd{pidfd, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(timeout.count() * 1000));
    close(pidfd);
    if (ready <= 0) return std::nullopt;
  }
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (reader_.joinable()) reader_.join();
  return exit_code_;
}

void DaemonProcess::Kill() {
  Signal(SIGKILL);
  Wait(std::chrono::seconds(30));
}

bool DaemonProcess::WaitForLog(const std::string& needle, std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return log_.find(needle) != std::string::npos || stderr_closed_;
  }) && log_.find(needle) != std::string::npos;
}

std::string DaemonProcess::Log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

CommandOutput RunCommand(const std::string& command) {
  CommandOutput result;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) result.out.append(buf, n);
  int status = pclose(p);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace ds::testing
