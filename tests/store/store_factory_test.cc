// OpenStore: parsing store URLs (store/store_factory.h).
#include "store/store_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store_test_util.h"

namespace ds::store {
namespace {

std::optional<std::string> NoEnv(const char*) { return std::nullopt; }

namespace fs = std::filesystem;
using test::CodeOf;
using test::IsOk;
using test::TempDir;

TEST(StoreFactoryTest, MemoryWithOrWithoutColon) {
  for (const char* url : {"memory", "memory:"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url, NoEnv);
    ASSERT_TRUE(IsOk(store)) << url;
    EXPECT_EQ(store.value()->Describe(), "memory");
    EXPECT_TRUE(IsOk(store.value()->Put("k", "v", WriteCondition::None())));
  }
}

TEST(StoreFactoryTest, FileWithAnAbsolutePath) {
  TempDir dir;
  Result<std::unique_ptr<Store>> store = OpenStore("file:" + dir.path() + "/s", NoEnv);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/s");
  EXPECT_TRUE(IsOk(store.value()->Put("k", "v", WriteCondition::CreateOnly())));
  EXPECT_TRUE(fs::exists(dir.path() + "/s/FORMAT"));
}

TEST(StoreFactoryTest, FileUrlWithThreeSlashes) {
  TempDir dir;
  ASSERT_EQ(dir.path().front(), '/');
  Result<std::unique_ptr<Store>> store = OpenStore("file://" + dir.path() + "/s", NoEnv);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/s");
}

TEST(StoreFactoryTest, FileWithARelativePath) {
  TempDir dir;
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  Result<std::unique_ptr<Store>> store = OpenStore("file:tmp/ds", NoEnv);
  fs::current_path(cwd);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/tmp/ds");
}

TEST(StoreFactoryTest, FileStoreErrorsPassThrough) {
  TempDir dir;
  Result<std::unique_ptr<Store>> first = OpenStore("file:" + dir.path(), NoEnv);
  ASSERT_TRUE(IsOk(first));
  Result<std::unique_ptr<Store>> second = OpenStore("file:" + dir.path(), NoEnv);
  ASSERT_EQ(CodeOf(second), StatusCode::kIOError);
  EXPECT_NE(second.status().message().find("another durable-stashd holds the lock"),
            std::string::npos);
}

TEST(StoreFactoryTest, S3UrlOpensAnS3Store) {
  auto env = [](const char* name) -> std::optional<std::string> {
    std::string n(name);
    if (n == "AWS_ACCESS_KEY_ID") return "AKIDEXAMPLE";
    if (n == "AWS_SECRET_ACCESS_KEY") return "secret";
    if (n == "AWS_ENDPOINT_URL") return "http://127.0.0.1:1";
    return std::nullopt;
  };
  Result<std::unique_ptr<Store>> store = OpenStore("s3://bucket/prefix", env);
  ASSERT_TRUE(IsOk(store));
  EXPECT_NE((*store)->Describe().find("bucket"), std::string::npos) << (*store)->Describe();
}

TEST(StoreFactoryTest, S3WithoutCredentialsIsAnError) {
  Result<std::unique_ptr<Store>> store =
      OpenStore("s3://bucket/prefix", [](const char*) { return std::optional<std::string>(); });
  EXPECT_FALSE(store.ok());
}

TEST(StoreFactoryTest, MalformedUrlsAreInvalidArguments) {
  for (const char* url : {"", "file:", "file://", "file://host/dir", "memory:x", "redis://h",
                          "Memory", "/var/lib/ds"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url, NoEnv);
    ASSERT_EQ(CodeOf(store), StatusCode::kInvalidArgument) << '"' << url << '"';
    EXPECT_NE(store.status().message().find("memory:, file:PATH"), std::string::npos)
        << store.status().message();
  }
}

}  // namespace
}  // namespace ds::store
