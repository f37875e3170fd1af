// The framing pass of DecodeEtf (see etf_reader.h).
//
// Every read is preceded by Has() or Need(), which check the bytes left, and every count read
// from the input (list length, map arity, binary size) is checked against the bytes left
// before anything is reserved: a 5-byte input cannot make the decoder allocate gigabytes. The
// recursion depth is bounded by `max_depth`; lists chained through their tails are flattened in a
// loop, so a long chain does not nest.

#include "codec/etf_reader.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "codec/bigint.h"
#include "codec/etf_format.h"
#include "codec/utf8.h"

namespace ds::codec {

class EtfReader {
 public:
  // Reads from `in` after its version byte; offsets in messages count from the version byte.
  EtfReader(std::string_view in, size_t max_depth, std::vector<Term>* nodes)
      : in_(in), max_depth_(max_depth), nodes_(*nodes) {}

  Status ParseTerm(size_t depth);
  size_t pos() const { return pos_; }

 private:
  // Checked before every read: `if (!Has(n)) return Truncated(n, what);`. The error Status
  // and its message are only built when the input is short.
  bool Has(size_t n) const { return in_.size() - pos_ >= n; }
  Status Need(size_t n, const char* what) const {
    return Has(n) ? Status::OK() : Truncated(n, what);
  }
  Status Truncated(size_t n, const char* what) const {
    return Status::BadValue("invalid ETF: the term ends early, at byte " +
                            std::to_string(in_.size()) + ", inside " + what + " (needs " +
                            std::to_string(n - (in_.size() - pos_)) + " more bytes)");
  }
  Status Malformed(size_t at, const std::string& what) const {
    return Status::BadValue("invalid ETF at byte " + std::to_string(at) + ": " + what);
  }
  uint8_t U8() { return static_cast<uint8_t>(in_[pos_++]); }
  uint16_t U16() {
    const uint16_t v = static_cast<uint16_t>((U8() << 8) | U8());
    return v;
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | U8();
    return v;
  }
  std::string_view Take(size_t n) {
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }

  uint32_t Push(TermType type, size_t offset) {
    Term t;
    t.type = type;
    t.offset = static_cast<uint32_t>(offset);
    nodes_.push_back(t);
    return static_cast<uint32_t>(nodes_.size() - 1);
  }
  void Close(uint32_t index) { nodes_[index].end = static_cast<uint32_t>(nodes_.size()); }

  Status ParseAtom(uint8_t tag, size_t offset);
  Status ParseBig(uint8_t tag, size_t offset);
  Status ParseList(size_t offset, size_t depth);
  Status ParseChildren(uint32_t index, uint64_t count, size_t min_bytes_each, size_t depth,
                       const char* what);
  // Pids, ports, references and funs: parsed for framing, kept as one opaque leaf.
  Status ParseOpaque(uint8_t tag, size_t offset, size_t depth);

  std::string_view in_;
  size_t pos_ = 1;  // past the version byte
  size_t max_depth_;
  std::vector<Term>& nodes_;
};

Status EtfReader::ParseTerm(size_t depth) {
  // A struct's map and the tuple inside it (a DateTime's microsecond) do not become JSON
  // containers, so terms may nest two levels deeper than the JSON depth limit; the normalizer
  // applies the exact limit to lists and maps.
  if (depth > 2 && depth - 2 > max_depth_) {
    return Status::Limit("ETF term nested deeper than " + std::to_string(max_depth_) +
                         " levels at byte " + std::to_string(pos_));
  }
  if (!Has(1)) return Truncated(1, "a term");
  size_t offset = pos_;
  uint8_t tag = U8();
  // A list with no elements in front of its tail is just its tail: [ | T] is T.
  while (tag == etf::kList) {
    if (!Has(5)) return Truncated(5, "a list header");
    if (in_.compare(pos_, 4, std::string_view("\0\0\0\0", 4)) != 0) break;
    pos_ += 4;
    if (!Has(1)) return Truncated(1, "a list tail");
    offset = pos_;
    tag = U8();
  }

  switch (tag) {
    case etf::kSmallInteger: {
      if (!Has(1)) return Truncated(1, "a small integer");
      const uint32_t i = Push(TermType::kInteger, offset);
      nodes_[i].integer = U8();
      Close(i);
      return Status::OK();
    }
    case etf::kInteger: {
      if (!Has(4)) return Truncated(4, "an integer");
      const uint32_t i = Push(TermType::kInteger, offset);
      nodes_[i].integer = static_cast<int32_t>(U32());
      Close(i);
      return Status::OK();
    }
    case etf::kSmallBig:
    case etf::kLargeBig:
      return ParseBig(tag, offset);
    case etf::kNewFloat: {
      if (!Has(8)) return Truncated(8, "a float");
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 8) | U8();
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      if (!std::isfinite(d)) return Malformed(offset, "a float that is NaN or infinite");
      const uint32_t i = Push(TermType::kFloat, offset);
      nodes_[i].number = d;
      Close(i);
      return Status::OK();
    }
    case etf::kFloat: {
      // Pre-R11 floats: printf("%.20e") text padded with NUL bytes to 31 bytes.
      if (!Has(31)) return Truncated(31, "a float");
      std::string_view text = Take(31);
      text = text.substr(0, text.find('\0'));
      double d = 0;
      const auto res = std::from_chars(text.data(), text.data() + text.size(), d);
      if (res.ec != std::errc() || res.ptr != text.data() + text.size() || !std::isfinite(d)) {
        return Malformed(offset, "a FLOAT_EXT whose text is not a finite number");
      }
      const uint32_t i = Push(TermType::kFloat, offset);
      nodes_[i].number = d;
      Close(i);
      return Status::OK();
    }
    case etf::kAtom:
    case etf::kSmallAtom:
    case etf::kAtomUtf8:
    case etf::kSmallAtomUtf8:
      return ParseAtom(tag, offset);
    case etf::kBinary: {
      if (!Has(4)) return Truncated(4, "a binary");
      const uint32_t len = U32();
      if (!Has(len)) return Truncated(len, "a binary");
      const uint32_t i = Push(TermType::kBinary, offset);
      nodes_[i].bytes = Take(len);
      Close(i);
      return Status::OK();
    }
    case etf::kBitBinary: {
      if (!Has(5)) return Truncated(5, "a bitstring");
      const uint32_t len = U32();
      const uint8_t bits = U8();
      // As binary_to_term: bits in the last byte are 1..8, or 0 for the empty bitstring.
      const bool empty = len == 0 && bits == 0;
      if (!empty && (len == 0 || bits == 0 || bits > 8)) {
        return Malformed(
            offset, "a BIT_BINARY_EXT with " + std::to_string(bits) + " bits in its last byte");
      }
      if (!Has(len)) return Truncated(len, "a bitstring");
      const uint32_t i =
          Push(empty || bits == 8 ? TermType::kBinary : TermType::kBitstring, offset);
      nodes_[i].bytes = Take(len);
      Close(i);
      return Status::OK();
    }
    case etf::kNil: {
      Close(Push(TermType::kNil, offset));
      return Status::OK();
    }
    case etf::kString: {
      if (!Has(2)) return Truncated(2, "a string");
      const uint16_t len = U16();
      if (!Has(len)) return Truncated(len, "a string");
      const uint32_t i = Push(TermType::kByteList, offset);
      nodes_[i].bytes = Take(len);
      Close(i);
      return Status::OK();
    }
    case etf::kList:
      return ParseList(offset, depth);
    case etf::kMap: {
      if (!Has(4)) return Truncated(4, "a map");
      const uint32_t i = Push(TermType::kMap, offset);
      const uint64_t pairs = U32();
      return ParseChildren(i, pairs * 2, 1, depth, "a map");
    }
    case etf::kSmallTuple:
    case etf::kLargeTuple: {
      const bool small = tag == etf::kSmallTuple;
      if (!Has(small ? 1 : 4)) return Truncated(small ? 1 : 4, "a tuple");
      const uint32_t i = Push(TermType::kTuple, offset);
      const uint32_t arity = small ? U8() : U32();
      return ParseChildren(i, arity, 1, depth, "a tuple");
    }
    case etf::kPid:
    case etf::kNewPid:
    case etf::kPort:
    case etf::kNewPort:
    case etf::kV4Port:
    case etf::kReference:
    case etf::kNewReference:
    case etf::kNewerReference:
    case etf::kNewFun:
    case etf::kFun:
    case etf::kExport:
      return ParseOpaque(tag, offset, depth);
    case etf::kCompressed:
      return Status::BadValue(
          "compressed ETF is not supported (byte " + std::to_string(offset) +
          "); send :erlang.term_to_binary(term) without the :compressed option");
    case etf::kAtomCacheRef:
      return Malformed(offset, "an atom cache reference, which only distribution messages use");
    case etf::kLocal:
      return Malformed(offset, "a LOCAL_EXT term, which only its own node can decode");
    default:
      return Malformed(offset, "unknown tag " + std::to_string(tag));
  }
}

Status EtfReader::ParseAtom(uint8_t tag, size_t offset) {
  const bool small = tag == etf::kSmallAtom || tag == etf::kSmallAtomUtf8;
  const bool latin1 = tag == etf::kAtom || tag == etf::kSmallAtom;
  if (!Has(small ? 1 : 2)) return Truncated(small ? 1 : 2, "an atom");
  const size_t len = small ? U8() : U16();
  if (!Has(len)) return Truncated(len, "an atom");
  const std::string_view name = Take(len);
  size_t chars = len;
  if (!latin1) {
    if (!IsValidUtf8Text(name)) return Malformed(offset, "an atom whose name is not valid UTF-8");
    chars = 0;
    for (char c : name) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  // The BEAM has no atoms longer than 255 characters; binary_to_term refuses them too.
  if (chars > 255) return Malformed(offset, "an atom longer than 255 characters");
  const uint32_t i = Push(TermType::kAtom, offset);
  nodes_[i].bytes = name;
  nodes_[i].latin1 = latin1;
  Close(i);
  return Status::OK();
}

Status EtfReader::ParseBig(uint8_t tag, size_t offset) {
  const bool small = tag == etf::kSmallBig;
  if (!Has(small ? 2 : 5)) return Truncated(small ? 2 : 5, "a big integer");
  const uint32_t n = small ? U8() : U32();
  const uint8_t sign = U8();
  if (!Has(n)) return Truncated(n, "a big integer");
  const uint32_t i = Push(TermType::kBigInteger, offset);
  nodes_[i].bytes = Take(n);
  nodes_[i].negative = sign != 0;  // binary_to_term treats any non-zero sign byte as negative
  Close(i);
  return Status::OK();
}

Status EtfReader::ParseChildren(uint32_t index, uint64_t count, size_t min_bytes_each, size_t depth,
                                const char* what) {
  // Each child takes at least one byte, so a count larger than the bytes left is malformed
  // and is refused before any work is done for it.
  if (count > (in_.size() - pos_) / min_bytes_each) {
    return Status::BadValue("invalid ETF at byte " + std::to_string(nodes_[index].offset) + ": " +
                            what + " of " + std::to_string(count) + " elements in " +
                            std::to_string(in_.size() - pos_) + " remaining bytes");
  }
  for (uint64_t k = 0; k < count; ++k) {
    if (Status s = ParseTerm(depth + 1); !s.ok()) return s;
  }
  nodes_[index].children = static_cast<uint32_t>(count);
  Close(index);
  return Status::OK();
}

Status EtfReader::ParseList(size_t offset, size_t depth) {
  const uint32_t index = Push(TermType::kList, offset);
  uint64_t children = 0;
  for (;;) {
    if (!Has(4)) return Truncated(4, "a list header");
    const uint32_t len = U32();
    // Every element and the tail take at least one byte each.
    if (len >= in_.size() - pos_) {
      return Malformed(offset, "a list of " + std::to_string(len) + " elements in " +
                                   std::to_string(in_.size() - pos_) + " remaining bytes");
    }
    for (uint32_t k = 0; k < len; ++k) {
      if (Status s = ParseTerm(depth + 1); !s.ok()) return s;
    }
    children += len;
    // A tail that is itself a list continues this one ([1 | [2]] is [1, 2]): loop rather than
    // recurse, so long chains cannot nest.
    if (Has(1) && static_cast<uint8_t>(in_[pos_]) == etf::kList) {
      ++pos_;
      continue;
    }
    if (Status s = ParseTerm(depth + 1); !s.ok()) return s;
    ++children;
    break;
  }
  if (children > UINT32_MAX) return Malformed(offset, "a list too long to decode");
  nodes_[index].children = static_cast<uint32_t>(children);
  Close(index);
  return Status::OK();
}

Status EtfReader::ParseOpaque(uint8_t tag, size_t offset, size_t depth) {
  const uint32_t index = Push(TermType::kPid, offset);
  TermType type = TermType::kPid;
  // Nested terms (node atoms, a fun's environment) are parsed for their length, then dropped.
  auto term = [&]() { return ParseTerm(depth + 1); };
  auto skip = [&](size_t n, const char* what) {
    Status s = Need(n, what);
    if (s.ok()) pos_ += n;
    return s;
  };
  Status s;
  switch (tag) {
    case etf::kPid:
      s = term();
      if (s.ok()) s = skip(9, "a pid");
      break;
    case etf::kNewPid:
      s = term();
      if (s.ok()) s = skip(12, "a pid");
      break;
    case etf::kPort:
      type = TermType::kPort;
      s = term();
      if (s.ok()) s = skip(5, "a port");
      break;
    case etf::kNewPort:
      type = TermType::kPort;
      s = term();
      if (s.ok()) s = skip(8, "a port");
      break;
    case etf::kV4Port:
      type = TermType::kPort;
      s = term();
      if (s.ok()) s = skip(12, "a port");
      break;
    case etf::kReference:
      type = TermType::kReference;
      s = term();
      if (s.ok()) s = skip(5, "a reference");
      break;
    case etf::kNewReference:
    case etf::kNewerReference: {
      type = TermType::kReference;
      s = Need(2, "a reference");
      if (!s.ok()) break;
      const size_t words = U16();
      s = term();
      if (s.ok()) s = skip((tag == etf::kNewReference ? 1 : 4) + 4 * words, "a reference");
      break;
    }
    case etf::kNewFun: {
      type = TermType::kFunction;
      s = Need(4, "a function");
      if (!s.ok()) break;
      const uint32_t size = U32();  // counts itself
      if (size < 4) {
        s = Malformed(offset, "a NEW_FUN_EXT of size " + std::to_string(size));
        break;
      }
      s = skip(size - 4, "a function");
      break;
    }
    case etf::kFun: {
      type = TermType::kFunction;
      s = Need(4, "a function");
      if (!s.ok()) break;
      const uint32_t free_vars = U32();
      // pid, module, index, uniq, then the free variables
      if (free_vars > in_.size() - pos_) {
        s = Malformed(offset, "a FUN_EXT with more free variables than bytes");
        break;
      }
      for (uint64_t k = 0; k < 4 + uint64_t{free_vars} && s.ok(); ++k) s = term();
      break;
    }
    case etf::kExport:
      type = TermType::kFunction;
      for (int k = 0; k < 3 && s.ok(); ++k) s = term();
      break;
    default:
      s = Malformed(offset, "unknown tag " + std::to_string(tag));
      break;
  }
  if (!s.ok()) return s;
  nodes_.resize(index + 1);
  nodes_[index].type = type;
  Close(index);
  return Status::OK();
}

Result<TermTree> TermTree::Parse(std::string_view bytes, size_t max_depth) {
  if (bytes.empty()) return Status::BadValue("invalid ETF: the input is empty");
  if (static_cast<uint8_t>(bytes[0]) != etf::kVersion) {
    return Status::BadValue("invalid ETF: the first byte is " +
                            std::to_string(static_cast<uint8_t>(bytes[0])) +
                            ", not the version byte 131 (send :erlang.term_to_binary(term))");
  }
  if (bytes.size() > UINT32_MAX) return Status::Limit("ETF input larger than 4 GiB");
  TermTree tree;
  EtfReader reader(bytes, max_depth, &tree.nodes_);
  if (Status s = reader.ParseTerm(0); !s.ok()) return s;
  if (reader.pos() != bytes.size()) {
    return Status::BadValue("invalid ETF: " + std::to_string(bytes.size() - reader.pos()) +
                            " extra bytes after the term, from byte " +
                            std::to_string(reader.pos()));
  }
  return tree;
}

std::string TermTree::AtomName(uint32_t i) const {
  const Term& t = nodes_[i];
  if (!t.latin1) return std::string(t.bytes);
  std::string out;
  out.reserve(t.bytes.size());
  for (char c : t.bytes) AppendUtf8(static_cast<unsigned char>(c), out);
  return out;
}

std::optional<uint32_t> TermTree::FindAtomKey(uint32_t map, std::string_view name) const {
  uint32_t child = FirstChild(map);
  for (uint32_t k = 0; k < nodes_[map].children; k += 2) {
    const uint32_t value = Next(child);
    if (IsAtom(child, name)) return value;
    child = Next(value);
  }
  return std::nullopt;
}

Status TermTree::IntegerText(uint32_t i, std::string* out) const {
  const Term& t = nodes_[i];
  if (t.type == TermType::kInteger) {
    *out = std::to_string(t.integer);
    return Status::OK();
  }
  size_t significant = t.bytes.size();
  while (significant > 0 && t.bytes[significant - 1] == '\0') --significant;
  auto too_long = [&]() {
    return Status::Limit("an integer of more than " + std::to_string(kMaxIntegerDigits) +
                         " digits (byte " + std::to_string(t.offset) + ")");
  };
  if (MagnitudeTooLong(significant)) return too_long();
  *out = MagnitudeToDecimal(t.bytes.substr(0, significant), t.negative);
  if (out->size() - (t.negative ? 1 : 0) > kMaxIntegerDigits) return too_long();
  return Status::OK();
}

std::optional<int64_t> TermTree::Int64(uint32_t i) const {
  const Term& t = nodes_[i];
  if (t.type == TermType::kInteger) return t.integer;
  if (t.type != TermType::kBigInteger) return std::nullopt;
  uint64_t magnitude = 0;
  for (size_t k = t.bytes.size(); k-- > 0;) {
    if (magnitude >> 56 != 0) return std::nullopt;  // would shift out: more than 8 bytes
    magnitude = (magnitude << 8) | static_cast<unsigned char>(t.bytes[k]);
  }
  if (!t.negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(magnitude);
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return static_cast<int64_t>(0 - magnitude);
}

}  // namespace ds::codec
