// MemoryStore: the CAS contract of store.h over a hash map, plus the fault hooks tests use.
//
// One mutex guards everything. That is simple and exactly linearizable; the only operation
// that waits is a kSlow fault, and it sleeps with the mutex released so that a slow request
// does not stall the requests running beside it (as with a real object store).
#include "store/memory_store.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <thread>
#include <utility>

#include "common/prefetch.h"

namespace ds::store {

namespace {

Status EmptyKeyError() {
  // S3 has no empty key; rejecting it here keeps every store's behaviour the same.
  return Status::InvalidArgument("store keys must not be empty");
}

}  // namespace

namespace {

// "g<generation>" in `text`, which has room for it; returns its length.
size_t FormatEtag(uint64_t generation, std::array<char, 24>& text) {
  text[0] = 'g';
  const auto [end, ec] = std::to_chars(text.data() + 1, text.data() + text.size(), generation);
  (void)ec;  // cannot fail: a uint64_t has at most 20 digits
  return static_cast<size_t>(end - text.data());
}

}  // namespace

std::string MemoryStore::EtagOf(uint64_t generation) {
  std::array<char, 24> text;
  return std::string(text.data(), FormatEtag(generation, text));
}

bool MemoryStore::EtagMatches(uint64_t generation, std::string_view etag) {
  // Read back rather than written out: every conditional Put asks, and parsing the few digits
  // costs less than formatting them. "g" and the digits of the number with no leading zero,
  // exactly as FormatEtag writes it (from_chars alone would also take "g007" for 7).
  if (etag.size() < 2 || etag[0] != 'g' || (etag[1] == '0' && etag.size() > 2)) return false;
  uint64_t parsed = 0;
  const char* const end = etag.data() + etag.size();
  const auto [ptr, ec] = std::from_chars(etag.data() + 1, end, parsed);
  return ec == std::errc() && ptr == end && parsed == generation;
}

bool MemoryStore::BeginOperation(Operation op, bool conditional_put, QueuedFault* out) {
  const auto i = static_cast<size_t>(op);
  ++counts_[i];
  std::deque<QueuedFault>& queued = faults_[i];
  if (queued.empty()) return false;
  const QueuedFault& head = queued.front();
  if (head.fault == Fault::kPreconditionFailed && !conditional_put) return false;
  *out = head;
  queued.pop_front();
  return true;
}

Status MemoryStore::ApplyFault(std::unique_lock<std::mutex>& lock, Operation op,
                               bool conditional_put, bool* lose_reply) {
  *lose_reply = false;
  QueuedFault fault;
  if (!BeginOperation(op, conditional_put, &fault)) return Status::OK();
  switch (fault.fault) {
    case Fault::kTransient:
      return Status::Unavailable("injected fault: transient failure");
    case Fault::kPreconditionFailed:  // only ever taken for a conditional Put
      return Status::PreconditionFailed("injected fault: precondition failed");
    case Fault::kCommitThenLoseReply:
      *lose_reply = true;
      return Status::OK();
    case Fault::kSlow:
      lock.unlock();
      std::this_thread::sleep_for(fault.delay);
      lock.lock();
      return Status::OK();
  }
  return Status::OK();
}

Result<Object> MemoryStore::Get(std::string_view key, std::string_view if_none_match) {
  std::unique_lock lock(mu_);
  bool lose_reply;
  if (Status st = ApplyFault(lock, Operation::kGet, false, &lose_reply); !st.ok()) return st;
  if (lose_reply) return Status::OutcomeUnknown("injected fault: reply of Get lost");
  if (key.empty()) return EmptyKeyError();
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(std::string(key));
  if (!if_none_match.empty() && EtagMatches(it->second.generation, if_none_match)) {
    return Status::NotModified(std::string(key));
  }
  return Object{it->second.data, EtagOf(it->second.generation)};
}

Result<std::string> MemoryStore::PutLocked(std::string_view key, std::string_view data,
                                           const WriteCondition& condition, std::string* take) {
  if (key.empty()) return EmptyKeyError();
  auto it = objects_.find(key);
  switch (condition.kind) {
    case WriteCondition::Kind::kNone:
      break;
    case WriteCondition::Kind::kCreateOnly:
      if (it != objects_.end()) {
        return Status::PreconditionFailed("object exists: " + std::string(key));
      }
      break;
    case WriteCondition::Kind::kIfMatch:
      if (it == objects_.end()) {
        return Status::PreconditionFailed("object does not exist: " + std::string(key));
      }
      if (!EtagMatches(it->second.generation, condition.etag)) {
        return Status::PreconditionFailed("etag differs: " + std::string(key));
      }
      break;
  }
  const uint64_t generation = next_generation_++;
  if (it == objects_.end()) {
    std::string bytes = take != nullptr ? std::move(*take) : std::string(data);
    objects_.emplace(Key(key.begin(), key.end()), Entry{std::move(bytes), generation});
    ordered_keys_.emplace(key);
  } else if (take != nullptr) {
    it->second.data.swap(*take);  // the old bytes go back to the caller, unread
    it->second.generation = generation;
  } else {
    it->second.data.assign(data);  // reuses the old value's buffer when it is large enough
    it->second.generation = generation;
  }
  return EtagOf(generation);
}

Result<std::string> MemoryStore::Put(std::string_view key, std::string_view data,
                                     const WriteCondition& condition) {
  return PutWithFaults(key, data, condition, nullptr);
}

Result<std::string> MemoryStore::PutTakingBuffer(std::string_view key, std::string& data,
                                                 const WriteCondition& condition) {
  return PutWithFaults(key, data, condition, &data);
}

Result<std::string> MemoryStore::PutWithFaults(std::string_view key, std::string_view data,
                                               const WriteCondition& condition, std::string* take) {
  std::unique_lock lock(mu_);
  const bool conditional = condition.kind != WriteCondition::Kind::kNone;
  bool lose_reply;
  if (Status st = ApplyFault(lock, Operation::kPut, conditional, &lose_reply); !st.ok()) {
    return st;
  }
  if (lose_reply) {
    // The store decided (applied the write or refused it); only the reply is lost. The bytes
    // are copied: a caller that sees OutcomeUnknown still has them, to compare with a Get.
    Result<std::string> applied = PutLocked(key, data, condition, nullptr);
    (void)applied;
    return Status::OutcomeUnknown("injected fault: reply of Put lost");
  }
  return PutLocked(key, data, condition, take);
}

void MemoryStore::PrefetchForWrites(std::span<const std::string_view> keys) {
  // One lock for all of them: a lock between two lookups would make the second wait for the
  // first's memory, which is what this is meant to avoid. Two rounds over each group of keys:
  // the slots, found by their hash tags alone (HashProbe: comparing the keys would wait for each
  // slot in turn), then, from the slots, the objects' bytes, up to kCopyPrefetchLines. Those
  // are not read, but a PutTakingBuffer hands their buffer back to the writer, who frees it,
  // and the allocator gives the most recently freed block to the next allocation of its size:
  // the next session encoded writes into it.
  constexpr size_t kGroup = 16;
  std::array<const Entry*, kGroup> entries;
  std::lock_guard lock(mu_);
  for (size_t start = 0; start < keys.size(); start += kGroup) {
    const size_t count = std::min(kGroup, keys.size() - start);
    for (size_t i = 0; i < count; ++i) {
      auto candidate = objects_.find(HashProbe{Hash64(keys[start + i])});
      entries[i] = candidate == objects_.end() ? nullptr : &candidate->second;
      if (entries[i] != nullptr) PrefetchBytes(&*candidate, sizeof(*candidate));
    }
    for (size_t i = 0; i < count; ++i) {
      if (entries[i] != nullptr) {
        PrefetchBytes(entries[i]->data.data(), entries[i]->data.size(), kCopyPrefetchLines);
      }
    }
  }
}

Status MemoryStore::Delete(std::string_view key) {
  std::unique_lock lock(mu_);
  bool lose_reply;
  if (Status st = ApplyFault(lock, Operation::kDelete, false, &lose_reply); !st.ok()) return st;
  if (key.empty()) return EmptyKeyError();
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    objects_.erase(it);
    ordered_keys_.erase(ordered_keys_.find(key));
  }
  if (lose_reply) return Status::OutcomeUnknown("injected fault: reply of Delete lost");
  return Status::OK();
}

Result<ListPage> MemoryStore::List(std::string_view prefix, std::string_view continuation,
                                   size_t max_keys) {
  std::unique_lock lock(mu_);
  bool lose_reply;
  if (Status st = ApplyFault(lock, Operation::kList, false, &lose_reply); !st.ok()) return st;
  if (lose_reply) return Status::OutcomeUnknown("injected fault: reply of List lost");
  if (max_keys == 0) return Status::InvalidArgument("List: max_keys must be > 0");

  // The continuation token is the last key of the previous page: resume strictly after it,
  // which also works when that key has been deleted in between.
  auto it = continuation.empty() || continuation < prefix ? ordered_keys_.lower_bound(prefix)
                                                          : ordered_keys_.upper_bound(continuation);
  ListPage page;
  for (; it != ordered_keys_.end() && it->starts_with(prefix); ++it) {
    if (page.entries.size() == max_keys) {
      // There is at least one more key: this page is not the last one.
      page.continuation = page.entries.back().key;
      break;
    }
    const Entry& entry = objects_.find(std::string_view(*it))->second;
    page.entries.push_back(
        ListEntry{std::string(*it), EtagOf(entry.generation), entry.data.size()});
  }
  return page;
}

void MemoryStore::InjectFault(Operation op, Fault fault, std::chrono::milliseconds delay) {
  assert((fault != Fault::kPreconditionFailed || op == Operation::kPut) &&
         "kPreconditionFailed applies to conditional Puts only");
  std::lock_guard lock(mu_);
  faults_[static_cast<size_t>(op)].push_back(QueuedFault{fault, delay});
}

uint64_t MemoryStore::OperationCount(Operation op) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<size_t>(op)];
}

size_t MemoryStore::Size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

}  // namespace ds::store
