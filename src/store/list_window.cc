// Implementation of list_window.h.
#include "store/list_window.h"

namespace ds::store {

void ListWindow::Note(const std::string& name, bool present) {
  std::lock_guard lock(mu_);
  if (scanning_) pending_.emplace_back(name, present);
  if (valid_ && Covers(name)) Apply(name, present);
}

bool ListWindow::Covers(std::string_view name) const {
  return name.starts_with(prefix_) && (after_.empty() || name > after_) &&
         (complete_ || name <= last_);
}

void ListWindow::Apply(const std::string& name, bool present) {
  if (present) {
    names_.insert(name);
  } else {
    names_.erase(name);
  }
}

bool ListWindow::TryServe(std::string_view prefix, std::string_view after, size_t count,
                          std::vector<std::string>* names, bool* more) {
  std::lock_guard lock(mu_);
  if (!valid_ || prefix != prefix_) return false;
  // The window holds every name in (after_, last_]; the request starts at `after`.
  if (!after_.empty() && (after.empty() || after < after_)) return false;
  auto it = after.empty() ? names_.begin() : names_.upper_bound(after);
  std::vector<std::string> out;
  for (; it != names_.end() && out.size() <= count; ++it) out.push_back(*it);
  if (out.size() > count) {
    out.pop_back();
    *more = true;
  } else if (complete_) {
    *more = false;
  } else {
    // Names beyond last_ are not in the window: it cannot fill this page.
    return false;
  }
  *names = std::move(out);
  return true;
}

void ListWindow::BeginScan() {
  std::lock_guard lock(mu_);
  valid_ = false;
  names_.clear();
  pending_.clear();
  scanning_ = true;
}

void ListWindow::Install(std::string prefix, std::string after, std::vector<std::string> sorted,
                         bool complete) {
  std::lock_guard lock(mu_);
  prefix_ = std::move(prefix);
  after_ = std::move(after);
  complete_ = complete || sorted.empty();
  last_ = sorted.empty() ? std::string() : sorted.back();
  names_ = std::set<std::string, std::less<>>(std::make_move_iterator(sorted.begin()),
                                              std::make_move_iterator(sorted.end()));
  valid_ = true;
  for (const auto& [name, present] : pending_) {
    if (Covers(name)) Apply(name, present);
  }
  pending_.clear();
  scanning_ = false;
}

void ListWindow::AbortScan() {
  std::lock_guard lock(mu_);
  pending_.clear();
  scanning_ = false;
}

void ListWindow::Clear() {
  std::lock_guard lock(mu_);
  valid_ = false;
  names_.clear();
}

}  // namespace ds::store
