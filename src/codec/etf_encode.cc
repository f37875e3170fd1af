// EncodeEtf: a normalized value as the Erlang term a BEAM client gets back.
//
// The encoding is what :erlang.term_to_binary/1 writes for the same term, except that lists
// are always LIST_EXT (term_to_binary writes a list of small integers as the compact
// STRING_EXT); both decode to the same list. Integers use the smallest of SMALL_INTEGER_EXT,
// INTEGER_EXT, SMALL_BIG_EXT and LARGE_BIG_EXT; maps have binary keys in sorted order, which
// is also the order term_to_binary uses for maps of up to 32 keys.

#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "codec/bigint.h"
#include "codec/etf.h"
#include "codec/etf_format.h"

namespace ds::codec {

namespace {

void PutU32(uint32_t v, std::string& out) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}

void PutSmallAtom(std::string_view name, std::string& out) {
  out.push_back(static_cast<char>(etf::kSmallAtomUtf8));
  out.push_back(static_cast<char>(name.size()));
  out += name;
}

void PutBinary(std::string_view bytes, std::string& out) {
  out.push_back(static_cast<char>(etf::kBinary));
  PutU32(static_cast<uint32_t>(bytes.size()), out);
  out += bytes;
}

void PutBig(std::string_view magnitude, bool negative, std::string& out) {
  if (magnitude.size() <= 255) {
    out.push_back(static_cast<char>(etf::kSmallBig));
    out.push_back(static_cast<char>(magnitude.size()));
  } else {
    out.push_back(static_cast<char>(etf::kLargeBig));
    PutU32(static_cast<uint32_t>(magnitude.size()), out);
  }
  out.push_back(negative ? 1 : 0);
  out += magnitude;
}

// REQUIRES: `text` is canonical decimal ("-12", "0"), as JsonValue::kInteger promises.
void PutInteger(std::string_view text, std::string& out) {
  const bool negative = !text.empty() && text[0] == '-';
  const std::string_view digits = text.substr(negative ? 1 : 0);
  assert(!digits.empty());
  if (digits.size() <= 18) {  // fits in int64 without overflow checks
    int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    if (v >= 0 && v <= 255) {
      out.push_back(static_cast<char>(etf::kSmallInteger));
      out.push_back(static_cast<char>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out.push_back(static_cast<char>(etf::kInteger));
      PutU32(static_cast<uint32_t>(static_cast<int32_t>(v)), out);
    } else {
      uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
      char bytes[8];
      size_t n = 0;
      while (magnitude != 0) {
        bytes[n++] = static_cast<char>(magnitude & 0xFF);
        magnitude >>= 8;
      }
      PutBig(std::string_view(bytes, n), negative, out);
    }
    return;
  }
  PutBig(DecimalToMagnitude(digits), negative, out);
}

void PutFloat(double d, std::string& out) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  char bytes[9] = {static_cast<char>(etf::kNewFloat)};
  for (int k = 0; k < 8; ++k) bytes[1 + k] = static_cast<char>(bits >> (56 - 8 * k));
  out.append(bytes, sizeof(bytes));
}

void PutValue(const JsonValue& value, std::string& out) {
  switch (value.kind) {
    case JsonValue::Kind::kNull:
      PutSmallAtom("nil", out);
      return;
    case JsonValue::Kind::kBool:
      PutSmallAtom(value.boolean ? "true" : "false", out);
      return;
    case JsonValue::Kind::kInteger:
      PutInteger(value.text, out);
      return;
    case JsonValue::Kind::kFloat:
      PutFloat(value.number, out);
      return;
    case JsonValue::Kind::kString:
      PutBinary(value.text, out);
      return;
    case JsonValue::Kind::kArray:
      if (!value.items.empty()) {
        out.push_back(static_cast<char>(etf::kList));
        PutU32(static_cast<uint32_t>(value.items.size()), out);
        for (const JsonValue& item : value.items) PutValue(item, out);
      }
      out.push_back(static_cast<char>(etf::kNil));  // the tail, or the empty list itself
      return;
    case JsonValue::Kind::kObject:
      out.push_back(static_cast<char>(etf::kMap));
      PutU32(static_cast<uint32_t>(value.members.size()), out);
      for (const auto& [key, member] : value.members) {
        PutBinary(key, out);
        PutValue(member, out);
      }
      return;
  }
}

}  // namespace

std::string EncodeEtf(const JsonValue& value) {
  std::string out;
  out.reserve(256);  // most session values are small; larger ones grow geometrically
  out.push_back(static_cast<char>(etf::kVersion));
  PutValue(value, out);
  return out;
}

}  // namespace ds::codec
