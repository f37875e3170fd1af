// Session keys: the names under which sessions are stored.
//
// Clients send an HMAC of the cookie's sid (hex or base64url), never the sid itself, so that
// object names in the store reveal nothing about cookies. The daemon accepts 1-128 characters
// from A-Z a-z 0-9 - _: safe in every store's naming scheme (object keys, file names).
#pragma once

#include <cctype>
#include <cstddef>
#include <string_view>

namespace ds::session {

inline constexpr size_t kMaxSessionKeyBytes = 128;

inline bool IsValidSessionKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxSessionKeyBytes) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace ds::session
