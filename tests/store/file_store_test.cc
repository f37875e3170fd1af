// FileStore: the conformance suite, plus what only a store on disk has: persistence across
// reopen, the directory lock, crash leftovers, the journal's replay after a crash (in a child
// process that exits without closing the store), the on-disk format and its upgrade, and the
// group commit.
#include "store/file_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/file_names.h"
#include "store/memory_store.h"
#include "store/object_file.h"
#include "store_conformance.h"
#include "store_test_util.h"

namespace ds::store {
namespace {

namespace fs = std::filesystem;
using conformance::StoreBackend;
using conformance::StoreBackendName;
using conformance::StoreConformanceTest;
using test::CodeOf;
using test::IsOk;
using test::TempDir;

// Each conformance test gets a fresh directory; all of them are removed after the test.
StoreBackend FileBackend(std::string name, FileStore::Options options) {
  auto dirs = std::make_shared<std::vector<std::unique_ptr<TempDir>>>();
  StoreBackend backend;
  backend.name = std::move(name);
  backend.open = [dirs, options]() -> std::unique_ptr<Store> {
    dirs->push_back(std::make_unique<TempDir>());
    Result<std::unique_ptr<FileStore>> store = FileStore::Open(dirs->back()->path(), options);
    EXPECT_TRUE(IsOk(store));
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  };
  backend.cleanup = [dirs] { dirs->clear(); };
  return backend;
}

INSTANTIATE_TEST_SUITE_P(File, StoreConformanceTest,
                         ::testing::Values(FileBackend("File", FileStore::Options{}),
                                           FileBackend("FileWithoutGroupCommit",
                                                       FileStore::Options{.group_commit = false}),
                                           // Rescans for nearly every page (list_window.h).
                                           FileBackend("FileWithTinyListWindow",
                                                       FileStore::Options{.list_window = 3})),
                         StoreBackendName);

std::unique_ptr<FileStore> MustOpen(const std::string& dir) {
  Result<std::unique_ptr<FileStore>> store = FileStore::Open(dir);
  EXPECT_TRUE(IsOk(store)) << dir;
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

// Where the store keeps `key` (file_store.h: objects/XX/NAME).
fs::path ObjectPath(const std::string& dir, std::string_view key) {
  const size_t index = file_names::FanoutIndex(file_names::KeyHash(key));
  return fs::path(dir) / "objects" / file_names::FanoutDirName(index) /
         file_names::EncodeKey(key).value();
}

std::vector<std::string> ListKeys(Store& store) {
  std::vector<std::string> keys;
  Result<ListPage> page = store.List("", "", 100000);
  EXPECT_TRUE(IsOk(page));
  if (page.ok()) {
    for (const ListEntry& e : page->entries) keys.push_back(e.key);
  }
  return keys;
}

void ExpectObject(FileStore& store, const std::string& key, const std::string& data) {
  Result<Object> got = store.Get(key);
  ASSERT_TRUE(IsOk(got)) << key;
  EXPECT_EQ(got->data, data) << key;
  EXPECT_EQ(got->etag, object_file::ContentEtag(data)) << key;
}

// --- Batches ---------------------------------------------------------------------------------

// A batch behaves as its Puts made one after another, each with its own result, and all of
// them are made durable by a single journal commit.
TEST(FileStoreTest, PutBatchGivesEachWriteItsOwnResultAndCommitsTheBatchOnce) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Put("exists", "old", WriteCondition::None())));
  Result<std::string> other = store->Put("other", "old", WriteCondition::None());
  ASSERT_TRUE(IsOk(other));
  const uint64_t syncs_before = store->stats().journal_syncs;

  std::vector<std::string> keys;  // PutRequest holds views: the keys outlive the call
  keys.reserve(20);
  for (int i = 0; i < 20; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<PutRequest> batch;
  batch.push_back({"new", "a", WriteCondition::CreateOnly()});
  batch.push_back({"exists", "b", WriteCondition::CreateOnly()});  // refused: it exists
  batch.push_back({"other", "c", WriteCondition::IfMatch(*other)});
  batch.push_back({"new", "d", WriteCondition::None()});  // the same key twice: refused
  for (const std::string& key : keys) batch.push_back({key, "v", WriteCondition::None()});

  std::vector<Result<std::string>> results = store->PutBatch(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(IsOk(results[0]));
  EXPECT_EQ(results[1].status().code(), StatusCode::kPreconditionFailed);
  EXPECT_TRUE(IsOk(results[2]));
  EXPECT_EQ(results[3].status().code(), StatusCode::kInvalidArgument);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(IsOk(results[4 + i])) << i;
  EXPECT_EQ(store->stats().journal_syncs, syncs_before + 1);

  EXPECT_EQ(store->Get("new")->data, "a");
  EXPECT_EQ(store->Get("new")->etag, *results[0]);
  EXPECT_EQ(store->Get("exists")->data, "old");
  EXPECT_EQ(store->Get("other")->data, "c");
  EXPECT_EQ(store->Get("k19")->data, "v");

  // And a batch is as durable as a Put: after a reopen everything is there.
  store.reset();
  store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("other")->data, "c");
  EXPECT_EQ(store->Get("k0")->data, "v");
}

// --- Dirty objects: committed versions held in memory until a checkpoint -----------------------

// A Put touches no object file: the version is journaled, and served from memory, exactly as
// it would be from its file, until a checkpoint writes it.
TEST(FileStoreTest, ADirtyObjectIsServedFromMemoryUntilWrittenBack) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  Result<std::string> v1 = store->Put("sessions/new", "v1", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(v1));
  EXPECT_FALSE(fs::exists(ObjectPath(dir.path(), "sessions/new")));
  EXPECT_EQ(store->stats().dirty_objects, 1u);
  EXPECT_EQ(store->stats().dirty_bytes, 2u);
  ExpectObject(*store, "sessions/new", "v1");
  EXPECT_EQ(CodeOf(store->Get("sessions/new", *v1)), StatusCode::kNotModified);
  EXPECT_EQ(CodeOf(store->Put("sessions/new", "x", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store->Put("sessions/new", "x", WriteCondition::IfMatch("0" + *v1))),
            StatusCode::kPreconditionFailed);
  Result<ListPage> page = store->List("sessions/", "", 10);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].key, "sessions/new");
  EXPECT_EQ(page->entries[0].etag, *v1);
  EXPECT_EQ(page->entries[0].size, 2u);

  // A newer version over an older one in memory, then over one in the file.
  Result<std::string> v2 = store->Put("sessions/new", "version 2", WriteCondition::IfMatch(*v1));
  ASSERT_TRUE(IsOk(v2));
  EXPECT_EQ(store->stats().dirty_objects, 1u);
  EXPECT_EQ(store->stats().dirty_bytes, 9u);
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  EXPECT_EQ(store->stats().dirty_objects, 0u);
  EXPECT_EQ(store->stats().dirty_bytes, 0u);
  EXPECT_EQ(store->stats().objects_written_back, 1u);
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "sessions/new")),
            object_file::Header(*v2) + "version 2");
  Result<std::string> v3 = store->Put("sessions/new", "3", WriteCondition::IfMatch(*v2));
  ASSERT_TRUE(IsOk(v3));
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "sessions/new")),
            object_file::Header(*v2) + "version 2");  // the file is not touched
  ExpectObject(*store, "sessions/new", "3");
  Result<ListPage> again = store->List("sessions/", "", 10);
  ASSERT_TRUE(IsOk(again));
  ASSERT_EQ(again->entries.size(), 1u);  // in memory and in its file: listed once
  EXPECT_EQ(again->entries[0].etag, *v3);
  EXPECT_EQ(again->entries[0].size, 1u);
}

// Past Options::max_dirty_bytes, a background pass writes the dirty objects to their files
// before any checkpoint, so that many distinct keys written once do not all stay in memory.
TEST(FileStoreTest, DirtyObjectsPastTheCapAreWrittenBackEarly) {
  TempDir dir;
  FileStore::Options options;
  options.max_dirty_bytes = 10;
  Result<std::unique_ptr<FileStore>> opened = FileStore::Open(dir.path(), options);
  ASSERT_TRUE(IsOk(opened));
  FileStore& store = **opened;
  Result<std::string> small = store.Put("sessions/a", "0123456789", WriteCondition::None());
  ASSERT_TRUE(IsOk(small));
  store.WaitForEarlyWriteBack();
  EXPECT_EQ(store.stats().dirty_objects, 1u) << "10 bytes are not past a cap of 10";
  EXPECT_FALSE(fs::exists(ObjectPath(dir.path(), "sessions/a")));

  Result<std::string> big = store.Put("sessions/b", "01234567890", WriteCondition::None());
  ASSERT_TRUE(IsOk(big));
  store.WaitForEarlyWriteBack();
  EXPECT_EQ(store.stats().dirty_objects, 0u);
  EXPECT_EQ(store.stats().dirty_bytes, 0u);
  EXPECT_EQ(store.stats().objects_written_back, 2u);
  EXPECT_EQ(store.stats().checkpoints, 0u);  // ahead of any checkpoint
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "sessions/a")),
            object_file::Header(*small) + "0123456789");
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "sessions/b")),
            object_file::Header(*big) + "01234567890");
  ExpectObject(store, "sessions/b", "01234567890");
}

// List merges objects that exist only in memory with those in files, in key order, over
// several pages and windows.
TEST(FileStoreTest, ListMergesDirtyObjectsWithObjectFilesInKeyOrder) {
  TempDir dir;
  Result<std::unique_ptr<FileStore>> opened = FileStore::Open(dir.path(), {.list_window = 3});
  ASSERT_TRUE(IsOk(opened));
  FileStore& store = **opened;
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "s/" + std::to_string(100 + i);
    ASSERT_TRUE(IsOk(store.Put(key, "v", WriteCondition::None())));
    expected.push_back(key);
    if (i % 3 == 0) {
      ASSERT_TRUE(IsOk(store.WriteBackDirtyObjects()));
    }
  }
  ASSERT_TRUE(IsOk(store.Put("s/105", "newer, in memory", WriteCondition::None())));
  EXPECT_EQ(test::ListAll(store, "s/", 4), expected);
}

// Deleting an object that is only in memory journals the delete (its Put is in the journal
// and a replay would bring it back otherwise); a Put after the Delete creates it anew.
TEST(FileStoreTest, DeleteOfADirtyObjectRemovesItAndAPutAfterCreatesItAgain) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("memory only", "v1", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store->Put("in a file", "v1", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
    ASSERT_TRUE(IsOk(store->Put("in a file", "v2 in memory", WriteCondition::None())));
    const uint64_t records = store->stats().journal_records;

    ASSERT_TRUE(IsOk(store->Delete("memory only")));
    ASSERT_TRUE(IsOk(store->Delete("in a file")));
    EXPECT_EQ(store->stats().journal_records, records + 2);
    EXPECT_EQ(store->stats().dirty_objects, 0u);
    EXPECT_FALSE(fs::exists(ObjectPath(dir.path(), "in a file")));
    EXPECT_EQ(CodeOf(store->Get("memory only")), StatusCode::kNotFound);
    EXPECT_EQ(CodeOf(store->Get("in a file")), StatusCode::kNotFound);
    EXPECT_TRUE(ListKeys(*store).empty());
    EXPECT_EQ(CodeOf(store->Put("memory only", "x",
                                WriteCondition::IfMatch(object_file::ContentEtag("v1")))),
              StatusCode::kPreconditionFailed);

    Result<std::string> again = store->Put("memory only", "v3", WriteCondition::CreateOnly());
    ASSERT_TRUE(IsOk(again));
    ExpectObject(*store, "memory only", "v3");
    EXPECT_EQ(ListKeys(*store), std::vector<std::string>{"memory only"});
  }
  // The clean close wrote it: the file holds it and there is no journal left.
  EXPECT_TRUE(fs::is_empty(fs::path(dir.path()) / "journal"));
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "memory only")),
            object_file::Header(object_file::ContentEtag("v3")) + "v3");
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ExpectObject(*store, "memory only", "v3");
  EXPECT_EQ(CodeOf(store->Get("in a file")), StatusCode::kNotFound);
}

// --- Persistence across reopen ---------------------------------------------------------------

// The TTL sweep skips recently written objects by their last-modified time.
TEST(FileStoreTest, ListReportsWhenEachObjectWasLastWritten) {
  TempDir dir;
  Result<std::unique_ptr<FileStore>> store = FileStore::Open(dir.path());
  ASSERT_TRUE(IsOk(store));
  const int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ASSERT_TRUE(IsOk((*store)->Put("sessions/a", "x", WriteCondition::None())));
  const int64_t after = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  Result<ListPage> page = (*store)->List("sessions/", "", 10);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->entries.size(), 1u);
  // File systems keep mtimes with a coarser clock than system_clock: allow 20 ms either way.
  EXPECT_GE(page->entries[0].last_modified_micros, before - 20'000);
  EXPECT_LE(page->entries[0].last_modified_micros, after + 20'000);
  // Written to its file later, by a checkpoint: still the time of the Put.
  ASSERT_TRUE(IsOk((*store)->WriteBackDirtyObjects()));
  Result<ListPage> from_file = (*store)->List("sessions/", "", 10);
  ASSERT_TRUE(IsOk(from_file));
  ASSERT_EQ(from_file->entries.size(), 1u);
  EXPECT_EQ(from_file->entries[0].last_modified_micros, page->entries[0].last_modified_micros);
}

TEST(FileStoreTest, ReopenKeepsObjectsEtagsAndConditions) {
  TempDir dir;
  std::string etag_a;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    Result<std::string> a = store->Put("sessions/a", "alpha", WriteCondition::CreateOnly());
    ASSERT_TRUE(IsOk(a));
    etag_a = *a;
    ASSERT_TRUE(IsOk(store->Put("sessions/b", "beta", WriteCondition::CreateOnly())));
    ASSERT_TRUE(IsOk(store->Put("gone", "x", WriteCondition::CreateOnly())));
    ASSERT_TRUE(IsOk(store->Delete("gone")));
  }
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  Result<Object> a = store->Get("sessions/a");
  ASSERT_TRUE(IsOk(a));
  EXPECT_EQ(a->data, "alpha");
  EXPECT_EQ(a->etag, etag_a);
  EXPECT_EQ(CodeOf(store->Get("sessions/a", etag_a)), StatusCode::kNotModified);
  EXPECT_EQ(CodeOf(store->Get("gone")), StatusCode::kNotFound);
  EXPECT_EQ(ListKeys(*store), (std::vector<std::string>{"sessions/a", "sessions/b"}));

  EXPECT_EQ(CodeOf(store->Put("sessions/b", "x", WriteCondition::CreateOnly())),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(CodeOf(store->Put("sessions/a", "x", WriteCondition::IfMatch("0" + etag_a))),
            StatusCode::kPreconditionFailed);
  EXPECT_TRUE(IsOk(store->Put("sessions/a", "alpha 2", WriteCondition::IfMatch(etag_a))));
}

TEST(FileStoreTest, EtagsAreNotReusedAcrossRestartAndDeleteRecreate) {
  TempDir dir;
  std::string old_etag;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    Result<std::string> v1 = store->Put("k", "before restart", WriteCondition::CreateOnly());
    ASSERT_TRUE(IsOk(v1));
    old_etag = *v1;
    ASSERT_TRUE(IsOk(store->Delete("k")));
  }
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  Result<std::string> v2 = store->Put("k", "after restart", WriteCondition::CreateOnly());
  ASSERT_TRUE(IsOk(v2));
  EXPECT_NE(*v2, old_etag);
  EXPECT_EQ(CodeOf(store->Put("k", "x", WriteCondition::IfMatch(old_etag))),
            StatusCode::kPreconditionFailed);
}

// --- The directory lock ----------------------------------------------------------------------

TEST(FileStoreTest, SecondOpenOfADirectoryFailsWithAClearMessageUntilTheFirstCloses) {
  TempDir dir;
  auto first = MustOpen(dir.path());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<FileStore>> second = FileStore::Open(dir.path());
  ASSERT_EQ(CodeOf(second), StatusCode::kIOError);
  EXPECT_NE(
      second.status().message().find("another durable-stashd holds the lock on " + dir.path() +
                                     " (pid " + std::to_string(::getpid()) + ")"),
      std::string::npos)
      << second.status().message();
  first.reset();
  EXPECT_TRUE(IsOk(FileStore::Open(dir.path())));
}

TEST(FileStoreTest, SecondOpenFromAnotherProcessFails) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  const std::string expected = "(pid " + std::to_string(::getpid()) + ")";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<FileStore>> other = FileStore::Open(dir.path());
    const bool ok = !other.ok() && other.status().code() == StatusCode::kIOError &&
                    other.status().message().find(expected) != std::string::npos;
    ::_exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the child process could open a locked store";
}

TEST(FileStoreTest, LockFileHoldsThePidWhileOpenAndIsEmptiedOnClose) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadFile(fs::path(dir.path()) / "LOCK"), std::to_string(::getpid()) + "\n");
  store.reset();
  EXPECT_EQ(ReadFile(fs::path(dir.path()) / "LOCK"), "");
}

TEST(FileStoreTest, StaleLockFileOfACrashedProcessDoesNotBlockOpen) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("k", "v", WriteCondition::None())));
  }
  // A crashed daemon leaves its pid behind, but the kernel released its flock.
  WriteFile(fs::path(dir.path()) / "LOCK", "999999\n");
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  Result<Object> got = store->Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->data, "v");
}

// --- Crash leftovers and foreign files -------------------------------------------------------

TEST(FileStoreTest, TemporaryFilesOfInterruptedWritesAreIgnoredAndRemovedAtOpen) {
  TempDir dir;
  std::string etag;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    Result<std::string> v1 = store->Put("k", "committed", WriteCondition::CreateOnly());
    ASSERT_TRUE(IsOk(v1));
    etag = *v1;
  }
  // A crash after writing a new version's temporary file but before the rename, and one in the
  // middle of writing it (a torn temporary file).
  const fs::path tmp = fs::path(dir.path()) / "tmp";
  WriteFile(tmp / "7", std::string(object_file::kMagic) + std::string(32, '0') + "\nnew");
  WriteFile(tmp / "8", "DSF1 01");
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(fs::is_empty(tmp));
    Result<Object> got = store->Get("k");
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(got->data, "committed");
    EXPECT_EQ(got->etag, etag);
    EXPECT_EQ(ListKeys(*store), std::vector<std::string>{"k"});
    EXPECT_TRUE(IsOk(store->Put("k", "next", WriteCondition::IfMatch(etag))));
  }
}

TEST(FileStoreTest, ListIgnoresFilesTheStoreDidNotWrite) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Put("A", "v", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));  // creates A's file and subdirectory
  const fs::path subdir = ObjectPath(dir.path(), "A").parent_path();
  WriteFile(subdir / ".A.swp", "editor");      // hidden
  WriteFile(subdir / "%41", "not canonical");  // would decode to "A" again
  WriteFile(subdir / "a%2fb", "lower-case escape");
  EXPECT_EQ(ListKeys(*store), std::vector<std::string>{"A"});
}

TEST(FileStoreTest, DamagedObjectIsReportedAsCorruption) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Put("flipped", "some session state", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store->Put("truncated", "some session state", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store->Put("headless", "some session state", WriteCondition::None())));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));  // Get reads the files from now on

  std::string contents = ReadFile(ObjectPath(dir.path(), "flipped"));
  contents[object_file::kHeaderSize + 3] ^= 0x20;
  WriteFile(ObjectPath(dir.path(), "flipped"), contents);
  EXPECT_EQ(CodeOf(store->Get("flipped")), StatusCode::kCorruption);

  contents = ReadFile(ObjectPath(dir.path(), "truncated"));
  WriteFile(ObjectPath(dir.path(), "truncated"), contents.substr(0, contents.size() - 1));
  EXPECT_EQ(CodeOf(store->Get("truncated")), StatusCode::kCorruption);

  WriteFile(ObjectPath(dir.path(), "headless"), "{}");
  EXPECT_EQ(CodeOf(store->Get("headless")), StatusCode::kCorruption);
  EXPECT_EQ(CodeOf(store->Put("headless", "x", WriteCondition::IfMatch("e"))),
            StatusCode::kCorruption);
}

// --- On-disk format --------------------------------------------------------------------------

TEST(FileStoreTest, ObjectFileIsHeaderThenDataUnderItsEncodedName) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  const std::string key = "sessions/" + std::string(64, 'f');
  Result<std::string> etag = store->Put(key, "{\"v\":1}", WriteCondition::None());
  ASSERT_TRUE(IsOk(etag));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  EXPECT_EQ(etag->size(), object_file::kEtagSize);
  const fs::path path = ObjectPath(dir.path(), key);
  EXPECT_EQ(path.filename().string(), "sessions%2F" + std::string(64, 'f'));
  EXPECT_EQ(ReadFile(path), "DSF1 " + *etag + "\n{\"v\":1}");
  EXPECT_EQ(ReadFile(fs::path(dir.path()) / "FORMAT"), "durable-stash file store\nformat 2\n");
}

TEST(FileStoreTest, EqualContentsShareAnEtagAsWithS3) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  Result<std::string> a = store->Put("a", "same", WriteCondition::None());
  Result<std::string> b = store->Put("b", "same", WriteCondition::None());
  ASSERT_TRUE(IsOk(a));
  ASSERT_TRUE(IsOk(b));
  EXPECT_EQ(*a, *b);
}

TEST(FileStoreTest, ManyKeysFanOutOverSubdirectoriesAndListMergesThemInOrder) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 600; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "sessions/%06d", i * 7919 % 1000003);
    keys.emplace_back(key);
  }
  // Written by 8 threads: each write waits for its fsyncs, and they overlap.
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += kThreads) {
        EXPECT_TRUE(IsOk(store->Put(keys[i], keys[i], WriteCondition::None())));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(keys.begin(), keys.end());
  const auto list_all = [&] {
    std::vector<std::string> listed;
    std::string continuation;
    do {
      Result<ListPage> page = store->List("sessions/", continuation, 64);
      EXPECT_TRUE(IsOk(page));
      if (!page.ok()) break;
      for (const ListEntry& e : page->entries) listed.push_back(e.key);
      continuation = page->continuation;
    } while (!continuation.empty());
    return listed;
  };
  EXPECT_EQ(list_all(), keys);  // every version still in memory

  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  size_t subdirs = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(dir.path()) / "objects")) {
    (void)entry;
    ++subdirs;
  }
  EXPECT_GT(subdirs, 200u);     // 600 keys hashed into 256 directories
  EXPECT_EQ(list_all(), keys);  // every version in its file
}

// List against a model: the memory store, given the same writes, must produce the same pages
// (keys, sizes, continuations) while a walk is interleaved with creates, overwrites and
// deletes. The tiny list window makes most pages go through a rescan or a window update.
TEST(FileStoreTest, ListMatchesTheMemoryStoreUnderWritesInterleavedWithAWalk) {
  TempDir dir;
  Result<std::unique_ptr<FileStore>> opened = FileStore::Open(dir.path(), {.list_window = 8});
  ASSERT_TRUE(IsOk(opened));
  FileStore& store = *opened.value();
  MemoryStore model;
  std::mt19937 rng(2024);
  auto random_key = [&] {
    static const std::string kAlphabet = "ab/.~";
    std::string key = rng() % 4 == 0 ? "j" : "k";
    for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) {
      key.push_back(kAlphabet[rng() % kAlphabet.size()]);
    }
    return key;
  };
  auto random_write = [&] {
    const std::string key = random_key();
    if (rng() % 3 == 0) {
      ASSERT_TRUE(IsOk(store.Delete(key)));
      ASSERT_TRUE(IsOk(model.Delete(key)));
    } else {
      const std::string data(rng() % 20, 'd');
      ASSERT_TRUE(IsOk(store.Put(key, data, WriteCondition::None())));
      ASSERT_TRUE(IsOk(model.Put(key, data, WriteCondition::None())));
    }
  };
  for (int i = 0; i < 40; ++i) random_write();

  for (const char* prefix : {"", "k", "k/", "ka", "j"}) {
    std::string continuation;
    int pages = 0;
    do {
      const size_t max_keys = 1 + rng() % 3;
      Result<ListPage> got = store.List(prefix, continuation, max_keys);
      Result<ListPage> want = model.List(prefix, continuation, max_keys);
      ASSERT_TRUE(IsOk(got));
      ASSERT_TRUE(IsOk(want));
      ASSERT_EQ(got->entries.size(), want->entries.size()) << "page " << pages;
      for (size_t i = 0; i < got->entries.size(); ++i) {
        EXPECT_EQ(got->entries[i].key, want->entries[i].key);
        EXPECT_EQ(got->entries[i].size, want->entries[i].size);
      }
      ASSERT_EQ(got->continuation, want->continuation);
      continuation = got->continuation;
      for (int w = static_cast<int>(rng() % 3); w > 0; --w) random_write();
      ASSERT_LT(++pages, 1000);
    } while (!continuation.empty());
  }
}

// While writers create, overwrite and delete keys, a walk returns every key that existed
// throughout it exactly once, in order, and nothing that never existed.
TEST(FileStoreTest, ListWalkDuringConcurrentWritesReturnsEveryStableKeyOnce) {
  TempDir dir;
  Result<std::unique_ptr<FileStore>> opened = FileStore::Open(dir.path(), {.list_window = 12});
  ASSERT_TRUE(IsOk(opened));
  FileStore& store = *opened.value();
  std::set<std::string> stable;
  for (int i = 0; i < 60; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "s/%03d", i);
    stable.insert(key);
    ASSERT_TRUE(IsOk(store.Put(key, "v", WriteCondition::CreateOnly())));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  writers.reserve(2);
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w);
      while (!stop.load()) {
        char key[24];
        std::snprintf(key, sizeof key, "s/%03d-%d", static_cast<int>(rng() % 60), w);
        EXPECT_TRUE(IsOk(store.Put(key, "x", WriteCondition::None())));
        std::snprintf(key, sizeof key, "s/%03d", static_cast<int>(rng() % 60));
        EXPECT_TRUE(IsOk(store.Put(key, "overwritten", WriteCondition::None())));
        std::snprintf(key, sizeof key, "s/%03d-%d", static_cast<int>(rng() % 60), w);
        EXPECT_TRUE(IsOk(store.Delete(key)));
      }
    });
  }
  for (int walk = 0; walk < 3; ++walk) {
    std::vector<std::string> keys;
    std::string continuation;
    do {
      Result<ListPage> page = store.List("s/", continuation, 3);
      ASSERT_TRUE(IsOk(page));
      for (const ListEntry& e : page->entries) keys.push_back(e.key);
      continuation = page->continuation;
    } while (!continuation.empty());
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << "a key twice";
    std::set<std::string> seen_stable;
    for (const std::string& key : keys) {
      if (stable.count(key) != 0) {
        seen_stable.insert(key);
      } else {
        EXPECT_TRUE(key.size() == 7 && (key.ends_with("-0") || key.ends_with("-1"))) << key;
      }
    }
    EXPECT_EQ(seen_stable, stable) << "walk " << walk;
  }
  stop = true;
  for (auto& t : writers) t.join();
}

TEST(FileStoreTest, KeysWhoseFileNameWouldBeTooLongAreInvalid) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(IsOk(store->Put(std::string(255, 'k'), "v", WriteCondition::None())));
  EXPECT_EQ(CodeOf(store->Put(std::string(256, 'k'), "v", WriteCondition::None())),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(store->Put(std::string(86, '/'), "v", WriteCondition::None())),
            StatusCode::kInvalidArgument);  // 86 * "%2F" = 258 bytes
  EXPECT_EQ(CodeOf(store->Get(std::string(256, 'k'))), StatusCode::kInvalidArgument);
}

// --- Open ------------------------------------------------------------------------------------

TEST(FileStoreTest, OpenCreatesMissingDirectories) {
  TempDir dir;
  const std::string nested = dir.path() + "/a/b/c";
  auto store = MustOpen(nested);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), "file:" + nested);
  EXPECT_TRUE(IsOk(store->Put("k", "v", WriteCondition::None())));
}

TEST(FileStoreTest, DescribeNamesTheAbsoluteDirectory) {
  TempDir dir;
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  Result<std::unique_ptr<FileStore>> store = FileStore::Open("relative/store/");
  fs::current_path(cwd);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ(store.value()->Describe(), "file:" + dir.path() + "/relative/store");
}

TEST(FileStoreTest, OpenRefusesANonEmptyDirectoryThatIsNotAStoreAndWritesNothingThere) {
  TempDir dir;
  WriteFile(fs::path(dir.path()) / "notes.txt", "mine");
  Result<std::unique_ptr<FileStore>> store = FileStore::Open(dir.path());
  ASSERT_EQ(CodeOf(store), StatusCode::kIOError);
  EXPECT_NE(store.status().message().find("not a durable-stash file store"), std::string::npos)
      << store.status().message();
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "notes.txt");
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(FileStoreTest, OpenRefusesAnUnknownFormat) {
  TempDir dir;
  { ASSERT_NE(MustOpen(dir.path()), nullptr); }
  WriteFile(fs::path(dir.path()) / "FORMAT", "durable-stash file store\nformat 99\n");
  EXPECT_EQ(CodeOf(FileStore::Open(dir.path())), StatusCode::kIOError);
}

TEST(FileStoreTest, OpenOfAPathThatIsAFileFails) {
  TempDir dir;
  WriteFile(fs::path(dir.path()) / "file", "x");
  EXPECT_EQ(CodeOf(FileStore::Open(dir.path() + "/file")), StatusCode::kIOError);
  EXPECT_EQ(CodeOf(FileStore::Open("")), StatusCode::kInvalidArgument);
}

// --- Group commit ----------------------------------------------------------------------------

TEST(FileStoreTest, EveryWriteAndDeleteIsJournaledAndCommittedByAGroupFdatasync) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kWrites = 10;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kWrites; ++i) {
        EXPECT_TRUE(
            IsOk(store->Put("k" + std::to_string(t * kWrites + i), "v", WriteCondition::None())));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(IsOk(store->Delete("k0")));
  ASSERT_TRUE(IsOk(store->Delete("k0")));  // missing: nothing to journal
  const FileStore::Stats stats = store->stats();
  EXPECT_EQ(stats.journal_records, static_cast<uint64_t>(kThreads * kWrites + 1));
  EXPECT_GE(stats.journal_syncs, 1u);
  EXPECT_LE(stats.journal_syncs, stats.journal_records);
}

TEST(FileStoreTest, CleanCloseCheckpointsAndLeavesNoJournal) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("k", "v", WriteCondition::None())));
    EXPECT_FALSE(fs::is_empty(fs::path(dir.path()) / "journal"));
  }
  EXPECT_TRUE(fs::is_empty(fs::path(dir.path()) / "journal"));
  EXPECT_EQ(ReadFile(fs::path(dir.path()) / "LOCK"), "");
}

// --- Crash recovery: the journal replay --------------------------------------------------------

// Runs `work` on the store in `dir` in a child process that then exits without closing it, as
// a crash would: the journal and the pid in LOCK stay behind. (No fsync is skipped: what the
// page cache held is still there, and the tests damage object files by hand to play the part
// of a power loss.)
void RunAndAbandon(const std::string& dir, const FileStore::Options& options,
                   const std::function<bool(FileStore&)>& work) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<FileStore>> store = FileStore::Open(dir, options);
    const bool ok = store.ok() && work(**store);
    ::_exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "the child's writes failed";
}

std::vector<fs::path> JournalFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "journal")) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoull(a.filename().string()) < std::stoull(b.filename().string());
  });
  return files;
}

TEST(FileStoreTest, ReplayRestoresEveryCommittedPutAndDeleteOverObjectFilesAPowerLossDamaged) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    for (const char* key : {"kept", "overwritten", "deleted", "recreated"}) {
      ASSERT_TRUE(IsOk(store->Put(key, std::string("v0 of ") + key, WriteCondition::None())));
    }
  }  // closed cleanly: everything so far is durable, and there is no journal
  const std::string deleted_v0 = ReadFile(ObjectPath(dir.path(), "deleted"));
  RunAndAbandon(dir.path(), {}, [](FileStore& store) {
    return store
               .Put("overwritten", "v1",
                    WriteCondition::IfMatch(object_file::ContentEtag("v0 of overwritten")))
               .ok() &&
           store.Put("new", "v1 of new", WriteCondition::CreateOnly()).ok() &&
           store.Delete("deleted").ok() && store.Put("twice", "a", WriteCondition::None()).ok() &&
           store.Put("twice", "b", WriteCondition::None()).ok() && store.Delete("recreated").ok() &&
           store.Put("recreated", "v2 of recreated", WriteCondition::CreateOnly()).ok();
  });
  ASSERT_FALSE(JournalFiles(dir.path()).empty());

  // What a power loss can do to files written since the last checkpoint: new and replaced
  // files come back empty or short, renames and unlinks are undone.
  WriteFile(ObjectPath(dir.path(), "overwritten"), "");
  WriteFile(ObjectPath(dir.path(), "new"), "DSF1 ");
  fs::remove(ObjectPath(dir.path(), "twice"));
  WriteFile(ObjectPath(dir.path(), "deleted"), deleted_v0);
  WriteFile(ObjectPath(dir.path(), "recreated"), "");
  // And a record that was being appended when it happened: a torn tail.
  {
    std::ofstream tail(JournalFiles(dir.path()).back(), std::ios::binary | std::ios::app);
    tail << "\x17\x02garbage of a record never acknowledged";
  }

  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ExpectObject(*store, "kept", "v0 of kept");
  ExpectObject(*store, "overwritten", "v1");
  ExpectObject(*store, "new", "v1 of new");
  ExpectObject(*store, "twice", "b");
  ExpectObject(*store, "recreated", "v2 of recreated");
  EXPECT_EQ(CodeOf(store->Get("deleted")), StatusCode::kNotFound);
  EXPECT_EQ(ListKeys(*store),
            (std::vector<std::string>{"kept", "new", "overwritten", "recreated", "twice"}));
  // The replay was checkpointed: the new journal holds only what this process writes.
  EXPECT_EQ(JournalFiles(dir.path()).size(), 1u);
  EXPECT_TRUE(
      IsOk(store->Put("twice", "c", WriteCondition::IfMatch(object_file::ContentEtag("b")))));
}

// Writers race generation rotation and checkpoints (tiny generations); the process then dies.
// Whatever generations are left are replayed in order: every key ends at its last written
// value, and no older record is applied over a newer one.
TEST(FileStoreTest, RotationUnderConcurrentWritersThenACrashLosesNothing) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kWrites = 40;
  const FileStore::Options options{.journal_rotate_bytes = 2048};
  auto value = [](int t, int i) {
    return "t" + std::to_string(t) + " v" + std::to_string(i) + std::string(300, 'x');
  };
  auto key = [](int t, int k) { return "s/" + std::to_string(t) + "-" + std::to_string(k); };
  RunAndAbandon(dir.path(), options, [&](FileStore& store) {
    std::atomic<bool> ok{true};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::string etags[3];
        for (int i = 0; i < kWrites; ++i) {
          const int k = i % 3;
          auto cond =
              etags[k].empty() ? WriteCondition::CreateOnly() : WriteCondition::IfMatch(etags[k]);
          Result<std::string> etag = store.Put(key(t, k), value(t, i), cond);
          if (!etag.ok()) ok = false;
          etags[k] = etag.ok() ? *etag : "";
        }
        // Key 2 ends deleted.
        if (!store.Delete(key(t, 2)).ok()) ok = false;
      });
    }
    for (auto& th : threads) th.join();
    return ok.load() && store.stats().journal_records == uint64_t{kThreads} * (kWrites + 1);
  });

  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  for (int t = 0; t < kThreads; ++t) {
    // Key k was last written at the largest i < kWrites with i % 3 == k.
    ExpectObject(*store, key(t, 0), value(t, kWrites - 1 - (kWrites - 1) % 3));
    ExpectObject(*store, key(t, 1), value(t, kWrites - 1 - ((kWrites - 1) % 3 + 2) % 3));
    EXPECT_EQ(CodeOf(store->Get(key(t, 2))), StatusCode::kNotFound);
  }
  EXPECT_EQ(ListKeys(*store).size(), static_cast<size_t>(kThreads * 2));
}

TEST(FileStoreTest, RotationUnderConcurrentWritersLosesNothingWhileOpen) {
  TempDir dir;
  Result<std::unique_ptr<FileStore>> opened =
      FileStore::Open(dir.path(), {.journal_rotate_bytes = 1024});
  ASSERT_TRUE(IsOk(opened));
  FileStore& store = *opened.value();
  constexpr int kThreads = 8;
  constexpr int kWrites = 30;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        EXPECT_TRUE(
            IsOk(store.Put("k" + std::to_string(t), std::to_string(i) + std::string(200, 'y'),
                           WriteCondition::None())));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ExpectObject(store, "k" + std::to_string(t),
                 std::to_string(kWrites - 1) + std::string(200, 'y'));
  }
  opened.value().reset();
  EXPECT_TRUE(fs::is_empty(fs::path(dir.path()) / "journal"));
  auto reopened = MustOpen(dir.path());
  ASSERT_NE(reopened, nullptr);
  for (int t = 0; t < kThreads; ++t) {
    ExpectObject(*reopened, "k" + std::to_string(t),
                 std::to_string(kWrites - 1) + std::string(200, 'y'));
  }
}

// --- In-place overwrites ----------------------------------------------------------------------

TEST(FileStoreTest, OverwriteWithShorterDataLeavesExactlyTheNewBytes) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  const fs::path path = ObjectPath(dir.path(), "k");
  ASSERT_TRUE(IsOk(store->Put("k", std::string(5000, 'L'), WriteCondition::None())));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  Result<std::string> shorter = store->Put("k", "short", WriteCondition::None());
  ASSERT_TRUE(IsOk(shorter));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  EXPECT_EQ(ReadFile(path), object_file::Header(*shorter) + "short");
  ExpectObject(*store, "k", "short");
  Result<std::string> empty = store->Put("k", "", WriteCondition::IfMatch(*shorter));
  ASSERT_TRUE(IsOk(empty));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  EXPECT_EQ(ReadFile(path), object_file::Header(*empty));
  ExpectObject(*store, "k", "");
  Result<std::string> longer = store->Put("k", "longer again", WriteCondition::IfMatch(*empty));
  ASSERT_TRUE(IsOk(longer));
  ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
  EXPECT_EQ(ReadFile(path), object_file::Header(*longer) + "longer again");
  Result<ListPage> page = store->List("", "", 10);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].etag, *longer);
  EXPECT_EQ(page->entries[0].size, std::string("longer again").size());
}

// Object files are overwritten in place (by checkpoints, here by a thread that writes back
// all the time); Get and List read them, or the version in memory, under the key's stripe lock,
// so they see one complete version at a time: the data matches its etag (Get reports Corruption
// otherwise) and List's etag and size belong to the same version. Versions differ in length,
// up to 60 KiB, so that an unlocked read would often land inside a write or a truncation.
TEST(FileStoreTest, GetAndListDuringOverwritesOfTheSameKeySeeOnlyCompleteVersions) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 2;
  constexpr int kWritesPerWriter = 40;
  constexpr int kReaders = 3;
  auto version = [](int writer, int i) {
    const size_t size = static_cast<size_t>((i * 7 + writer * 3) % 16) * 4096 + 1;
    return std::string(size, static_cast<char>('a' + (writer * kWritesPerWriter + i) % 26));
  };
  std::map<std::string, uint64_t> sizes;  // etag of every version -> its size
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kWritesPerWriter; ++i) {
      const std::string data = version(w, i);
      sizes[object_file::ContentEtag(data)] = data.size();
    }
  }
  ASSERT_TRUE(IsOk(store->Put("hot", version(0, 0), WriteCondition::None())));

  std::atomic<int> writers_left{kWriters};
  std::atomic<int> reads{0};
  std::latch start(kWriters + kReaders + 2);
  std::vector<std::thread> threads;
  threads.reserve(kWriters + kReaders + 2);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kWritesPerWriter; ++i) {
        EXPECT_TRUE(IsOk(store->Put("hot", version(w, i), WriteCondition::None())));
      }
      writers_left.fetch_sub(1);
    });
  }
  // Readers run until the writers are done: as many reads as the writes give them time for.
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      while (writers_left.load() > 0) {
        Result<Object> got = store->Get("hot");
        ASSERT_TRUE(IsOk(got));
        ASSERT_EQ(got->etag, object_file::ContentEtag(got->data));
        ASSERT_EQ(sizes.count(got->etag), 1u);
        reads.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    start.arrive_and_wait();
    while (writers_left.load() > 0) {
      Result<ListPage> page = store->List("", "", 10);
      ASSERT_TRUE(IsOk(page));
      ASSERT_EQ(page->entries.size(), 1u);
      const auto it = sizes.find(page->entries[0].etag);
      ASSERT_NE(it, sizes.end());
      EXPECT_EQ(page->entries[0].size, it->second);
    }
  });
  // Checkpoints write the newest version to the file in place, under the readers' feet.
  std::atomic<int> write_backs{0};
  threads.emplace_back([&] {
    start.arrive_and_wait();
    while (writers_left.load() > 0) {
      ASSERT_TRUE(IsOk(store->WriteBackDirtyObjects()));
      write_backs.fetch_add(1);
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(write_backs.load(), 0);
}

TEST(FileStoreTest, ReplayRepairsObjectFilesTornInTheMiddleOfAnOverwrite) {
  TempDir dir;
  const std::string long_v0(5000, 'L');
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("shrunk", long_v0, WriteCondition::None())));
    ASSERT_TRUE(IsOk(store->Put("grown", "v0 of grown", WriteCondition::None())));
    ASSERT_TRUE(IsOk(store->Put("garbled", "v0 of garbled", WriteCondition::None())));
  }  // closed cleanly: the v0 files are durable, and there is no journal
  const std::string grown_v1 = "v1 of grown" + std::string(3000, 'G');
  RunAndAbandon(dir.path(), {}, [&](FileStore& store) {
    return store.Put("shrunk", "v1", WriteCondition::None()).ok() &&
           store.Put("grown", grown_v1, WriteCondition::None()).ok() &&
           store.Put("garbled", "v1 of garbled", WriteCondition::None()).ok();
  });
  ASSERT_FALSE(JournalFiles(dir.path()).empty());

  // The overwrites as a crash can leave them, their records committed: the new header and part
  // of the new data over the old file, the truncation not done; a partial new header over the
  // old header and data; garbage.
  const std::string shrunk_v1_header = object_file::Header(object_file::ContentEtag("v1"));
  WriteFile(ObjectPath(dir.path(), "shrunk"),
            shrunk_v1_header + "v" + long_v0.substr(0, long_v0.size() - 100));
  const std::string grown_v0_file = ReadFile(ObjectPath(dir.path(), "grown"));
  WriteFile(ObjectPath(dir.path(), "grown"),
            object_file::Header(object_file::ContentEtag(grown_v1)).substr(0, 20) +
                grown_v0_file.substr(20, 10));
  WriteFile(ObjectPath(dir.path(), "garbled"), std::string("\0\0", 2) + "DSF1 zz\n garbage");

  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ExpectObject(*store, "shrunk", "v1");
  ExpectObject(*store, "grown", grown_v1);
  ExpectObject(*store, "garbled", "v1 of garbled");
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "shrunk")), shrunk_v1_header + "v1");
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "grown")),
            object_file::Header(object_file::ContentEtag(grown_v1)) + grown_v1);
  EXPECT_EQ(ListKeys(*store), (std::vector<std::string>{"garbled", "grown", "shrunk"}));
}

// Acknowledged Puts whose versions were only in memory when the process died (no file was
// ever written for them) come back through the replay, as do Deletes of such objects.
TEST(FileStoreTest, DirtyObjectsLostWithTheProcessAreRestoredByTheReplay) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("old", "v0 of old", WriteCondition::None())));
  }  // closed cleanly: old's file holds v0
  RunAndAbandon(dir.path(), {}, [&](FileStore& store) {
    const bool ok = store.Put("new", "v1 of new", WriteCondition::CreateOnly()).ok() &&
                    store.Put("old", "v1 of old", WriteCondition::None()).ok() &&
                    store.Put("gone", "never in a file", WriteCondition::None()).ok() &&
                    store.Delete("gone").ok() && store.stats().dirty_objects == 2;
    // Nothing was written to an object file.
    return ok && !fs::exists(ObjectPath(dir.path(), "new")) &&
           ReadFile(ObjectPath(dir.path(), "old")) ==
               object_file::Header(object_file::ContentEtag("v0 of old")) + "v0 of old";
  });
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ExpectObject(*store, "new", "v1 of new");
  ExpectObject(*store, "old", "v1 of old");
  EXPECT_EQ(CodeOf(store->Get("gone")), StatusCode::kNotFound);
  EXPECT_EQ(ListKeys(*store), (std::vector<std::string>{"new", "old"}));
  // The replay wrote the files.
  EXPECT_EQ(ReadFile(ObjectPath(dir.path(), "new")),
            object_file::Header(object_file::ContentEtag("v1 of new")) + "v1 of new");
}

// SIGKILL at a random moment while writers race checkpoints (tiny generations, so that dirty
// objects are written back, synced and their generations deleted all the time): after the
// restart every key holds what its last acknowledged write left (a value, or nothing after a
// Delete), or what the writer's one write in flight would have left. The child reports each
// acknowledgment through a pipe before it goes on; the parent kills it once it has read a
// random number of them.
TEST(FileStoreTest, SigkillDuringCheckpointsLosesNoAcknowledgedWrite) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 4;
  struct Ack {
    int32_t thread;
    int32_t op;  // the thread's op number
  };
  // Op i of a thread targets key i % kKeys; every third round, its op on the last key is a
  // Delete, else a Put of a value naming the op.
  const auto is_delete = [](int op) { return op % kKeys == kKeys - 1 && (op / kKeys) % 3 == 2; };
  const auto key_of = [](int thread, int op) {
    return "s/" + std::to_string(thread) + "-" + std::to_string(op % kKeys);
  };
  const auto value_of = [](int thread, int op) {
    return "t" + std::to_string(thread) + " op " + std::to_string(op) + std::string(200, 'x');
  };
  std::mt19937 random(std::random_device{}());
  int rounds_with_checkpoints = 0;
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      Result<std::unique_ptr<FileStore>> store =
          FileStore::Open(dir.path(), {.journal_rotate_bytes = 4096});
      if (!store.ok()) ::_exit(1);
      std::mutex pipe_mu;
      std::vector<std::thread> threads;
      threads.reserve(kThreads);
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          std::vector<std::string> etags(kKeys);
          for (int op = 0;; ++op) {
            const std::string key = key_of(t, op);
            std::string& etag = etags[op % kKeys];
            if (is_delete(op)) {
              if (!(*store)->Delete(key).ok()) ::_exit(1);
              etag.clear();
            } else {
              const WriteCondition condition =
                  etag.empty() ? WriteCondition::CreateOnly() : WriteCondition::IfMatch(etag);
              Result<std::string> put = (*store)->Put(key, value_of(t, op), condition);
              if (!put.ok()) ::_exit(1);
              etag = *put;
            }
            const Ack ack{t, op};
            std::lock_guard lock(pipe_mu);
            if (::write(fds[1], &ack, sizeof ack) != sizeof ack) ::_exit(1);
          }
        });
      }
      for (auto& th : threads) th.join();
      ::_exit(1);  // not reached
    }
    ::close(fds[1]);
    const int kill_after = std::uniform_int_distribution<int>(300, 3000)(random);
    std::vector<int> last_acked(kThreads, -1);
    int acks = 0;
    Ack ack{};
    bool killed = false;
    while (::read(fds[0], &ack, sizeof ack) == sizeof ack) {
      ASSERT_TRUE(ack.thread >= 0 && ack.thread < kThreads);
      EXPECT_EQ(ack.op, last_acked[ack.thread] + 1);
      last_acked[ack.thread] = ack.op;
      if (++acks == kill_after && !killed) {
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        killed = true;
      }
    }
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(killed) << "the child stopped by itself after " << acks << " writes";
    ASSERT_TRUE(WIFSIGNALED(wstatus));

    // Generation 1 gone: the child's checkpoints retired generations before it died.
    const std::vector<fs::path> generations = JournalFiles(dir.path());
    ASSERT_FALSE(generations.empty());
    if (std::stoull(generations.front().filename().string()) > 1) ++rounds_with_checkpoints;

    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    for (int t = 0; t < kThreads; ++t) {
      for (int k = 0; k < kKeys; ++k) {
        // What the last acknowledged op on key k left, and what the op in flight (the one
        // after the thread's last acknowledged op) would leave if it is on key k.
        std::vector<std::optional<std::string>> allowed;
        const int last = last_acked[t];
        const int last_on_key = last < 0 ? -1 : last - ((last % kKeys - k + kKeys) % kKeys);
        const auto state_after = [&](int op) -> std::optional<std::string> {
          if (op < 0 || is_delete(op)) return std::nullopt;
          return value_of(t, op);
        };
        allowed.push_back(state_after(last_on_key));
        const int in_flight = last_acked[t] + 1;
        if (in_flight % kKeys == k) allowed.push_back(state_after(in_flight));
        Result<Object> got = store->Get(key_of(t, k));
        std::optional<std::string> state;
        if (got.ok()) {
          state = got->data;
        } else {
          ASSERT_EQ(CodeOf(got), StatusCode::kNotFound) << got.status().ToString();
        }
        EXPECT_NE(std::find(allowed.begin(), allowed.end(), state), allowed.end())
            << "round " << round << " key " << key_of(t, k) << " last acked op " << last_acked[t]
            << ": " << (state ? state->substr(0, 20) : "(none)");
      }
    }
  }
  EXPECT_GT(rounds_with_checkpoints, 0);
}

// --- Format upgrade --------------------------------------------------------------------------

TEST(FileStoreTest, AFormat1StoreOpensAndIsUpgradedToFormat2) {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->Put("k", "from format 1", WriteCondition::None())));
  }
  // A format-1 store: no journal directory, FORMAT says 1.
  fs::remove_all(fs::path(dir.path()) / "journal");
  WriteFile(fs::path(dir.path()) / "FORMAT", "durable-stash file store\nformat 1\n");
  WriteFile(fs::path(dir.path()) / "LOCK", "12345\n");  // and it was not closed cleanly
  auto store = MustOpen(dir.path());
  ASSERT_NE(store, nullptr);
  ExpectObject(*store, "k", "from format 1");
  EXPECT_EQ(ReadFile(fs::path(dir.path()) / "FORMAT"), "durable-stash file store\nformat 2\n");
  EXPECT_TRUE(fs::is_directory(fs::path(dir.path()) / "journal"));
  EXPECT_TRUE(IsOk(store->Put("k", "in format 2", WriteCondition::None())));
}

}  // namespace
}  // namespace ds::store
