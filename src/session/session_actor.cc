#include "session/session_actor.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

#include "common/prefetch.h"
#include "common/status.h"

namespace ds::session {
namespace {

// Memory held by an accepted mutation until it is durable (for the pending-bytes bound).
size_t MutationBytes(const Mutation& m) {
  size_t bytes = sizeof(Mutation) + m.view.size();
  for (const auto& [key, json] : m.entries) {
    bytes += sizeof(m.entries[0]) + key.size() + json.size();
  }
  for (const std::string& key : m.keys) bytes += sizeof(std::string) + key.size();
  return bytes;
}

// Memory estimates (ApproximateBytes): what malloc adds to an allocation (header and rounding),
// and what make_shared adds to the actor: its control block (two counts and a vtable pointer)
// in the same allocation.
constexpr size_t kMallocOverhead = 16;
constexpr size_t kSharedControlBlockBytes = 16;
constexpr size_t kSharedAllocationOverhead = kSharedControlBlockBytes + kMallocOverhead;

}  // namespace

size_t SessionActor::MaxPendingBytes(const Limits& limits) {
  return std::max(size_t{8} << 20, 4 * limits.max_session_bytes);
}

bool RecoverNeedsStore(MountKind mount, const std::vector<KeyScope>& keys) {
  for (const KeyScope& k : keys) {
    // Session-scope keys are recovered on every mount. Reconnect-scope keys are recovered on
    // a rejoin and cleared on a fresh mount; a dead render neither recovers nor clears them.
    if (k.scope == Scope::kSession || mount != MountKind::kDead) return true;
  }
  return false;
}

SessionActor::SessionActor(const ActorEnv& env, std::string_view session_key)
    : env_(env), key_(session_key), shared_store_(env.reader.store().MayHaveOtherWriters()) {}

// A shard destroys actors only when they are evictable, or at the very end of a shutdown
// after it has logged every session whose writes could not be made durable. Callbacks still
// waiting then are dropped unanswered: their connections are gone too.
SessionActor::~SessionActor() = default;

// How much of a session the prefetch steps ask for: the common session (a view or two of a few
// keys) whole, and of a larger one the start, so that a request's prefetches stay few.
constexpr size_t kPrefetchViews = 4;
constexpr size_t kPrefetchValues = 8;

void SessionActor::PrefetchSelf() const {
  // From make_shared's control block, which a request's shared_ptr copy touches, to the end.
  PrefetchBytes(reinterpret_cast<const char*>(this) - kSharedControlBlockBytes,
                sizeof(*this) + kSharedControlBlockBytes);
}

void SessionActor::PrefetchKeys() const {
  size_t views = 0;
  for (const auto& [view, slice] : state_.views()) {
    if (++views > kPrefetchViews) break;
    if (slice.data.empty()) continue;
    PrefetchBytes(&*slice.data.begin(), slice.data.size() * sizeof(*slice.data.begin()), 4);
  }
}

void SessionActor::PrefetchValues() const {
  // A recover copies the values out; a stash copies its value over the old one, into the same
  // buffer when it fits: all of each, up to kCopyPrefetchLines.
  size_t views = 0;
  size_t values = 0;
  for (const auto& [view, slice] : state_.views()) {
    if (++views > kPrefetchViews) break;
    for (const auto& [key, value] : slice.data) {
      if (++values > kPrefetchValues) return;
      PrefetchBytes(value.json.data(), value.json.size(), kCopyPrefetchLines);
    }
  }
}

SessionActor::Activity& SessionActor::activity() {
  if (!activity_) activity_ = std::make_unique<Activity>();
  return *activity_;
}

boost::asio::steady_timer& SessionActor::RetryTimer() {
  Activity& a = activity();
  if (!a.retry_timer) a.retry_timer = std::make_unique<boost::asio::steady_timer>(env_.loop);
  return *a.retry_timer;
}

std::minstd_rand& SessionActor::RetryJitter() {
  Activity& a = activity();
  if (!a.jitter) a.jitter.emplace(static_cast<uint32_t>(std::hash<std::string_view>{}(key())));
  return *a.jitter;
}

void SessionActor::ReleaseActivityIfIdle() {
  if (!activity_ || phase_ == Phase::kLoading || phase_ == Phase::kBroken || HasUndurableWrites() ||
      retry_pending_ || revalidating_) {
    return;
  }
  const Activity& a = *activity_;
  if (!a.waiting.empty() || !a.unflushed.empty() || !a.in_flight.empty() ||
      !a.revalidate_waiters.empty() || !a.revalidate_next.empty() || !a.sync_waiters.empty() ||
      a.pending_bytes != 0) {
    return;
  }
  activity_.reset();
}

// ---------------------------------------------------------------------------------------------
// Loading

void SessionActor::QueueUntilReady(Waiter op) {
  switch (phase_) {
    case Phase::kReady:
      ExpireIfDue();
      op(Status::OK());
      return;
    case Phase::kBroken:
      op(activity().broken);
      return;
    case Phase::kNew:
      activity().waiting.push_back(std::move(op));
      StartLoad();
      return;
    case Phase::kLoading:
      activity().waiting.push_back(std::move(op));
      return;
  }
}

void SessionActor::QueueUntilFresh(Waiter op) {
  activity().revalidate_next.push_back(std::move(op));
  MaybeRevalidate();
}

void SessionActor::StartLoad() {
  phase_ = Phase::kLoading;
  activity().load_started = std::chrono::steady_clock::now();
  env_.stats.loads++;
  env_.stats.store_gets++;
  env_.reader.Get(env_.loop, ObjectKey(), {}, [self = shared_from_this()](Result<store::Object> r) {
    self->OnLoaded(std::move(r));
  });
}

void SessionActor::OnLoaded(Result<store::Object> result) {
  AccountingScope accounting(*this);
  if (result.ok()) {
    Result<SessionState> decoded = SessionState::Decode(result->data);
    if (!decoded.ok()) {
      // Never overwrite what we cannot read: it may be a newer format or a damaged object
      // that an operator wants to inspect. DS.DELETE still works.
      SetEtag(result->etag);
      activity().broken = Status::Corruption("stored session " + std::string(key()) +
                                             " cannot be read: " + decoded.status().message());
      env_.logger.Error("session_unreadable",
                        {{"session", key()}, {"error", decoded.status().message()}});
      phase_ = Phase::kBroken;
      FinishLoad(activity().broken);  // kept while kBroken, so the reference stays valid
      return;
    }
    MutableState() = std::move(decoded).value();
    SetEtag(result->etag);
    last_write_time_ = state_.last_seen_at();
  } else if (!result.status().IsNotFound()) {
    env_.stats.store_errors++;
    Activity& a = activity();
    auto waited = std::chrono::steady_clock::now() - a.load_started;
    if (waited < env_.options.load_deadline) {
      // Try again after a pause; the queued requests keep waiting.
      a.retry_delay =
          std::clamp(a.retry_delay * 2, env_.options.retry_initial, env_.options.retry_max);
      RetryTimer().expires_after(a.retry_delay);
      RetryTimer().async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        self->env_.stats.store_gets++;
        self->env_.reader.Get(self->env_.loop, self->ObjectKey(), {},
                              [self](Result<store::Object> r) { self->OnLoaded(std::move(r)); });
      });
      return;
    }
    env_.logger.Warn("session_load_failed",
                     {{"session", key()}, {"error", result.status().ToString()}});
    phase_ = Phase::kNew;  // the next request tries again
    a.retry_delay = {};
    FinishLoad(Status::Unavailable(
        "the store did not answer in time: " + result.status().message() + "; retry later"));
    return;
  }
  activity().retry_delay = {};
  phase_ = Phase::kReady;
  ExpireIfDue();
  PruneDeletionRecords();
  FinishLoad(Status::OK());
}

void SessionActor::FinishLoad(const Status& status) {
  std::vector<Waiter> waiting;
  waiting.swap(activity().waiting);
  for (Waiter& op : waiting) op(status);
  if (status.ok() || phase_ == Phase::kBroken) {
    MaybeRevalidate();
  } else if (activity_) {
    // The load failed: so does the revalidation the later requests were waiting for.
    std::vector<Waiter> next;
    next.swap(activity_->revalidate_next);
    for (Waiter& op : next) op(status);
  }
  ReleaseActivityIfIdle();
}

// ---------------------------------------------------------------------------------------------
// Revalidation (stores shared with other writers)

void SessionActor::MaybeRevalidate() {
  if (!activity_ || activity_->revalidate_next.empty() || revalidating_ || write_in_flight_) {
    return;
  }
  if (phase_ != Phase::kReady && phase_ != Phase::kBroken) return;  // FinishLoad comes back
  revalidating_ = true;
  activity_->revalidate_waiters.swap(activity_->revalidate_next);
  env_.stats.revalidations++;
  env_.stats.store_gets++;
  env_.reader.Get(
      env_.loop, ObjectKey(), etag_.value_or(""),
      [self = shared_from_this()](Result<store::Object> r) { self->OnRevalidated(std::move(r)); });
}

void SessionActor::OnRevalidated(Result<store::Object> result) {
  AccountingScope accounting(*this);
  revalidating_ = false;
  Status status;
  // Unchanged: 304, or the same etag from a store that ignored If-None-Match.
  const bool unchanged =
      result.ok() ? etag_ && result->etag == *etag_ : result.status().IsNotModified();
  if (unchanged) {
    env_.stats.revalidations_not_modified++;
  } else if (result.ok()) {
    status = AdoptStored(std::move(result).value());
  } else if (result.status().IsNotFound()) {
    if (etag_ || phase_ == Phase::kBroken) {
      // Deleted by another daemon (expired, or its deletion records pruned).
      env_.stats.revalidations_changed++;
      AdoptBase(SessionState(), std::nullopt);
    } else {
      env_.stats.revalidations_not_modified++;  // still nothing stored
    }
  } else {
    env_.stats.store_errors++;
    status = Status::Unavailable("cannot check with the store that session " + std::string(key()) +
                                 " is current (another daemon may have changed it): " +
                                 result.status().message() + "; retry later");
  }
  std::vector<Waiter> waiting;
  waiting.swap(activity().revalidate_waiters);
  for (Waiter& op : waiting) {
    if (!status.ok()) {
      op(status);
    } else if (phase_ == Phase::kBroken) {
      op(activity().broken);
    } else {
      ExpireIfDue();
      op(Status::OK());
    }
  }
  MaybeRevalidate();
  MaybeFlush();
  ReleaseActivityIfIdle();
}

Status SessionActor::AdoptStored(store::Object stored) {
  Result<SessionState> decoded = SessionState::Decode(stored.data);
  if (!decoded.ok()) {
    Status error = Status::Corruption("stored session " + std::string(key()) +
                                      " cannot be read: " + decoded.status().message());
    env_.logger.Error("session_unreadable",
                      {{"session", key()}, {"error", decoded.status().message()}});
    // With writes of its own pending, the actor keeps its etag: their write fails its
    // condition and Rebase decides, as for any conflict. Otherwise it is broken like a load.
    if (phase_ == Phase::kBroken || !HasUndurableWrites()) {
      phase_ = Phase::kBroken;
      activity().broken = error;
      SetEtag(std::move(stored.etag));
    }
    return error;
  }
  env_.stats.revalidations_changed++;
  AdoptBase(std::move(decoded).value(), std::move(stored.etag));
  return Status::OK();
}

void SessionActor::AdoptBase(SessionState base, std::optional<std::string> etag) {
  // Replay, oldest first, everything accepted here and not yet committed.
  if (activity_) {
    for (const Mutation& m : activity_->in_flight) base.Apply(m);
    for (const Mutation& m : activity_->unflushed) base.Apply(m);
  }
  MutableState() = std::move(base);
  SetEtag(std::move(etag));
  last_write_time_ = std::max(last_write_time_, state_.last_seen_at());
  if (phase_ == Phase::kBroken) {
    phase_ = Phase::kReady;
    activity().broken = Status::OK();
  }
  PruneDeletionRecords();
}

void SessionActor::ForgetOldDeletionRecords() {
  // Most sessions have none: then neither the clock nor the session is touched.
  if (!state_.has_deletion_records()) return;
  MutableState().PruneDeletionRecords(env_.clock.Now() - kDeletionRecordHorizon,
                                      kMaxDeletionRecords);
}

void SessionActor::PruneDeletionRecords() {
  ForgetOldDeletionRecords();
  // An object that held only records, all past their horizon, is garbage: delete it.
  if (state_.empty() && !state_.has_deletion_records() && etag_ && !HasUndurableWrites() &&
      phase_ == Phase::kReady) {
    MarkChanged();
    MaybeFlush();
  }
}

// ---------------------------------------------------------------------------------------------
// Applying changes

Micros SessionActor::NextWriteTime() {
  // Strictly increasing per session, so two changes made within one clock tick keep their
  // order under last-write-wins.
  last_write_time_ = std::max(env_.clock.Now(), last_write_time_ + 1);
  return last_write_time_;
}

void SessionActor::ExpireIfDue() {
  if (state_.empty() && !state_.has_deletion_records()) return;
  if (!state_.Expired(env_.clock.Now(), env_.options.ttl)) return;
  if (!state_.empty()) env_.stats.expired++;
  Micros at = NextWriteTime();
  std::vector<std::string> views;
  for (const auto& [view, slice] : state_.views()) views.push_back(view.str());
  for (std::string& view : views) {
    Mutation reset;
    reset.kind = Mutation::Kind::kReset;
    reset.view = std::move(view);
    reset.at = at;
    Accept(std::move(reset), /*flush=*/false);
  }
  // An expired session leaves nothing behind, not even deletion records: its object is
  // deleted. (A write another daemon still holds for it is newer than the expiry and may
  // bring it back, which is right: that write refreshed the session.)
  MutableState().ClearDeletionRecords();
  MarkChanged();
  MaybeFlush();
}

ApplyOutcome SessionActor::Accept(Mutation&& m, bool flush) {
  ApplyOutcome outcome = MutableState().Apply(m);
  if (!outcome.changed) return outcome;
  size_t bytes = MutationBytes(m);
  Activity& a = activity();
  a.pending_bytes += bytes;
  env_.stats.pending_bytes += bytes;
  a.unflushed.push_back(std::move(m));
  MarkChanged();
  if (flush) MaybeFlush();
  return outcome;
}

void SessionActor::MarkChanged() {
  activity().accepted_seq++;
  if (!dirty_ && !HasUndurableWrites()) env_.stats.dirty_sessions++;
  if (write_in_flight_ || retry_pending_) env_.stats.flushes_coalesced++;
  dirty_ = true;
}

Status SessionActor::AcceptStash(Mutation&& m) {
  env_.stats.stashes++;
  m.kind = Mutation::Kind::kStash;
  if (Status limit = state_.CheckStash(m, env_.options.limits); !limit.ok()) return limit;
  const size_t max_pending = MaxPendingBytes(env_.options.limits);
  const size_t pending = pending_bytes();
  if (pending > 0 && pending + MutationBytes(m) > max_pending) {
    env_.stats.stashes_refused_backlog++;
    return Status::Unavailable(
        "session " + std::string(key()) + " already holds " + std::to_string(pending) +
        " bytes of changes that the store has not taken yet (it is failing or slow; the limit "
        "is " +
        std::to_string(max_pending) + "); this stash was not accepted, retry later");
  }
  m.at = NextWriteTime();
  Accept(std::move(m));
  return Status::OK();
}

RecoverReply SessionActor::StartRecover(const RecoverRequest& request, Micros now,
                                        std::optional<Mutation>* clear) {
  env_.stats.recovers++;
  return state_.Recover(request.view, request.vsn, request.mount, request.keys, now, clear);
}

void SessionActor::FinishRecover(Micros now, std::optional<Mutation> clear) {
  // The reply was computed before these changes and `done` only formatted and queued it,
  // without calling back into the actor, so their order after it shows nowhere.
  if (clear) {
    clear->at = NextWriteTime();
    Accept(std::move(*clear));
  }
  // Refresh last_seen_at in the store only now and then (SPEC §3 "TTL"); never create a
  // stored session by reading it.
  const SessionOptions& opt = env_.options;
  if (now - state_.last_seen_at() > opt.ttl / std::max(1, opt.touch_divisor) && !state_.empty() &&
      etag_) {
    Mutation touch;
    touch.kind = Mutation::Kind::kTouch;
    touch.at = NextWriteTime();
    Accept(std::move(touch));
  }
}

void SessionActor::Drop(std::string view, std::vector<std::string> keys,
                        std::function<void(Result<size_t>)> done) {
  AccountingScope accounting(*this);
  WhenFresh([self = shared_from_this(), view = std::move(view), keys = std::move(keys),
             done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    Mutation m;
    m.kind = Mutation::Kind::kDrop;
    m.view = std::move(view);
    m.keys = std::move(keys);
    m.at = self->NextWriteTime();
    done(self->Accept(std::move(m)).removed);
  });
}

void SessionActor::Reset(std::string view, std::function<void(Result<bool>)> done) {
  AccountingScope accounting(*this);
  WhenFresh([self = shared_from_this(), view = std::move(view),
             done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    Mutation m;
    m.kind = Mutation::Kind::kReset;
    m.view = std::move(view);
    m.at = self->NextWriteTime();
    done(self->Accept(std::move(m)).removed > 0);
  });
}

void SessionActor::Delete(std::function<void(Result<bool>)> done) {
  AccountingScope accounting(*this);
  WhenFresh([self = shared_from_this(), done = std::move(done)](const Status& st) mutable {
    if (self->phase_ == Phase::kBroken) {
      // The one way out of an unreadable object: throw it away.
      self->MutableState() = SessionState();
      self->activity().broken = Status::OK();
      self->phase_ = Phase::kReady;
      self->MarkChanged();
      self->MaybeFlush();
      return done(true);
    }
    if (!st.ok()) return done(st);
    bool existed = !self->state_.empty();
    // Deleting the session is resetting every view at one instant: as a set of mutations it
    // rebases correctly if another writer changed the object meanwhile. With the state empty,
    // the flush deletes the object (on a shared store: leaves only the deletion records).
    Micros at = self->NextWriteTime();
    std::vector<std::string> views;
    for (const auto& [view, slice] : self->state_.views()) views.push_back(view.str());
    for (std::string& view : views) {
      Mutation m;
      m.kind = Mutation::Kind::kReset;
      m.view = std::move(view);
      m.at = at;
      self->Accept(std::move(m), /*flush=*/false);
    }
    self->MaybeFlush();
    done(existed);
  });
}

void SessionActor::Sync(std::chrono::milliseconds timeout, std::function<void(Status)> done) {
  AccountingScope accounting(*this);
  // A session that was never loaded has nothing accepted: it is trivially durable.
  if (phase_ == Phase::kNew) return done(Status::OK());
  WhenReady([self = shared_from_this(), timeout, done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    // Without an Activity nothing is pending: everything accepted is durable.
    if (!self->activity_ || self->activity_->durable_seq >= self->activity_->accepted_seq) {
      return done(Status::OK());
    }
    Activity& a = *self->activity_;
    auto& w = a.sync_waiters.emplace_back(
        SyncWaiter{a.accepted_seq, std::move(done),
                   std::make_unique<boost::asio::steady_timer>(self->env_.loop, timeout)});
    auto it = std::prev(a.sync_waiters.end());
    w.timer->async_wait(
        [weak = std::weak_ptr<SessionActor>(self), it](const boost::system::error_code& ec) {
          auto self = weak.lock();
          if (ec || !self) return;
          AccountingScope accounting(*self);
          auto done = std::move(it->done);
          self->activity_->sync_waiters.erase(it);  // the waiter keeps the Activity
          done(
              Status::Timeout("the store has not committed this session's writes yet; they are "
                              "still being retried"));
          self->ReleaseActivityIfIdle();
        });
  });
}

void SessionActor::CheckExpiry(std::function<void()> done) {
  AccountingScope accounting(*this);
  // WhenReady runs ExpireIfDue on every path that reaches a loaded state.
  WhenReady([done = std::move(done)](const Status&) { done(); });
}

void SessionActor::Dump(std::function<void(Result<std::optional<std::string>>)> done) {
  AccountingScope accounting(*this);
  WhenFresh([self = shared_from_this(), done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    if (self->state_.empty()) return done(std::optional<std::string>());
    done(std::optional<std::string>(self->state_.Encode(self->env_.options.writer_id)));
  });
}

bool SessionActor::Evictable() const {
  if (phase_ != Phase::kReady && phase_ != Phase::kBroken) return false;
  if (HasUndurableWrites() || retry_pending_ || revalidating_) return false;
  return !activity_ || (activity_->waiting.empty() && activity_->sync_waiters.empty() &&
                        activity_->revalidate_next.empty());
}

void SessionActor::StartAccounting() {
  accounted_ = true;
  accounted_bytes_ = 0;
  Reaccount();
}

void SessionActor::StopAccounting() {
  env_.stats.resident_bytes -= accounted_bytes_;
  accounted_bytes_ = 0;
  accounted_ = false;
}

void SessionActor::Reaccount() {
  if (!accounted_) return;
  // Walking the session is the costly part, and most entry points (a recover, a write's
  // completion) leave it unchanged: it is re-measured only after MutableState() was used.
  if (measured_bytes_stale_) {
    measured_bytes_ = MeasuredBytes();
    measured_bytes_stale_ = false;
  }
  const size_t bytes = ApproximateBytes(measured_bytes_);
  env_.stats.resident_bytes += bytes;
  env_.stats.resident_bytes -= accounted_bytes_;
  accounted_bytes_ = bytes;
}

size_t SessionActor::ApproximateBytes() const { return ApproximateBytes(MeasuredBytes()); }

size_t SessionActor::MeasuredBytes() const { return state_.ApproximateBytes() + EtagHeapBytes(); }

size_t SessionActor::KeyHeapBytes() const {
  return key_.HeapBytes() > 0 ? key_.HeapBytes() + kMallocOverhead : 0;
}

size_t SessionActor::ApproximateBytes(size_t measured_bytes) const {
  // The allocation make_shared made, and the heap parts. SessionState::ApproximateBytes counts
  // its own object too, so it is taken out of sizeof(*this).
  size_t bytes = kSharedAllocationOverhead + sizeof(*this) - sizeof(SessionState) + KeyHeapBytes() +
                 measured_bytes;
  if (activity_) {
    bytes += kMallocOverhead + sizeof(Activity) + activity_->pending_bytes +
             activity_->in_flight_bytes.capacity();
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Flushing

void SessionActor::MaybeFlush() {
  if (!dirty_ || write_in_flight_ || retry_pending_ || revalidating_) return;
  dirty_ = false;
  write_in_flight_ = true;
  Activity& a = activity();
  a.in_flight_seq = a.accepted_seq;
  // Nothing is in flight when a write starts (a failed one was requeued): the unflushed
  // mutations become the in-flight ones by swapping the vectors, without moving each.
  assert(a.in_flight.empty());
  a.in_flight.swap(a.unflushed);
  a.in_flight_pending_bytes = a.pending_bytes;
  ForgetOldDeletionRecords();

  // On a shared store a session with no data but deletion records is written, not deleted:
  // the records must reach the other daemons (and a delete is unconditional, a write is not).
  if (state_.empty() && !(shared_store_ && state_.has_deletion_records())) {
    if (!etag_) {
      // Nothing stored and nothing to store (e.g. a session created and reset before its
      // first write landed): already durable.
      OnWriteCommitted(std::nullopt);
      return;
    }
    env_.stats.store_deletes++;
    env_.writer.Remove(env_.loop, ObjectKey(),
                       [self = shared_from_this()](const Status& st) { self->OnRemoveDone(st); });
    return;
  }
  a.in_flight_bytes = state_.Encode(env_.options.writer_id);
  env_.stats.store_puts++;
  // The condition is built in the argument's place, not moved there: a move of each string of
  // a write (its name, its etag) is measurable when every stash makes one.
  env_.writer.Write(
      env_.loop, ObjectKey(), a.in_flight_bytes,
      etag_ ? store::WriteCondition::IfMatch(*etag_) : store::WriteCondition::CreateOnly(),
      shared_from_this());
}

void SessionActor::OnWriteDone(Result<std::string> result) {
  AccountingScope accounting(*this);
  if (result.ok()) return OnWriteCommitted(std::move(result).value());
  const Status& st = result.status();
  if (st.IsPreconditionFailed()) {
    env_.stats.precondition_conflicts++;
    env_.stats.store_gets++;
    env_.reader.Get(
        env_.loop, ObjectKey(), {},
        [self = shared_from_this()](Result<store::Object> r) { self->Rebase(std::move(r)); });
    return;
  }
  if (st.code() == StatusCode::kOutcomeUnknown) {
    env_.stats.outcome_unknown++;
    ResolveUnknownOutcome();
    return;
  }
  RetryLater(st);
}

void SessionActor::ResolveUnknownOutcome() {
  env_.stats.store_gets++;
  env_.reader.Get(env_.loop, ObjectKey(), {}, [self = shared_from_this()](Result<store::Object> r) {
    AccountingScope accounting(*self);
    if (r.ok() && r->data == self->activity().in_flight_bytes) {
      // The write landed; only its reply was lost.
      return self->OnWriteCommitted(r->etag);
    }
    if (!r.ok() && !r.status().IsNotFound()) return self->RetryLater(r.status());
    // The write did not land (or someone else wrote after it): merge and write again.
    self->Rebase(std::move(r));
  });
}

void SessionActor::OnRemoveDone(const Status& status) {
  AccountingScope accounting(*this);
  if (!status.ok()) return RetryLater(status);
  OnWriteCommitted(std::nullopt);
}

void SessionActor::OnWriteCommitted(std::optional<std::string>&& etag) {
  SetEtag(std::move(etag));
  write_in_flight_ = false;
  Activity& a = activity();
  // Free the buffers, not just their contents: most sessions now stay idle for long.
  std::vector<Mutation>().swap(a.in_flight);
  if (a.unflushed.empty()) std::vector<Mutation>().swap(a.unflushed);
  std::string().swap(a.in_flight_bytes);
  a.pending_bytes -= a.in_flight_pending_bytes;
  env_.stats.pending_bytes -= a.in_flight_pending_bytes;
  a.in_flight_pending_bytes = 0;
  a.durable_seq = a.in_flight_seq;
  a.retry_delay = {};
  if (a.write_failure_logged) {
    env_.logger.Info("session_write_recovered", {{"session", key()}});
    a.write_failure_logged = false;
  }
  if (!dirty_) env_.stats.dirty_sessions--;
  NotifySyncWaiters();
  MaybeRevalidate();  // before the next write, so that reads are not starved by writes
  MaybeFlush();
  ReleaseActivityIfIdle();
}

void SessionActor::Rebase(Result<store::Object> stored) {
  AccountingScope accounting(*this);
  SessionState base;
  std::optional<std::string> base_etag;
  if (stored.ok()) {
    Result<SessionState> decoded = SessionState::Decode(stored->data);
    if (decoded.ok()) {
      base = std::move(decoded).value();
    } else {
      // The other writer left something we cannot read. Our accepted writes must not be
      // lost, so they replace it; say so loudly.
      env_.logger.Error("session_overwriting_unreadable",
                        {{"session", key()}, {"error", decoded.status().message()}});
    }
    base_etag = stored->etag;
  } else if (!stored.status().IsNotFound()) {
    return RetryLater(stored.status());
  }
  AdoptBase(std::move(base), std::move(base_etag));
  // Everything goes out again in the next write.
  RequeueInFlight();
  write_in_flight_ = false;
  dirty_ = true;
  MaybeRevalidate();
  MaybeFlush();
}

void SessionActor::RetryLater(const Status& failure) {
  env_.stats.store_errors++;
  Activity& a = activity();
  if (!a.write_failure_logged) {
    env_.logger.Warn("session_write_failed",
                     {{"session", key()}, {"error", failure.ToString()}, {"action", "retrying"}});
    a.write_failure_logged = true;
  }
  // Put the in-flight mutations back in front of the newer ones: the retry writes the
  // current state, which contains them all.
  RequeueInFlight();
  write_in_flight_ = false;
  dirty_ = true;
  retry_pending_ = true;
  MaybeRevalidate();  // a read need not wait for the backoff (it fails if the store does)

  // Jittered exponential backoff: a random delay in [d/2, d], d doubling up to retry_max.
  a.retry_delay = std::clamp(a.retry_delay * 2, env_.options.retry_initial, env_.options.retry_max);
  auto half = a.retry_delay / 2;
  std::uniform_int_distribution<int64_t> pick(0, half.count());
  RetryTimer().expires_after(half + std::chrono::milliseconds(pick(RetryJitter())));
  RetryTimer().async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    AccountingScope accounting(*self);
    self->retry_pending_ = false;
    self->MaybeFlush();
  });
}

void SessionActor::RequeueInFlight() {
  Activity& a = activity();
  a.in_flight.insert(a.in_flight.end(), std::make_move_iterator(a.unflushed.begin()),
                     std::make_move_iterator(a.unflushed.end()));
  a.unflushed = std::move(a.in_flight);
  a.in_flight.clear();
  a.in_flight_pending_bytes = 0;
}

void SessionActor::NotifySyncWaiters() {
  // Take the satisfied waiters out before answering them: an answer may call back into this
  // actor, which may release the Activity.
  std::vector<std::function<void(Status)>> satisfied;
  Activity& a = activity();
  for (auto it = a.sync_waiters.begin(); it != a.sync_waiters.end();) {
    if (it->target <= a.durable_seq) {
      it->timer->cancel();
      satisfied.push_back(std::move(it->done));
      it = a.sync_waiters.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : satisfied) done(Status::OK());
}

}  // namespace ds::session
