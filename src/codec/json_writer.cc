// WriteJson / AppendJson: the canonical text of a normalized value.
//
// Canonical means: no insignificant whitespace, object members in their stored (sorted)
// order, integers as their decimal text, floats as Erlang's float_to_binary(F, [short]), and
// strings escaped exactly as Erlang's `json:encode_binary/1` (which Elixir's JSON.encode!
// uses) escapes them: `"` and `\`, and control characters as \b \t \n \f \r or \u00XX with
// upper-case hex; every other character, including non-ASCII, as raw UTF-8. So for a value
// whose maps have sorted keys, the bytes equal what JSON.encode! produces, and equal values
// always give equal bytes (the fingerprint of a value is a hash of this text).

#include <cassert>
#include <cmath>
#include <cstring>
#include <string_view>

#include "codec/byte_scan.h"
#include "codec/json.h"

namespace ds::codec {

namespace {

// The escape sequence of each control byte, indexed by its value.
constexpr std::string_view kControlEscapes[0x20] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000B", "\\f",     "\\r",     "\\u000E", "\\u000F",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001A", "\\u001B", "\\u001C", "\\u001D", "\\u001E", "\\u001F",
};

inline bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether `s` is all plain text that needs no escape: names and keys almost always are, and
// are then appended in one piece. Whole words at a time (codec/byte_scan.h); a byte above 0x7f
// stops the scan without needing an escape, so UTF-8 names are scanned on past it.
bool IsAllPlainText(std::string_view s) {
  for (size_t i = FindNotPlainJsonText(s, 0); i < s.size(); i = FindNotPlainJsonText(s, i + 1)) {
    if (NeedsEscape(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

char* WriteJsonString(std::string_view s, char* out) {
  *out++ = '"';
  // Nearly every name is plain text: it is copied a word at a time as each word is checked,
  // the last few bytes as the string's last word (overlapping bytes already copied), so a
  // name costs one pass and no call. From the first word that holds a byte needing a look (an
  // escape, or a byte of a multi-byte character), the rest goes byte by byte.
  const char* const in = s.data();
  const size_t n = s.size();
  size_t pos = 0;
  for (; pos + 8 <= n; pos += 8) {
    const uint64_t word = LoadWord(in + pos);
    if (NotPlainJsonTextLanes(word) != 0) break;
    std::memcpy(out + pos, &word, 8);
  }
  if (pos < n && pos + 8 > n && n >= 8) {
    const uint64_t last = LoadWord(in + n - 8);
    if (NotPlainJsonTextLanes(last) == 0) {
      std::memcpy(out + n - 8, &last, 8);
      pos = n;
    }
  }
  out += pos;
  for (const char ch : s.substr(pos)) {
    const auto c = static_cast<unsigned char>(ch);
    if (!NeedsEscape(c)) {
      *out++ = ch;
    } else if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = ch;
    } else {
      const std::string_view escape = kControlEscapes[c];
      std::memcpy(out, escape.data(), escape.size());
      out += escape.size();
    }
  }
  *out++ = '"';
  return out;
}

void AppendJsonString(std::string_view s, std::string& out) {
  if (IsAllPlainText(s)) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  const size_t start = out.size();
  out.resize(start + MaxJsonStringBytes(s));
  char* end = WriteJsonString(s, out.data() + start);
  out.resize(static_cast<size_t>(end - out.data()));
}

void AppendJson(const JsonValue& value, std::string& out) {
  switch (value.kind) {
    case JsonValue::Kind::kNull:
      out += "null";
      return;
    case JsonValue::Kind::kBool:
      out += value.boolean ? "true" : "false";
      return;
    case JsonValue::Kind::kInteger:
      out += value.text;
      return;
    case JsonValue::Kind::kFloat:
      // Both parsers reject NaN and infinities; a hand-built value must not hold them either.
      assert(std::isfinite(value.number));
      out += FormatFloatShort(value.number);
      return;
    case JsonValue::Kind::kString:
      AppendJsonString(value.text, out);
      return;
    case JsonValue::Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const JsonValue& item : value.items) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out.push_back(']');
      return;
    }
    case JsonValue::Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.members) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(key, out);
        out.push_back(':');
        AppendJson(member, out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string WriteJson(const JsonValue& value) {
  std::string out;
  AppendJson(value, out);
  return out;
}

}  // namespace ds::codec
