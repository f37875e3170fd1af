// End-to-end: starting, configuring, securing and stopping the daemon (SPEC §4 security, §7).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_process.h"
#include "resp_client.h"

namespace ds::testing {
namespace {

std::string TempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(OperationsTest, HelpListsEveryFlag) {
  CommandOutput out = RunCommand(DaemonPath() + " --help");
  EXPECT_EQ(out.exit_code, 0);
  for (const char* flag : {"--bind", "--port", "--store", "--auth-token-file", "--config",
                           "--check-config", "--ttl", "--max-value-bytes", "--shards"}) {
    EXPECT_NE(out.out.find(flag), std::string::npos) << flag;
  }
}

TEST(OperationsTest, CheckConfigValidatesAndPrints) {
  std::string toml =
      TempFile("ok.toml", "port = 7500\nmax_value_bytes = \"32KiB\"\nttl = \"2d\"\n");
  CommandOutput out = RunCommand(DaemonPath() + " --config " + toml + " --check-config");
  EXPECT_EQ(out.exit_code, 0) << out.out;
  EXPECT_NE(out.out.find("port = 7500"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("max_value_bytes = 32768"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("ttl = \"172800s\""), std::string::npos) << out.out;

  // Flags override the file; the environment sits between them.
  out = RunCommand("DURABLE_STASH_PORT=7600 " + DaemonPath() + " --config " + toml +
                   " --check-config");
  EXPECT_NE(out.out.find("port = 7600"), std::string::npos) << out.out;
  out = RunCommand("DURABLE_STASH_PORT=7600 " + DaemonPath() + " --config " + toml +
                   " --port 7700 --check-config");
  EXPECT_NE(out.out.find("port = 7700"), std::string::npos) << out.out;

  std::string bad = TempFile("bad.toml", "prot = 1\n");
  out = RunCommand(DaemonPath() + " --config " + bad + " --check-config 2>&1");
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.out.find("unknown setting \"prot\""), std::string::npos) << out.out;
}

TEST(OperationsTest, RemoteBindWithoutTokenIsRefused) {
  CommandOutput out = RunCommand(DaemonPath() + " --bind 0.0.0.0 --check-config 2>&1");
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.out.find("without an auth token"), std::string::npos) << out.out;
}

TEST(OperationsTest, AuthTokenFromFileIsRequired) {
  std::string token_file = TempFile("token", "s3cret\n");
  DaemonProcess d({"--store", "memory:", "--auth-token-file", token_file});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  EXPECT_EQ(c.Call({"PING"}).ErrorKind(), "NOAUTH");
  EXPECT_EQ(c.Call({"DS.STASH", "s", "V", "1", "k", "1"}).ErrorKind(), "NOAUTH");
  EXPECT_EQ(c.Call({"AUTH", "wrong"}).ErrorKind(), "WRONGPASS");
  EXPECT_EQ(c.Call({"AUTH", "s3cret"}).Debug(), "+OK");
  EXPECT_EQ(c.Call({"PING"}).Debug(), "+PONG");
  // HELLO with AUTH in one step, as client libraries do.
  RespClient c2(d.port());
  EXPECT_EQ(c2.Call({"HELLO", "2", "AUTH", "default", "s3cret"}).type, RespValue::Type::kArray);
  EXPECT_EQ(c2.Call({"PING"}).Debug(), "+PONG");
  // The token is never in the log.
  EXPECT_EQ(d.Log().find("s3cret"), std::string::npos);
}

TEST(OperationsTest, AuthTokenFromEnvironment) {
  DaemonProcess d({"--store", "memory:"}, {"DURABLE_STASH_AUTH_TOKEN=envtoken"});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  EXPECT_EQ(c.Call({"PING"}).ErrorKind(), "NOAUTH");
  EXPECT_EQ(c.Call({"AUTH", "envtoken"}).Debug(), "+OK");
}

TEST(OperationsTest, SigtermDrainsAndExitsZero) {
  DaemonProcess d({"--store", "memory:"});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  ASSERT_EQ(c.Call({"DS.STASH", "s", "V", "1", "k", "1"}).Debug(), "+OK");
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
  EXPECT_NE(d.Log().find("event=shutdown_complete"), std::string::npos) << d.Log();
  EXPECT_NE(d.Log().find("sessions_not_durable=0"), std::string::npos) << d.Log();
  EXPECT_TRUE(c.PeerClosed());
}

TEST(OperationsTest, GracefulStopDeliversARepliesBeingWritten) {
  DaemonProcess d({"--store", "memory:", "--max-request-bytes", "64MiB"});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  const size_t size = size_t{48} << 20;
  c.SendRaw(RespClient::Encode({"ECHO", std::string(size, 'y')}));
  const std::string header = "$" + std::to_string(size) + "\r\n";
  std::string got;
  ASSERT_TRUE(c.ReadRaw(header.size(), &got));
  d.Signal(SIGTERM);
  ASSERT_TRUE(d.WaitForLog("event=shutdown_started")) << d.Log();
  // The stop waits for the rest of the reply, which arrives whole.
  ASSERT_TRUE(c.ReadRaw(size + 2, &got));
  EXPECT_EQ(got, std::string(size, 'y') + "\r\n");
  EXPECT_TRUE(c.PeerClosed());
  EXPECT_EQ(d.Wait(), 0) << d.Log();
}

TEST(OperationsTest, SecondInterruptStopsAtOnce) {
  DaemonProcess d(
      {"--store", "memory:", "--shutdown-timeout", "60s", "--max-request-bytes", "64MiB"});
  ASSERT_TRUE(d.Start()) << d.Log();
  // A client that asks for a reply far larger than the socket buffers and reads only its
  // first bytes keeps a graceful stop waiting: the reply cannot be delivered...
  RespClient stuck(d.port());
  const size_t size = size_t{48} << 20;
  stuck.SendRaw(RespClient::Encode({"ECHO", std::string(size, 'x')}));
  const std::string header = "$" + std::to_string(size) + "\r\n";
  std::string got;
  ASSERT_TRUE(stuck.ReadRaw(header.size(), &got));
  ASSERT_EQ(got, header);
  d.Signal(SIGINT);
  ASSERT_TRUE(d.WaitForLog("event=shutdown_started")) << d.Log();
  // ... until a second Ctrl-C stops the daemon at once.
  d.Signal(SIGINT);
  EXPECT_EQ(d.Wait(std::chrono::seconds(20)), 0) << d.Log();
  EXPECT_NE(d.Log().find("event=stopping_now"), std::string::npos) << d.Log();
  EXPECT_EQ(d.Log().find("event=shutdown_complete"), std::string::npos) << d.Log();
}

TEST(OperationsTest, LogLinesAreStructuredAndHoldNoValues) {
  DaemonProcess d({"--store", "memory:"});
  ASSERT_TRUE(d.Start()) << d.Log();
  {
    RespClient c(d.port());
    ASSERT_EQ(c.Call({"DS.STASH", "s", "V", "1", "k", "\"private-value-123\""}).Debug(), "+OK");
  }
  d.Signal(SIGTERM);
  ASSERT_EQ(d.Wait(), 0);
  std::string log = d.Log();
  EXPECT_EQ(log.find("private-value-123"), std::string::npos);
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    std::string line = log.substr(start, end - start);
    EXPECT_EQ(line.rfind("ts=", 0), 0u) << line;
    EXPECT_NE(line.find(" level="), std::string::npos) << line;
    EXPECT_NE(line.find(" event="), std::string::npos) << line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(OperationsTest, SweepDeletesExpiredSessionsFromTheStore) {
  DaemonProcess d({"--store", "memory:", "--ttl", "1s", "--sweep-interval", "1s"});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  ASSERT_EQ(c.Call({"DS.STASH", "old", "V", "1", "k", "1"}).Debug(), "+OK");
  ASSERT_EQ(c.Call({"DS.SYNC", "old"}).Debug(), "+OK");
  // Nobody touches the session again: a later pass expires it, and the pass after that finds
  // nothing left in the store.
  ASSERT_TRUE(d.WaitForLog("event=sweep_complete listed=0", std::chrono::seconds(30))) << d.Log();
  RespValue info = c.Call({"INFO", "sessions"});
  EXPECT_NE(info.str.find("expired_sessions:1"), std::string::npos) << info.str;
  EXPECT_EQ(c.Call({"DS.RECOVER", "old", "V", "1", "dead", "k", "session"}).Debug(),
            R"(["not_found", :0])");
}

// Reads one integer field of an INFO reply.
int64_t InfoField(RespClient& c, const std::string& section, const std::string& field) {
  std::string info = c.Call({"INFO", section}).str;
  size_t at = info.find("\r\n" + field + ":");
  return at == std::string::npos ? -1 : std::atoll(info.c_str() + at + field.size() + 3);
}

TEST(OperationsTest, IdleSessionLeavesMemoryAndComesBackIdentical) {
  std::string dir = FreshStoreDir("idle");
  DaemonProcess d({"--store", "file:" + dir, "--idle-timeout", "1s", "--sweep-interval", "1s"});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  ASSERT_EQ(c.Call({"DS.STASH", "idle", "V", "1", "a", "[1,{\"b\":2.5}]", "c", "\"x\""}).Debug(),
            "+OK");
  RespValue before = c.Call({"DS.DUMP", "idle"});
  ASSERT_EQ(before.type, RespValue::Type::kBulk);
  EXPECT_EQ(InfoField(c, "sessions", "resident_sessions"), 1);
  // Eviction is a periodic event inside the daemon with nothing to subscribe to: poll INFO,
  // within a bound.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (InfoField(c, "sessions", "resident_sessions") != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(InfoField(c, "sessions", "resident_sessions"), 0);
  EXPECT_EQ(InfoField(c, "sessions", "evicted_idle"), 1);
  ASSERT_TRUE(d.WaitForLog("event=sweep_complete listed=1")) << d.Log();
  EXPECT_EQ(InfoField(c, "store", "stored_sessions_at_last_sweep"), 1);

  RespValue after = c.Call({"DS.DUMP", "idle"});
  EXPECT_EQ(after.str, before.str);
  EXPECT_EQ(InfoField(c, "sessions", "session_loads"), 2);
  EXPECT_EQ(InfoField(c, "sessions", "resident_sessions"), 1);
  std::filesystem::remove_all(dir);
}

TEST(OperationsTest, SecondDaemonOnTheSameDirectoryExitsWithAClearMessage) {
  std::string dir = FreshStoreDir("lock");
  DaemonProcess first({"--store", "file:" + dir});
  ASSERT_TRUE(first.Start()) << first.Log();
  DaemonProcess second({"--store", "file:" + dir});
  EXPECT_FALSE(second.Start());
  EXPECT_EQ(second.Wait(), 2);
  EXPECT_NE(second.Log().find("another durable-stashd"), std::string::npos) << second.Log();
  std::filesystem::remove_all(dir);
}

TEST(OperationsTest, FileStoreKeepsSessionsAcrossARestart) {
  std::string dir = FreshStoreDir("restart");
  {
    DaemonProcess d({"--store", "file:" + dir});
    ASSERT_TRUE(d.Start()) << d.Log();
    RespClient c(d.port());
    ASSERT_EQ(c.Call({"DS.STASH", "kept", "V", "1", "k", "\"v\""}).Debug(), "+OK");
    d.Signal(SIGINT);  // Ctrl-C
    ASSERT_EQ(d.Wait(), 0) << d.Log();
  }
  DaemonProcess d({"--store", "file:" + dir});
  ASSERT_TRUE(d.Start()) << d.Log();
  RespClient c(d.port());
  EXPECT_EQ(c.Call({"DS.RECOVER", "kept", "V", "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", ""v""])");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ds::testing
