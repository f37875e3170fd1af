// MemoryStore: a Store held in process memory, exactly faithful to the CAS contract.
//
// Used by tests and by `--store memory:` for quick development (nothing survives a restart).
// Tests can inject the failures a real object store produces (SPEC §5) with InjectFault: each
// queued fault applies to the next operation of its kind, in order, one fault per operation.
//
// Fault semantics, per operation kind:
//   kTransient            any op: Unavailable, nothing changes.
//   kSlow                 any op: sleeps `delay` WITHOUT holding the store's mutex (other
//                         operations proceed meanwhile), then runs normally.
//   kPreconditionFailed   conditional Puts only (CreateOnly / IfMatch): PreconditionFailed,
//                         nothing changes. The fault waits at the head of the Put queue until a
//                         conditional Put arrives; unconditional Puts run normally meanwhile (a
//                         real store never answers 412 to an unconditional PUT). Injecting it
//                         for Get, Delete or List is a programming error (asserted).
//   kCommitThenLoseReply  Put / Delete: the operation runs normally (it may succeed or fail its
//                         condition), then OutcomeUnknown is returned instead of its result, as
//                         if the reply was lost. Get / List: OutcomeUnknown, nothing changes.
//
// Etags are "g<n>" with n from one counter per store, so an etag is never reused for any key,
// also after a delete and a re-create.
#pragma once

#include <array>
#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/hash.h"
#include "store/store.h"

namespace ds::store {

enum class Fault {
  kTransient,            // fail with Unavailable, change nothing
  kSlow,                 // wait `delay`, then behave normally
  kPreconditionFailed,   // fail a conditional Put with PreconditionFailed, change nothing
  kCommitThenLoseReply,  // apply the Put, then report OutcomeUnknown as if the reply was lost
};

enum class Operation { kGet, kPut, kDelete, kList };
inline constexpr size_t kOperationKinds = 4;

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;

  Result<Object> Get(std::string_view key, std::string_view if_none_match = {}) override;
  Result<std::string> Put(std::string_view key, std::string_view data,
                          const WriteCondition& condition) override;
  // Keeps `data`'s buffer as the object's, and leaves the old object's buffer in `data`.
  Result<std::string> PutTakingBuffer(std::string_view key, std::string& data,
                                      const WriteCondition& condition) override;
  Status Delete(std::string_view key) override;
  void PrefetchForWrites(std::span<const std::string_view> keys) override;
  Result<ListPage> List(std::string_view prefix, std::string_view continuation,
                        size_t max_keys) override;
  std::string Describe() const override { return "memory"; }
  // True, although kSlow faults do sleep: tests that inject them run the store on a pool.
  bool IsInProcess() const override { return true; }

  // --- Test hooks -------------------------------------------------------------------------
  // Queues a fault for the next operation of kind `op`.
  void InjectFault(Operation op, Fault fault,
                   std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // Number of operations of kind `op` started so far (faulted ones included). An operation is
  // counted when it begins, so a test can wait for a slow operation to be in flight.
  uint64_t OperationCount(Operation op) const;
  // Number of objects currently stored.
  size_t Size() const;

 private:
  struct Entry {
    std::string data;
    uint64_t generation;  // its etag is EtagOf(generation)
  };
  struct QueuedFault {
    Fault fault;
    std::chrono::milliseconds delay;
  };

  static std::string EtagOf(uint64_t generation);
  // EtagOf(generation) == etag, without building the string.
  static bool EtagMatches(uint64_t generation, std::string_view etag);

  // Counts the operation and pops the fault that applies to it, if any (see the table above;
  // `conditional_put` tells whether a queued kPreconditionFailed applies). REQUIRES: mu_ held.
  bool BeginOperation(Operation op, bool conditional_put, QueuedFault* out);
  // Takes the next queued fault for `op` and applies what happens before the operation: an
  // error to return (transient, precondition), or a pause with the mutex released (slow).
  // `*lose_reply` is set when the operation must run and then report OutcomeUnknown.
  // REQUIRES: `lock` holds mu_.
  Status ApplyFault(std::unique_lock<std::mutex>& lock, Operation op, bool conditional_put,
                    bool* lose_reply);
  // Put and PutTakingBuffer: applies the fault queued for the Put, if any, then the Put.
  // With `take`, the object's bytes are *take's, whose buffer is taken once nothing can fail.
  Result<std::string> PutWithFaults(std::string_view key, std::string_view data,
                                    const WriteCondition& condition, std::string* take);
  // Applies a Put without faults (see PutWithFaults for `take`). REQUIRES: mu_ held.
  Result<std::string> PutLocked(std::string_view key, std::string_view data,
                                const WriteCondition& condition, std::string* take);

  // A key held in the map's slot itself, up to kInlineKeyBytes (a session's object name is
  // the prefix and a 43-byte key): comparing it reads the slot the lookup has loaded anyway
  // rather than a separate allocation, which with many sessions would be one more cache miss.
  static constexpr size_t kInlineKeyBytes = 64;
  using Key = boost::container::small_vector<char, kInlineKeyBytes>;
  static std::string_view View(const Key& key) { return {key.data(), key.size()}; }
  static std::string_view View(std::string_view key) { return key; }
  // Transparent, so that lookups take the caller's string_view without building a Key; Hash64
  // (common/hash.h), whose bits the map may use as they are.
  struct KeyHash {
    using is_transparent = void;
    using is_avalanching = void;
    template <typename K>
    size_t operator()(const K& key) const {
      return Hash64(View(key));
    }
    size_t operator()(HashProbe probe) const { return probe.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
    bool operator()(HashProbe /*probe*/, const Key& /*candidate*/) const { return true; }
  };

  mutable std::mutex mu_;
  // Every Get and Put looks a key up, and with many sessions each memory access of a lookup is
  // a cache miss: the objects live in an open-addressing hash map (a group of hash tags, then
  // the slot with the key and the entry), not in a node-based one (a bucket, the node before
  // the wanted one, the node, the key). List needs the keys in order, so they are also kept in
  // an ordered set of their own, which changes only when a key is created or deleted, not when
  // an object is overwritten, which is what nearly every Put does. (It holds copies: the map's
  // slots move when it grows, so views into them would not stay valid.)
  boost::unordered_flat_map<Key, Entry, KeyHash, KeyEqual> objects_;
  std::set<std::string, std::less<>> ordered_keys_;
  // Indexed by Operation: looked at on every operation, so arrays rather than maps.
  std::array<std::deque<QueuedFault>, kOperationKinds> faults_;
  std::array<uint64_t, kOperationKinds> counts_{};
  uint64_t next_generation_ = 1;  // etags are "g<generation>", never reused
};

}  // namespace ds::store
