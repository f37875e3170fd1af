// The Store conformance suite (tests/store/store_conformance.h) against a real S3 server
// (s3_test_server.h says which; `ctest` starts radosgw for it). Without a server every test is
// skipped, not failed.
//
// Ceph radosgw answers most losers of an If-Match race with HTTP 500, which the store reports
// as OutcomeUnknown; the suite's race tests settle such outcomes by re-reading, as the session
// actor does.
//
// Each test gets a fresh key prefix in the shared bucket, emptied again after the test.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "s3_test_server.h"
#include "store/s3/s3_store.h"
#include "store_conformance.h"

namespace ds::store::s3::test {
namespace {

using conformance::StoreBackend;
using conformance::StoreBackendName;
using conformance::StoreConformanceTest;

// Stands in for the store of a test that is skipped for want of a server: the suite's SetUp
// needs a store, and gtest runs no test body after a skip.
class NoServerStore final : public Store {
 public:
  Result<Object> Get(std::string_view, std::string_view) override { return Unavailable(); }
  Result<std::string> Put(std::string_view, std::string_view, const WriteCondition&) override {
    return Unavailable();
  }
  Status Delete(std::string_view) override { return Unavailable(); }
  Result<ListPage> List(std::string_view, std::string_view, size_t) override {
    return Unavailable();
  }
  std::string Describe() const override { return "no S3 server"; }

 private:
  static Status Unavailable() { return Status::Unavailable("no S3 server configured"); }
};

void SkipForWantOfAServer() {
  GTEST_SKIP() << "no S3 server: set DS_TEST_S3_ENDPOINT etc. or DS_TEST_S3_ENV_FILE "
                  "(scripts/s3/start-radosgw.sh writes one)";
}

StoreBackend S3Backend() {
  // The prefix of the test in progress, for cleanup (tests of one binary run one at a time).
  auto prefix = std::make_shared<std::string>();
  StoreBackend backend;
  backend.name = "S3";
  backend.open = [prefix]() -> std::unique_ptr<Store> {
    std::optional<TestServer> server = TestServer::FromEnvironment();
    if (!server) {
      SkipForWantOfAServer();
      return std::make_unique<NoServerStore>();
    }
    *prefix = UniquePrefix();
    Result<std::unique_ptr<S3Store>> store = S3Store::Open(server->Url(*prefix), server->Env());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  };
  backend.cleanup = [prefix] {
    if (std::optional<TestServer> server = TestServer::FromEnvironment()) {
      EmptyPrefix(*server, *prefix);
    }
  };
  // NUL, 0xFF and "."/".." path segments cannot be S3 keys in a path-style URL.
  backend.arbitrary_byte_keys = false;
  return backend;
}

INSTANTIATE_TEST_SUITE_P(S3, StoreConformanceTest, ::testing::Values(S3Backend()),
                         StoreBackendName);

}  // namespace
}  // namespace ds::store::s3::test
