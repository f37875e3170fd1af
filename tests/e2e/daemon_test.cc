// End-to-end: the session commands of SPEC §4 against the real daemon over a socket.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon_process.h"
#include "resp_client.h"

namespace ds::testing {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--store", "memory:"});
    ASSERT_TRUE(daemon_->Start()) << daemon_->Log();
    client_ = std::make_unique<RespClient>(daemon_->port());
  }

  RespValue Call(const std::vector<std::string>& args) { return client_->Call(args); }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<RespClient> client_;
};

const std::string kView = "Elixir.MyAppWeb.CounterLive";

TEST_F(DaemonTest, StashThenRecoverReturnsNormalizedJson) {
  EXPECT_EQ(Call({"DS.STASH", "sess1", kView, "1", "count", "42", "prefs",
                  R"({ "b" : 1, "a" : [1.0, 2e0, "x"] })"})
                .Debug(),
            "+OK");
  RespValue r =
      Call({"DS.RECOVER", "sess1", kView, "1", "dead", "count", "session", "prefs", "session"});
  EXPECT_EQ(r.Debug(), R"(["recovered", :1, "count", "42", "prefs", "{"a":[1.0,2.0,"x"],"b":1}"])");
}

TEST_F(DaemonTest, RecoverOfUnknownSessionIsNotFound) {
  RespValue r = Call({"DS.RECOVER", "nobody", kView, "1", "fresh", "count", "session"});
  EXPECT_EQ(r.Debug(), R"(["not_found", :0])");
  // ... and created nothing.
  EXPECT_EQ(Call({"DS.DUMP", "nobody"}).Debug(), "(nil)");
}

TEST_F(DaemonTest, ScopesFollowTheMountKind) {
  ASSERT_EQ(
      Call({"DS.STASH", "s", kView, "1", "theme", R"("dark")", "draft", R"("hello")"}).Debug(),
      "+OK");
  auto recover = [&](const std::string& mount) {
    return Call({"DS.RECOVER", "s", kView, "1", mount, "theme", "session", "draft", "reconnect"})
        .Debug();
  };
  // Dead render: session keys only; reconnect keys are neither returned nor cleared.
  EXPECT_EQ(recover("dead"), R"(["recovered", :1, "theme", ""dark""])");
  // Rejoin: both.
  EXPECT_EQ(recover("rejoin"), R"(["recovered", :1, "theme", ""dark"", "draft", ""hello""])");
  // Fresh connected mount: session keys, and the reconnect keys are cleared...
  EXPECT_EQ(recover("fresh"), R"(["recovered", :1, "theme", ""dark""])");
  // ... so a later rejoin no longer sees the draft.
  EXPECT_EQ(recover("rejoin"), R"(["recovered", :1, "theme", ""dark""])");
}

TEST_F(DaemonTest, VsnMismatchReturnsStoredShape) {
  ASSERT_EQ(Call({"DS.STASH", "s", kView, "1", "count", "1"}).Debug(), "+OK");
  RespValue r = Call({"DS.RECOVER", "s", kView, "2", "dead", "total", "session"});
  EXPECT_EQ(r.Debug(), R"(["vsn_mismatch", :1, "count", "1"])");
  // A stash with the new vsn replaces the slice wholesale.
  ASSERT_EQ(Call({"DS.STASH", "s", kView, "2", "total", "1"}).Debug(), "+OK");
  EXPECT_EQ(Call({"DS.RECOVER", "s", kView, "2", "rejoin", "total", "session", "count", "session"})
                .Debug(),
            R"(["recovered", :2, "total", "1"])");
}

TEST_F(DaemonTest, ViewsDoNotSeeEachOthersKeys) {
  ASSERT_EQ(Call({"DS.STASH", "s", "A", "1", "k", "1"}).Debug(), "+OK");
  ASSERT_EQ(Call({"DS.STASH", "s", "B", "1", "k", "2"}).Debug(), "+OK");
  EXPECT_EQ(Call({"DS.RECOVER", "s", "A", "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", "1"])");
  EXPECT_EQ(Call({"DS.RECOVER", "s", "B", "1", "dead", "k", "session"}).Debug(),
            R"(["recovered", :1, "k", "2"])");
}

TEST_F(DaemonTest, DropResetDelete) {
  ASSERT_EQ(Call({"DS.STASH", "s", "A", "1", "x", "1", "y", "2", "z", "3"}).Debug(), "+OK");
  ASSERT_EQ(Call({"DS.STASH", "s", "B", "1", "k", "1"}).Debug(), "+OK");
  EXPECT_EQ(Call({"DS.DROP", "s", "A", "x", "y", "nope"}).Debug(), ":2");
  EXPECT_EQ(Call({"DS.RECOVER", "s", "A", "1", "dead", "x", "session", "z", "session"}).Debug(),
            R"(["recovered", :1, "z", "3"])");
  EXPECT_EQ(Call({"DS.RESET", "s", "A"}).Debug(), ":1");
  EXPECT_EQ(Call({"DS.RESET", "s", "A"}).Debug(), ":0");
  EXPECT_EQ(Call({"DS.RECOVER", "s", "A", "1", "dead", "z", "session"}).Debug(),
            R"(["not_found", :0])");
  EXPECT_EQ(Call({"DS.DELETE", "s"}).Debug(), ":1");
  EXPECT_EQ(Call({"DS.DELETE", "s"}).Debug(), ":0");
  EXPECT_EQ(Call({"DS.RECOVER", "s", "B", "1", "dead", "k", "session"}).Debug(),
            R"(["not_found", :0])");
}

TEST_F(DaemonTest, SyncAndDump) {
  ASSERT_EQ(Call({"DS.STASH", "s", kView, "1", "count", "7"}).Debug(), "+OK");
  EXPECT_EQ(Call({"DS.SYNC", "s"}).Debug(), "+OK");
  EXPECT_EQ(Call({"DS.SYNC", "never-seen", "100"}).Debug(), "+OK");
  RespValue dump = Call({"DS.DUMP", "s"});
  ASSERT_EQ(dump.type, RespValue::Type::kBulk) << dump.Debug();
  EXPECT_NE(dump.str.find(R"("format":2)"), std::string::npos) << dump.str;
  EXPECT_NE(dump.str.find(kView), std::string::npos) << dump.str;
  EXPECT_NE(dump.str.find(R"("v":7)"), std::string::npos) << dump.str;
}

TEST_F(DaemonTest, BadValueRejectsTheWholeStash) {
  RespValue r = Call({"DS.STASH", "s", kView, "1", "good", "1", "bad", "{not json"});
  ASSERT_TRUE(r.IsError());
  EXPECT_EQ(r.ErrorKind(), "BADVALUE");
  EXPECT_NE(r.str.find("\"bad\""), std::string::npos) << r.str;
  EXPECT_EQ(Call({"DS.RECOVER", "s", kView, "1", "dead", "good", "session"}).Debug(),
            R"(["not_found", :0])");
}

TEST_F(DaemonTest, LimitErrorsStoreNothing) {
  std::string big = "\"" + std::string(70 * 1024, 'x') + "\"";
  RespValue r = Call({"DS.STASH", "s", kView, "1", "big", big});
  ASSERT_TRUE(r.IsError());
  EXPECT_EQ(r.ErrorKind(), "LIMIT") << r.str;
  EXPECT_EQ(Call({"DS.RECOVER", "s", kView, "1", "dead", "big", "session"}).Debug(),
            R"(["not_found", :0])");
}

TEST_F(DaemonTest, ArgumentErrorsAreClear) {
  EXPECT_EQ(Call({"DS.STASH", "s", kView, "notanumber", "k", "1"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.STASH", "bad key!", kView, "1", "k", "1"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.STASH", "s", kView, "1", "k"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.RECOVER", "s", kView, "1", "sideways", "k", "session"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.RECOVER", "s", kView, "1", "dead", "k", "forever"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.STASH", "s", kView, "1", "k", "1", "k", "2"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"NOSUCHCOMMAND"}).ErrorKind(), "ERR");
  // Names as long as real commands, and longer than any, are unknown too; case does not matter.
  EXPECT_EQ(Call({"DS.STASHES"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.STASHX", "s"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"DS.RECOVER-AND-MORE"}).ErrorKind(), "ERR");
  EXPECT_EQ(Call({"ds.stash", "s", kView, "1", "k", "1"}).Debug(), "+OK");
}

// %{"a" => 1, b: [true, nil]} in external term format (map keys may come in any order).
std::string EtfSample() {
  const unsigned char bytes[] = {131, 116, 0,   0,   0,   2,   109, 0,   0,   0,  1,   'a',
                                 97,  1,   119, 1,   'b', 108, 0,   0,   0,   2,  119, 4,
                                 't', 'r', 'u', 'e', 119, 3,   'n', 'i', 'l', 106};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

TEST_F(DaemonTest, EtfValuesAreNormalizedAndReturnedAsEtf) {
  EXPECT_EQ(Call({"DS.CODEC", "ETF"}).Debug(), "+OK");
  ASSERT_EQ(Call({"DS.STASH", "s", kView, "1", "v", EtfSample()}).Debug(), "+OK");
  // A JSON connection sees the normalized JSON.
  RespClient json_client(daemon_->port());
  EXPECT_EQ(json_client.Call({"DS.RECOVER", "s", kView, "1", "dead", "v", "session"}).Debug(),
            R"(["recovered", :1, "v", "{"a":1,"b":[true,null]}"])");
  // The ETF connection gets a term back: %{"a" => 1, "b" => [true, nil]}.
  RespValue r = Call({"DS.RECOVER", "s", kView, "1", "dead", "v", "session"});
  ASSERT_EQ(r.elements.size(), 4u) << r.Debug();
  const unsigned char expected[] = {131, 116, 0,   0,   0,   2,   109, 0,   0,   0,   1,  'a', 97,
                                    1,   109, 0,   0,   0,   1,   'b', 108, 0,   0,   0,  2,   119,
                                    4,   't', 'r', 'u', 'e', 119, 3,   'n', 'i', 'l', 106};
  EXPECT_EQ(r.elements[3].str,
            std::string(reinterpret_cast<const char*>(expected), sizeof(expected)));
}

TEST_F(DaemonTest, EtfTupleIsRejectedWithItsPath) {
  ASSERT_EQ(Call({"DS.CODEC", "ETF"}).Debug(), "+OK");
  // {1, 2}
  const unsigned char tuple[] = {131, 104, 2, 97, 1, 97, 2};
  RespValue r = Call({"DS.STASH", "s", kView, "1", "pos",
                      std::string(reinterpret_cast<const char*>(tuple), sizeof(tuple))});
  ASSERT_TRUE(r.IsError());
  EXPECT_EQ(r.ErrorKind(), "BADVALUE");
  EXPECT_NE(r.str.find("tuple"), std::string::npos) << r.str;
  EXPECT_NE(r.str.find("\"pos\""), std::string::npos) << r.str;
}

TEST_F(DaemonTest, SessionsOnEveryShardWork) {
  // Many sessions hash to every shard; a single connection reaches all of them.
  for (int i = 0; i < 200; ++i) {
    std::string s = "session" + std::to_string(i);
    ASSERT_EQ(Call({"DS.STASH", s, kView, "1", "n", std::to_string(i)}).Debug(), "+OK");
  }
  for (int i = 0; i < 200; ++i) {
    std::string s = "session" + std::to_string(i);
    EXPECT_EQ(Call({"DS.RECOVER", s, kView, "1", "dead", "n", "session"}).Debug(),
              "[\"recovered\", :1, \"n\", \"" + std::to_string(i) + "\"]");
  }
}

}  // namespace
}  // namespace ds::testing
