// Implementation of object_file.h.
#include "store/object_file.h"

#include <xxhash.h>

#include "store/posix_io.h"

namespace ds::store::object_file {

std::string ContentEtag(std::string_view data) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(data.data(), data.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag;
  etag.reserve(kEtagSize);
  for (unsigned char byte : canonical.digest) {
    etag.push_back(kHex[byte >> 4]);
    etag.push_back(kHex[byte & 0xF]);
  }
  return etag;
}

std::string Header(std::string_view etag) {
  std::string header(kMagic);
  header += etag;
  header += '\n';
  return header;
}

Result<std::string> ReadEtag(int fd, std::string_view key) {
  char buf[kHeaderSize];
  Result<size_t> n = PReadUpTo(fd, buf, sizeof buf, 0, "read object " + std::string(key));
  if (!n.ok()) return n.status();
  std::string_view header(buf, *n);
  if (header.size() != kHeaderSize || !header.starts_with(kMagic) || header.back() != '\n') {
    return Status::Corruption("file store: object " + std::string(key) + " has no valid header");
  }
  return std::string(header.substr(kMagic.size(), kEtagSize));
}

}  // namespace ds::store::object_file
