// The format of one object file of the file store (file_store.h has the directory layout):
//
//   "DSF1 " <etag: 32 lower-case hex digits> "\n" <data>
//
// The etag is XXH3-128 of the data (see file_store.h for why a content hash). The header is
// text so that `head -c 200 FILE` shows a human the etag and the start of the JSON envelope.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ds::store::object_file {

inline constexpr std::string_view kMagic = "DSF1 ";
inline constexpr size_t kEtagSize = 32;
inline constexpr size_t kHeaderSize = kMagic.size() + kEtagSize + 1;

// The etag of `data`: XXH3-128, as 32 lower-case hex digits.
std::string ContentEtag(std::string_view data);

// The header for an object with etag `etag`.
std::string Header(std::string_view etag);

// The etag in the header of the open object file `fd`; Corruption when the header is not
// valid. `key` is for messages.
Result<std::string> ReadEtag(int fd, std::string_view key);

}  // namespace ds::store::object_file
