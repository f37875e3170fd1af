// DecodeEtf: Erlang terms -> normalized JsonValue, with the rules of Elixir's
// `term |> JSON.encode!() |> JSON.decode!()` (SPEC §3, reference/json-normalization.md).
//
// This is the second pass; the first (etf_reader.cc) has already checked the framing and
// built a TermTree. Here each term is either converted or refused with a message that names
// what it is and where it sits ("a tuple at [2].pos").
//
// The rules, as JSON.Encoder and OTP's json module apply them:
//   integers (any size) -> integers; floats -> floats
//   nil / true / false -> null / true / false; other atoms -> their name as a string
//   binaries -> strings (must be UTF-8); bitstrings -> refused
//   proper lists -> arrays (a charlist 'ab' is [97, 98]); improper lists -> refused
//   maps -> objects, keys stringified (see KeyText); two keys with the same text -> refused
//   Date, Time, NaiveDateTime, DateTime, Duration structs -> ISO 8601 strings
//   other structs, tuples, pids, ports, references, functions -> refused

#include "codec/etf.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/etf_calendar.h"
#include "codec/etf_reader.h"
#include "codec/json.h"
#include "codec/utf8.h"
#include "codec/value_path.h"

namespace ds::codec {

namespace {

// "a tuple", "an atom", ... for messages.
std::string_view Describe(TermType type) {
  switch (type) {
    case TermType::kInteger:
    case TermType::kBigInteger:
      return "an integer";
    case TermType::kFloat:
      return "a float";
    case TermType::kAtom:
      return "an atom";
    case TermType::kBinary:
      return "a binary";
    case TermType::kBitstring:
      return "a bitstring";
    case TermType::kNil:
    case TermType::kByteList:
    case TermType::kList:
      return "a list";
    case TermType::kMap:
      return "a map";
    case TermType::kTuple:
      return "a tuple";
    case TermType::kPid:
      return "a pid";
    case TermType::kPort:
      return "a port";
    case TermType::kReference:
      return "a reference";
    case TermType::kFunction:
      return "a function";
  }
  return "a term";
}

// Why a type cannot be stored, and what to do instead.
std::string_view Advice(TermType type) {
  switch (type) {
    case TermType::kTuple:
      return "JSON has no tuples; convert it to a list or a map first";
    case TermType::kBitstring:
      return "only binaries of whole bytes can be stored";
    case TermType::kPid:
    case TermType::kPort:
    case TermType::kReference:
    case TermType::kFunction:
      return "it only has meaning inside the running BEAM; keep it out of stashed values";
    default:
      return "it has no JSON form";
  }
}

class Normalizer {
 public:
  Normalizer(const TermTree& tree, const EtfLimits& limits) : tree_(tree), limits_(limits) {}

  // Converts term `i`; `depth` is the number of arrays/objects around it.
  Status Value(uint32_t i, size_t depth, JsonValue* out);

 private:
  Status List(uint32_t i, size_t depth, JsonValue* out);
  Status Map(uint32_t i, size_t depth, JsonValue* out);
  Status Struct(uint32_t i, uint32_t module_atom, JsonValue* out);
  // The JSON object key map key `i` becomes; `map_where` locates the map for messages.
  Status KeyText(uint32_t i, const std::string& map_where, std::string* out);
  // :unicode.characters_to_binary/1, which List.to_string/1 uses for list keys.
  bool AppendChardata(uint32_t i, std::string& out) const;
  Status CheckDepth(size_t depth) const;
  // If term `i` is a map with an atom __struct__ key holding an atom, that atom.
  std::optional<uint32_t> StructModule(uint32_t i) const;

  Status Refuse(TermType type) const {
    return Status::BadValue("cannot store " + std::string(Describe(type)) + " " + path_.Where() +
                            ": " + std::string(Advice(type)));
  }
  // Status with the path of the current value appended, for Limit errors from helpers.
  Status Locate(const Status& s) const {
    if (s.ok()) return s;
    const std::string msg = s.message() + " " + path_.Where();
    return s.code() == StatusCode::kLimit ? Status::Limit(msg) : Status::BadValue(msg);
  }

  const TermTree& tree_;
  const EtfLimits& limits_;
  ValuePath path_;
};

Status Normalizer::CheckDepth(size_t depth) const {
  if (depth < limits_.max_depth) return Status::OK();
  return Status::Limit("value nested deeper than " + std::to_string(limits_.max_depth) +
                       " levels " + path_.Where());
}

Status Normalizer::Value(uint32_t i, size_t depth, JsonValue* out) {
  const Term& t = tree_[i];
  switch (t.type) {
    case TermType::kInteger:
      *out = JsonValue::Integer(std::to_string(t.integer));
      return Status::OK();
    case TermType::kBigInteger: {
      std::string text;
      if (Status s = tree_.IntegerText(i, &text); !s.ok()) return Locate(s);
      *out = JsonValue::Integer(std::move(text));
      return Status::OK();
    }
    case TermType::kFloat:
      *out = JsonValue::Float(t.number);
      return Status::OK();
    case TermType::kAtom:
      if (t.bytes == "nil") {
        *out = JsonValue::Null();
      } else if (t.bytes == "true" || t.bytes == "false") {
        *out = JsonValue::Bool(t.bytes == "true");
      } else {
        *out = JsonValue::String(tree_.AtomName(i));
      }
      return Status::OK();
    case TermType::kBinary: {
      const size_t bad = Utf8ErrorOffset(t.bytes);
      if (bad != std::string_view::npos) {
        return Status::BadValue("cannot store a binary that is not valid UTF-8 " + path_.Where() +
                                " (invalid byte at offset " + std::to_string(bad) +
                                " of the binary): JSON strings must be UTF-8; encode binary "
                                "data first, e.g. with Base.encode64/1");
      }
      *out = JsonValue::String(std::string(t.bytes));
      return Status::OK();
    }
    case TermType::kNil:
    case TermType::kByteList:
    case TermType::kList:
      return List(i, depth, out);
    case TermType::kMap:
      return Map(i, depth, out);
    default:
      return Refuse(t.type);
  }
}

Status Normalizer::List(uint32_t i, size_t depth, JsonValue* out) {
  if (Status s = CheckDepth(depth); !s.ok()) return s;
  const Term& t = tree_[i];
  std::vector<JsonValue> items;
  auto append_bytes = [&items](std::string_view bytes) {
    for (char c : bytes) {
      items.push_back(JsonValue::Integer(std::to_string(static_cast<unsigned char>(c))));
    }
  };
  if (t.type == TermType::kByteList) {
    items.reserve(t.bytes.size());
    append_bytes(t.bytes);
  } else if (t.type == TermType::kList) {
    const uint32_t elements = t.children - 1;  // the last child is the tail
    items.reserve(elements);
    uint32_t child = TermTree::FirstChild(i);
    for (uint32_t k = 0; k < elements; ++k) {
      path_.PushIndex(k);
      JsonValue item;
      Status s = Value(child, depth + 1, &item);
      path_.Pop();
      if (!s.ok()) return s;
      items.push_back(std::move(item));
      child = tree_.Next(child);
    }
    const Term& tail = tree_[child];
    if (tail.type == TermType::kByteList) {
      append_bytes(tail.bytes);  // [1 | 'ab'] is the proper list [1, 97, 98]
    } else if (tail.type != TermType::kNil) {
      return Status::BadValue("cannot store an improper list " + path_.Where() + " (its tail is " +
                              std::string(Describe(tail.type)) +
                              "): only proper lists become JSON arrays");
    }
  }
  *out = JsonValue::Array(std::move(items));
  return Status::OK();
}

std::optional<uint32_t> Normalizer::StructModule(uint32_t i) const {
  if (tree_[i].type != TermType::kMap) return std::nullopt;
  const std::optional<uint32_t> module = tree_.FindAtomKey(i, "__struct__");
  // Elixir dispatches on the struct only when __struct__ holds an atom; a map whose
  // __struct__ is, say, a string is encoded as a plain map.
  if (!module || tree_[*module].type != TermType::kAtom) return std::nullopt;
  return module;
}

Status Normalizer::Map(uint32_t i, size_t depth, JsonValue* out) {
  if (const std::optional<uint32_t> module = StructModule(i)) return Struct(i, *module, out);
  if (Status s = CheckDepth(depth); !s.ok()) return s;

  const uint32_t pairs = tree_[i].children / 2;
  std::vector<std::pair<std::string, JsonValue>> members;
  members.reserve(pairs);
  std::string where;  // of this map, computed only if a key needs it
  uint32_t child = TermTree::FirstChild(i);
  for (uint32_t k = 0; k < pairs; ++k) {
    const uint32_t value = tree_.Next(child);
    std::string key;
    if (tree_[child].type == TermType::kAtom) {
      key = tree_.AtomName(child);  // the common case: atom keys, e.g. %{count: 1}
    } else {
      if (where.empty()) where = path_.Where();
      if (Status s = KeyText(child, where, &key); !s.ok()) return s;
    }
    path_.PushKey(key);
    JsonValue v;
    Status s = Value(value, depth + 1, &v);
    path_.Pop();
    if (!s.ok()) return s;
    members.emplace_back(std::move(key), std::move(v));
    child = tree_.Next(value);
  }

  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  // term_to_binary writes small maps in key order, which for atom keys is usually this order.
  if (!std::is_sorted(members.begin(), members.end(), by_key)) {
    std::sort(members.begin(), members.end(), by_key);
  }
  auto dup = std::adjacent_find(members.begin(), members.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != members.end()) {
    // JSON.encode! would write both and JSON.decode! keep only one: refuse rather than lose one.
    std::vector<std::string_view> kinds;
    uint32_t key = TermTree::FirstChild(i);
    for (uint32_t k = 0; k < pairs; ++k) {
      std::string text;
      if (KeyText(key, where, &text).ok() && text == dup->first) {
        kinds.push_back(Describe(tree_[key].type));
      }
      key = tree_.Next(tree_.Next(key));
    }
    std::string which;
    for (size_t k = 0; k < kinds.size(); ++k) {
      which += k == 0 ? "" : (k + 1 == kinds.size() ? " and " : ", ");
      which += kinds[k];
    }
    return Status::BadValue("cannot store the map " + path_.Where() + ": two of its keys (" +
                            which + ") both become the JSON key " + QuoteForMessage(dup->first) +
                            "; rename one of them");
  }
  *out = JsonValue::Object(std::move(members));
  return Status::OK();
}

Status Normalizer::Struct(uint32_t i, uint32_t module_atom, JsonValue* out) {
  const std::string module = tree_.AtomName(module_atom);
  if (!IsCalendarStruct(module, StructText::kJson)) {
    return Status::BadValue("struct " + module + " " + path_.Where() +
                            " is not storable; convert it to a map or string first (or derive "
                            "JSON.Encoder and convert before stashing)");
  }
  std::string text;
  if (Status s = FormatCalendarStruct(tree_, i, module, StructText::kJson, &text); !s.ok()) {
    const std::string msg =
        "cannot store the " + module + " struct " + path_.Where() + ": " + s.message();
    return s.code() == StatusCode::kLimit ? Status::Limit(msg) : Status::BadValue(msg);
  }
  *out = JsonValue::String(std::move(text));
  return Status::OK();
}

// Map keys follow JSON.Encoder's Map implementation: atoms by name (so nil is "nil"),
// binaries as they are, and anything else through String.Chars.to_string/1: integers in
// decimal, floats as Float.to_string/1 (float_to_binary(F, [short])), lists as chardata,
// and the calendar structs with their to_string/1. Everything else raises in Elixir.
Status Normalizer::KeyText(uint32_t i, const std::string& map_where, std::string* out) {
  const Term& t = tree_[i];
  auto refuse = [&](const std::string& what) {
    return Status::BadValue("cannot store the map " + map_where + ": " + what);
  };
  switch (t.type) {
    case TermType::kAtom:
      *out = tree_.AtomName(i);
      return Status::OK();
    case TermType::kBinary:
      if (!IsValidUtf8Text(t.bytes)) {
        return refuse("its key " + QuoteForMessage(t.bytes) + " is not valid UTF-8");
      }
      *out = std::string(t.bytes);
      return Status::OK();
    case TermType::kInteger:
    case TermType::kBigInteger:
      if (Status s = tree_.IntegerText(i, out); !s.ok()) return refuse(s.message());
      return Status::OK();
    case TermType::kFloat:
      *out = FormatFloatShort(t.number);
      return Status::OK();
    case TermType::kNil:
    case TermType::kByteList:
    case TermType::kList:
      out->clear();
      if (!AppendChardata(i, *out)) {
        return refuse(
            "one of its keys is a list that List.to_string/1 cannot convert (a list key must "
            "hold Unicode code points, UTF-8 strings, or lists of them)");
      }
      return Status::OK();
    case TermType::kMap: {
      const std::optional<uint32_t> module = StructModule(i);
      if (!module)
        return refuse("one of its keys is a map; map keys must be strings, atoms or numbers");
      const std::string name = tree_.AtomName(*module);
      if (!IsCalendarStruct(name, StructText::kMapKey)) {
        return refuse("one of its keys is a " + name +
                      " struct, which has no text form here; use a string key");
      }
      if (Status s = FormatCalendarStruct(tree_, i, name, StructText::kMapKey, out); !s.ok()) {
        return refuse("its " + name + " key is not valid: " + s.message());
      }
      return Status::OK();
    }
    default:
      return refuse("one of its keys is " + std::string(Describe(t.type)) +
                    "; map keys must be strings, atoms or numbers");
  }
}

bool Normalizer::AppendChardata(uint32_t i, std::string& out) const {
  const Term& t = tree_[i];
  switch (t.type) {
    case TermType::kNil:
      return true;
    case TermType::kByteList:
      for (char c : t.bytes) AppendUtf8(static_cast<unsigned char>(c), out);
      return true;
    case TermType::kBinary:
      if (!IsValidUtf8Text(t.bytes)) return false;
      out += t.bytes;
      return true;
    case TermType::kList: {
      uint32_t child = TermTree::FirstChild(i);
      for (uint32_t k = 0; k < t.children; ++k) {
        const Term& c = tree_[child];
        const bool tail = k + 1 == t.children;
        if (c.type == TermType::kInteger && !tail) {
          if (c.integer < 0 || c.integer > 0x10FFFF ||
              !IsUnicodeScalar(static_cast<uint32_t>(c.integer))) {
            return false;
          }
          AppendUtf8(static_cast<uint32_t>(c.integer), out);
        } else if (c.type == TermType::kBinary || c.type == TermType::kNil ||
                   c.type == TermType::kByteList || (c.type == TermType::kList && !tail)) {
          // chardata allows a binary as the tail of an improper list, too
          if (!AppendChardata(child, out)) return false;
        } else {
          return false;
        }
        child = tree_.Next(child);
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

Result<JsonValue> DecodeEtf(std::string_view bytes, const EtfLimits& limits) {
  Result<TermTree> tree = TermTree::Parse(bytes, limits.max_depth);
  if (!tree.ok()) return tree.status();
  Normalizer normalizer(*tree, limits);
  JsonValue value;
  if (Status s = normalizer.Value(TermTree::kRoot, 0, &value); !s.ok()) return s;
  return value;
}

}  // namespace ds::codec
