// Implementation of file_names.h.
#include "store/file_names.h"

#include <xxhash.h>

namespace ds::store::file_names {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

bool IsPlain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// The escape character of a byte that is not plain (see the table in file_names.h).
char EscapeFor(unsigned char c) {
  if (c < '0') return '%';
  if (c < 'A') return '@';
  if (c < 'a') return '^';
  return '~';
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower-case hex is not canonical
}

}  // namespace

uint64_t KeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

size_t FanoutIndex(uint64_t key_hash) { return static_cast<size_t>(key_hash >> 56); }

std::string FanoutDirName(size_t index) {
  return {kHexLower[(index >> 4) & 0xF], kHexLower[index & 0xF]};
}

std::string Encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 16);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (IsPlain(c)) {
      out.push_back(ch);
    } else {
      out.push_back(EscapeFor(c));
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> EncodeKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("store keys must not be empty");
  std::string name = Encode(key);
  if (name.size() > kMaxFileName) {
    return Status::InvalidArgument("key too long for the file store (" +
                                   std::to_string(name.size()) + " bytes as a file name, at most " +
                                   std::to_string(kMaxFileName) + ")");
  }
  return name;
}

bool DecodeFileName(std::string_view name, std::string* key) {
  key->clear();
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (IsPlain(c)) {
      key->push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= name.size()) return false;
    const int hi = UpperHexValue(name[i + 1]);
    const int lo = UpperHexValue(name[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const auto byte = static_cast<unsigned char>(hi << 4 | lo);
    // Canonical only: the byte must need escaping, with this escape character.
    if (IsPlain(byte) || EscapeFor(byte) != static_cast<char>(c)) return false;
    key->push_back(static_cast<char>(byte));
    i += 2;
  }
  return true;
}

}  // namespace ds::store::file_names
