// FileJournal: the write-ahead journal of the file store (file_store.h tells how the store uses
// it). One fdatasync of one append-only file makes many writes durable at once, so that the
// object files themselves can be written without any fsync and made durable later, in bulk.
//
// Records. A generation file holds records back to back, each
//
//   checksum   u64  XXH3-64 of every byte of the record after this field
//   generation u64  the number of the file it was written to
//   op         u8   1 = put, 2 = delete
//   key size   u32
//   value size u32  0 for a delete
//   key, value
//
// (integers little-endian). The generation number in each record means that bytes left over
// from another file, or a zero-filled tail, can never pass as a record of this one. Records are
// read in order up to the end of the file or the first that is incomplete or fails its checksum
// (a torn tail: a write in flight when the machine stopped). Nothing valid can follow a torn
// record: a record is committed by an fdatasync of its file, which also commits every byte
// written before it, and a record is only appended after the previous append has completed.
//
// Generations (DIR/1, DIR/2, ...). Appends go to the active generation. When it exceeds
// `rotate_bytes`, the next append opens a new one and the old one is closed. A closed
// generation is checkpointed by a small thread of the journal's own: once every record of it
// has been released (the caller has applied its effect, see Ticket), the caller's
// Options::before_checkpoint puts into the file system whatever effects it still holds in
// memory, one syncfs(2) of the file system makes all those effects durable, and the generation file
// is deleted (the directory is fsynced after each unlink, oldest first, so that a crash can never
// bring back an old generation without the newer ones it precedes). Writers never wait for a
// checkpoint: the syncfs runs on that thread while appends go on in the new generation.
//
// Group commit (leader/follower, as in PostgreSQL or InnoDB). Commit(ticket) returns once an
// fdatasync that started after the ticket's record was written has completed. Whoever finds no
// fdatasync running becomes the leader: it notes the last record appended so far, fdatasyncs
// (with no lock held) every generation that holds records not yet durable, and wakes everyone
// that covered. Those that arrived during that fdatasync wait for it to end, and one of them
// then covers all of them with the next one. Under load, each fdatasync covers every record
// appended while the previous one ran.
//
// Failures are sticky (the PostgreSQL "fsyncgate" policy): once an fdatasync or a checkpoint
// has failed, the kernel may have dropped the data it could not write, so nothing later can be
// promised durable. The failing batch's Commit returns the error (its records may or may not be
// durable), and every later Append and Commit fails too. The generation files are then left in
// place for the next open to replay. A failed write(2) of a record is not sticky: the active
// file is truncated back and the next append overwrites the same place.
//
// Thread safety: Append, Commit, Ticket destruction and stats may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/posix_io.h"

namespace ds::store {

// --- The record format -----------------------------------------------------------------------

enum class JournalOp : uint8_t { kPut = 1, kDelete = 2 };

struct JournalRecord {
  JournalOp op = JournalOp::kPut;
  std::string_view key;
  std::string_view value;  // empty for kDelete
};

namespace journal_format {

inline constexpr size_t kRecordHeaderSize = 8 + 8 + 1 + 4 + 4;

// Appends the encoding of `record` as a record of generation `generation` to `*out`.
// REQUIRES: key and value sizes fit in 32 bits (FileJournal::Append checks).
void EncodeRecord(uint64_t generation, const JournalRecord& record, std::string* out);

// Decodes the record at the start of `input`, which must belong to generation `generation`.
// Returns its encoded size, with `*record` viewing `input`; nullopt when `input` does not start
// with a complete, valid record (torn, bad checksum, wrong generation, or empty).
std::optional<size_t> DecodeRecord(std::string_view input, uint64_t generation,
                                   JournalRecord* record);

// Every valid record of one generation's contents, in order, viewing `contents`; `*torn` tells
// whether bytes after them were ignored.
std::vector<JournalRecord> DecodeAll(std::string_view contents, uint64_t generation, bool* torn);

}  // namespace journal_format

// --- The journal -----------------------------------------------------------------------------

class FileJournal {
  struct Generation;

 public:
  struct Options {
    // A generation is closed and checkpointed once it holds this many bytes. 32 MiB: at the
    // target rate (20,000 writes/s of ~2 KiB) that is one checkpoint, and so one syncfs, about
    // every second and a half, which keeps its fixed cost (a file-system journal commit) out of
    // the per-write budget; and a replay after a crash reads at most a few tens of MiB.
    uint64_t rotate_bytes = 32 << 20;
    // Off: every Commit fdatasyncs by itself. Only useful to measure what batching buys.
    bool group_commit = true;
    // Called by every checkpoint (on the checkpoint thread, and by Close) before its syncfs,
    // with no lock of the journal held: it must put into the file system every effect of
    // every released record that is still held elsewhere (the file store writes the objects
    // it keeps in memory, file_store.h). An error fails the checkpoint, and so the journal.
    // None by default: the effects are already in the file system when records are released.
    std::function<Status()> before_checkpoint = nullptr;
  };

  struct Stats {
    uint64_t records = 0;      // records appended
    uint64_t syncs = 0;        // fdatasync calls made to commit them
    uint64_t checkpoints = 0;  // syncfs calls that retired generations
  };

  // The generation numbers found in `dir_fd` (files whose names are decimal numbers; anything
  // else is ignored), ascending.
  static Result<std::vector<uint64_t>> ListGenerations(int dir_fd, const std::string& what);

  // The whole contents of generation file `generation`.
  static Result<std::string> ReadGeneration(int dir_fd, uint64_t generation,
                                            const std::string& what);

  // Deletes the given generation files, oldest first, fsyncing the directory after each.
  static Status RemoveGenerations(int dir_fd, const std::vector<uint64_t>& generations,
                                  const std::string& what);

  // Starts a journal in directory `dir_fd` (`what` names it in messages), whose first
  // generation is `first_generation`; no generation file of that number or above may exist.
  // Checkpoints call syncfs(`fs_fd`), which must be on the file system that holds what the
  // records describe. `fs_fd` must outlive the journal.
  static Result<std::unique_ptr<FileJournal>> Start(UniqueFd dir_fd, int fs_fd, std::string what,
                                                    uint64_t first_generation,
                                                    const Options& options);

  // Close(), ignoring its result: a failed close leaves the generation files for replay.
  ~FileJournal();
  FileJournal(const FileJournal&) = delete;
  FileJournal& operator=(const FileJournal&) = delete;

  // An appended record. Until it is destroyed, its generation is not checkpointed: destroy it
  // only once the record's effect has been applied (or abandoned), in the file system or
  // where Options::before_checkpoint will find it. Move-only.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class FileJournal;
    Ticket(FileJournal* journal, std::shared_ptr<Generation> generation, uint64_t sequence);
    FileJournal* journal_;
    std::shared_ptr<Generation> generation_;
    uint64_t sequence_;
  };

  // Writes `record` to the active generation (not yet durable): AppendAll of one record.
  // InvalidArgument when the key or value is too large; IOError when the write fails or the
  // journal has failed before.
  Result<Ticket> Append(const JournalRecord& record);

  // Appends `records` in order with one write(2) for all of them (a batch of the file store:
  // one system call instead of one per record). Result i is what Append(records[i]) would
  // have returned: a record too large is refused on its own; a failed write fails them all.
  std::vector<Result<Ticket>> AppendAll(const std::vector<JournalRecord>& records);

  // Returns once `ticket`'s record is durable. On error the record may or may not be durable,
  // and the journal has failed (see above).
  Status Commit(const Ticket& ticket);

  // Stops the checkpoint thread and checkpoints every generation, leaving no generation file.
  // After a failure, it checkpoints nothing and returns the failure: the files stay for
  // replay. REQUIRES: no Ticket is alive and no call is in progress. Idempotent.
  Status Close();

  // Makes the journal fail as after a failed fdatasync: for a caller that could not apply a
  // committed record. No generation is checkpointed from now on, so the record stays for the
  // next replay.
  void Fail(const Status& error);

  Stats stats() const;

  // Use Start(). (Public only for std::make_unique.)
  FileJournal(UniqueFd dir_fd, int fs_fd, std::string what, const Options& options);

 private:
  // Creates generation file `number` and makes its directory entry durable. Called with mu_
  // held.
  Result<std::shared_ptr<Generation>> CreateGeneration(uint64_t number);
  void Release(Generation* generation);
  // syncfs, then delete `done` (a prefix of generations_) oldest first.
  Status Checkpoint(const std::vector<std::shared_ptr<Generation>>& done);
  // How many generations at the front of generations_ are closed and released. mu_ held.
  size_t CheckpointablePrefix() const;
  void CheckpointLoop();
  // Writes scratch_ (the encoding of `count` records) at the end of the active generation and
  // returns the sequence number of the first of them, after rotating if the generation is now
  // full. mu_ held; `*rotated` is set when a new generation was started.
  Result<uint64_t> WriteScratch(size_t count, bool* rotated);
  Status FailedError() const;  // mu_ held

  const UniqueFd dir_fd_;
  const int fs_fd_;
  const std::string what_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable committed_;     // durable_ advanced
  std::condition_variable checkpointer_;  // a generation became checkpointable, or stopping_
  std::deque<std::shared_ptr<Generation>> generations_;  // oldest first; back() is active
  uint64_t appended_ = 0;  // sequence number of the last record appended
  uint64_t durable_ = 0;   // every record <= durable_ is covered by a finished fdatasync
  bool leader_running_ = false;
  Status failure_;  // sticky; OK while healthy
  bool stopping_ = false;
  bool closed_ = false;
  Stats stats_;
  std::string scratch_;  // encoding buffer, used under mu_
  std::thread checkpoint_thread_;
};

}  // namespace ds::store
