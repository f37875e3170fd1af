// OpenStore: parsing store URLs (store/store_factory.h).
#include "store/store_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store_test_util.h"

namespace ds::store {
namespace {

namespace fs = std::filesystem;
using test::CodeOf;
using test::IsOk;
using test::TempDir;

TEST(StoreFactoryTest, MemoryWithOrWithoutColon) {
  for (const char* url : {"memory", "memory:"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url);
    ASSERT_TRUE(IsOk(store)) << url;
    EXPECT_EQ(store.value()->Describe(), "memory");
    EXPECT_TRUE(IsOk(store.value()->Put("k", "v", WriteCondition::None())));
  }
}

TEST(StoreFactoryTest, FileWithAnAbsolutePath) {
  TempDir dir;
  Result<std::unique_ptr<Store>> store = OpenStore("file:" + dir.path() + "/s");
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/s");
  EXPECT_TRUE(IsOk(store.value()->Put("k", "v", WriteCondition::CreateOnly())));
  EXPECT_TRUE(fs::exists(dir.path() + "/s/FORMAT"));
}

TEST(StoreFactoryTest, FileUrlWithThreeSlashes) {
  TempDir dir;
  ASSERT_EQ(dir.path().front(), '/');
  Result<std::unique_ptr<Store>> store = OpenStore("file://" + dir.path() + "/s");
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/s");
}

TEST(StoreFactoryTest, FileWithARelativePath) {
  TempDir dir;
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  Result<std::unique_ptr<Store>> store = OpenStore("file:tmp/ds");
  fs::current_path(cwd);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/tmp/ds");
}

TEST(StoreFactoryTest, FileStoreErrorsPassThrough) {
  TempDir dir;
  Result<std::unique_ptr<Store>> first = OpenStore("file:" + dir.path());
  ASSERT_TRUE(IsOk(first));
  Result<std::unique_ptr<Store>> second = OpenStore("file:" + dir.path());
  ASSERT_EQ(CodeOf(second), StatusCode::kIOError);
  EXPECT_NE(second.status().message().find("another durable-stashd holds the lock"),
            std::string::npos);
}

TEST(StoreFactoryTest, S3IsNotAvailableYet) {
  Result<std::unique_ptr<Store>> store = OpenStore("s3://bucket/prefix");
  ASSERT_EQ(CodeOf(store), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.status().message(), "the s3 store is not available in this build yet");
}

TEST(StoreFactoryTest, MalformedUrlsAreInvalidArguments) {
  for (const char* url : {"", "file:", "file://", "file://host/dir", "memory:x", "redis://h",
                          "Memory", "/var/lib/ds"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url);
    ASSERT_EQ(CodeOf(store), StatusCode::kInvalidArgument) << '"' << url << '"';
    EXPECT_NE(store.status().message().find("memory:, file:PATH"), std::string::npos)
        << store.status().message();
  }
}

}  // namespace
}  // namespace ds::store
