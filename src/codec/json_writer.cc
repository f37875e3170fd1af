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

#include "codec/byte_scan.h"
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

// Whether `s` is all plain text that needs no escape: names and keys almost always are, and
// are then appended in one piece. Whole words at a time (codec/byte_scan.h); a word with a
// byte above 0x7f is not plain for that test, so UTF-8 names are checked byte by byte.
bool IsAllPlainText(std::string_view s) {
  size_t i = SkipPlainJsonText(s, 0);
  for (; i < s.size(); ++i) {
    if (NeedsEscape(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  if (IsAllPlainText(s)) {
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
