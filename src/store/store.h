// Store: where session objects live durably. One interface, several implementations (memory,
// file, s3), all with the compare-and-swap contract of S3 conditional writes (SPEC §5):
//
//   - Get returns the bytes and an etag, or NotFound. With `if_none_match` set to the etag the
//     caller already holds, it returns NotModified when the object is unchanged (a cheap
//     revalidation of a cached copy).
//   - Put is unconditional, create-only (fails if the object exists) or if-match (fails if the
//     current etag differs or the object is gone). A failed condition is PreconditionFailed,
//     never confused with a transient failure.
//   - An etag is never reused for different contents of the same key, also after a delete and a
//     re-create. Treat etags as opaque strings.
//   - Delete removes the object; deleting a missing object succeeds (as in S3).
//   - List returns keys with their etags under a prefix, in key order, a page at a time.
//
// Error codes callers must distinguish: NotFound, NotModified, PreconditionFailed, and the
// transient ones (Unavailable, Timeout, OutcomeUnknown — see Status::IsTransient). A store
// never retries a conditional write whose outcome it cannot tell; it reports OutcomeUnknown and
// the caller re-reads to find out (session/write_path.h).
//
// Thread safety: every method may be called concurrently from any number of threads. Methods
// block until the operation completes; the daemon calls them from its store thread pool, never
// from a shard's event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ds::store {

struct Object {
  std::string data;
  std::string etag;
};

struct WriteCondition {
  enum class Kind { kNone, kCreateOnly, kIfMatch };
  Kind kind = Kind::kNone;
  std::string etag;  // kIfMatch only

  static WriteCondition None() { return {}; }
  static WriteCondition CreateOnly() { return {Kind::kCreateOnly, {}}; }
  static WriteCondition IfMatch(std::string_view etag) {
    return {Kind::kIfMatch, std::string(etag)};
  }
};

// One write of a PutBatch.
struct PutRequest {
  std::string_view key;
  std::string_view data;
  WriteCondition condition;
};

struct ListEntry {
  std::string key;
  std::string etag;
  uint64_t size = 0;
  // When the object was last written, in microseconds since the Unix epoch (S3's
  // LastModified, a file's mtime); 0 when the store cannot tell. The TTL sweep uses it to
  // skip objects that were written recently without reading them.
  int64_t last_modified_micros = 0;
};

struct ListPage {
  std::vector<ListEntry> entries;
  // Empty when this is the last page; otherwise pass it as `continuation` to get the next.
  std::string continuation;
};

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  virtual Result<Object> Get(std::string_view key, std::string_view if_none_match = {}) = 0;

  // Returns the etag of the stored object.
  virtual Result<std::string> Put(std::string_view key, std::string_view data,
                                  const WriteCondition& condition) = 0;

  // Put, for a caller that has no use for `data` once the write has succeeded. A store that
  // keeps objects in memory takes the buffer instead of copying the bytes into its own, and
  // may leave another buffer in `data` (its old one): a write of a few hundred bytes then costs
  // no copy. (The old buffer is cold, and the allocator hands it to the caller's next encoding,
  // so its cache misses move there rather than go away.) When the result is not OK,
  // `data` is unchanged (the caller may need the bytes: to retry, or to recognise its own
  // write after a lost reply). By default, Put.
  virtual Result<std::string> PutTakingBuffer(std::string_view key, std::string& data,
                                              const WriteCondition& condition) {
    return Put(key, data, condition);
  }

  virtual Status Delete(std::string_view key) = 0;

  // A hint that the objects named by `keys` are about to be written, one Put after another: a
  // store in process memory may start loading what those writes will touch, so that their
  // cache misses overlap instead of coming one write at a time (common/prefetch.h). It changes
  // nothing; by default it does nothing.
  virtual void PrefetchForWrites(std::span<const std::string_view> keys) { (void)keys; }

  // Several Puts of distinct keys at once: result i is what Put(puts[i]) would have returned.
  // Each write is durable when the call returns, as with Put. A store that can make many
  // writes durable together (the file store: one journal commit for the whole batch)
  // overrides this and PrefersBatchedWrites; by default the writes are made one by one.
  virtual std::vector<Result<std::string>> PutBatch(const std::vector<PutRequest>& puts) {
    std::vector<Result<std::string>> results;
    results.reserve(puts.size());
    for (const PutRequest& put : puts) results.push_back(Put(put.key, put.data, put.condition));
    return results;
  }
  // True when PutBatch is cheaper than the same Puts made concurrently: the daemon then hands
  // each shard's writes to the store in batches (session/write_path.h).
  virtual bool PrefersBatchedWrites() const { return false; }

  // At most `max_keys` entries (> 0) with keys starting with `prefix`, in byte order.
  virtual Result<ListPage> List(std::string_view prefix, std::string_view continuation,
                                size_t max_keys) = 0;

  // A short description for logs and INFO, e.g. "memory" or "file:/var/lib/ds".
  virtual std::string Describe() const = 0;

  // True when other processes may write the same objects, as several daemons sharing one bucket
  // and prefix do. A session held in memory may then be older than the stored one, so the
  // session actor revalidates it (a conditional Get) before answering a read, and keeps
  // deletion records in the object instead of deleting it (session/session_actor.h). False
  // for stores no one else can write: the file store holds an exclusive lock on its directory,
  // and the memory store lives inside one process.
  virtual bool MayHaveOtherWriters() const { return false; }

  // True when the objects live in this process's memory, so that no call ever waits for I/O
  // (the memory store). The daemon then runs store calls on its event loops instead of
  // handing them to store threads (session/store_executor.h).
  virtual bool IsInProcess() const { return false; }

  // The implementation's own counters (requests sent, retries, throttling, ...) as name ->
  // value, for INFO's store section; names are snake_case and stable. None by default.
  virtual std::vector<std::pair<std::string, uint64_t>> Metrics() const { return {}; }
};

}  // namespace ds::store
