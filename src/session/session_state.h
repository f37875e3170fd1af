// SessionState: the contents of one browser session and the rules that change it (SPEC §3).
//
// A session holds slices, one per LiveView module ("view"). A slice has a shape version (vsn)
// and data: key -> value, where each value is canonical JSON text (codec/json.h) together with
// the wall-clock time of its last write. This class is pure logic — no I/O, no clocks, no
// threads: the session actor (session_actor.h) owns one, feeds it Mutations in arrival order
// and persists it through the store.
//
// Why mutations carry their own write times, and Apply() compares them key by key:
// when another daemon changed the same stored session (a precondition failure on write), the
// actor reloads the stored state and re-applies its not-yet-committed mutations onto it. Each
// key then keeps whichever write is newer, so two writers never clobber each other's keys and
// writes to the same key resolve last-write-wins. Locally, times only increase, so Apply()
// always takes the new write.
//
// Deletions take part in last-write-wins too: a drop leaves a deletion record (key -> time) and
// a reset a view record (view -> time), so a write older than a deletion loses to it even when
// it reaches this state after the deletion — e.g. another daemon replaying its older stash of
// a key this daemon dropped. Records are kept for a bounded time (kDeletionRecordHorizon,
// see PruneDeletionRecords) and travel in the envelope (format 2, docs/STORAGE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "session/small_map.h"
#include "session/view_name.h"

namespace ds::session {

using Micros = int64_t;  // microseconds since the Unix epoch (wall clock)

enum class MountKind { kDead, kFresh, kRejoin };
enum class Scope { kSession, kReconnect };

// Caps checked at stash time (SPEC §3 "Limits"). A stash over any of them fails with
// Status::Limit and changes nothing.
struct Limits {
  size_t max_value_bytes = size_t{64} * 1024;      // canonical JSON text of one value
  size_t max_session_bytes = size_t{1024} * 1024;  // sum over views of view name + keys + values
  size_t max_keys_per_view = 256;
  size_t max_views = 64;
  size_t max_key_bytes = 256;
  size_t max_view_bytes = 256;
};

struct StoredValue {
  std::string json;  // canonical JSON text
  Micros written_at = 0;

  friend bool operator==(const StoredValue&, const StoredValue&) = default;
};

struct Slice {
  int64_t vsn = 1;
  Micros vsn_at = 0;  // when this vsn was set: a stash of another vsn older than this loses
  SmallMap<std::string, StoredValue> data;  // key -> value, sorted by key

  friend bool operator==(const Slice&, const Slice&) = default;
};

// One accepted change. Stash entries are key -> canonical JSON text.
struct Mutation {
  enum class Kind {
    kStash,  // set entries of `view` at `vsn` (another vsn replaces the slice wholesale)
    kDrop,   // remove `keys` of `view`
    kReset,  // remove the whole slice of `view`
    kTouch,  // refresh last_seen_at only
  };
  Kind kind = Kind::kTouch;
  std::string view;
  int64_t vsn = 1;
  std::vector<std::pair<std::string, std::string>> entries;  // kStash
  std::vector<std::string> keys;                             // kDrop
  Micros at = 0;

  friend bool operator==(const Mutation&, const Mutation&) = default;
};

// How long deletion records are kept, and how many at most per session (the oldest go first).
//
// Why 24 hours: a record matters only against a write older than the deletion that another
// daemon accepted but has not stored yet. Such a write waits in that daemon's memory for as long
// as its store requests fail (it is retried forever, never dropped), so the horizon must outlast
// any store outage or network partition a daemon plausibly lives through while still serving
// requests: the longest S3 regional outages have lasted a few hours, and 24 hours is several
// times that. Past the horizon a replayed write older than a pruned deletion can bring the
// deleted key back — the documented limit. The cost is small: a record is the key's name and
// a time (~30 bytes in the envelope), kept only for keys a client dropped (or views it reset),
// and the count cap bounds a session whose application drops many distinct keys.
inline constexpr Micros kDeletionRecordHorizon = Micros{24} * 3600 * 1'000'000;
inline constexpr size_t kMaxDeletionRecords = 512;

// The deletion time of a key that was never deleted: older than any write.
inline constexpr Micros kNeverDeleted = std::numeric_limits<Micros>::min();

struct KeyScope {
  std::string key;
  Scope scope = Scope::kSession;
};

// The answer to a recover. Its values are views into the SessionState that produced it: they
// stay valid only until that state next changes (Apply, a prune, assignment, destruction).
// Why views: the reply is formatted into the client's RESP reply at once, so copying every key
// and value into it first would cost an allocation and a copy per value for nothing. A caller
// that must keep the values copies them.
struct RecoverReply {
  enum class Outcome { kRecovered, kNotFound, kVsnMismatch };
  Outcome outcome = Outcome::kNotFound;
  int64_t stored_vsn = 0;  // vsn of the stored slice; 0 when there is none
  // key -> JSON text (the stored ones), in request order
  std::vector<std::pair<std::string_view, std::string_view>> values;
};

struct ApplyOutcome {
  bool changed = false;  // the state differs from before
  size_t removed = 0;    // keys removed (kDrop), or 1 if a slice was removed (kReset)
};

// Heap bytes behind a std::string, for memory estimates: nothing while it fits the
// small-string buffer, else its capacity plus the terminator plus a malloc header.
size_t StringHeapBytes(const std::string& s);

class SessionState {
 public:
  // Deletion records of one view: key -> when it was dropped.
  using DroppedKeys = std::map<std::string, Micros, std::less<>>;
  using DroppedByView = std::map<std::string, DroppedKeys, std::less<>>;
  using ResetByView = std::map<std::string, Micros, std::less<>>;

  SessionState() = default;
  SessionState(const SessionState& other);
  SessionState& operator=(const SessionState& other);
  // clang-tidy follows the moves into boost::container::small_vector, whose moves are not
  // declared noexcept; a session's views are moved without throwing (SmallMap says why).
  SessionState(SessionState&&) noexcept = default;             // NOLINT(bugprone-exception-escape)
  SessionState& operator=(SessionState&&) noexcept = default;  // NOLINT(bugprone-exception-escape)
  ~SessionState() = default;

  // No data: no view holds a key. (Deletion records may remain; see has_deletion_records.)
  bool empty() const { return views_.empty(); }
  Micros last_seen_at() const { return last_seen_at_; }
  // Nearly every session has one view: it is held inline (see SmallMap).
  using Views = SmallMap<ViewName, Slice, 1>;
  const Views& views() const { return views_; }

  // Checks a kStash mutation against the limits as if it were applied now. Returns
  // Status::Limit with a message naming the limit, the view and key, and the configured value.
  Status CheckStash(const Mutation& m, const Limits& limits) const;

  // Applies `m` with per-key last-write-wins (see the file comment). Updates last_seen_at to
  // max(last_seen_at, m.at).
  ApplyOutcome Apply(const Mutation& m);

  // Computes the reply to a recover (SPEC §3 "Reads"). Does not change the state; the reply
  // views it (see RecoverReply), so use the reply before the state changes. For a fresh
  // mount whose view has stored reconnect-scope keys, `*clear` receives the kDrop mutation the
  // caller must apply (and persist) to clear them — after it is done with the reply, since
  // applying it changes the state; otherwise it is reset to nullopt. When the stored slice's vsn
  // differs from `vsn`, the reply is kVsnMismatch with the stored vsn and every stored key of the
  // slice, whatever its scope (the adapter migrates the old shape as a whole, then applies the
  // scopes of the new one), and `*clear` is nullopt.
  RecoverReply Recover(std::string_view view, int64_t vsn, MountKind mount,
                       const std::vector<KeyScope>& keys, Micros now,
                       std::optional<Mutation>* clear) const;

  // True when the session was last seen more than `ttl` ago.
  bool Expired(Micros now, Micros ttl) const { return last_seen_at_ + ttl < now; }

  // --- Deletion records ---------------------------------------------------------------------
  // Invariants: a key never has both a value and a record (the newer one wins and the other
  // goes); a key record is newer than its view's reset record; no empty maps.
  const DroppedByView& dropped() const;
  const ResetByView& resets() const;
  bool has_deletion_records() const { return records_ != nullptr; }
  size_t deletion_record_count() const;
  // Forgets the records older than `before`, then, while more than `max_records` remain, the
  // oldest ones. Returns how many were forgotten. The data is not touched.
  size_t PruneDeletionRecords(Micros before, size_t max_records);
  // Forgets every record (an expired session leaves nothing behind).
  void ClearDeletionRecords();

  // Approximate bytes of memory held (for the resident-memory cap and INFO).
  size_t ApproximateBytes() const;

  // Bytes counted against Limits::max_session_bytes.
  size_t DataBytes() const;

  // --- The stored envelope (docs/STORAGE.md) ---------------------------------------------
  // Versioned JSON: {"dropped":{view:{key:<us>}},"format":2,"last_seen_at":..,
  // "reset":{view:<us>},"views":{view:{"data":{key:{"t":..,"v":<value>}},"vsn":..,
  // "vsn_at":..}},"writer":..}. Encode writes format 2; Decode reads formats 1 and 2.
  std::string Encode(std::string_view writer_id) const;
  static Result<SessionState> Decode(std::string_view bytes);
  // Same, and stores the envelope's writer id in `*writer_id` on success (for diagnostics).
  static Result<SessionState> Decode(std::string_view bytes, std::string* writer_id);

  friend bool operator==(const SessionState& a, const SessionState& b);

 private:
  // Most sessions never drop a key or reset a view, so the records live in an allocation of
  // their own, made for the first record and freed with the last: a session without records
  // pays one pointer rather than two empty maps.
  struct DeletionRecords {
    DroppedByView dropped;  // view -> key -> when dropped
    ResetByView resets;     // view -> when reset

    friend bool operator==(const DeletionRecords&, const DeletionRecords&) = default;
  };
  // The records, created if there are none. Code that may leave them empty calls
  // FreeEmptyRecords afterwards.
  DeletionRecords& records();
  void FreeEmptyRecords();

  // When `key` of `view` was last deleted (dropped, or its view reset), or kNeverDeleted.
  // DeletedAt and ForgetDropped are asked about every key of every stash, twice over (CheckStash
  // and Apply); inline, a session without records answers them without a call.
  Micros DeletedAt(std::string_view view, std::string_view key) const {
    return records_ ? RecordedDeletedAt(view, key) : kNeverDeleted;
  }
  Micros RecordedDeletedAt(std::string_view view, std::string_view key) const;
  Micros ResetAt(std::string_view view) const;
  // Removes the record of `key` of `view` (a newer value replaces it). True if there was one.
  bool ForgetDropped(std::string_view view, std::string_view key) {
    return records_ && ForgetRecordedDrop(view, key);
  }
  bool ForgetRecordedDrop(std::string_view view, std::string_view key);

  Views views_;  // view -> slice, sorted by view
  Micros last_seen_at_ = 0;
  std::unique_ptr<DeletionRecords> records_;  // null when there are none
};

}  // namespace ds::session
