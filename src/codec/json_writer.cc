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
#include <cstdint>
#include <cstring>

#include "codec/json.h"

namespace ds::codec {

namespace {

// Escape sequence for bytes that need one, or nullptr. Indexed by byte value < 0x20.
constexpr const char* kControlEscapes[0x20] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000B", "\\f",     "\\r",     "\\u000E", "\\u000F",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001A", "\\u001B", "\\u001C", "\\u001D", "\\u001E", "\\u001F",
};

inline bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any byte of `s` needs an escape, eight bytes at a time: names and keys almost never
// do, and then the string is appended in one piece. Per 8-byte word w, with b(x) the byte x in
// every lane: (w - b(n)) & ~w & b(0x80) is non-zero exactly when some byte of w is below n
// (n <= 0x80), so a byte equal to c shows up as a zero byte of w ^ b(c) (below 1).
bool AnyNeedsEscape(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto any_below = [](uint64_t w, uint64_t n) { return ((w - kOnes * n) & ~w & kHighs) != 0; };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, sizeof(w));
    if (any_below(w, 0x20) || any_below(w ^ (kOnes * '"'), 1) || any_below(w ^ (kOnes * '\\'), 1)) {
      return true;
    }
  }
  for (; i < s.size(); ++i) {
    if (NeedsEscape(static_cast<unsigned char>(s[i]))) return true;
  }
  return false;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  if (!AnyNeedsEscape(s)) {
    out.append(s);
    out.push_back('"');
    return;
  }
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;
    out.append(s.data() + run, i - run);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += kControlEscapes[c];
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
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
