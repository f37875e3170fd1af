// Test helpers: the three kinds of Mutation, built in one call, with explicit write times.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "session/session_state.h"

namespace ds::session::test {

using Entries = std::vector<std::pair<std::string, std::string>>;

inline Mutation Stash(std::string view, int64_t vsn, Entries entries, Micros at) {
  Mutation m;
  m.kind = Mutation::Kind::kStash;
  m.view = std::move(view);
  m.vsn = vsn;
  m.entries = std::move(entries);
  m.at = at;
  return m;
}

inline Mutation Drop(std::string view, std::vector<std::string> keys, Micros at) {
  Mutation m;
  m.kind = Mutation::Kind::kDrop;
  m.view = std::move(view);
  m.keys = std::move(keys);
  m.at = at;
  return m;
}

inline Mutation Reset(std::string view, Micros at) {
  Mutation m;
  m.kind = Mutation::Kind::kReset;
  m.view = std::move(view);
  m.at = at;
  return m;
}

}  // namespace ds::session::test
