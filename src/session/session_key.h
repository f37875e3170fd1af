// Session keys: the names under which sessions are stored.
//
// Clients send an HMAC of the cookie's sid (hex or base64url), never the sid itself, so that
// object names in the store reveal nothing about cookies. The daemon accepts 1-128 characters
// from A-Z a-z 0-9 - _: safe in every store's naming scheme (object keys, file names).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace ds::session {

inline constexpr size_t kMaxSessionKeyBytes = 128;

// Which bytes a session key may hold, as a table: one load per byte. (std::isalnum consults the
// C locale on every call, which was a measurable part of each request, and could accept more
// letters in another locale.)
inline constexpr std::array<bool, 256> kSessionKeyChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
  }
  return table;
}();

inline bool IsValidSessionKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxSessionKeyBytes) return false;
  // Every request checks its key, and nearly every key is valid: the bytes are judged without
  // a branch each, so that the loop runs straight through (and the compiler can unroll it).
  bool valid = true;
  for (char c : key) valid &= kSessionKeyChars[static_cast<unsigned char>(c)];
  return valid;
}

}  // namespace ds::session
