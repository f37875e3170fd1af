#include "server/ttl_sweeper.h"

#include <boost/asio/post.hpp>

namespace ds::server {

TtlSweeper::TtlSweeper(boost::asio::io_context& loop, session::StoreExecutor& executor,
                       session::Clock& clock, Options options, CheckFn check, Logger& logger)
    : loop_(loop),
      executor_(executor),
      clock_(clock),
      options_(std::move(options)),
      check_(std::move(check)),
      logger_(logger),
      pass_timer_(loop),
      pace_timer_(loop) {}

void TtlSweeper::Start() {
  if (options_.interval.count() == 0 || options_.rate <= 0) return;
  ScheduleNextPass();
}

void TtlSweeper::Stop() {
  stopped_ = true;
  pass_timer_.cancel();
  pace_timer_.cancel();
}

void TtlSweeper::ScheduleNextPass() {
  pass_timer_.expires_after(options_.interval);
  pass_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) StartPass();
  });
}

void TtlSweeper::StartPass() {
  stats_.passes_started++;
  stats_.running = true;
  stats_.listed = 0;
  pass_started_ = std::chrono::steady_clock::now();
  continuation_.clear();
  last_page_ = false;
  ListNext();
}

void TtlSweeper::ListNext() {
  executor_.Run<Result<store::ListPage>>(
      loop_,
      [prefix = options_.key_prefix, token = continuation_](store::Store& s) {
        return s.List(prefix, token, kPageSize);
      },
      [this](Result<store::ListPage> page) {
        if (stopped_) return;
        if (!page.ok()) {
          // Try again at the next pass; a sweep is never urgent.
          stats_.list_errors++;
          logger_.Warn("sweep_list_failed", {{"error", page.status().ToString()}});
          EndPass();
          return;
        }
        const session::Micros now = clock_.Now();
        for (store::ListEntry& e : page->entries) {
          stats_.listed++;
          bool maybe_expired =
              e.last_modified_micros == 0 || e.last_modified_micros + options_.ttl < now;
          if (maybe_expired) queue_.push_back(e.key.substr(options_.key_prefix.size()));
        }
        continuation_ = std::move(page->continuation);
        last_page_ = continuation_.empty();
        CheckNext();
      });
}

void TtlSweeper::CheckNext() {
  if (stopped_ || pacing_ || !stats_.running) return;
  if (queue_.empty()) {
    if (!last_page_) {
      ListNext();
    } else if (in_flight_ == 0) {
      EndPass();
    }
    return;
  }
  if (in_flight_ >= kMaxInFlight) return;  // resumes when a check completes
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  in_flight_++;
  stats_.checked++;
  check_(key, [this] {
    boost::asio::post(loop_, [this] {
      in_flight_--;
      CheckNext();
    });
  });
  // Pace the next check so that the rate holds over any window.
  pacing_ = true;
  pace_timer_.expires_after(std::chrono::microseconds(static_cast<int64_t>(1e6 / options_.rate)));
  pace_timer_.async_wait([this](const boost::system::error_code& ec) {
    pacing_ = false;
    if (!ec) CheckNext();
  });
}

void TtlSweeper::EndPass() {
  stats_.running = false;
  stats_.passes_completed++;
  stats_.listed_last_pass = stats_.listed.load();
  auto took = std::chrono::steady_clock::now() - pass_started_;
  logger_.Info("sweep_complete",
               {{"listed", stats_.listed.load()},
                {"took_ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count()}});
  ScheduleNextPass();
}

}  // namespace ds::server
