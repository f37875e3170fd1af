// ViewName: the name of a view (a LiveView module) as a session stores it, held inline.
//
// Why not std::string: every stash and recover finds its view in the session by comparing
// names, and a module name ("Elixir.MyAppWeb.UserSettingsLive") is longer than std::string's
// 15-byte inline buffer, so each comparison would read a separate allocation — with many
// sessions, a cache miss per request. A ViewName keeps up to kInlineBytes in the session's own
// array of views (longer names are allowed and get an allocation), and compares as the bytes
// it holds, in the unsigned byte order std::string and std::string_view use.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace ds::session {

class ViewName {
 public:
  static constexpr size_t kInlineBytes = 40;

  ViewName() = default;
  explicit ViewName(std::string_view name) { Assign(name); }
  ViewName(const ViewName& other) { Assign(other.view()); }
  ViewName& operator=(const ViewName& other) {
    if (this != &other) Assign(other.view());
    return *this;
  }
  ViewName(ViewName&& other) noexcept { *this = std::move(other); }
  ViewName& operator=(ViewName&& other) noexcept {
    if (this != &other) {
      size_ = other.size_;
      heap_ = std::move(other.heap_);
      if (!heap_) std::memcpy(inline_.data(), other.inline_.data(), size_);
      other.size_ = 0;
    }
    return *this;
  }
  ~ViewName() = default;

  std::string_view view() const { return {heap_ ? heap_.get() : inline_.data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(view()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes allocated outside the object (for memory estimates): 0 while the name fits inline.
  size_t HeapBytes() const { return heap_ ? size_ : 0; }

  friend bool operator==(const ViewName& a, const ViewName& b) { return a.view() == b.view(); }
  friend std::strong_ordering operator<=>(const ViewName& a, const ViewName& b) {
    return a.view() <=> b.view();
  }
  // Against any text (std::string, std::string_view, a literal), for lookups by name.
  friend bool operator==(const ViewName& a, std::string_view b) { return a.view() == b; }
  friend bool operator<(const ViewName& a, std::string_view b) { return a.view() < b; }
  friend bool operator<(std::string_view a, const ViewName& b) { return a < b.view(); }

 private:
  void Assign(std::string_view name) {
    size_ = name.size();
    if (name.size() <= kInlineBytes) {
      heap_.reset();
      std::memcpy(inline_.data(), name.data(), name.size());
    } else {
      heap_ = std::make_unique_for_overwrite<char[]>(name.size());
      std::memcpy(heap_.get(), name.data(), name.size());
    }
  }

  size_t size_ = 0;
  std::array<char, kInlineBytes> inline_;  // the name, when it fits
  std::unique_ptr<char[]> heap_;           // the name, when it does not
};

}  // namespace ds::session
