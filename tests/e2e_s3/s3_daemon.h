// The harness of the end-to-end tests on S3: the real durable-stashd binary with
// `--store s3://BUCKET/PREFIX` on the test server (radosgw, started by CTest's `radosgw`
// fixture; tests/store_s3/s3_test_server.h reads its address), and what the tests need around
// it: a prefix of their own, a direct S3Store to look at the bucket behind the daemons' backs,
// INFO parsing and the daemon's resident memory.
//
// The daemons get only the test server's credentials and endpoint (the test process drops any
// AWS_* or DURABLE_STASH_* variables of its own at start), so a developer's real AWS
// credentials are never used.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_process.h"
#include "resp_client.h"
#include "s3_test_server.h"
#include "session/session_state.h"
#include "store/s3/s3_store.h"

extern char** environ;

namespace ds::testing {

using store::s3::S3Store;
using store::s3::test::TestServer;

// INFO's "name:value" lines.
struct Info {
  std::map<std::string, std::string> fields;

  static Info Parse(const std::string& text) {
    Info info;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      const size_t colon = line.find(':');
      if (colon != std::string::npos) info.fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
    return info;
  }
  bool Has(const std::string& name) const { return fields.count(name) != 0; }
  // The numeric field `name`; fails the test if INFO does not have it.
  uint64_t operator[](const std::string& name) const {
    auto it = fields.find(name);
    EXPECT_NE(it, fields.end()) << "INFO has no field " << name;
    return it == fields.end() ? 0 : std::stoull(it->second);
  }
};

class S3DaemonTest : public ::testing::Test {
 protected:
  // Called before any thread exists: nothing in this process may hand its own AWS
  // configuration to a daemon (DaemonProcess passes its environment on).
  static void SetUpTestSuite() {
    std::vector<std::string> names;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string var = *e;
      std::string name = var.substr(0, var.find('='));
      if (name.rfind("AWS_", 0) == 0 || name.rfind("DURABLE_STASH_", 0) == 0) {
        names.push_back(name);
      }
    }
    for (const std::string& name : names) ::unsetenv(name.c_str());
  }

  void SetUp() override {
    server_ = TestServer::FromEnvironment();
    if (!server_) {
      GTEST_SKIP() << "no S3 server: run through ctest (fixture radosgw) or set "
                      "DS_TEST_S3_ENV_FILE (scripts/s3/start-radosgw.sh writes one)";
    }
    prefix_ = store::s3::test::UniquePrefix();
    Result<std::unique_ptr<S3Store>> direct = S3Store::Open(server_->Url(prefix_), server_->Env());
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    direct_ = std::move(direct).value();
  }

  void TearDown() override {
    if (server_) store::s3::test::EmptyPrefix(*server_, prefix_);
  }

  // A daemon on this test's prefix. `endpoint` replaces the server's (a fault proxy);
  // `url_options` are appended to the store URL's query; `args` are extra flags.
  std::unique_ptr<DaemonProcess> StartDaemon(const std::string& writer_id,
                                             std::vector<std::string> args = {},
                                             const std::string& endpoint = {},
                                             const std::string& url_options = {}) {
    std::vector<std::string> all = {"--store",
                                    server_->Url(prefix_, url_options),
                                    "--writer-id",
                                    writer_id,
                                    "--sweep-interval",
                                    "0",
                                    "--shutdown-timeout",
                                    "20s"};
    all.insert(all.end(), args.begin(), args.end());
    auto daemon = std::make_unique<DaemonProcess>(
        all,
        std::vector<std::string>{
            "AWS_ACCESS_KEY_ID=" + server_->access_key_id,
            "AWS_SECRET_ACCESS_KEY=" + server_->secret_access_key, "AWS_REGION=" + server_->region,
            "AWS_ENDPOINT_URL_S3=" + (endpoint.empty() ? server_->endpoint : endpoint)});
    EXPECT_TRUE(daemon->Start()) << daemon->Log();
    return daemon;
  }

  static Info GetInfo(uint16_t port) {
    RespClient client(port);
    RespValue r = client.Call({"INFO", "everything"});
    EXPECT_EQ(r.type, RespValue::Type::kBulk) << r.Debug();
    return Info::Parse(r.str);
  }

  // Waits (polling INFO, at most `timeout`) until `done(info)` holds; returns the last INFO.
  static Info WaitForInfo(uint16_t port, const std::function<bool(const Info&)>& done,
                          std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Info info = GetInfo(port);
    while (!done(info) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      info = GetInfo(port);
    }
    return info;
  }

  // The session as stored in the bucket (read behind the daemons' backs), or nullopt.
  std::optional<session::SessionState> Stored(const std::string& session) {
    Result<store::Object> obj = direct_->Get("sessions/" + session);
    if (!obj.ok()) {
      EXPECT_TRUE(obj.status().IsNotFound()) << obj.status().ToString();
      return std::nullopt;
    }
    Result<session::SessionState> state = session::SessionState::Decode(obj->data);
    EXPECT_TRUE(state.ok()) << state.status().ToString() << ": " << obj->data;
    if (!state.ok()) return std::nullopt;
    return std::move(state).value();
  }

  // The stored value of view/key, or "<none>".
  std::string StoredValue(const std::string& session, const std::string& view,
                          const std::string& key) {
    std::optional<session::SessionState> s = Stored(session);
    if (!s) return "<none>";
    auto v = s->views().find(view);
    if (v == s->views().end()) return "<none>";
    auto k = v->second.data.find(key);
    return k == v->second.data.end() ? "<none>" : k->second.json;
  }

  // Resident memory of process `pid`, in KiB (VmRSS).
  static uint64_t RssKiB(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    ADD_FAILURE() << "no VmRSS for pid " << pid;
    return 0;
  }

  // The endpoint as host and port, for a FaultProxy in front of it (an IPv4 address).
  std::pair<std::string, int> ServerHostPort() const {
    const std::string& endpoint = server_->endpoint;
    const size_t host_at = endpoint.find("://") + 3;
    const size_t colon = endpoint.rfind(':');
    return {endpoint.substr(host_at, colon - host_at), std::stoi(endpoint.substr(colon + 1))};
  }

  std::optional<TestServer> server_;
  std::string prefix_;
  std::unique_ptr<S3Store> direct_;
};

}  // namespace ds::testing
