// JsonValue: a JSON document in DurableStash's normalized form.
//
// Every value the daemon stores has passed through this type, whether it arrived as JSON text
// or as Erlang external term format (ETF). The form matches what Elixir's
// `JSON.decode!(JSON.encode!(term))` yields (docs: reference json-normalization):
//   - integers keep every digit (JSON and Erlang integers are unbounded), held as decimal text;
//   - floats are IEEE doubles;
//   - object members are sorted by key bytes and keys are unique.
// Because the form is canonical, two equal values always serialize to the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::codec {

struct JsonValue {
  enum class Kind { kNull, kBool, kInteger, kFloat, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;  // kBool
  double number = 0.0;   // kFloat
  // kInteger: canonical decimal text ("-12", "0", never "-0" or leading zeros).
  // kString: the UTF-8 bytes of the string.
  std::string text;
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject: sorted, unique keys

  static JsonValue Null() { return {}; }
  static JsonValue Bool(bool b) {
    JsonValue v;
    v.kind = Kind::kBool;
    v.boolean = b;
    return v;
  }
  static JsonValue Integer(std::string decimal) {
    JsonValue v;
    v.kind = Kind::kInteger;
    v.text = std::move(decimal);
    return v;
  }
  static JsonValue Float(double d) {
    JsonValue v;
    v.kind = Kind::kFloat;
    v.number = d;
    return v;
  }
  static JsonValue String(std::string s) {
    JsonValue v;
    v.kind = Kind::kString;
    v.text = std::move(s);
    return v;
  }
  static JsonValue Array(std::vector<JsonValue> items) {
    JsonValue v;
    v.kind = Kind::kArray;
    v.items = std::move(items);
    return v;
  }
  // REQUIRES: members sorted by key and unique (use SortMembers() when building by hand).
  static JsonValue Object(std::vector<std::pair<std::string, JsonValue>> members) {
    JsonValue v;
    v.kind = Kind::kObject;
    v.members = std::move(members);
    return v;
  }

  // Looks up an object member; nullptr if absent or not an object.
  const JsonValue* Find(std::string_view key) const;

  friend bool operator==(const JsonValue&, const JsonValue&) = default;
};

// Sorts object members by key bytes, as JsonValue::Object requires. Stable; the caller keeps
// keys unique.
void SortMembers(std::vector<std::pair<std::string, JsonValue>>& members);

}  // namespace ds::codec
