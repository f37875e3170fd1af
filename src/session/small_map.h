// SmallMap: an ordered map kept as a sorted vector, for the few entries a session's maps hold.
//
// Why: a session typically has one view with a handful of keys, and a daemon keeps hundreds of
// thousands of sessions resident. std::map spends a node per entry: a 32-byte tree header and
// a malloc header on top of the entry itself. A sorted vector spends one allocation per map and
// nothing per entry; lookups are binary searches over contiguous memory. Inserting or erasing
// moves the entries after the position, which is cheap at the sizes the limits allow
// (Limits::max_keys_per_view, Limits::max_views).
//
// It offers the part of std::map's interface the session code uses, with the same meaning
// (heterogeneous lookup included), except that an insertion or erasure invalidates iterators and
// references to the other entries.
//
// With kInline > 0 the first kInline entries live inside the map object itself (a
// boost::container::small_vector), and only a map that grows beyond them allocates an array.
// For a map that usually holds one entry — a session's views — that saves the allocation and,
// for every request that reads it, a cache miss that must wait for the one before it (the
// object holding the map, then the array).
#pragma once

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/name_compare.h"

namespace ds::session {

template <typename K, typename V, size_t kInline = 0>
class SmallMap {
 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<K, V>;

 private:
  using Entries = std::conditional_t<kInline == 0, std::vector<value_type>,
                                     boost::container::small_vector<value_type, kInline>>;

 public:
  using iterator = typename Entries::iterator;
  using const_iterator = typename Entries::const_iterator;

  SmallMap() = default;
  SmallMap(const SmallMap&) = default;
  SmallMap& operator=(const SmallMap&) = default;
  // Moving a map does not throw: its entries, whose moves do not throw, are moved only into
  // room that is already there (the inline room), or the array is taken whole.
  // boost::container::small_vector does not declare its moves noexcept, so it is said here.
  SmallMap(SmallMap&& other) noexcept  // NOLINT(bugprone-exception-escape): see above
      : entries_(std::move(other.entries_)) {}
  SmallMap& operator=(SmallMap&& other) noexcept {  // NOLINT(bugprone-exception-escape)
    entries_ = std::move(other.entries_);
    return *this;
  }
  ~SmallMap() = default;

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // How many entries the map has room for, and how many of those are in an allocation of
  // their own: none while the entries fit inline (for memory estimates).
  size_t capacity() const { return entries_.capacity(); }
  size_t heap_capacity() const { return entries_.capacity() > kInline ? entries_.capacity() : 0; }
  void reserve(size_t n) { entries_.reserve(n); }

  template <typename Key>
  iterator find(const Key& key) {
    auto pos = LowerBound(key);
    return pos != end() && Equal(key, pos->first) ? pos : end();
  }
  template <typename Key>
  const_iterator find(const Key& key) const {
    auto pos = LowerBound(key);
    return pos != end() && Equal(key, pos->first) ? pos : end();
  }
  template <typename Key>
  const V& at(const Key& key) const {
    auto pos = find(key);
    if (pos == end()) throw std::out_of_range("SmallMap::at: no such key");
    return pos->second;
  }

  // As std::map::try_emplace: inserts (key, V(args...)) unless `key` is present.
  template <typename Key, typename... Args>
  std::pair<iterator, bool> try_emplace(Key&& key, Args&&... args) {
    auto pos = LowerBound(key);
    if (pos != end() && Equal(key, pos->first)) return {pos, false};
    pos = entries_.emplace(pos, std::piecewise_construct,
                           std::forward_as_tuple(std::forward<Key>(key)),
                           std::forward_as_tuple(std::forward<Args>(args)...));
    return {pos, true};
  }
  template <typename Key, typename Value>
  std::pair<iterator, bool> emplace(Key&& key, Value&& value) {
    return try_emplace(std::forward<Key>(key), std::forward<Value>(value));
  }
  // As std::map::emplace_hint; appending in key order is the fast case the hint is for.
  template <typename Key, typename Value>
  iterator emplace_hint(const_iterator hint, Key&& key, Value&& value) {
    if (hint == end() && (empty() || Less(entries_.back().first, key))) {
      entries_.emplace_back(std::forward<Key>(key), std::forward<Value>(value));
      return std::prev(end());
    }
    return try_emplace(std::forward<Key>(key), std::forward<Value>(value)).first;
  }
  template <typename Key, typename Value>
  std::pair<iterator, bool> insert_or_assign(Key&& key, Value&& value) {
    auto [pos, inserted] = try_emplace(std::forward<Key>(key), std::forward<Value>(value));
    if (!inserted) pos->second = std::forward<Value>(value);
    return {pos, inserted};
  }

  iterator erase(const_iterator pos) { return entries_.erase(pos); }
  // As std::erase_if on a map: removes the entries `pred` holds for; returns how many.
  template <typename Pred>
  size_t erase_if(Pred pred) {
    const auto first_removed = std::remove_if(entries_.begin(), entries_.end(), pred);
    const auto removed = static_cast<size_t>(entries_.end() - first_removed);
    entries_.erase(first_removed, entries_.end());
    return removed;
  }

  friend bool operator==(const SmallMap&, const SmallMap&) = default;

 private:
  template <typename Key>
  iterator LowerBound(const Key& key) {
    return std::lower_bound(begin(), end(), key,
                            [](const value_type& e, const Key& k) { return Less(e.first, k); });
  }
  template <typename Key>
  const_iterator LowerBound(const Key& key) const {
    return std::lower_bound(begin(), end(), key,
                            [](const value_type& e, const Key& k) { return Less(e.first, k); });
  }

  // Names (std::string, ViewName, std::string_view) are compared by NameLess and NameEqual:
  // the same order, without a call to memcmp for short ones. Other keys use their operators.
  template <typename A, typename B>
  static bool Less(const A& a, const B& b) {
    if constexpr (kAreNames<A, B>) {
      return NameLess(a, b);
    } else {
      return a < b;
    }
  }
  template <typename A, typename B>
  static bool Equal(const A& a, const B& b) {
    if constexpr (kAreNames<A, B>) {
      return NameEqual(a, b);
    } else {
      return !(a < b) && !(b < a);
    }
  }
  template <typename A, typename B>
  static constexpr bool kAreNames = std::is_convertible_v<const A&, std::string_view>&&
      std::is_convertible_v<const B&, std::string_view>;

  static_assert(std::is_nothrow_move_constructible_v<value_type> &&
                std::is_nothrow_move_assignable_v<value_type>);
  Entries entries_;
};

}  // namespace ds::session
