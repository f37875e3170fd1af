// Hash64: the hash of the daemon's in-memory tables and of its routing of sessions to shards.
//
// XXH3-64: for the short keys these hash (session keys, object names) it takes about a third of
// std::hash's instructions, and its bits are mixed well enough that a table may use them as
// they are (boost::unordered's is_avalanching). Nothing stored depends on it: the file store's
// fan-out hash (store/file_names.h) is part of that store's format and is defined there.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace ds {

inline uint64_t Hash64(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace ds
