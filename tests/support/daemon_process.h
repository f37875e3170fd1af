// DaemonProcess: runs the real durable-stashd binary for end-to-end tests.
//
// The daemon is started with --port 0; the test learns the port from the daemon's
// `event=listening addr=127.0.0.1:PORT` log line, which also proves it is ready. stderr is
// collected by a thread so tests can wait for (not sleep for) a given log event.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ds::testing {

// Path of the durable-stashd binary under test (set by CMake).
std::string DaemonPath();

// An empty directory for a daemon's file store: `ds-<name>-<pid>` under the test's temporary
// directory, emptied of anything an earlier run left there (it is created by the daemon).
std::string FreshStoreDir(const std::string& name);

class DaemonProcess {
 public:
  // `args` are passed after the binary name; --port 0, --bind 127.0.0.1 and --shards 2 are
  // added unless `args` already has them.
  explicit DaemonProcess(std::vector<std::string> args = {},
                         std::vector<std::string> extra_env = {});
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  ~DaemonProcess();

  // Starts the process and waits until it listens (or exits). Returns false on failure.
  bool Start(std::chrono::seconds timeout = std::chrono::seconds(20));
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  void Signal(int sig);
  // Waits for the process to exit; returns its exit code, or 128+signal, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::seconds timeout = std::chrono::seconds(60));
  // SIGKILL and reap.
  void Kill();

  // Waits until a log line containing `needle` appears (true) or the timeout passes (false).
  bool WaitForLog(const std::string& needle,
                  std::chrono::seconds timeout = std::chrono::seconds(20));
  std::string Log() const;

 private:
  void ReadStderr(int fd);

  std::vector<std::string> args_;
  std::vector<std::string> extra_env_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  bool stderr_closed_ = false;
};

// Runs a shell command, returning its stdout and exit code.
struct CommandOutput {
  std::string out;
  int exit_code = -1;
};
CommandOutput RunCommand(const std::string& command);

}  // namespace ds::testing
