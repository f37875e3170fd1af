// Rendering of value paths and quoted strings for error messages (see value_path.h).

#include "codec/value_path.h"

#include <cstdio>

#include "codec/utf8.h"

namespace ds::codec {

namespace {

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(letter || (digit && i > 0))) return false;
  }
  return true;
}

constexpr size_t kQuoteLimit = 64;

}  // namespace

void AppendPathIndex(size_t index, std::string& path) {
  path.push_back('[');
  path += std::to_string(index);
  path.push_back(']');
}

void AppendPathKey(std::string_view key, std::string& path) {
  if (IsIdentifier(key)) {
    if (!path.empty()) path.push_back('.');
    path += key;
  } else {
    path.push_back('[');
    path += QuoteForMessage(key);
    path.push_back(']');
  }
}

std::string QuoteForMessage(std::string_view s) {
  bool cut = false;
  if (s.size() > kQuoteLimit) {
    size_t n = kQuoteLimit;
    // Step back to a UTF-8 boundary so the message itself stays valid UTF-8.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  const bool valid = IsValidUtf8Text(s);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !valid)) {
      // Invalid UTF-8 (possible in a rejected binary) is shown byte by byte.
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  if (cut) out += "...";
  return out;
}

std::string ValuePath::Where() const {
  std::string path;
  for (const Step& step : steps_) {
    if (step.is_key) {
      AppendPathKey(step.key, path);
    } else {
      AppendPathIndex(step.index, path);
    }
  }
  return WhereText(path);
}

std::string WhereText(const std::string& path) {
  if (path.empty()) return "at the top level";
  return "at " + path;
}

}  // namespace ds::codec
