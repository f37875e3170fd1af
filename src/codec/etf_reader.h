// TermTree: the first of DecodeEtf's two passes — the framing of external term format.
//
// DecodeEtf works in two passes. This one reads the bytes into a flat tree of terms and
// answers only "is this well-formed ETF?": every length is checked against the bytes left,
// nesting is bounded, atoms are valid, and nothing after the term is allowed. It knows
// nothing of JSON. The second pass (etf.cc) walks the tree and applies the normalization
// rules. Splitting them keeps the bounds-checking code small enough to read in one sitting,
// and lets the normalizer look at a whole map before deciding what it is: a map is a struct
// when its `__struct__` key holds an atom, and that key may come after the fields (a
// DateTime's microsecond tuple, say) that only a struct may contain.
//
// The tree does not copy the input: binaries, atom names and big-integer magnitudes are views
// into the decoded bytes, which must outlive it. Nodes are stored in pre-order; each records
// where its subtree ends, so siblings are reached without recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ds::codec {

enum class TermType : uint8_t {
  kInteger,     // SMALL_INTEGER_EXT, INTEGER_EXT: `integer`
  kBigInteger,  // SMALL_BIG_EXT, LARGE_BIG_EXT: `bytes` (little-endian magnitude), `negative`
  kFloat,       // NEW_FLOAT_EXT, FLOAT_EXT: `number`
  kAtom,        // `bytes` (UTF-8, or Latin-1 when `latin1`)
  kBinary,      // BINARY_EXT, or BIT_BINARY_EXT of whole bytes: `bytes`
  kBitstring,   // BIT_BINARY_EXT whose last byte is partial
  kNil,         // []
  kByteList,    // STRING_EXT: a list of integers 0..255, given as `bytes`
  kList,        // children: the elements, then the tail (a kNil node when the list is proper)
  kMap,         // children: key, value, key, value, ...
  kTuple,       // children: the elements
  kPid,         // the rest are opaque leaves: their contents are parsed for framing only
  kPort,
  kReference,
  kFunction,
};

struct Term {
  TermType type;
  bool latin1 = false;    // kAtom
  bool negative = false;  // kBigInteger
  uint32_t offset = 0;    // byte offset of the tag in the input, for messages
  uint32_t children = 0;  // number of direct children
  uint32_t end = 0;       // index just past this term's subtree: its next sibling
  int64_t integer = 0;
  double number = 0.0;
  std::string_view bytes;
};

class TermTree {
 public:
  // Parses `bytes`: the version byte 131 and exactly one term. Malformed input gives
  // Status::BadValue naming the byte offset. `max_depth` is the JSON nesting limit; terms may
  // nest two levels deeper (a struct's map and its microsecond tuple are not JSON containers),
  // beyond that Status::Limit.
  static Result<TermTree> Parse(std::string_view bytes, size_t max_depth);

  const Term& operator[](uint32_t i) const { return nodes_[i]; }
  static constexpr uint32_t kRoot = 0;

  // Children of term `i` are FirstChild(i), Next(FirstChild(i)), ... (`children` of them).
  static uint32_t FirstChild(uint32_t i) { return i + 1; }
  uint32_t Next(uint32_t i) const { return nodes_[i].end; }

  // True when term `i` is the atom `name` (an ASCII name).
  bool IsAtom(uint32_t i, std::string_view name) const {
    return nodes_[i].type == TermType::kAtom && nodes_[i].bytes == name;
  }
  // The UTF-8 name of atom `i` (Latin-1 atoms are converted).
  std::string AtomName(uint32_t i) const;
  // In map `map`, the value whose key is the atom `name`, if any.
  std::optional<uint32_t> FindAtomKey(uint32_t map, std::string_view name) const;
  // Decimal text of integer term `i` (kInteger or kBigInteger). Status::Limit for an integer
  // of more than kMaxIntegerDigits digits (bigint.h).
  Status IntegerText(uint32_t i, std::string* out) const;
  // The value of integer term `i` when it fits in an int64_t.
  std::optional<int64_t> Int64(uint32_t i) const;

 private:
  std::vector<Term> nodes_;
  friend class EtfReader;
};

}  // namespace ds::codec
