// FileStore: the Store on a local directory (`--store file:PATH`), the daemon's embedded
// default. One file per object, written atomically and durably, with the CAS contract of
// store.h.
//
// Directory layout
//   PATH/FORMAT          "durable-stash file store" and the format version; written once, when
//                        the store is created. Open refuses a non-empty directory without it,
//                        so a mistyped path never turns a user's directory into a store.
//   PATH/LOCK            flock(LOCK_EX) of the running store; holds its pid while it runs.
//   PATH/objects/XX/NAME one file per object. XX is the fan-out subdirectory ("00".."ff", from a
//                        hash of the key) and NAME the key, escaped so that names sort like
//                        keys (file_names.h): `sessions/ab12` is `sessions%2Fab12`. A million
//                        objects make ~4,000 files per subdirectory.
//   PATH/tmp/            temporary files of writes in flight; emptied by Open.
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
// Atomic, durable writes (Put): the header and data go to a new file in PATH/tmp, which is
// fdatasynced; then, under the key's stripe lock, the write condition is checked and the file
// renamed over PATH/objects/XX/NAME; then the subdirectory is fsynced; then the lock is
// released. rename(2) is atomic (also between two directories of one file system), so a crash
// at any instant leaves the old object or the new one, never a torn one. A crash before the
// rename leaves a file in PATH/tmp, which Get and List never look at and Open deletes. Keeping
// temporary files in one directory of their own (rather than beside their targets) is what
// makes that clean-up cheap: PATH/tmp only ever holds the writes that were in flight. Delete
// is unlink + fsync of the subdirectory.
//
// Conditions and locking: only one process can use a directory (the LOCK), so in-process
// locks suffice. Each key maps to one of kStripes shared mutexes. Put and Delete hold their
// key's stripe exclusively from the condition check until the subdirectory fsync has
// finished; Get and List open object files under the stripe held shared. So conditional
// writes of one key are linearizable, and a reader never sees an object that is not yet
// durable (one that a crash could still take back). A condition that already fails is
// detected before any file is written.
//
// Many writers at once: nothing is serialized across keys in user space. Each Put fdatasyncs
// its own temporary file and fsyncs its subdirectory; concurrent fsyncs are merged by the
// file system's journal (ext4 and XFS commit, in one go, everything that arrived while the
// previous commit ran), and subdirectory fsyncs additionally go through a DirSyncer
// (dir_syncer.h), a leader/follower group commit that makes one fsync cover every rename that
// arrived in that directory during the previous one. So durable throughput grows with the
// number of concurrent writers. Measured with file_store_bench (ext4 on a 2-core VM, 2 KiB
// values): ~130 Puts/s with 1 writer, ~1,000 with 2, ~1,500-1,750 with 8 to 64. With keys
// hashed over 256 directories, concurrent writers seldom meet in one directory, so there the
// journal does the merging and the DirSyncer rarely batches; it pays off when writes
// concentrate in a directory.
//
// Open does no work proportional to the number of objects: it takes the lock, checks FORMAT,
// and empties PATH/tmp; fan-out subdirectories are opened lazily. If the previous process did
// not close the store cleanly (its pid is still in LOCK), Open first calls syncfs(2), so that
// objects a crashed process renamed into place but had not yet fsynced become durable before
// they are served.
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
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/dir_syncer.h"
#include "store/file_names.h"
#include "store/list_window.h"
#include "store/posix_io.h"
#include "store/store.h"

namespace ds::store {

class FileStore final : public Store {
 public:
  struct Options {
    // Group-commit subdirectory fsyncs (DirSyncer). Off: every write fsyncs its subdirectory
    // itself; only useful to measure what the group commit buys.
    bool group_commit = true;
    // Names one List scan keeps for the following pages (list_window.h). Tests make it tiny
    // to exercise rescans.
    size_t list_window = ListWindow::kCapacity;
  };

  struct Stats {
    uint64_t dir_syncs = 0;   // writes that needed a subdirectory fsync
    uint64_t dir_fsyncs = 0;  // subdirectory fsync calls made for them
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
  Result<ListPage> List(std::string_view prefix, std::string_view continuation,
                        size_t max_keys) override;
  std::string Describe() const override { return "file:" + dir_; }

  Stats stats() const;

 private:
  struct PassKey {};

 public:
  // Use Open(). (Public only so that Open can use std::make_unique.)
  FileStore(PassKey, std::string dir, const Options& options, UniqueFd dir_fd, UniqueFd lock_fd,
            UniqueFd objects_fd, UniqueFd tmp_fd);

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

  // The etag in the header of the object named `name` in subdirectory fd `subdir_fd`, or an
  // empty string when there is no such object (subdir_fd < 0 included). `key` is for messages.
  Result<std::string> CurrentEtag(int subdir_fd, const std::string& name, std::string_view key);

  // OK when `condition` holds for the current object at `loc`, else PreconditionFailed.
  Status CheckCondition(const Location& loc, int subdir_fd, const WriteCondition& condition,
                        std::string_view key);

  // Makes the rename/unlink just done in subdirectory `index` durable.
  Status SyncSubdir(size_t index, int fd);

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
  const UniqueFd tmp_fd_;

  std::mutex subdir_mu_;  // serializes creating/opening a subdirectory fd
  std::array<std::atomic<int>, file_names::kFanout> subdir_fds_;
  std::array<std::shared_mutex, kStripes> stripes_;
  DirSyncer syncer_;
  std::mutex list_scan_mu_;  // one directory scan at a time (ListWindow's rule)
  ListWindow window_;
  std::atomic<uint64_t> next_temp_{0};
  std::atomic<uint64_t> unbatched_fsyncs_{0};
};

}  // namespace ds::store
