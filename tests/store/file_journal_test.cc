// FileJournal: the record format (torn tails, bad checksums), the group commit, and the
// generations' checkpoints (store/file_journal.h).
#include "store/file_journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/posix_io.h"
#include "store_test_util.h"

namespace ds::store {
namespace {

using journal_format::DecodeAll;
using journal_format::DecodeRecord;
using journal_format::EncodeRecord;
using test::IsOk;
using test::TempDir;

std::string Encode(uint64_t generation, const std::vector<JournalRecord>& records) {
  std::string out;
  for (const JournalRecord& r : records) EncodeRecord(generation, r, &out);
  return out;
}

const std::vector<JournalRecord> kRecords = {
    {JournalOp::kPut, "sessions/a", "{\"v\":1}"},
    {JournalOp::kDelete, "sessions/b", ""},
    {JournalOp::kPut, "k", std::string_view("\0\xff bin", 6)},
    {JournalOp::kPut, "empty", ""},
};

void ExpectRecordsEqual(const std::vector<JournalRecord>& got,
                        const std::vector<JournalRecord>& want, size_t n) {
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].op, want[i].op) << i;
    EXPECT_EQ(got[i].key, want[i].key) << i;
    EXPECT_EQ(got[i].value, want[i].value) << i;
  }
}

TEST(JournalFormatTest, RecordsRoundTrip) {
  const std::string encoded = Encode(7, kRecords);
  bool torn = true;
  ExpectRecordsEqual(DecodeAll(encoded, 7, &torn), kRecords, kRecords.size());
  EXPECT_FALSE(torn);
  JournalRecord first;
  EXPECT_EQ(DecodeRecord(encoded, 7, &first),
            journal_format::kRecordHeaderSize + kRecords[0].key.size() + kRecords[0].value.size());
}

// A crash can stop the file at any byte: every complete record before the cut is read, and
// the partial one is not.
TEST(JournalFormatTest, EveryTornTailYieldsExactlyTheCompleteRecordsBeforeIt) {
  const std::string encoded = Encode(3, kRecords);
  std::vector<size_t> ends;  // end offset of each record
  size_t offset = 0;
  for (const JournalRecord& r : kRecords) {
    offset += journal_format::kRecordHeaderSize + r.key.size() + r.value.size();
    ends.push_back(offset);
  }
  for (size_t cut = 0; cut <= encoded.size(); ++cut) {
    size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    bool torn = false;
    ExpectRecordsEqual(DecodeAll(std::string_view(encoded).substr(0, cut), 3, &torn), kRecords,
                       complete);
    EXPECT_EQ(torn, complete == 0 ? cut != 0 : ends[complete - 1] != cut) << cut;
  }
}

TEST(JournalFormatTest, AnyFlippedByteStopsDecodingAtThatRecord) {
  const std::string encoded = Encode(3, kRecords);
  const size_t first_size =
      journal_format::kRecordHeaderSize + kRecords[0].key.size() + kRecords[0].value.size();
  for (size_t i = first_size; i < first_size + journal_format::kRecordHeaderSize + 10; ++i) {
    std::string damaged = encoded;
    damaged[i] ^= 0x01;
    bool torn = false;
    ExpectRecordsEqual(DecodeAll(damaged, 3, &torn), kRecords, 1);
    EXPECT_TRUE(torn) << i;
  }
}

TEST(JournalFormatTest, RecordsOfAnotherGenerationAndZeroesAreNotRecords) {
  bool torn = false;
  EXPECT_TRUE(DecodeAll(Encode(4, kRecords), 5, &torn).empty());
  EXPECT_TRUE(torn);
  EXPECT_TRUE(DecodeAll(std::string(4096, '\0'), 0, &torn).empty());
  EXPECT_TRUE(torn);
  const std::string zero_tail = Encode(9, kRecords) + std::string(100, '\0');
  ExpectRecordsEqual(DecodeAll(zero_tail, 9, &torn), kRecords, kRecords.size());
  EXPECT_TRUE(torn);
}

// --- The journal -----------------------------------------------------------------------------

struct OpenJournal {
  UniqueFd fs_fd;
  std::unique_ptr<FileJournal> journal;
};

OpenJournal StartIn(const std::string& dir, const FileJournal::Options& options = {}) {
  OpenJournal open;
  open.fs_fd = UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(open.fs_fd.valid());
  Result<std::unique_ptr<FileJournal>> journal =
      FileJournal::Start(UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
                         open.fs_fd.get(), dir, 1, options);
  EXPECT_TRUE(IsOk(journal));
  if (journal.ok()) open.journal = std::move(journal).value();
  return open;
}

std::vector<uint64_t> Generations(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Result<std::vector<uint64_t>> generations = FileJournal::ListGenerations(fd.get(), dir);
  EXPECT_TRUE(IsOk(generations));
  return generations.ok() ? *generations : std::vector<uint64_t>{};
}

TEST(FileJournalTest, CommittedRecordsAreInTheGenerationFileAndACleanCloseRemovesIt) {
  TempDir dir;
  OpenJournal open = StartIn(dir.path());
  ASSERT_NE(open.journal, nullptr);
  for (const JournalRecord& r : kRecords) {
    Result<FileJournal::Ticket> ticket = open.journal->Append(r);
    ASSERT_TRUE(IsOk(ticket));
    ASSERT_TRUE(IsOk(open.journal->Commit(*ticket)));
  }
  ASSERT_EQ(Generations(dir.path()), std::vector<uint64_t>{1});
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Result<std::string> contents = FileJournal::ReadGeneration(fd.get(), 1, dir.path());
  ASSERT_TRUE(IsOk(contents));
  bool torn = false;
  ExpectRecordsEqual(DecodeAll(*contents, 1, &torn), kRecords, kRecords.size());
  EXPECT_TRUE(torn);  // the zeroes written ahead of the appends
  EXPECT_EQ(open.journal->stats().records, kRecords.size());

  ASSERT_TRUE(IsOk(open.journal->Close()));
  EXPECT_TRUE(Generations(dir.path()).empty());
}

TEST(FileJournalTest, GroupCommitCoversConcurrentAppendersWithFewerSyncsThanRecords) {
  TempDir dir;
  OpenJournal open = StartIn(dir.path());
  ASSERT_NE(open.journal, nullptr);
  constexpr int kThreads = 16;
  constexpr int kRecordsPerThread = 30;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRecordsPerThread; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        Result<FileJournal::Ticket> ticket =
            open.journal->Append({JournalOp::kPut, key, std::string(500, 'v')});
        ASSERT_TRUE(IsOk(ticket));
        EXPECT_TRUE(IsOk(open.journal->Commit(*ticket)));
      }
    });
  }
  for (auto& t : threads) t.join();
  const FileJournal::Stats stats = open.journal->stats();
  EXPECT_EQ(stats.records, static_cast<uint64_t>(kThreads * kRecordsPerThread));
  EXPECT_GE(stats.syncs, 1u);
  EXPECT_LT(stats.syncs, stats.records);
}

TEST(FileJournalTest, FullGenerationsRotateAndAreCheckpointedOnceReleased) {
  TempDir dir;
  OpenJournal open = StartIn(dir.path(), {.rotate_bytes = 100});
  ASSERT_NE(open.journal, nullptr);
  std::vector<FileJournal::Ticket> held;
  for (int i = 0; i < 10; ++i) {
    Result<FileJournal::Ticket> ticket =
        open.journal->Append({JournalOp::kPut, "k" + std::to_string(i), std::string(150, 'x')});
    ASSERT_TRUE(IsOk(ticket));
    ASSERT_TRUE(IsOk(open.journal->Commit(*ticket)));
    held.push_back(std::move(*ticket));
  }
  // Every record is still held: its effect is not applied yet, so nothing is checkpointed.
  EXPECT_EQ(Generations(dir.path()).size(), 11u);  // 10 full ones and the empty active one
  EXPECT_EQ(open.journal->stats().checkpoints, 0u);
  held.clear();
  ASSERT_TRUE(IsOk(open.journal->Close()));
  EXPECT_TRUE(Generations(dir.path()).empty());
  EXPECT_GE(open.journal->stats().checkpoints, 1u);
}

// A batch's records go to the file with one write, in order, each with its own ticket; a
// record too large is refused on its own and the others are appended.
TEST(FileJournalTest, AppendAllWritesTheBatchInOrderAndRefusesOnlyWhatDoesNotFit) {
  TempDir dir;
  OpenJournal open = StartIn(dir.path());
  ASSERT_NE(open.journal, nullptr);
  std::vector<JournalRecord> batch = kRecords;
  batch.insert(batch.begin() + 1, JournalRecord{JournalOp::kPut, "", "an empty key"});
  std::vector<Result<FileJournal::Ticket>> tickets = open.journal->AppendAll(batch);
  ASSERT_EQ(tickets.size(), batch.size());
  EXPECT_EQ(test::CodeOf(tickets[1]), StatusCode::kInvalidArgument);
  for (size_t i = 0; i < tickets.size(); ++i) {
    if (i != 1) {
      ASSERT_TRUE(IsOk(tickets[i])) << i;
    }
  }
  ASSERT_TRUE(IsOk(open.journal->Commit(*tickets.back())));
  EXPECT_EQ(open.journal->stats().records, kRecords.size());
  EXPECT_EQ(open.journal->stats().syncs, 1u);
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Result<std::string> contents = FileJournal::ReadGeneration(fd.get(), 1, dir.path());
  ASSERT_TRUE(IsOk(contents));
  bool torn = false;
  ExpectRecordsEqual(DecodeAll(*contents, 1, &torn), kRecords, kRecords.size());
  tickets.clear();
  ASSERT_TRUE(IsOk(open.journal->Close()));
  EXPECT_TRUE(Generations(dir.path()).empty());
}

// The caller's effects still in memory are written by before_checkpoint, which every
// checkpoint calls before deleting a generation; when it fails, nothing is deleted.
TEST(FileJournalTest, EveryCheckpointCallsBeforeCheckpointFirstAndStopsWhenItFails) {
  TempDir dir;
  TempDir other;
  int calls = 0;
  bool fail = false;
  std::vector<size_t> generations_seen;  // generation files when it was called
  FileJournal::Options options;
  options.before_checkpoint = [&] {
    ++calls;
    generations_seen.push_back(Generations((fail ? other : dir).path()).size());
    return fail ? Status::IOError("disk full") : Status::OK();
  };
  {
    OpenJournal open = StartIn(dir.path(), options);
    ASSERT_NE(open.journal, nullptr);
    {
      Result<FileJournal::Ticket> ticket = open.journal->Append(kRecords[0]);
      ASSERT_TRUE(IsOk(ticket));
      ASSERT_TRUE(IsOk(open.journal->Commit(*ticket)));
    }  // released
    ASSERT_TRUE(IsOk(open.journal->Close()));
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(generations_seen, std::vector<size_t>{1});  // called before the deletion
    EXPECT_TRUE(Generations(dir.path()).empty());
  }
  fail = true;
  {
    OpenJournal open = StartIn(other.path(), options);
    ASSERT_NE(open.journal, nullptr);
    {
      Result<FileJournal::Ticket> ticket = open.journal->Append(kRecords[0]);
      ASSERT_TRUE(IsOk(ticket));
      ASSERT_TRUE(IsOk(open.journal->Commit(*ticket)));
    }
    EXPECT_EQ(open.journal->Close().code(), StatusCode::kIOError);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(Generations(other.path()), std::vector<uint64_t>{1});  // kept for a replay
  }
}

TEST(FileJournalTest, AfterAFailureNothingIsAppendedOrCheckpointed) {
  TempDir dir;
  OpenJournal open = StartIn(dir.path(), {.rotate_bytes = 100});
  ASSERT_NE(open.journal, nullptr);
  {
    Result<FileJournal::Ticket> ticket =
        open.journal->Append({JournalOp::kPut, "k", std::string(150, 'x')});
    ASSERT_TRUE(IsOk(ticket));
    ASSERT_TRUE(IsOk(open.journal->Commit(*ticket)));
    open.journal->Fail(Status::IOError("rename failed"));
  }
  Result<FileJournal::Ticket> next = open.journal->Append({JournalOp::kDelete, "k", ""});
  EXPECT_EQ(test::CodeOf(next), StatusCode::kIOError);
  EXPECT_EQ(open.journal->Close().code(), StatusCode::kIOError);
  // The committed record stays for the next replay.
  EXPECT_EQ(Generations(dir.path()).front(), 1u);
}

}  // namespace
}  // namespace ds::store
