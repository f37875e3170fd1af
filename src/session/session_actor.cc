#include "session/session_actor.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "common/status.h"

namespace ds::session {

bool RecoverNeedsStore(MountKind mount, const std::vector<KeyScope>& keys) {
  for (const KeyScope& k : keys) {
    // Session-scope keys are recovered on every mount. Reconnect-scope keys are recovered on
    // a rejoin and cleared on a fresh mount; a dead render neither recovers nor clears them.
    if (k.scope == Scope::kSession || mount != MountKind::kDead) return true;
  }
  return false;
}

SessionActor::SessionActor(ActorEnv env, std::string session_key)
    : env_(env),
      key_(std::move(session_key)),
      retry_timer_(env.loop),
      jitter_(static_cast<uint32_t>(std::hash<std::string>{}(key_))) {}

// A shard destroys actors only when they are evictable, or at the very end of a shutdown
// after it has logged every session whose writes could not be made durable. Callbacks still
// waiting then are dropped unanswered: their connections are gone too.
SessionActor::~SessionActor() = default;

// ---------------------------------------------------------------------------------------------
// Loading

void SessionActor::WhenReady(Waiter op) {
  switch (phase_) {
    case Phase::kReady:
      ExpireIfDue();
      op(Status::OK());
      return;
    case Phase::kBroken:
      op(broken_);
      return;
    case Phase::kNew:
      waiting_.push_back(std::move(op));
      StartLoad();
      return;
    case Phase::kLoading:
      waiting_.push_back(std::move(op));
      return;
  }
}

void SessionActor::StartLoad() {
  phase_ = Phase::kLoading;
  load_started_ = std::chrono::steady_clock::now();
  env_.stats.loads++;
  env_.stats.store_gets++;
  env_.reader.Get(env_.loop, ObjectKey(), {}, [self = shared_from_this()](Result<store::Object> r) {
    self->OnLoaded(std::move(r));
  });
}

void SessionActor::OnLoaded(Result<store::Object> result) {
  if (result.ok()) {
    Result<SessionState> decoded = SessionState::Decode(result->data);
    if (!decoded.ok()) {
      // Never overwrite what we cannot read: it may be a newer format or a damaged object
      // that an operator wants to inspect. DS.DELETE still works.
      etag_ = result->etag;
      broken_ = Status::Corruption("stored session " + key_ +
                                   " cannot be read: " + decoded.status().message());
      env_.logger.Error("session_unreadable",
                        {{"session", key_}, {"error", decoded.status().message()}});
      phase_ = Phase::kBroken;
      FinishLoad(broken_);
      return;
    }
    state_ = std::move(decoded).value();
    etag_ = result->etag;
    last_write_time_ = state_.last_seen_at();
  } else if (!result.status().IsNotFound()) {
    env_.stats.store_errors++;
    auto waited = std::chrono::steady_clock::now() - load_started_;
    if (waited < env_.options.load_deadline) {
      // Try again after a pause; the queued requests keep waiting.
      retry_delay_ =
          std::clamp(retry_delay_ * 2, env_.options.retry_initial, env_.options.retry_max);
      retry_timer_.expires_after(retry_delay_);
      retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        self->env_.stats.store_gets++;
        self->env_.reader.Get(self->env_.loop, self->ObjectKey(), {},
                              [self](Result<store::Object> r) { self->OnLoaded(std::move(r)); });
      });
      return;
    }
    env_.logger.Warn("session_load_failed",
                     {{"session", key_}, {"error", result.status().ToString()}});
    phase_ = Phase::kNew;  // the next request tries again
    retry_delay_ = {};
    FinishLoad(Status::Unavailable(
        "the store did not answer in time: " + result.status().message() + "; retry later"));
    return;
  }
  retry_delay_ = {};
  phase_ = Phase::kReady;
  ExpireIfDue();
  FinishLoad(Status::OK());
}

void SessionActor::FinishLoad(const Status& status) {
  std::vector<Waiter> waiting;
  waiting.swap(waiting_);
  for (Waiter& op : waiting) op(status);
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
  if (state_.empty() || !state_.Expired(env_.clock.Now(), env_.options.ttl)) return;
  env_.stats.expired++;
  Micros at = NextWriteTime();
  std::vector<std::string> views;
  for (const auto& [view, slice] : state_.views()) views.push_back(view);
  for (std::string& view : views) {
    Mutation reset;
    reset.kind = Mutation::Kind::kReset;
    reset.view = std::move(view);
    reset.at = at;
    Accept(std::move(reset));
  }
}

ApplyOutcome SessionActor::Accept(Mutation m) {
  ApplyOutcome outcome = state_.Apply(m);
  if (!outcome.changed) return outcome;
  unflushed_.push_back(std::move(m));
  accepted_seq_++;
  if (!dirty_ && !HasUndurableWrites()) env_.stats.dirty_sessions++;
  if (write_in_flight_ || retry_pending_) env_.stats.flushes_coalesced++;
  dirty_ = true;
  MaybeFlush();
  return outcome;
}

void SessionActor::Stash(Mutation m, std::function<void(Status)> done) {
  WhenReady([self = shared_from_this(), m = std::move(m),
             done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    self->env_.stats.stashes++;
    m.kind = Mutation::Kind::kStash;
    if (Status limit = self->state_.CheckStash(m, self->env_.options.limits); !limit.ok()) {
      return done(limit);
    }
    m.at = self->NextWriteTime();
    self->Accept(std::move(m));
    done(Status::OK());
  });
}

void SessionActor::Recover(RecoverRequest request, std::function<void(Result<RecoverReply>)> done) {
  WhenReady([self = shared_from_this(), request = std::move(request),
             done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    self->env_.stats.recovers++;
    Micros now = self->env_.clock.Now();
    std::optional<Mutation> clear;
    RecoverReply reply =
        self->state_.Recover(request.view, request.vsn, request.mount, request.keys, now, &clear);
    if (clear) {
      clear->at = self->NextWriteTime();
      self->Accept(std::move(*clear));
    }
    // Refresh last_seen_at in the store only now and then (SPEC §3 "TTL"); never create a
    // stored session by reading it.
    const SessionOptions& opt = self->env_.options;
    if (self->etag_ && !self->state_.empty() &&
        now - self->state_.last_seen_at() > opt.ttl / std::max(1, opt.touch_divisor)) {
      Mutation touch;
      touch.kind = Mutation::Kind::kTouch;
      touch.at = self->NextWriteTime();
      self->Accept(std::move(touch));
    }
    done(std::move(reply));
  });
}

void SessionActor::Drop(std::string view, std::vector<std::string> keys,
                        std::function<void(Result<size_t>)> done) {
  WhenReady([self = shared_from_this(), view = std::move(view), keys = std::move(keys),
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
  WhenReady([self = shared_from_this(), view = std::move(view),
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
  WhenReady([self = shared_from_this(), done = std::move(done)](const Status& st) mutable {
    if (self->phase_ == Phase::kBroken) {
      // The one way out of an unreadable object: throw it away.
      self->state_ = SessionState();
      self->broken_ = Status::OK();
      self->phase_ = Phase::kReady;
      self->accepted_seq_++;
      self->dirty_ = true;
      self->env_.stats.dirty_sessions++;
      self->MaybeFlush();
      return done(true);
    }
    if (!st.ok()) return done(st);
    bool existed = !self->state_.empty();
    // Deleting the session is resetting every view at one instant: as a set of mutations it
    // rebases correctly if another writer changed the object meanwhile. With the state empty,
    // the flush deletes the object.
    Micros at = self->NextWriteTime();
    std::vector<std::string> views;
    for (const auto& [view, slice] : self->state_.views()) views.push_back(view);
    for (std::string& view : views) {
      Mutation m;
      m.kind = Mutation::Kind::kReset;
      m.view = std::move(view);
      m.at = at;
      self->Accept(std::move(m));
    }
    done(existed);
  });
}

void SessionActor::Sync(std::chrono::milliseconds timeout, std::function<void(Status)> done) {
  // A session that was never loaded has nothing accepted: it is trivially durable.
  if (phase_ == Phase::kNew) return done(Status::OK());
  WhenReady([self = shared_from_this(), timeout, done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    if (self->durable_seq_ >= self->accepted_seq_) return done(Status::OK());
    auto& w = self->sync_waiters_.emplace_back(
        SyncWaiter{self->accepted_seq_, std::move(done),
                   std::make_unique<boost::asio::steady_timer>(self->env_.loop, timeout)});
    auto it = std::prev(self->sync_waiters_.end());
    w.timer->async_wait(
        [weak = std::weak_ptr<SessionActor>(self), it](const boost::system::error_code& ec) {
          auto self = weak.lock();
          if (ec || !self) return;
          auto done = std::move(it->done);
          self->sync_waiters_.erase(it);
          done(
              Status::Timeout("the store has not committed this session's writes yet; they are "
                              "still being retried"));
        });
  });
}

void SessionActor::CheckExpiry(std::function<void()> done) {
  // WhenReady runs ExpireIfDue on every path that reaches a loaded state.
  WhenReady([done = std::move(done)](const Status&) { done(); });
}

void SessionActor::Dump(std::function<void(Result<std::optional<std::string>>)> done) {
  WhenReady([self = shared_from_this(), done = std::move(done)](const Status& st) mutable {
    if (!st.ok()) return done(st);
    if (self->state_.empty()) return done(std::optional<std::string>());
    done(std::optional<std::string>(self->state_.Encode(self->env_.options.writer_id)));
  });
}

bool SessionActor::Evictable() const {
  return (phase_ == Phase::kReady || phase_ == Phase::kBroken) && !HasUndurableWrites() &&
         !retry_pending_ && waiting_.empty() && sync_waiters_.empty();
}

size_t SessionActor::ApproximateBytes() const {
  return sizeof(*this) + key_.capacity() + state_.ApproximateBytes();
}

// ---------------------------------------------------------------------------------------------
// Flushing

void SessionActor::MaybeFlush() {
  if (!dirty_ || write_in_flight_ || retry_pending_) return;
  dirty_ = false;
  write_in_flight_ = true;
  in_flight_seq_ = accepted_seq_;
  in_flight_.insert(in_flight_.end(), std::make_move_iterator(unflushed_.begin()),
                    std::make_move_iterator(unflushed_.end()));
  unflushed_.clear();

  if (state_.empty()) {
    if (!etag_) {
      // Nothing stored and nothing to store (e.g. a session created and reset before its
      // first write landed): already durable.
      OnWriteCommitted(std::nullopt);
      return;
    }
    env_.stats.store_deletes++;
    env_.writer.Remove(env_.loop, ObjectKey(),
                       [self = shared_from_this()](Status st) { self->OnRemoveDone(st); });
    return;
  }
  in_flight_bytes_ = state_.Encode(env_.options.writer_id);
  store::WriteCondition condition =
      etag_ ? store::WriteCondition::IfMatch(*etag_) : store::WriteCondition::CreateOnly();
  env_.stats.store_puts++;
  env_.writer.Write(
      env_.loop, ObjectKey(), in_flight_bytes_, std::move(condition),
      [self = shared_from_this()](Result<std::string> r) { self->OnWriteDone(std::move(r)); });
}

void SessionActor::OnWriteDone(Result<std::string> result) {
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
    if (r.ok() && r->data == self->in_flight_bytes_) {
      // The write landed; only its reply was lost.
      return self->OnWriteCommitted(r->etag);
    }
    if (!r.ok() && !r.status().IsNotFound()) return self->RetryLater(r.status());
    // The write did not land (or someone else wrote after it): merge and write again.
    self->Rebase(std::move(r));
  });
}

void SessionActor::OnRemoveDone(const Status& status) {
  if (!status.ok()) return RetryLater(status);
  OnWriteCommitted(std::nullopt);
}

void SessionActor::OnWriteCommitted(std::optional<std::string> etag) {
  etag_ = std::move(etag);
  write_in_flight_ = false;
  in_flight_.clear();
  in_flight_bytes_.clear();
  durable_seq_ = in_flight_seq_;
  retry_delay_ = {};
  if (write_failure_logged_) {
    env_.logger.Info("session_write_recovered", {{"session", key_}});
    write_failure_logged_ = false;
  }
  if (!dirty_) env_.stats.dirty_sessions--;
  NotifySyncWaiters();
  MaybeFlush();
}

void SessionActor::Rebase(Result<store::Object> stored) {
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
                        {{"session", key_}, {"error", decoded.status().message()}});
    }
    base_etag = stored->etag;
  } else if (!stored.status().IsNotFound()) {
    return RetryLater(stored.status());
  }
  // Replay, oldest first, everything accepted here and not yet committed.
  for (const Mutation& m : in_flight_) base.Apply(m);
  for (const Mutation& m : unflushed_) base.Apply(m);
  state_ = std::move(base);
  etag_ = std::move(base_etag);
  last_write_time_ = std::max(last_write_time_, state_.last_seen_at());
  // Everything goes out again in the next write.
  in_flight_.insert(in_flight_.end(), std::make_move_iterator(unflushed_.begin()),
                    std::make_move_iterator(unflushed_.end()));
  unflushed_ = std::move(in_flight_);
  in_flight_.clear();
  write_in_flight_ = false;
  dirty_ = true;
  MaybeFlush();
}

void SessionActor::RetryLater(const Status& failure) {
  env_.stats.store_errors++;
  if (!write_failure_logged_) {
    env_.logger.Warn("session_write_failed",
                     {{"session", key_}, {"error", failure.ToString()}, {"action", "retrying"}});
    write_failure_logged_ = true;
  }
  // Put the in-flight mutations back in front of the newer ones: the retry writes the
  // current state, which contains them all.
  in_flight_.insert(in_flight_.end(), std::make_move_iterator(unflushed_.begin()),
                    std::make_move_iterator(unflushed_.end()));
  unflushed_ = std::move(in_flight_);
  in_flight_.clear();
  write_in_flight_ = false;
  dirty_ = true;
  retry_pending_ = true;

  // Jittered exponential backoff: a random delay in [d/2, d], d doubling up to retry_max.
  retry_delay_ = std::clamp(retry_delay_ * 2, env_.options.retry_initial, env_.options.retry_max);
  auto half = retry_delay_ / 2;
  std::uniform_int_distribution<int64_t> pick(0, half.count());
  retry_timer_.expires_after(half + std::chrono::milliseconds(pick(jitter_)));
  retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    self->retry_pending_ = false;
    self->MaybeFlush();
  });
}

void SessionActor::NotifySyncWaiters() {
  for (auto it = sync_waiters_.begin(); it != sync_waiters_.end();) {
    if (it->target <= durable_seq_) {
      it->timer->cancel();
      auto done = std::move(it->done);
      it = sync_waiters_.erase(it);
      done(Status::OK());
    } else {
      ++it;
    }
  }
}

}  // namespace ds::session
