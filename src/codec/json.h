// JSON text <-> JsonValue.
//
// ParseJson is strict RFC 8259 with the normalization rules of SPEC §3 applied: invalid UTF-8,
// duplicate object keys (Elixir would silently keep one of them), floats outside the double
// range and nesting deeper than the limit are rejected with Status::BadValue (or Limit for the
// depth). WriteJson produces the canonical text: no insignificant whitespace, members in
// sorted order, floats in Erlang's shortest round-trip form (`float_to_binary(F, [short])`,
// which Elixir's JSON.encode! uses: 1.0, 0.1, 1.0e20, 1.5e-7).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "codec/json_value.h"
#include "common/result.h"

namespace ds::codec {

struct JsonLimits {
  size_t max_depth = 256;  // arrays/objects nested deeper are rejected
};

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits = {});

// True when `text` is already canonical: ParseJson(text, limits) succeeds and WriteJson of the
// result is `text` itself, byte for byte. One pass, no allocation. False means "not proven":
// the text may still be valid, so callers then take the full ParseJson + WriteJson path.
// Normalizing a value that is already canonical is then a copy (json_canonical.cc).
bool IsCanonicalJson(std::string_view text, const JsonLimits& limits = {});

// Canonical text of `value`.
std::string WriteJson(const JsonValue& value);
void AppendJson(const JsonValue& value, std::string& out);

// Erlang's `float_to_binary(d, [short])` for a finite double, e.g. "1.0", "1.0e20".
std::string FormatFloatShort(double d);

// Appends `s` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string_view s, std::string& out);

// The most bytes WriteJsonString writes for `s`: the quotes, and every byte escaped as \u00XX.
constexpr size_t MaxJsonStringBytes(std::string_view s) { return 2 + 6 * s.size(); }
// Writes `s` as a JSON string literal (as AppendJsonString) at `out`, which has room for
// MaxJsonStringBytes(s) bytes; returns the end of what it wrote. For writers that size their
// buffer once (the stored envelope) instead of growing a string piece by piece.
char* WriteJsonString(std::string_view s, char* out);

}  // namespace ds::codec
