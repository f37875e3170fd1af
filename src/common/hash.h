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

// A key for find() on a Boost open-addressing container hashed by Hash64, standing for "the
// element with this hash, probably": it matches the first element whose tag (the 7 bits of the
// hash the container keeps per slot) is this hash's, without reading any element. Comparing
// real keys would wait for the element's memory, which with many elements is a cache miss; the
// candidate costs only the group of tags and the slot's address, so the lookups of a batch can
// all be started before any of their elements has arrived. The candidate is the wanted element
// nearly always (another element shares the tag about once in 128 per slot tried, and a key
// that is absent may still find one), so it is for hints such as prefetches, never for
// decisions. A container that accepts it says so in its hasher and key-equality types.
struct HashProbe {
  uint64_t hash;
};

}  // namespace ds
