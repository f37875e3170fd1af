// SessionActor: the single owner of one browser session's state (SPEC §2, §3).
//
// Every request for a session is applied by its actor, one at a time, on the event loop of the
// shard the session hashes to — so all requests for a session happen in one total order, and
// no lock is needed anywhere in this class.
//
// Life of an actor
//   loading  -> the first request starts a store read; requests that arrive meanwhile wait in
//               order. A missing object means an empty session.
//   ready    -> requests are applied to the in-memory SessionState and acknowledged at once.
//               Each accepted change marks the session dirty and triggers a flush.
//   broken   -> the stored object could not be decoded; every request fails with that error
//               (except DS.DELETE) until the actor is evicted and reloaded.
//
// Flushing (write-through with coalescing)
//   At most one store write is in flight per session. A change accepted while a write is in
//   flight rides along in the next write, so a burst of N stashes costs at most two writes.
//   There is no timer: the next write starts the moment the previous one completes. The first
//   write of a session is create-only; later ones are if-match on the last etag, so a second
//   writer (another daemon on the same bucket) can never be overwritten blindly.
//
// Conflicts (SPEC §5)
//   A precondition failure means someone else changed the stored session. The actor reloads
//   it and re-applies, on top of what it found, every mutation it has accepted but not yet
//   committed. Mutations carry their write times and SessionState::Apply is per-key
//   last-write-wins, so the result is the per-key merge of both writers. Then it writes again.
//   A write whose reply was lost (OutcomeUnknown) is resolved the same way: re-read, and if
//   the stored bytes are exactly what was sent, the write happened.
//
// Failures
//   Transient store failures are retried with jittered exponential backoff, forever: an
//   accepted write is never dropped. DS.SYNC lets a client wait until the store has
//   everything accepted so far. What waits for the store is bounded: once a session holds
//   MaxPendingBytes() of accepted changes that are not durable yet, further stashes are refused
//   with Unavailable until the store catches up, so a failing store cannot make the daemon's
//   memory grow without bound.
//
// Stores shared with other writers (Store::MayHaveOtherWriters: several daemons on one bucket)
//   Revalidation: a resident session may be older than the stored one, so before a read
//   (recover, dump) or a change whose answer depends on what is stored (drop, reset, delete)
//   the actor sends a conditional GET with its etag. NotModified: the session is current.
//   Otherwise it adopts the stored version and re-applies its own uncommitted mutations on top,
//   as after a conflict. A request that arrives while such a GET is running waits for the next
//   one, and a session being loaded is revalidated after the load for the requests that
//   arrived during it: a read never answers from a GET sent before the read arrived, so it
//   never returns a value older than a write another daemon had made durable by then. The
//   request that starts a load needs no revalidation: a cold recover costs one GET. If the
//   store cannot be reached the read fails (Unavailable) rather than answer from the cache.
//   Stashes are not revalidated: they merge per key on conflict whatever they were based on.
//   Deletion: a session whose last key is deleted (drop, reset, DS.DELETE) is written as an
//   object holding only deletion records (session_state.h) rather than deleted, so another
//   daemon's older writes still lose to the deletion; such objects are deleted once their
//   records are pruned, by the first load that finds them so (the TTL sweep's, at the latest).
//   An expired session is deleted outright.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "session/clock.h"
#include "session/session_key.h"
#include "session/session_options.h"
#include "session/session_state.h"
#include "session/session_stats.h"
#include "session/store_executor.h"
#include "session/view_name.h"
#include "session/write_path.h"

namespace ds::session {

// Everything an actor needs from its shard. All references outlive the actor.
struct ActorEnv {
  boost::asio::io_context& loop;
  StoreExecutor& reader;
  WritePath& writer;
  Clock& clock;
  const SessionOptions& options;
  SessionStats& stats;
  Logger& logger;
};

// The request owns its bytes: it may travel to another shard and wait for a load. The view is
// a ViewName because a module name is longer than std::string's inline buffer and fits a
// ViewName's, which saves an allocation per recover. (Keys stay a std::vector: the request is
// moved on its way to the session — twice since Recover takes it by rvalue, three times when
// this was measured — and a small vector with the keys inline cost more to move than the
// allocation it saved.)
struct RecoverRequest {
  ViewName view;
  int64_t vsn = 1;
  MountKind mount = MountKind::kDead;
  std::vector<KeyScope> keys;
};

// True if a recover with these arguments could return or clear anything. When false the
// reply is `not_found` and the store is not touched (SPEC §3: a mount with nothing in scope
// does no I/O, so crawlers' dead renders cannot fill the bucket).
bool RecoverNeedsStore(MountKind mount, const std::vector<KeyScope>& keys);

class SessionActor final : public std::enable_shared_from_this<SessionActor>, public WriteListener {
 public:
  // `env` is the shard's, shared by all its actors: it must outlive every call into the actor
  // (the session table owns it). Held by reference, as one pointer rather than a copy of its
  // seven references in each of a shard's many actors.
  SessionActor(const ActorEnv& env, std::string_view session_key);
  SessionActor(const SessionActor&) = delete;
  SessionActor& operator=(const SessionActor&) = delete;
  ~SessionActor() override;

  std::string_view key() const { return key_.view(); }

  // Ahead of a request that will read this session (server/session_prefetch.h), in three
  // steps, each taken for every request of a read before the next one: the actor's own lines,
  // then the arrays of keys of its views, then the values they hold. Each step reads only
  // memory the step before requested, and none changes anything.
  void PrefetchSelf() const;
  void PrefetchKeys() const;
  void PrefetchValues() const;

  // The actor's place in its session table's least-recently-used order: kept by the table
  // (session_table.h), never read by the actor. It lives here rather than in the table's
  // entries because those move when the table grows, and actors do not.
  struct Residency {
    SessionActor* newer = nullptr;
    SessionActor* older = nullptr;
  };
  Residency& residency() { return residency_; }
  const Residency& residency() const { return residency_; }
  // When the actor was last moved to the most recently used end: its last use, or one at most
  // SessionOptions::lru_reorder_interval before it. Read on every use, unlike the links, which
  // change at most once per interval: so it is kept with the fields every request reads.
  std::chrono::steady_clock::time_point& placed() { return placed_; }
  std::chrono::steady_clock::time_point placed() const { return placed_; }

  // Each operation completes exactly once through its callback, on the shard's loop
  // (possibly before the call returns).

  // DS.STASH. `m.kind` must be kStash; the actor stamps the write time. `done` is called with
  // the outcome (const Status&). A template, so that on a ready actor (nearly every stash)
  // `done` runs in place: held in a std::function it would cost an allocation per stash.
  template <typename Done>
  void Stash(Mutation&& m, Done&& done) {
    AccountingScope accounting(*this);
    // A ready actor answers in place: only a stash that waits for a load needs the closure
    // that keeps the actor and the mutation (a reference count taken from shared_from_this is
    // an atomic compare-and-swap, and the mutation would be moved twice more).
    if (ReadyNow()) return done(AcceptStash(std::move(m)));
    QueueUntilReady([self = shared_from_this(), m = std::move(m),
                     done = std::forward<Done>(done)](const Status& st) mutable {
      done(st.ok() ? self->AcceptStash(std::move(m)) : st);
    });
  }
  // DS.RECOVER. `done` is called with a Result<RecoverReply>, whose values view the session:
  // it must be through with them when it returns — format the answer, or copy what it keeps.
  // A template for the reason Stash is one.
  template <typename Done>
  void Recover(RecoverRequest&& request, Done&& done) {
    AccountingScope accounting(*this);
    // In place on a ready actor whose store has no other writer, as for Stash.
    if (!shared_store_ && ReadyNow()) return RecoverNow(request, done);
    WhenFresh([self = shared_from_this(), request = std::move(request),
               done = std::forward<Done>(done)](const Status& st) mutable {
      if (!st.ok()) return done(Result<RecoverReply>(st));
      self->RecoverNow(request, done);
    });
  }
  // DS.DROP: the number of keys removed.
  void Drop(std::string view, std::vector<std::string> keys,
            std::function<void(Result<size_t>)> done);
  // DS.RESET: whether a slice was removed.
  void Reset(std::string view, std::function<void(Result<bool>)> done);
  // DS.DELETE: whether the session existed.
  void Delete(std::function<void(Result<bool>)> done);
  // DS.SYNC: OK once everything accepted before this call is durable, Timeout after `timeout`.
  void Sync(std::chrono::milliseconds timeout, std::function<void(Status)> done);
  // For the TTL sweep: loads the session if it is not resident — which expires it, and
  // deletes its object, if it is due — then calls `done`.
  void CheckExpiry(std::function<void()> done);
  // DS.DUMP: the session as its stored JSON envelope, or nullopt if there is none.
  void Dump(std::function<void(Result<std::optional<std::string>>)> done);

  // True when dropping this actor loses nothing: loaded, every accepted write durable, nobody
  // waiting. The session table evicts only such actors.
  bool Evictable() const;
  // The bytes of accepted, not yet durable changes one session may hold; a stash beyond it is
  // refused while the store catches up. At least four full-size sessions, and 8 MiB.
  static size_t MaxPendingBytes(const Limits& limits);
  // True while accepted writes are not yet durable (dirty or being written).
  bool HasUndurableWrites() const { return dirty_ || write_in_flight_; }
  // Approximate bytes of memory the actor holds: its own allocation, the session's data and,
  // while something is going on, its Activity and the changes not yet durable.
  size_t ApproximateBytes() const;

  // Memory accounting, for the session table's cap. Between StartAccounting and
  // StopAccounting the actor keeps its share of stats.resident_bytes equal to its
  // ApproximateBytes: every request, store completion and timer re-measures the actor when it
  // is done with it (AccountingScope). So the shard's resident bytes are always known without
  // walking every session, which with many sessions is a burst of cache misses.
  void StartAccounting();
  void StopAccounting();

 private:
  enum class Phase : uint8_t { kNew, kLoading, kReady, kBroken };
  using Waiter = std::function<void(const Status&)>;

  // Re-measures the actor when an entry point (a request, a store completion, a timer) ends,
  // so that its share of stats.resident_bytes follows every change it made. Nested scopes
  // re-measure more than once, which is harmless.
  class AccountingScope {
   public:
    explicit AccountingScope(SessionActor& actor) : actor_(actor) {}
    AccountingScope(const AccountingScope&) = delete;
    AccountingScope& operator=(const AccountingScope&) = delete;
    ~AccountingScope() { actor_.Reaccount(); }

   private:
    SessionActor& actor_;
  };
  void Reaccount();
  // ApproximateBytes with MeasuredBytes() already measured.
  size_t ApproximateBytes(size_t measured_bytes) const;
  // The allocation of a key too long to be held inline, or 0.
  size_t KeyHeapBytes() const;
  // The session, for a change: every change goes through here, so that Reaccount knows to
  // measure it again.
  SessionState& MutableState() {
    measured_bytes_stale_ = true;
    return state_;
  }
  // Every change of the etag goes through here: the measurement is corrected by the change in
  // the etag's allocation, rather than the whole session measured again after each write.
  void SetEtag(std::optional<std::string> etag) {
    const size_t old_bytes = EtagHeapBytes();
    etag_ = std::move(etag);
    if (!measured_bytes_stale_) measured_bytes_ = measured_bytes_ - old_bytes + EtagHeapBytes();
  }
  size_t EtagHeapBytes() const { return etag_ ? StringHeapBytes(*etag_) : 0; }
  // What Reaccount measures again after a change: the session and the etag's allocation.
  size_t MeasuredBytes() const;

  // Runs `op` now if the actor is ready, else queues it behind the load (starting it). `op`
  // receives the load's failure, if the load failed. A ready actor runs `op` in place: only an
  // operation that must wait is wrapped in a Waiter (an allocation per request otherwise).
  template <typename Op>
  void WhenReady(Op&& op) {
    if (ReadyNow()) return op(Status::OK());
    QueueUntilReady(Waiter(std::forward<Op>(op)));
  }
  // True if the actor is ready, after expiring the session if it is due: what an operation
  // checks before it runs in place.
  bool ReadyNow() {
    if (phase_ != Phase::kReady) return false;
    ExpireIfDue();
    return true;
  }
  // Like WhenReady, and on a shared store also revalidates a resident session first (see the
  // file comment). `op` receives the failure if the session could not be confirmed current.
  template <typename Op>
  void WhenFresh(Op&& op) {
    // The request that starts a load is answered from what the load reads: nothing more to do.
    if (!shared_store_ || phase_ == Phase::kNew) return WhenReady(std::forward<Op>(op));
    QueueUntilFresh(Waiter(std::forward<Op>(op)));
  }
  void QueueUntilReady(Waiter op);
  void QueueUntilFresh(Waiter op);
  void StartLoad();
  void OnLoaded(Result<store::Object> result);
  void FinishLoad(const Status& status);
  void MaybeRevalidate();
  void OnRevalidated(Result<store::Object> result);
  // Takes a stored version found by a revalidation; fails if it cannot be read.
  Status AdoptStored(store::Object stored);
  // Makes `base` (the stored session, or empty when there is none) the session, with every
  // mutation accepted here and not yet committed applied on top.
  void AdoptBase(SessionState base, std::optional<std::string> etag);
  // Forgets deletion records past their horizon (SessionState::PruneDeletionRecords).
  void ForgetOldDeletionRecords();
  // The same, and if that leaves a stored object with nothing in it, schedules its deletion.
  void PruneDeletionRecords();

  // Clears an expired session (SPEC §3 "TTL"): it then reads as empty and the next flush
  // deletes its object.
  void ExpireIfDue();
  // Applies an accepted mutation, records it for a possible rebase, and (if `flush`) starts
  // a flush.
  ApplyOutcome Accept(Mutation&& m, bool flush = true);
  // The body of Stash on a ready actor: checks the limits, then accepts `m`.
  Status AcceptStash(Mutation&& m);
  // The body of Recover on a ready actor, in two steps: the reply (and in `clear` the
  // reconnect keys a fresh mount clears), then, once the reply has been used, those changes.
  RecoverReply StartRecover(const RecoverRequest& request, Micros now,
                            std::optional<Mutation>* clear);
  void FinishRecover(Micros now, std::optional<Mutation> clear);
  // Both steps, on a ready (and, on a shared store, revalidated) actor.
  template <typename Done>
  void RecoverNow(const RecoverRequest& request, Done& done) {
    const Micros now = env_.clock.Now();
    std::optional<Mutation> clear;
    // The reply views the session's data, so it is handed over before the recover's own
    // changes (FinishRecover) could move or free what it views.
    done(Result<RecoverReply>(StartRecover(request, now, &clear)));
    FinishRecover(now, std::move(clear));
  }
  // Counts a change that must reach the store (Accept does this for mutations).
  void MarkChanged();
  Micros NextWriteTime();

  void MaybeFlush();
  void OnWriteDone(Result<std::string> result) override;  // WriteListener: how a write ended
  void OnRemoveDone(const Status& status);
  void OnWriteCommitted(std::optional<std::string>&& etag);
  void ResolveUnknownOutcome();
  void Rebase(Result<store::Object> stored);
  void RetryLater(const Status& failure);
  // Puts the mutations of the write that failed back in front of the newer ones.
  void RequeueInFlight();
  void NotifySyncWaiters();
  // Sized before it is filled: copying the prefix into the string's inline buffer and then
  // appending the key took std::string's general growth path (~100 instructions more per write).
  std::string ObjectKey() const {
    const std::string& prefix = env_.options.key_prefix;
    std::string object_key;
    object_key.reserve(prefix.size() + key().size());
    object_key.append(prefix).append(key());
    return object_key;
  }

  // The parts of an actor that only a session with something going on needs: a load, a
  // write, a retry, a revalidation, a DS.SYNC waiting, or an unreadable stored object. Almost
  // every resident session is idle, so these live in a separate allocation (Activity) made on
  // first use and released by ReleaseActivityIfIdle once nothing is going on; an idle resident
  // session costs only the members below it (see ApproximateBytes).
  struct SyncWaiter {
    uint64_t target;
    std::function<void(Status)> done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct Activity {
    Status broken;                // why the actor is kBroken (kept as long as it is)
    std::vector<Waiter> waiting;  // requests queued behind the load
    std::chrono::steady_clock::time_point load_started;

    // Flush bookkeeping. Mutations move from `unflushed` to `in_flight` when a write starts;
    // both are replayed if the write loses a race with another writer. The sequence numbers
    // count the changes accepted since this Activity was created: when it is released none is
    // pending, so a new one starting again from zero is consistent.
    std::vector<Mutation> unflushed;
    std::vector<Mutation> in_flight;
    std::string in_flight_bytes;
    size_t pending_bytes = 0;            // approximate bytes of unflushed and in_flight
    size_t in_flight_pending_bytes = 0;  // the part of it in in_flight
    uint64_t accepted_seq = 0;           // number of changes accepted so far
    uint64_t in_flight_seq = 0;          // accepted_seq when the running write was started
    uint64_t durable_seq = 0;            // everything up to here is in the store

    // Revalidation (shared stores): `revalidate_waiters` are served by the GET in flight,
    // `revalidate_next` arrived after it was sent and wait for the next one.
    std::vector<Waiter> revalidate_waiters;
    std::vector<Waiter> revalidate_next;

    // Retries are rare, and a timer costs a lookup of the loop's timer service to make and a
    // lock to destroy: both are made by RetryTimer()/RetryJitter() when first needed.
    std::chrono::milliseconds retry_delay{0};
    std::unique_ptr<boost::asio::steady_timer> retry_timer;
    std::optional<std::minstd_rand> jitter;
    bool write_failure_logged = false;

    std::list<SyncWaiter> sync_waiters;
  };

  // The actor's Activity, created if there is none.
  Activity& activity();
  // The Activity's retry timer and backoff jitter (seeded per session), made on first use.
  boost::asio::steady_timer& RetryTimer();
  std::minstd_rand& RetryJitter();
  // Frees the Activity when nothing is going on (see Activity). Called where a load, write,
  // revalidation or sync wait ends. No code holds a reference into the Activity across a call
  // that may end up here: it is looked up again with activity() afterwards.
  void ReleaseActivityIfIdle();
  size_t pending_bytes() const { return activity_ ? activity_->pending_bytes : 0; }

  // The members a request reads come first (the key, the time of placement, the flags, the
  // accounting, the activity and the state), then those only writes need (the etag and the
  // last write time), and last the LRU links, which change at most once a second: with many
  // sessions each request's first touch of a cache line of its actor is a miss. With
  // make_shared's control block in front, a stash reads five of the six lines and a recover
  // five (`ptype /o ds::session::SessionActor` in gdb shows the offsets; the object sits at the
  // start of a cache line, jemalloc's 384-byte size class being six lines).
  const ActorEnv& env_;
  // Every request compares its session key with this one (the session table finds actors by
  // it): held inside the actor, the comparison reads memory the request touches anyway rather
  // than a separate allocation, which with many sessions would be one more cache miss.
  const InlineKey key_;
  std::chrono::steady_clock::time_point placed_;

  Phase phase_ = Phase::kNew;
  bool accounted_ = false;            // between StartAccounting and StopAccounting
  bool measured_bytes_stale_ = true;  // state_ changed since measured (SetEtag corrects etags)
  const bool shared_store_;           // the store may have other writers: revalidate, keep records
  bool dirty_ = false;                // accepted changes not yet handed to a write
  bool write_in_flight_ = false;      // a write, delete or conflict re-read is running
  bool retry_pending_ = false;        // waiting for a backoff timer
  bool revalidating_ = false;         // a revalidation GET is running
  size_t accounted_bytes_ = 0;        // this actor's share of stats.resident_bytes
  size_t measured_bytes_ = 0;         // MeasuredBytes() when last measured
  std::unique_ptr<Activity> activity_;  // null while idle

  SessionState state_;  // read directly, changed only through MutableState()

  // Read by writes (and rarely by a recover): at the end, on the line a recover does not touch
  // (Reaccount reads the etag only when the measurement is stale, see SetEtag).
  std::optional<std::string> etag_;  // etag of the stored object; nullopt if none stored
  Micros last_write_time_ = 0;

  Residency residency_;
};

}  // namespace ds::session
