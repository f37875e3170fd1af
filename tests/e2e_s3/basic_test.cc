// The daemon on a real S3 server: every command, restarts, what lands in the bucket, the cost
// of a cold recover, and revalidation of a resident session that another daemon changed
// (issue 4, items 1, 4 and 5).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "s3_daemon.h"

namespace ds::testing {
namespace {

const char* const kView = "Elixir.ShopLive";

class S3BasicTest : public S3DaemonTest {};

TEST_F(S3BasicTest, EveryCommandWorksAndTheBucketHoldsTheSession) {
  auto daemon = StartDaemon("basic-1");
  ASSERT_GT(daemon->port(), 0);
  RespClient c(daemon->port());
  EXPECT_EQ(c.Call({"DS.STASH", "s1", kView, "1", "cart", "[1,2]", "note", "\"hi\""}).Debug(),
            "+OK");
  EXPECT_EQ(c.Call({"DS.RECOVER", "s1", kView, "1", "dead", "cart", "session"}).Debug(),
            R"(["recovered", :1, "cart", "[1,2]"])");
  EXPECT_EQ(c.Call({"DS.SYNC", "s1"}).Debug(), "+OK");
  EXPECT_EQ(StoredValue("s1", kView, "cart"), "[1,2]");
  EXPECT_EQ(StoredValue("s1", kView, "note"), "\"hi\"");
  RespValue dump = c.Call({"DS.DUMP", "s1"});
  EXPECT_NE(dump.str.find(R"("format":2)"), std::string::npos) << dump.Debug();
  EXPECT_NE(dump.str.find(R"("writer":"basic-1")"), std::string::npos) << dump.Debug();

  // Drop: the key goes, and a deletion record takes its place.
  EXPECT_EQ(c.Call({"DS.DROP", "s1", kView, "note"}).Debug(), ":1");
  EXPECT_EQ(c.Call({"DS.SYNC", "s1"}).Debug(), "+OK");
  std::optional<session::SessionState> stored = Stored("s1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->dropped().at(kView).count("note"), 1u);
  EXPECT_EQ(StoredValue("s1", kView, "note"), "<none>");

  // Reset and delete: on a shared bucket the object keeps only deletion records.
  EXPECT_EQ(c.Call({"DS.STASH", "s1", "Elixir.Other", "1", "k", "1"}).Debug(), "+OK");
  EXPECT_EQ(c.Call({"DS.RESET", "s1", "Elixir.Other"}).Debug(), ":1");
  EXPECT_EQ(c.Call({"DS.DELETE", "s1"}).Debug(), ":1");
  EXPECT_EQ(c.Call({"DS.SYNC", "s1"}).Debug(), "+OK");
  stored = Stored("s1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->empty());
  EXPECT_EQ(stored->resets().count(kView), 1u);
  EXPECT_EQ(c.Call({"DS.RECOVER", "s1", kView, "1", "dead", "cart", "session"}).Debug(),
            R"(["not_found", :0])");
  EXPECT_EQ(c.Call({"DS.DUMP", "s1"}).Debug(), "(nil)");

  Info info = GetInfo(daemon->port());
  EXPECT_EQ(info.fields["store_shared"], "1");
  EXPECT_GT(info["s3_requests"], 0u);
  EXPECT_EQ(info["s3_failed_calls"], 0u);
  EXPECT_EQ(info["store_errors"], 0u);
}

TEST_F(S3BasicTest, RestartsKeepEveryAcceptedWrite) {
  {
    auto daemon = StartDaemon("restart-1");
    RespClient c(daemon->port());
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(c.Call({"DS.STASH", "s" + std::to_string(i % 4), kView, "1",
                        "k" + std::to_string(i % 3), std::to_string(i)})
                    .Debug(),
                "+OK");
    }
    daemon->Signal(SIGTERM);  // a graceful stop stores everything accepted
    EXPECT_EQ(daemon->Wait(), 0) << daemon->Log();
  }
  auto daemon = StartDaemon("restart-2");
  RespClient c(daemon->port());
  // The last write of each (session, key): i = 12..19 for s0..s3 and k0..k2.
  for (int i = 8; i < 20; ++i) {
    std::string session = "s" + std::to_string(i % 4);
    std::string key = "k" + std::to_string(i % 3);
    RespValue r = c.Call({"DS.RECOVER", session, kView, "1", "dead", key, "session"});
    ASSERT_EQ(r.elements.size(), 4u) << r.Debug();
    EXPECT_EQ(r.elements[3].str, std::to_string(i)) << session << "/" << key;
  }
}

TEST_F(S3BasicTest, AColdRecoverCostsOneGetAndAResidentOneOneConditionalGet) {
  auto daemon = StartDaemon("cold-1", {"--idle-timeout", "1s"});
  {
    RespClient c(daemon->port());
    ASSERT_EQ(c.Call({"DS.STASH", "cold", kView, "1", "k", "\"v\""}).Debug(), "+OK");
    ASSERT_EQ(c.Call({"DS.SYNC", "cold"}).Debug(), "+OK");
  }
  Info before = WaitForInfo(daemon->port(), [](const Info& i) {
    return i["evicted_idle"] >= 1 && i["resident_sessions"] == 0;
  });
  ASSERT_EQ(before["resident_sessions"], 0u) << "the session was not evicted";

  RespClient c(daemon->port());
  EXPECT_EQ(c.Call({"DS.RECOVER", "cold", kView, "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", ""v""])");
  Info cold = GetInfo(daemon->port());
  EXPECT_EQ(cold["store_gets"] - before["store_gets"], 1u);
  EXPECT_EQ(cold["s3_requests"] - before["s3_requests"], 1u);  // one GET, no retry
  EXPECT_EQ(cold["revalidations"], before["revalidations"]);

  EXPECT_EQ(c.Call({"DS.RECOVER", "cold", kView, "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", ""v""])");
  Info warm = GetInfo(daemon->port());
  EXPECT_EQ(warm["s3_requests"] - cold["s3_requests"], 1u);
  EXPECT_EQ(warm["revalidations"] - cold["revalidations"], 1u);
  EXPECT_EQ(warm["revalidations_not_modified"] - cold["revalidations_not_modified"], 1u);
  std::printf("cold recover: %llu GET, %llu S3 request; resident recover: %llu S3 request\n",
              static_cast<unsigned long long>(cold["store_gets"] - before["store_gets"]),
              static_cast<unsigned long long>(cold["s3_requests"] - before["s3_requests"]),
              static_cast<unsigned long long>(warm["s3_requests"] - cold["s3_requests"]));
}

// Issue item 5: b holds the session in memory; a changes it and the change is durable; b's
// next read must not return the older value.
TEST_F(S3BasicTest, AResidentSessionShowsAnotherDaemonsDurableWrites) {
  auto a = StartDaemon("reval-a");
  auto b = StartDaemon("reval-b");
  RespClient ca(a->port());
  RespClient cb(b->port());
  const std::vector<std::string> recover = {"DS.RECOVER", "s", kView, "1", "dead", "x", "session"};
  ASSERT_EQ(ca.Call({"DS.STASH", "s", kView, "1", "x", "1"}).Debug(), "+OK");
  ASSERT_EQ(ca.Call({"DS.SYNC", "s"}).Debug(), "+OK");
  EXPECT_EQ(cb.Call(recover).Debug(), R"(["recovered", :1, "x", "1"])");
  ASSERT_EQ(ca.Call({"DS.STASH", "s", kView, "1", "x", "2"}).Debug(), "+OK");
  ASSERT_EQ(ca.Call({"DS.SYNC", "s"}).Debug(), "+OK");
  EXPECT_EQ(cb.Call(recover).Debug(), R"(["recovered", :1, "x", "2"])");
  ASSERT_EQ(ca.Call({"DS.DROP", "s", kView, "x"}).Debug(), ":1");
  ASSERT_EQ(ca.Call({"DS.SYNC", "s"}).Debug(), "+OK");
  EXPECT_EQ(cb.Call(recover).Debug(), R"(["not_found", :0])");
  // And the other way round, through writes b has merged.
  ASSERT_EQ(cb.Call({"DS.STASH", "s", kView, "1", "x", "3"}).Debug(), "+OK");
  ASSERT_EQ(cb.Call({"DS.SYNC", "s"}).Debug(), "+OK");
  EXPECT_EQ(ca.Call(recover).Debug(), R"(["recovered", :1, "x", "3"])");
  Info ib = GetInfo(b->port());
  EXPECT_EQ(ib["revalidations_changed"], 2u);
  EXPECT_EQ(ib["revalidations"], 2u);  // the first recover loaded the session
}

}  // namespace
}  // namespace ds::testing
