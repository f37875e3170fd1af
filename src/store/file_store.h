// FileStore: the Store on a local directory (`--store file:PATH`), the daemon's embedded
// default. One file per object, every change made durable by a write-ahead journal before it
// is applied, with the CAS contract of store.h.
//
// Directory layout
//   PATH/FORMAT          "durable-stash file store" and the format version (2); written when
//                        the store is created or upgraded. Open refuses a non-empty directory
//                        without it, so a mistyped path never turns a user's directory into a
//                        store.
//   PATH/LOCK            flock(LOCK_EX) of the running store; holds its pid while it runs.
//   PATH/objects/XX/NAME one file per object. XX is the fan-out subdirectory ("00".."ff", from a
//                        hash of the key) and NAME the key, escaped so that names sort like
//                        keys (file_names.h): `sessions/ab12` is `sessions%2Fab12`. A million
//                        objects make ~4,000 files per subdirectory.
//   PATH/tmp/            unused since writes go in place (below); created, and emptied by Open
//                        of the temporary files earlier builds left there when they stopped
//                        in the middle of a write.
//   PATH/journal/N       the write-ahead journal's generations (below); none after a clean
//                        close.
//
// Object files (object_file.h): the 38-byte text header "DSF1 " + etag + "\n", then the data.
// The etag is the XXH3-128 hash of the data, in hex. A content hash satisfies the contract
// without any persistent counter: different contents of a key always get different etags,
// also across restarts and after a delete and re-create; equal contents share an etag, as
// with S3's MD5 etags, which is harmless for CAS (the bytes are the same). The etag is stored
// in the header so that List and If-Match checks read 38 bytes instead of hashing the data.
// Get still re-hashes the data it returns and reports Corruption on a mismatch: XXH3 runs at
// memory speed (tens of microseconds per MiB), which is noise next to the read, and it
// catches bit rot and hand-edited files. XXH3 is not a cryptographic hash; crafting a
// collision would only let a session's own content pass a CAS check against another version
// of itself.
//
// Durability: a write-ahead journal with group commit (file_journal.h). Object files are
// written without any fsync; what makes a write durable is a record in PATH/journal, and one
// fdatasync of that append-only file commits the records of many writers at once.
//
//   PATH/journal/N       journal generations, N = 1, 2, ... (file_journal.h has the record
//                        format: checksum, generation, op, key, value). Empty after a clean
//                        close.
//
// Put(key, data, condition), under the key's stripe lock held exclusively from start to end:
// the condition is checked against the current version (the dirty one in memory, below, or
// else the object file's header); a put record (key and data) is appended to the journal; the
// writer waits for a group commit that covers it (leader/follower: whoever finds no fdatasync
// of the journal running starts one for every record appended so far, the others wait for it
// and the next one); then the new version becomes the key's DIRTY OBJECT, a copy held in
// memory, and no object file is touched. Delete journals a delete record the same way, drops
// the dirty object and unlinks the file. Deleting a missing object (neither dirty nor in a
// file) journals nothing: everything visible is already durable (below). A condition that
// fails is detected before anything is written, and any failure before the commit is a clean
// error that leaves no trace. A failed commit (fdatasync), or an unlink that fails after its
// record was committed, leaves a record that a replay may or will apply while the store shows
// the previous state: the write returns OutcomeUnknown and the store fails every later call
// with IOError, keeping every journal generation, until a restart replays them (the
// "fsyncgate" policy: after a write-back error nothing can be promised, and serving on would
// let readers act on a state the journal contradicts).
//
// Dirty objects. Writing the object file on every Put cost an open, a pwrite and a close per
// write, and most of them were overwritten again seconds later (a session is stashed many
// times). The journal already holds every committed version, so the file can wait: the newest
// version of each key written since the last checkpoint lives in memory (its stripe's `dirty`
// map, under the stripe lock), and Get, List, conditions and Delete look there first, so they
// see exactly what they would see in the file (the same etag, size, and last-modified time:
// the Put's). A checkpoint writes every dirty object to its file (WriteBackDirtyObjects: in
// place, as below, with the Put's time as mtime) before its syncfs, and drops it from memory;
// a session stashed a hundred times between two checkpoints is written to its file once. A
// checkpoint that cannot write an object file (a full disk, say) fails the store as a failed
// commit does: every later call gets IOError until a restart replays the journal.
// Memory is bounded by the journal: a dirty object is one version of one key, whose record is
// in a generation not yet checkpointed (a checkpoint writes back, and drops, every object
// made dirty before it started, whose records include all of those in the generations it
// retires), so the dirty bytes never exceed the bytes of the generations on disk: one full
// generation (Options::journal_rotate_bytes, 32 MiB) plus the active one while a checkpoint
// runs, and far less when sessions are written repeatedly, plus a map node per object.
// (Checkpoints that fall behind let the journal, and this, grow alike.) Below that, memory is
// capped by Options::max_dirty_bytes (4 MiB): past it, a background thread (BackgroundPass)
// writes every dirty object to its file ahead of the checkpoint, exactly as a checkpoint
// would. Without the cap, 100,000 sessions stashed once each between two checkpoints held
// their objects twice, which added ~550 bytes per resident session (BENCHMARKS.md).)
// Measured through the daemon (`ds_bench durable`, 50 connections, 10,000 sessions, ext4, the
// same build but for the file store, alternated three times in the same minutes on this busy
// 2-CPU VM): writing each object file per Put 9,500-14,900 durable stashes/s, 100-125 us of
// daemon CPU per stash; dirty objects 15,400-20,600/s, 46-60 us. Records per fdatasync went
// from 12-14 to 15 with the CPU freed.
//
// Why files are written in place, and why it is safe. The journal makes atomic replacement
// unnecessary: what a crash can do to an object file in the middle of an overwrite (old and
// new bytes mixed, a partial header, the old tail not yet truncated) is what a power loss can
// do to any file written without fsync, and it is repaired the same way, by the replay. The
// invariant: every object changed since the last checkpoint has a committed record in the
// journal, and a file is touched (written, created, truncated, unlinked) only after its
// record is committed. A record stays in the journal until its generation is checkpointed,
// and a generation is checkpointed only after every version it covers is either in its file
// or in the dirty set (each writer holds a Ticket until then), the checkpoint has written the
// dirty set to the files, and a syncfs has made those files durable. So a file that may be
// torn, empty, stale or missing is always named by a record that restores it, until the
// moment it is durable and whole. Records of one key are in the order of its writes (appended
// under its lock), so the replay ends every key at its last committed version; a record
// appended but not committed when the process died may be replayed or not, which is fine
// since it was never acknowledged. What a SIGKILL or a power loss takes with it, the dirty set,
// is exactly what the replay rebuilds: the last committed version of every key written since
// the last checkpoint. Against readers of a live store, the stripe lock does the work: Put and
// Delete change the dirty set, and a checkpoint writes a file, under it held exclusively; a
// Get or List holds it shared while it reads the dirty set or a file, so it never sees a
// write in progress, nor a version before it is durable.
//
// Why in place matters: the create and rename of a temporary file each change two
// directories, metadata that ext4 commits in its own journal, and those commits queue behind
// the journal fdatasyncs running at the same time (this was measured when Puts still wrote
// their files). An in-place overwrite of an existing object changes only the file's data and
// times. A C experiment on this machine (16 threads, an fdatasync
// loop on another file) did 3,156 "create temp + write + rename" per second against 15,714
// "open + pwrite + close". New objects still create their file (one directory change), but a
// session's object is created once and overwritten for the rest of its life.
//
// Checkpoints keep the journal small. When the active generation exceeds
// Options::journal_rotate_bytes (32 MiB: file_journal.h says why), new appends go to the next
// generation; the journal's own thread waits until every write of the old one has finished
// (its version in the dirty set, or its file unlinked), writes the dirty objects to their
// files (FileJournal::Options::before_checkpoint), calls syncfs(2) (all those object files and
// directory changes become durable), deletes the old generation and fsyncs PATH/journal, oldest
// generation first. Writers never wait for it: a dedicated thread rather than the writer that
// crossed the threshold, because a syncfs takes as long as the write-back of everything dirty
// and the writer is a daemon store thread that serves clients. A clean close (the destructor)
// checkpoints everything and leaves no journal.
//
// Open replays before serving. If PATH/journal holds generations (the previous process did
// not close the store cleanly), their valid records are read in order, oldest generation first,
// each stopping at its first torn or bad record (a torn record was never acknowledged, and
// nothing committed can follow one), folded into the last operation per key, and applied the
// way Put and Delete apply them: put = overwrite the object file in place (created if missing,
// truncated if longer), delete = unlink. Then one syncfs, then the generations are deleted (a
// crash during the replay just replays again). With an empty journal, Open's cost is one
// readdir of PATH/journal, whatever the number of objects.
//
// FORMAT is "format 2" since the journal: a format-1 daemon would ignore the journal and serve
// stale or torn objects, so it must refuse the directory. A format-1 store is upgraded in place
// when opened (PATH/journal created, FORMAT rewritten atomically); other formats are refused.
// In-place writes did not change the format: the files are the same, only how they are written.
//
// Conditions and locking: only one process can use a directory (the LOCK), so in-process
// locks suffice. Each key maps to one of kStripes reader/writer locks, writer-preferring
// (file_store_stripe_lock.h: readers holding a lock for whole reads must not starve a Put).
// Put and Delete hold their key's stripe exclusively from the condition check until the dirty
// set is updated or the file unlinked (after the commit), and a checkpoint while it writes a
// stripe's dirty objects to their files; Get holds it shared from looking in the dirty set (or
// opening the file) to reading its last byte, and List while it reads one entry's version in
// memory, or its file's header and size. So conditional
// writes of one key are linearizable, and a reader sees one complete, durable version.
//
// Throughput. Nothing is serialized across keys but the journal append (a pwrite of the record
// under the journal's mutex). The journal file is extended with zeroes 1 MiB ahead of the
// appends, so most fdatasyncs overwrite allocated blocks (a data write and a device flush)
// instead of committing the file system's own journal. A write costs one group commit plus
// unsynced file-system work; with W concurrent writers each fdatasync covers up to W records.
// Measured with file_store_bench (ext4 on a 2-core VM shared with builds, load average 6-20,
// where one fdatasync costs 3-5 ms, almost all of it the device flush): before the journal
// ~75-115 Puts/s with 1 writer and ~630-1,600 with 16 or 64 (2 KiB values). With the journal,
// `--threads 1,16,64 --ops-per-thread 300 --size 300`, two runs each, alternated, on a day
// when one fdatasync took ~0.2-0.4 ms:
//                            1 writer      16 writers      64 writers    records per fdatasync
//   temporary file + rename  1,590-2,350   2,670-3,400     2,880-3,660   1.8 (16 and 64)
//   in place                 4,280-4,700   14,600-16,300   20,000-20,800 6.5-6.9 (16), 19-20 (64)
// The file-system metadata work of the renames was what kept the batches at ~2 records. The
// bound is the device flush latency times the writers per batch.
//
// Batches (PutBatch). The daemon hands each shard's writes of one loop turn to the store as
// one PutBatch on one store thread (session/write_path.h), so a batch's records ride one
// commit without needing one thread per write: the batch takes the stripe locks of all its
// keys (each once, in ascending stripe order, so two batches cannot deadlock and Get, List
// and Delete, which hold one stripe at a time, cannot either), checks each condition, appends
// the records of the writes that pass with one write(2) (FileJournal::AppendAll), commits once
// (its last record), then installs the new versions as dirty objects. Each write gets its own
// result, as if it had been a Put of its own; Put is a batch of one. Through the daemon:
// 9,500 -> 13,000-15,000 durable stashes/s (BENCHMARKS.md).
//
// List reads names, never file contents (only the 38-byte headers of the entries it returns,
// for their etags). Since objects are spread by hash, finding a page in key order means
// reading every subdirectory's names; one such scan keeps the next ListWindow::kCapacity
// names in memory, kept exact under concurrent writes, and serves the following pages from
// them (list_window.h). Measured with a million objects: Open 2 ms; a scan 0.75 s (3.7 s with
// a cold page cache); a page served from the window 16 ms; a walk over all of them in pages of
// 1,000 keys 24 s (it would take over an hour scanning for every page).
//
// Keys: any non-empty byte string whose escaped name fits in 255 bytes (255 letters and
// digits; each other byte takes 3): `sessions/<64 hex digits>` is 75 bytes. Longer keys are
// InvalidArgument.
//
// Thread safety: every method may be called concurrently. The FileStore must outlive its calls.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/background_pass.h"
#include "store/file_journal.h"
#include "store/file_names.h"
#include "store/file_store_stripe_lock.h"
#include "store/list_window.h"
#include "store/posix_io.h"
#include "store/store.h"

namespace ds::store {

class FileStore final : public Store {
 public:
  struct Options {
    // Group-commit journal fdatasyncs (file_journal.h). Off: every write fdatasyncs the journal
    // itself; only useful to measure what the group commit buys.
    bool group_commit = true;
    // Size at which a journal generation is closed and checkpointed (FileJournal::Options has
    // the default and why). Tests make it tiny to exercise checkpoints.
    uint64_t journal_rotate_bytes = FileJournal::Options().rotate_bytes;
    // Names one List scan keeps for the following pages (list_window.h). Tests make it tiny
    // to exercise rescans.
    size_t list_window = ListWindow::kCapacity;
    // Bytes of dirty objects beyond which a background thread writes them all to their files
    // before the next checkpoint would ("Dirty objects" above). Many distinct sessions written
    // between two checkpoints would otherwise keep up to a journal generation's worth of
    // copies in memory; sessions written again and again still coalesce below this.
    uint64_t max_dirty_bytes = uint64_t{4} * 1024 * 1024;
  };

  struct Stats {
    uint64_t journal_records = 0;  // Puts and Deletes journaled
    uint64_t journal_syncs = 0;    // journal fdatasync calls made to commit them
    uint64_t checkpoints = 0;      // syncfs calls that retired journal generations
    uint64_t dirty_objects = 0;    // objects whose newest version is only in memory (and journal)
    uint64_t dirty_bytes = 0;      // ... and the bytes of those versions
    uint64_t objects_written_back = 0;  // object files written from memory (checkpoints, early)
  };

  // Opens the store in `dir`, creating the directory (and parents) if missing. IOError when
  // another process holds the directory's lock: "another durable-stashd holds the lock on
  // <dir> (pid N) ...".
  static Result<std::unique_ptr<FileStore>> Open(std::string dir);
  static Result<std::unique_ptr<FileStore>> Open(std::string dir, const Options& options);

  ~FileStore() override;

  Result<Object> Get(std::string_view key, std::string_view if_none_match = {}) override;
  Result<std::string> Put(std::string_view key, std::string_view data,
                          const WriteCondition& condition) override;
  Status Delete(std::string_view key) override;
  // One journal commit for the whole batch: its records are appended under the stripe locks
  // of all its keys (taken in stripe order), committed by one fdatasync, then the objects are
  // overwritten. Put is a batch of one.
  std::vector<Result<std::string>> PutBatch(const std::vector<PutRequest>& puts) override;
  bool PrefersBatchedWrites() const override { return true; }
  Result<ListPage> List(std::string_view prefix, std::string_view continuation,
                        size_t max_keys) override;
  std::string Describe() const override { return "file:" + dir_; }

  // Writes every object whose newest version is held only in memory to its file, without any
  // fsync (the journal still covers it), and drops it from memory. Every checkpoint does this
  // before its syncfs; public for tests that look at object files, and harmless at any time.
  Status WriteBackDirtyObjects();
  // Waits until the early write-backs asked for so far (Options::max_dirty_bytes) have run.
  // For tests.
  void WaitForEarlyWriteBack();

  Stats stats() const;
  // The Stats as INFO fields: file_journal_records, file_journal_syncs, file_checkpoints,
  // file_dirty_objects, file_dirty_bytes, file_objects_written_back.
  std::vector<std::pair<std::string, uint64_t>> Metrics() const override;

 private:
  struct PassKey {};

 public:
  // Use Open(). (Public only so that Open can use std::make_unique.)
  FileStore(PassKey, std::string dir, const Options& options, UniqueFd dir_fd, UniqueFd lock_fd,
            UniqueFd objects_fd);

 private:
  static constexpr size_t kStripes = 1024;

  // Where a key lives.
  struct Location {
    std::string name;  // file name inside its subdirectory
    size_t subdir = 0;
    size_t stripe = 0;
  };
  static Result<Location> Locate(std::string_view key);

  // The fd of fan-out subdirectory `index`, opened on first use. When it does not exist yet:
  // created if `create`, else -1.
  Result<int> SubdirFd(size_t index, bool create);

  // An object whose newest version is committed to the journal but not yet written to its
  // file: the file (if any) holds an older version. Get, List, conditions and Delete look here
  // first. Written out and dropped by WriteBackDirtyObjects at the next checkpoint.
  struct DirtyObject {
    std::string data;
    std::string etag;
    size_t subdir = 0;           // the fan-out subdirectory of its file
    int64_t written_micros = 0;  // when it was written (system clock): List and the file's mtime
  };

  // One of kStripes key stripes: its lock, and its keys' dirty objects by file name.
  struct Stripe {
    StripeLock lock;  // writer-preferring (file_store_stripe_lock.h)
    // Under `lock`. Bounded by the journal generations not yet checkpointed (above: "Memory
    // is bounded by the journal").
    std::unordered_map<std::string, DirtyObject> dirty;
  };

  // The etag of the current version of the object at `loc`, "" when there is none: its dirty
  // version, else its file's header (Corruption when that is not valid). `key` is for
  // messages. REQUIRES: the key's stripe lock held.
  Result<std::string> CurrentEtag(const Location& loc, std::string_view key);

  // OK when `condition` holds for an object whose current etag is `current` ("" when there is
  // no such object), else PreconditionFailed. `key` is for messages.
  static Status CheckCondition(std::string_view current, const WriteCondition& condition,
                               std::string_view key);

  // Writes an object (header and data, no fsync) over the file `name` in subdirectory fd
  // `subdir_fd`, in place: opened or created by name, truncated when it was longer; its mtime
  // set to `mtime_micros` unless that is 0. `key` is for messages. REQUIRES: the key's stripe
  // lock held exclusively, and a committed journal record of this version (file_store.h: why
  // a torn overwrite is then harmless).
  static Status WriteInPlace(int subdir_fd, const std::string& name, std::string_view etag,
                             std::string_view data, std::string_view key, int64_t mtime_micros = 0);

  // Replays the journal generations left by a previous process that did not close the store
  // (file_store_open.cc); sets `*next_generation` to the number the new journal starts at.
  Status Recover(int journal_fd, uint64_t* next_generation);

  // OK, or the IOError every call gets once the store has failed (see Fail).
  Status CheckNotFailed();
  // Makes the store fail every later call: `what` was committed to the journal but could not
  // be applied to the object files, so they no longer show the committed state.
  void Fail(const Status& what);

  // Reads the names of every subdirectory and returns, ascending, the smallest `capacity`
  // names that start with `prefix` and are greater than `after` (all when empty); `*complete`
  // tells whether those are all of them. file_store_list.cc.
  Result<std::vector<std::string>> ScanNames(std::string_view prefix, std::string_view after,
                                             size_t capacity, bool* complete);

  const std::string dir_;
  const Options options_;
  const UniqueFd dir_fd_;
  const UniqueFd lock_fd_;
  const UniqueFd objects_fd_;

  std::mutex subdir_mu_;  // serializes creating/opening a subdirectory fd
  std::array<std::atomic<int>, file_names::kFanout> subdir_fds_;
  std::array<Stripe, kStripes> stripes_;
  std::atomic<uint64_t> dirty_objects_{0};  // in all stripes' `dirty`
  std::atomic<uint64_t> dirty_bytes_{0};    // their data sizes
  std::atomic<uint64_t> written_back_{0};   // Stats::objects_written_back
  std::unique_ptr<FileJournal> journal_;    // set by Open before the store is returned
  // Writes dirty objects early when they pass Options::max_dirty_bytes; set by Open, stopped
  // first by the destructor.
  std::unique_ptr<BackgroundPass> early_write_back_;
  std::mutex list_scan_mu_;  // one directory scan at a time (ListWindow's rule)
  ListWindow window_;
  std::atomic<bool> failed_{false};
  std::mutex failure_mu_;
  Status failure_;  // under failure_mu_; set once
};

}  // namespace ds::store
