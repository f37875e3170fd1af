// SessionState: the merge rules of SPEC §3 — stash, drop, reset, touch, recover and the
// limits checked at stash time. The stored envelope (Encode / Decode) lives in envelope.cc.
//
// Invariants kept by Apply():
//   - no empty slices: a slice whose last key goes (drop, reset, a vsn change to nothing) is
//     removed, so "drop everything" leaves no trace in the stored object and empty() means
//     "nothing worth storing";
//   - a slice holds one shape: its keys were all written at its vsn.
//
// Ordering: every rule compares the mutation's time `at` with stored times and lets the
// mutation win ties (>=), so when the same instant occurs twice the later-applied change wins.
// Locally the actor hands out strictly increasing times, so ties only happen when rebasing.
//
// Deletions (kDrop, kReset) leave records: key -> time of the drop, view -> time of the reset.
// A key's deletion time is the later of the two, and a stash of the key older than it loses,
// exactly as against a newer stored value. So when another writer commits "drop x at t=10" and
// this writer then replays its own older "stash x at t=5" onto that state, x stays dropped.
// The rules:
//   - every drop records each key it names, and every reset its view, also when there is
//     nothing to remove here: another daemon may hold an older write of that key that it has
//     acknowledged but not stored yet, and the deletion must win over it when it arrives
//     (last-write-wins does not depend on what this daemon had seen). An existing record is
//     moved forward, never back;
//   - a value written after a record replaces it, and a reset replaces the key records it
//     covers, so a key never has both a value and a record;
//   - records are forgotten after kDeletionRecordHorizon (PruneDeletionRecords, called by the
//     actor before each write): past it, a replayed write older than a forgotten deletion
//     brings the key back. session_state.h says why the horizon is long enough.
#include "session/session_state.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "codec/utf8.h"
#include "common/name_compare.h"

namespace ds::session {
namespace {

// The longest prefix of a name shown in an error message, so a 10 KB key does not become a
// 10 KB error reply.
constexpr size_t kMaxNameInMessage = 64;

// Renders a view or key name for an error message: quoted, with control bytes, quotes and
// backslashes escaped (names may hold any bytes, and RESP error lines must not contain CR or
// LF), cut after kMaxNameInMessage bytes at a UTF-8 character boundary. With
// `escape_non_ascii`, bytes >= 0x80 are escaped too (for names that are not valid UTF-8).
std::string QuoteName(std::string_view name, bool escape_non_ascii = false) {
  size_t cut = name.size();
  if (cut > kMaxNameInMessage) {
    cut = kMaxNameInMessage;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) cut--;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < cut; i++) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F || (escape_non_ascii && c >= 0x80)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (cut < name.size()) out += "... (" + std::to_string(name.size()) + " bytes)";
  return out;
}

// Bytes of one slice counted against max_session_bytes: its name, keys and values.
size_t SliceDataBytes(std::string_view view, const Slice& slice) {
  size_t bytes = view.size();
  for (const auto& [key, value] : slice.data) bytes += key.size() + value.json.size();
  return bytes;
}

std::string Size(size_t n) { return std::to_string(n); }

// Calls visit(i) once for each distinct key among key_at(0) .. key_at(n - 1): at the index of
// its first occurrence, or of its last with `last_wins` (then from the end backwards). A stash
// or recover names a handful of keys, so up to kMaxPairwiseKeys they are compared pairwise,
// which allocates nothing; beyond that a set bounds the work.
constexpr size_t kMaxPairwiseKeys = 16;

template <typename KeyAt, typename Visit>
void ForEachDistinctKey(size_t n, KeyAt key_at, bool last_wins, Visit visit) {
  std::set<std::string_view> seen;
  const auto index = [&](size_t step) { return last_wins ? n - 1 - step : step; };
  for (size_t step = 0; step < n; ++step) {
    const std::string_view key = key_at(index(step));
    bool repeated = false;
    if (n > kMaxPairwiseKeys) {
      repeated = !seen.insert(key).second;
    } else {
      for (size_t earlier = 0; earlier < step && !repeated; ++earlier) {
        repeated = NameEqual(key_at(index(earlier)), key);
      }
    }
    if (!repeated) visit(index(step));
  }
}

}  // namespace

size_t StringHeapBytes(const std::string& s) {
  static const size_t kInlineCapacity = std::string().capacity();
  return s.capacity() > kInlineCapacity ? s.capacity() + 1 + 16 : 0;
}

SessionState::SessionState(const SessionState& other)
    : views_(other.views_),
      last_seen_at_(other.last_seen_at_),
      records_(other.records_ ? std::make_unique<DeletionRecords>(*other.records_) : nullptr) {}

SessionState& SessionState::operator=(const SessionState& other) {
  if (this != &other) *this = SessionState(other);
  return *this;
}

bool operator==(const SessionState& a, const SessionState& b) {
  if (a.views_ != b.views_ || a.last_seen_at_ != b.last_seen_at_) return false;
  if (!a.records_ || !b.records_) return a.records_ == b.records_;
  return *a.records_ == *b.records_;
}

// ---------------------------------------------------------------------------------------------
// Limits

// Checks the request itself (names, value sizes), then the slice and session as they would be
// after Apply(). The after-merge checks mirror Apply() exactly: duplicate keys in one stash
// count once (the last one wins), stored keys newer than the stash keep their size, and a
// stash of another vsn replaces the slice's size or, if it is older, changes nothing.
//
// A count or size already over a limit (the operator lowered it) does not lock the session:
// a stash fails only when it would end over the limit AND bigger than before, so updating
// what is there, or shrinking it, keeps working.
Status SessionState::CheckStash(const Mutation& m, const Limits& limits) const {
  if (m.kind != Mutation::Kind::kStash) {
    return Status::InvalidArgument("CheckStash called with a mutation that is not a stash");
  }
  if (m.view.empty()) {
    return Status::InvalidArgument(
        "view name is empty; pass the LiveView module name, e.g. Elixir.MyAppWeb.PageLive");
  }
  // Names must be UTF-8 by the codec's own definition: the envelope stores them as JSON
  // strings, and one name ParseJson rejects would make the whole stored session unreadable.
  if (!codec::IsValidUtf8Text(m.view)) {
    return Status::InvalidArgument("view name " + QuoteName(m.view, true) +
                                   " is not valid UTF-8; view names must be UTF-8 text");
  }
  if (m.view.size() > limits.max_view_bytes) {
    return Status::Limit("view name " + QuoteName(m.view) + " is " + Size(m.view.size()) +
                         " bytes, over the limit of " + Size(limits.max_view_bytes) +
                         " (max_view_bytes); raise --max-view-bytes or use a shorter name");
  }

  for (const auto& [key, json] : m.entries) {
    if (key.empty()) {
      return Status::InvalidArgument("empty key in stash to view " + QuoteName(m.view) +
                                     "; every stashed value needs a non-empty key");
    }
    if (!codec::IsValidUtf8Text(key)) {
      return Status::InvalidArgument("key " + QuoteName(key, true) + " in view " +
                                     QuoteName(m.view) +
                                     " is not valid UTF-8; keys must be UTF-8 text");
    }
    if (key.size() > limits.max_key_bytes) {
      return Status::Limit("key " + QuoteName(key) + " in view " + QuoteName(m.view) + " is " +
                           Size(key.size()) + " bytes, over the limit of " +
                           Size(limits.max_key_bytes) +
                           " (max_key_bytes); raise --max-key-bytes or use a shorter key");
    }
    if (json.size() > limits.max_value_bytes) {
      return Status::Limit("value of key " + QuoteName(key) + " in view " + QuoteName(m.view) +
                           " is " + Size(json.size()) + " bytes as JSON, over the limit of " +
                           Size(limits.max_value_bytes) +
                           " (max_value_bytes); raise --max-value-bytes or stash less");
    }
  }
  // Last occurrence of a key wins, as in Apply().
  auto for_each_incoming = [&](auto&& fn) {
    const auto& entries = m.entries;
    ForEachDistinctKey(
        entries.size(), [&](size_t i) -> std::string_view { return entries[i].first; },
        /*last_wins=*/true, [&](size_t i) { fn(entries[i].first, entries[i].second); });
  };

  // The target slice before and after.
  auto it = views_.find(m.view);
  const Slice* slice = it == views_.end() ? nullptr : &it->second;
  size_t keys_before = slice ? slice->data.size() : 0;
  size_t view_bytes_before = slice ? SliceDataBytes(m.view, *slice) : 0;
  size_t keys_after = 0;
  size_t view_bytes_after = 0;
  if (slice == nullptr || slice->vsn != m.vsn) {
    if (slice != nullptr && m.at < slice->vsn_at) return Status::OK();  // discarded by Apply
    // A new slice, or the old shape replaced wholesale (without keys deleted after `m.at`).
    view_bytes_after = m.view.size();
    for_each_incoming([&](std::string_view key, std::string_view json) {
      if (m.at < DeletedAt(m.view, key)) return;
      keys_after++;
      view_bytes_after += key.size() + json.size();
    });
  } else {
    keys_after = keys_before;
    view_bytes_after = view_bytes_before;
    for_each_incoming([&](std::string_view key, std::string_view json) {
      if (m.at < DeletedAt(m.view, key)) return;  // a newer deletion wins, as in Apply
      auto stored = slice->data.find(key);
      if (stored == slice->data.end()) {
        keys_after++;
        view_bytes_after += key.size() + json.size();
      } else if (m.at >= stored->second.written_at) {
        view_bytes_after = view_bytes_after - stored->second.json.size() + json.size();
      }
    });
  }
  if (keys_after == 0) view_bytes_after = 0;  // an empty slice is removed

  if (keys_after > limits.max_keys_per_view && keys_after > keys_before) {
    return Status::Limit("stash to view " + QuoteName(m.view) + " would make it hold " +
                         Size(keys_after) + " keys, over the limit of " +
                         Size(limits.max_keys_per_view) +
                         " (max_keys_per_view); raise --max-keys-per-view or stash fewer keys");
  }

  size_t views_before = views_.size();
  size_t views_after = views_before;
  if (slice == nullptr && keys_after > 0) views_after++;
  if (slice != nullptr && keys_after == 0) views_after--;
  if (views_after > limits.max_views && views_after > views_before) {
    return Status::Limit("stash to view " + QuoteName(m.view) + " would make the session hold " +
                         Size(views_after) + " views, over the limit of " + Size(limits.max_views) +
                         " (max_views); raise --max-views or reset views that are not used");
  }

  size_t bytes_before = DataBytes();
  size_t bytes_after = bytes_before - view_bytes_before + view_bytes_after;
  if (bytes_after > limits.max_session_bytes && bytes_after > bytes_before) {
    return Status::Limit("stash to view " + QuoteName(m.view) + " would make the session " +
                         Size(bytes_after) +
                         " bytes (view names, keys and JSON values), over the limit of " +
                         Size(limits.max_session_bytes) +
                         " (max_session_bytes); raise --max-session-bytes or stash less");
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Changes

ApplyOutcome SessionState::Apply(const Mutation& m) {
  ApplyOutcome outcome;
  if (m.at > last_seen_at_) {
    last_seen_at_ = m.at;
    outcome.changed = true;
  }

  auto it = views_.find(m.view);
  switch (m.kind) {
    case Mutation::Kind::kTouch:
      break;

    case Mutation::Kind::kStash: {
      // A stash of another shape: the adapter sends those only with the complete, migrated
      // key set, so it replaces the slice — unless the stored shape was set later, in which
      // case this stash belongs to an older generation of the view and is dropped whole.
      // (A slice never mixes shapes, so stored keys written after `m.at` at the old vsn go
      // with it.) A stash with no entries therefore never creates a slice, and a vsn change
      // to no entries removes it. Keys deleted after `m.at` stay deleted in the new shape too.
      if (it == views_.end() || it->second.vsn != m.vsn) {
        if (it != views_.end() && m.at < it->second.vsn_at) break;
        Slice fresh;
        fresh.data.reserve(m.entries.size());
        fresh.vsn = m.vsn;
        fresh.vsn_at = m.at;
        for (const auto& [key, json] : m.entries) {
          if (m.at < DeletedAt(m.view, key)) continue;
          fresh.data.insert_or_assign(key, StoredValue{json, m.at});
        }
        for (const auto& [key, value] : fresh.data) {
          if (ForgetDropped(m.view, key)) outcome.changed = true;
        }
        if (fresh.data.empty()) {
          if (it != views_.end()) {
            views_.erase(it);
            outcome.changed = true;
          }
        } else if (it == views_.end()) {
          views_.emplace(m.view, std::move(fresh));
          outcome.changed = true;
        } else {
          it->second = std::move(fresh);
          outcome.changed = true;
        }
        break;
      }
      // Same shape: per-key last-write-wins, against stored values and deletions alike.
      Slice& slice = it->second;
      for (const auto& [key, json] : m.entries) {
        if (m.at < DeletedAt(m.view, key)) continue;  // deleted after this write
        auto [pos, inserted] = slice.data.try_emplace(key);
        StoredValue& stored = pos->second;
        if (!inserted && m.at < stored.written_at) continue;  // a newer write already won
        // The times first: a write here is newer than every stored one, so they differ and
        // the old value, often no longer in the CPU's caches, is not read just to compare.
        if (inserted || stored.written_at != m.at || stored.json != json) outcome.changed = true;
        stored.json = json;
        stored.written_at = m.at;
        if (ForgetDropped(m.view, key)) outcome.changed = true;
      }
      break;
    }

    case Mutation::Kind::kDrop: {
      const Micros reset_at = ResetAt(m.view);
      for (const std::string& key : m.keys) {
        if (it != views_.end()) {
          auto& data = it->second.data;
          auto pos = data.find(key);
          if (pos != data.end()) {
            if (pos->second.written_at > m.at) continue;  // written after this drop
            data.erase(pos);
            outcome.removed++;
            outcome.changed = true;
          }
        }
        // Record the deletion (see the file comment), unless the view's reset covers it.
        if (m.at > reset_at) {
          auto [pos, inserted] = records().dropped[m.view].try_emplace(key, m.at);
          if (inserted || pos->second < m.at) {
            pos->second = m.at;
            outcome.changed = true;
          }
        }
      }
      if (it != views_.end() && it->second.data.empty()) {
        views_.erase(it);
        outcome.changed = true;
      }
      break;
    }

    case Mutation::Kind::kReset: {
      // Removes the slice as of `m.at`: a key another writer wrote later survives it (this
      // happens only when rebasing). `removed` reports that there was a slice to reset, which is
      // what DS.RESET answers.
      const Micros reset_at = ResetAt(m.view);
      if (it != views_.end()) {
        outcome.removed = 1;
        size_t erased = it->second.data.erase_if(
            [&](const auto& entry) { return entry.second.written_at <= m.at; });
        if (erased > 0) outcome.changed = true;
        if (it->second.data.empty()) {
          views_.erase(it);
          outcome.changed = true;
        }
      }
      if (m.at > reset_at) {
        DeletionRecords& records = this->records();
        records.resets[m.view] = m.at;
        outcome.changed = true;
        // The view record now covers the key records up to `m.at`.
        auto dropped = records.dropped.find(m.view);
        if (dropped != records.dropped.end()) {
          std::erase_if(dropped->second, [&](const auto& entry) { return entry.second <= m.at; });
          if (dropped->second.empty()) records.dropped.erase(dropped);
        }
      }
      break;
    }
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Deletion records

const SessionState::DroppedByView& SessionState::dropped() const {
  static const DroppedByView kNone;
  return records_ ? records_->dropped : kNone;
}

const SessionState::ResetByView& SessionState::resets() const {
  static const ResetByView kNone;
  return records_ ? records_->resets : kNone;
}

SessionState::DeletionRecords& SessionState::records() {
  if (!records_) records_ = std::make_unique<DeletionRecords>();
  return *records_;
}

void SessionState::FreeEmptyRecords() {
  if (records_ && records_->dropped.empty() && records_->resets.empty()) records_.reset();
}

Micros SessionState::ResetAt(std::string_view view) const {
  if (!records_) return kNeverDeleted;
  auto it = records_->resets.find(view);
  return it == records_->resets.end() ? kNeverDeleted : it->second;
}

Micros SessionState::RecordedDeletedAt(std::string_view view, std::string_view key) const {
  Micros at = ResetAt(view);
  auto v = records_->dropped.find(view);
  if (v != records_->dropped.end()) {
    auto k = v->second.find(key);
    if (k != v->second.end()) at = std::max(at, k->second);
  }
  return at;
}

bool SessionState::ForgetRecordedDrop(std::string_view view, std::string_view key) {
  auto& dropped = records_->dropped;
  auto v = dropped.find(view);
  if (v == dropped.end()) return false;
  auto k = v->second.find(key);
  if (k == v->second.end()) return false;
  v->second.erase(k);
  if (v->second.empty()) dropped.erase(v);
  FreeEmptyRecords();
  return true;
}

size_t SessionState::deletion_record_count() const {
  if (!records_) return 0;
  size_t n = records_->resets.size();
  for (const auto& [view, keys] : records_->dropped) n += keys.size();
  return n;
}

size_t SessionState::PruneDeletionRecords(Micros before, size_t max_records) {
  if (!records_) return 0;
  auto& dropped = records_->dropped;
  size_t pruned = std::erase_if(records_->resets, [&](const auto& r) { return r.second < before; });
  for (auto v = dropped.begin(); v != dropped.end();) {
    pruned += std::erase_if(v->second, [&](const auto& r) { return r.second < before; });
    v = v->second.empty() ? dropped.erase(v) : std::next(v);
  }
  FreeEmptyRecords();
  size_t count = deletion_record_count();
  if (count <= max_records) return pruned;
  // Over the cap (rare: an application that drops many distinct keys): find the time of the
  // newest record that must go, and forget everything up to it.
  std::vector<Micros> times;
  times.reserve(count);
  for (const auto& [view, at] : records_->resets) times.push_back(at);
  for (const auto& [view, keys] : records_->dropped) {
    for (const auto& [key, at] : keys) times.push_back(at);
  }
  auto cut = times.begin() + static_cast<std::ptrdiff_t>(count - max_records - 1);
  std::nth_element(times.begin(), cut, times.end());
  if (*cut == std::numeric_limits<Micros>::max()) {
    ClearDeletionRecords();
    return pruned + count;
  }
  return pruned + PruneDeletionRecords(*cut + 1, std::numeric_limits<size_t>::max());
}

void SessionState::ClearDeletionRecords() { records_.reset(); }

// ---------------------------------------------------------------------------------------------
// Reads

// A key named twice in one request is answered (or cleared) once, at its first occurrence and
// with the scope given there.
RecoverReply SessionState::Recover(std::string_view view, int64_t vsn, MountKind mount,
                                   const std::vector<KeyScope>& keys, Micros now,
                                   std::optional<Mutation>* clear) const {
  clear->reset();
  RecoverReply reply;
  auto it = views_.find(view);
  if (it == views_.end()) return reply;  // kNotFound, stored_vsn 0
  const Slice& slice = it->second;
  reply.stored_vsn = slice.vsn;

  if (slice.vsn != vsn) {
    // The adapter migrates the old shape as a whole, so it gets every key, whatever the
    // scopes of the new shape say; sorted by key (map order).
    reply.outcome = RecoverReply::Outcome::kVsnMismatch;
    for (const auto& [key, value] : slice.data) reply.values.emplace_back(key, value.json);
    return reply;
  }

  // A key named twice is answered once, at its first scope.
  std::vector<std::string> to_clear;
  ForEachDistinctKey(
      keys.size(), [&](size_t i) -> std::string_view { return keys[i].key; },
      /*last_wins=*/false,
      [&](size_t i) {
        const KeyScope& ks = keys[i];
        auto pos = slice.data.find(ks.key);
        if (pos == slice.data.end()) return;
        if (ks.scope == Scope::kSession || mount == MountKind::kRejoin) {
          reply.values.emplace_back(pos->first, pos->second.json);  // the same bytes as ks.key
        } else if (mount == MountKind::kFresh) {
          to_clear.push_back(ks.key);  // a new page starts blank (SPEC §3 "Reads")
        }
        // kDead and a reconnect key: neither recovered nor cleared.
      });
  reply.outcome =
      reply.values.empty() ? RecoverReply::Outcome::kNotFound : RecoverReply::Outcome::kRecovered;
  if (!to_clear.empty()) {
    Mutation drop;
    drop.kind = Mutation::Kind::kDrop;
    drop.view = std::string(view);
    drop.vsn = slice.vsn;
    drop.keys = std::move(to_clear);
    drop.at = now;
    *clear = std::move(drop);
  }
  return reply;
}

// ---------------------------------------------------------------------------------------------
// Sizes

size_t SessionState::DataBytes() const {
  size_t bytes = 0;
  for (const auto& [view, slice] : views_) bytes += SliceDataBytes(view, slice);
  return bytes;
}

namespace {

// Heap bytes behind a SmallMap: its array with a 16-byte malloc header, if it has one.
template <typename K, typename V, size_t kInline>
size_t ArrayBytes(const SmallMap<K, V, kInline>& map) {
  using Entry = typename SmallMap<K, V, kInline>::value_type;
  return map.heap_capacity() == 0 ? 0 : map.heap_capacity() * sizeof(Entry) + 16;
}

}  // namespace

// Estimate: the object itself, the arrays of the views and of each view's keys (SmallMap),
// then for every node of the deletion records' maps a red-black tree node header (colour word
// + three pointers = 32 bytes on 64-bit) and a 16-byte malloc header plus the node's payload,
// and the heap buffers of strings (and view names) too long for their inline buffers. It slightly
// overcounts short strings' malloc rounding and ignores allocator fragmentation: good enough
// to compare sessions and cap resident memory.
size_t SessionState::ApproximateBytes() const {
  constexpr size_t kNodeOverhead = 32 + 16;
  size_t bytes = sizeof(*this) + ArrayBytes(views_);
  for (const auto& [view, slice] : views_) {
    bytes += (view.HeapBytes() > 0 ? view.HeapBytes() + 16 : 0) + ArrayBytes(slice.data);
    for (const auto& [key, value] : slice.data) {
      bytes += StringHeapBytes(key) + StringHeapBytes(value.json);
    }
  }
  if (!records_) return bytes;
  bytes += sizeof(DeletionRecords) + 16;  // their own allocation, with a malloc header
  for (const auto& [view, keys] : records_->dropped) {
    bytes += kNodeOverhead + sizeof(std::string) + sizeof(DroppedKeys) + StringHeapBytes(view);
    for (const auto& [key, at] : keys) {
      bytes += kNodeOverhead + sizeof(std::string) + sizeof(Micros) + StringHeapBytes(key);
    }
  }
  for (const auto& [view, at] : records_->resets) {
    bytes += kNodeOverhead + sizeof(std::string) + sizeof(Micros) + StringHeapBytes(view);
  }
  return bytes;
}

}  // namespace ds::session
