// The S3 server the integration tests talk to, described by environment variables:
//
//   DS_TEST_S3_ENDPOINT            http://127.0.0.1:PORT
//   DS_TEST_S3_BUCKET              an existing bucket the tests may fill and empty
//   DS_TEST_S3_ACCESS_KEY_ID, DS_TEST_S3_SECRET_ACCESS_KEY
//   DS_TEST_S3_REGION              optional (us-east-1)
//   DS_TEST_S3_OPTIONS             optional store URL options, e.g. path_style=true
//
// or, when DS_TEST_S3_ENDPOINT is not set, by the file named in DS_TEST_S3_ENV_FILE, which
// scripts/s3/start-radosgw.sh writes (lines `export NAME=value`). CTest sets that variable for
// the tests that need the radosgw fixture.
//
// The tests never read AWS_* variables from the process: the store gets its own environment
// (TestServer::Env), so a developer's real AWS credentials can never be used by a test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/s3/s3_config.h"
#include "store/s3/s3_store.h"

namespace ds::store::s3::test {

struct TestServer {
  std::string endpoint;
  std::string bucket;
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "us-east-1";
  std::string options;
  std::string kind;  // DS_TEST_S3_SERVER: "radosgw" when the quirks of Ceph may be checked

  // Reads the variables (or the env file). nullopt when no server is configured.
  static std::optional<TestServer> FromEnvironment() {
    std::map<std::string, std::string> vars;
    auto from_process = [](const char* name) -> std::optional<std::string> {
      const char* v = ::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads
      if (v == nullptr || *v == '\0') return std::nullopt;
      return std::string(v);
    };
    if (from_process("DS_TEST_S3_ENDPOINT")) {
      for (const char* name : {"DS_TEST_S3_ENDPOINT", "DS_TEST_S3_BUCKET",
                               "DS_TEST_S3_ACCESS_KEY_ID", "DS_TEST_S3_SECRET_ACCESS_KEY",
                               "DS_TEST_S3_REGION", "DS_TEST_S3_OPTIONS", "DS_TEST_S3_SERVER"}) {
        if (auto v = from_process(name)) vars[name] = *v;
      }
    } else if (auto file = from_process("DS_TEST_S3_ENV_FILE")) {
      std::ifstream in(*file);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        const size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
          value = value.substr(1, value.size() - 2);
        }
        vars[line.substr(0, eq)] = value;
      }
    }
    TestServer s;
    s.endpoint = vars["DS_TEST_S3_ENDPOINT"];
    s.bucket = vars["DS_TEST_S3_BUCKET"];
    s.access_key_id = vars["DS_TEST_S3_ACCESS_KEY_ID"];
    s.secret_access_key = vars["DS_TEST_S3_SECRET_ACCESS_KEY"];
    if (!vars["DS_TEST_S3_REGION"].empty()) s.region = vars["DS_TEST_S3_REGION"];
    s.options = vars["DS_TEST_S3_OPTIONS"];
    s.kind = vars["DS_TEST_S3_SERVER"];
    if (s.endpoint.empty() || s.bucket.empty() || s.access_key_id.empty() ||
        s.secret_access_key.empty()) {
      return std::nullopt;
    }
    return s;
  }

  // The environment the store sees: only these credentials and this endpoint.
  GetEnvFn Env(std::string endpoint_override = {}) const {
    std::map<std::string, std::string> env = {
        {"AWS_ACCESS_KEY_ID", access_key_id},
        {"AWS_SECRET_ACCESS_KEY", secret_access_key},
        {"AWS_REGION", region},
        {"AWS_ENDPOINT_URL_S3", endpoint_override.empty() ? endpoint : endpoint_override}};
    return [env](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }

  // "s3://bucket/<prefix>?<options>&<extra>"
  std::string Url(const std::string& prefix, const std::string& extra_options = {}) const {
    std::string query = options;
    if (!extra_options.empty()) query += (query.empty() ? "" : "&") + extra_options;
    return "s3://" + bucket + "/" + prefix + (query.empty() ? "" : "?" + query);
  }
};

// A key prefix no other test (in this process or another) uses: "ds-test/<random>-<n>/".
inline std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  static const uint64_t process_tag = std::random_device{}() ^ (uint64_t(::getpid()) << 20);
  return "ds-test/" + std::to_string(process_tag) + "-" + std::to_string(counter++) + "/";
}

// Deletes every object under `prefix`, to leave the bucket as it was.
inline void EmptyPrefix(const TestServer& server, const std::string& prefix) {
  Result<std::unique_ptr<S3Store>> store = S3Store::Open(server.Url(prefix), server.Env());
  if (!store.ok()) return;
  std::vector<std::string> keys;
  std::string continuation;
  do {
    Result<ListPage> page = (*store)->List("", continuation, 1000);
    if (!page.ok()) return;
    for (const ListEntry& e : page->entries) keys.push_back(e.key);
    continuation = page->continuation;
  } while (!continuation.empty());
  for (const std::string& key : keys) (void)(*store)->Delete(key);
}

// A test against the server, in a key prefix of its own that is emptied afterwards. Skipped when
// no server is configured.
class S3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::FromEnvironment();
    if (!server_) {
      GTEST_SKIP() << "no S3 server: set DS_TEST_S3_ENDPOINT etc. or DS_TEST_S3_ENV_FILE "
                      "(scripts/s3/start-radosgw.sh writes one)";
    }
    prefix_ = UniquePrefix();
  }
  void TearDown() override {
    if (server_) EmptyPrefix(*server_, prefix_);
  }

  // A store on this test's prefix; `extra_options` are appended to the server's URL options
  // (a later option wins); `endpoint` replaces the server's (e.g. a FaultProxy in front of it).
  std::unique_ptr<S3Store> Open(const std::string& extra_options = {},
                                const std::string& endpoint = {}) {
    Result<std::unique_ptr<S3Store>> store =
        S3Store::Open(server_->Url(prefix_, extra_options), server_->Env(endpoint));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  bool IsRadosgw() const { return server_ && server_->kind == "radosgw"; }

  std::optional<TestServer> server_;
  std::string prefix_;
};

}  // namespace ds::store::s3::test
