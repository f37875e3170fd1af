// Test helper: builds external term format bytes the way :erlang.term_to_binary/1 does, so
// tests can state Elixir terms readably:
//
//   Etf(Map({{Atom("pos"), Tuple({Int(1), Int(2)})}}))   // %{pos: {1, 2}}
//
// The golden-bytes tests in etf_decode_test.cc check this builder against real
// term_to_binary output captured from `erl`.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::codec::testing {

// One encoded term, without the version byte.
struct T {
  std::string bytes;
};

inline void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
inline void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

inline T Raw(std::string bytes) { return {std::move(bytes)}; }

inline T Int(int64_t v) {
  std::string b;
  if (v >= 0 && v <= 255) {
    b.push_back(97);
    b.push_back(static_cast<char>(v));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    b.push_back(98);
    PutU32(b, static_cast<uint32_t>(static_cast<int32_t>(v)));
  } else {
    uint64_t m = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    std::string mag;
    while (m) {
      mag.push_back(static_cast<char>(m & 0xFF));
      m >>= 8;
    }
    b.push_back(110);
    b.push_back(static_cast<char>(mag.size()));
    b.push_back(v < 0 ? 1 : 0);
    b += mag;
  }
  return {b};
}

// SMALL_BIG_EXT / LARGE_BIG_EXT with the given little-endian magnitude.
inline T Big(std::string_view magnitude, bool negative) {
  std::string b;
  if (magnitude.size() <= 255) {
    b.push_back(110);
    b.push_back(static_cast<char>(magnitude.size()));
  } else {
    b.push_back(111);
    PutU32(b, static_cast<uint32_t>(magnitude.size()));
  }
  b.push_back(negative ? 1 : 0);
  b += magnitude;
  return {b};
}

inline T Float(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  std::string b(1, static_cast<char>(70));
  for (int shift = 56; shift >= 0; shift -= 8) b.push_back(static_cast<char>(bits >> shift));
  return {b};
}

inline T Atom(std::string_view name) {  // SMALL_ATOM_UTF8_EXT, as OTP 26+ writes
  std::string b(1, static_cast<char>(119));
  b.push_back(static_cast<char>(name.size()));
  b += name;
  return {b};
}

inline T LatinAtom(std::string_view latin1) {  // ATOM_EXT, as older OTPs write
  std::string b(1, static_cast<char>(100));
  PutU16(b, static_cast<uint16_t>(latin1.size()));
  b += latin1;
  return {b};
}

inline T Bin(std::string_view bytes) {
  std::string b(1, static_cast<char>(109));
  PutU32(b, static_cast<uint32_t>(bytes.size()));
  b += bytes;
  return {b};
}

inline T Nil() { return {std::string(1, static_cast<char>(106))}; }

inline T List(const std::vector<T>& items, const T& tail = Nil()) {
  if (items.empty()) return tail;
  std::string b(1, static_cast<char>(108));
  PutU32(b, static_cast<uint32_t>(items.size()));
  for (const T& t : items) b += t.bytes;
  b += tail.bytes;
  return {b};
}

inline T Str(std::string_view bytes) {  // STRING_EXT: a list of small integers
  std::string b(1, static_cast<char>(107));
  PutU16(b, static_cast<uint16_t>(bytes.size()));
  b += bytes;
  return {b};
}

inline T Tuple(const std::vector<T>& items) {
  std::string b(1, static_cast<char>(104));
  b.push_back(static_cast<char>(items.size()));
  for (const T& t : items) b += t.bytes;
  return {b};
}

inline T Map(const std::vector<std::pair<T, T>>& pairs) {
  std::string b(1, static_cast<char>(116));
  PutU32(b, static_cast<uint32_t>(pairs.size()));
  for (const auto& [k, v] : pairs) {
    b += k.bytes;
    b += v.bytes;
  }
  return {b};
}

// %Module{field: value, ...}: a map with __struct__ first, as term_to_binary orders atoms.
inline T Struct(std::string_view module, const std::vector<std::pair<std::string, T>>& fields) {
  std::vector<std::pair<T, T>> pairs = {{Atom("__struct__"), Atom(module)}};
  for (const auto& [name, value] : fields) pairs.push_back({Atom(name), value});
  return Map(pairs);
}

// Opaque terms, captured from `erl` (OTP 25) with term_to_binary/1 (version byte dropped).
inline std::string FromHex(std::string_view hex);
inline T Pid() { return {FromHex("5864000D6E6F6E6F6465406E6F686F7374000000090000000000000000")}; }
inline T OldPid() {  // PID_EXT, as OTP before 23 wrote pids
  return {
      FromHex("6764000D6E6F6E6F6465406E6F686F73740000000900000000"
              "00")};
}
inline T Ref() {
  return {FromHex("5A000364000D6E6F6E6F6465406E6F686F7374000000000003525EA19C0002D1FF7170")};
}
inline T Port() { return {FromHex("5964000D6E6F6E6F6465406E6F686F73740000000000000000")}; }
inline T Fun() {
  return {
      FromHex("700000004A0119694C26E4EAD9A1AC1E2484A0408F2800000000000000006400066F726163"
              "6C6561006200CB4A615864000D6E6F6E6F6465406E6F686F7374000000090000000000000000")};
}
inline T Export() { return {FromHex("716400056C697374736400036D61706102")}; }  // &:lists.map/2

// Elixir calendar structs.
inline T Iso() { return Atom("Elixir.Calendar.ISO"); }
inline T Micro(int64_t value, int64_t precision) { return Tuple({Int(value), Int(precision)}); }
inline T Date(int64_t y, int64_t m, int64_t d) {
  return Struct("Elixir.Date",
                {{"calendar", Iso()}, {"year", Int(y)}, {"month", Int(m)}, {"day", Int(d)}});
}
inline T Time(int64_t h, int64_t mi, int64_t s, int64_t us, int64_t p) {
  return Struct("Elixir.Time", {{"calendar", Iso()},
                                {"hour", Int(h)},
                                {"minute", Int(mi)},
                                {"second", Int(s)},
                                {"microsecond", Micro(us, p)}});
}
inline T NaiveDateTime(int64_t y, int64_t m, int64_t d, int64_t h, int64_t mi, int64_t s,
                       int64_t us, int64_t p) {
  return Struct("Elixir.NaiveDateTime", {{"calendar", Iso()},
                                         {"year", Int(y)},
                                         {"month", Int(m)},
                                         {"day", Int(d)},
                                         {"hour", Int(h)},
                                         {"minute", Int(mi)},
                                         {"second", Int(s)},
                                         {"microsecond", Micro(us, p)}});
}
inline T DateTime(int64_t y, int64_t m, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us,
                  int64_t p, std::string_view zone, std::string_view abbr, int64_t utc_offset,
                  int64_t std_offset) {
  return Struct("Elixir.DateTime", {{"calendar", Iso()},
                                    {"year", Int(y)},
                                    {"month", Int(m)},
                                    {"day", Int(d)},
                                    {"hour", Int(h)},
                                    {"minute", Int(mi)},
                                    {"second", Int(s)},
                                    {"microsecond", Micro(us, p)},
                                    {"time_zone", Bin(zone)},
                                    {"zone_abbr", Bin(abbr)},
                                    {"utc_offset", Int(utc_offset)},
                                    {"std_offset", Int(std_offset)}});
}
inline T Duration(int64_t year, int64_t month, int64_t week, int64_t day, int64_t hour,
                  int64_t minute, int64_t second, int64_t us, int64_t p) {
  return Struct("Elixir.Duration", {{"year", Int(year)},
                                    {"month", Int(month)},
                                    {"week", Int(week)},
                                    {"day", Int(day)},
                                    {"hour", Int(hour)},
                                    {"minute", Int(minute)},
                                    {"second", Int(second)},
                                    {"microsecond", Micro(us, p)}});
}

// The full external term: version byte 131, then the term.
inline std::string Etf(const T& t) { return std::string(1, static_cast<char>(131)) + t.bytes; }

inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xF]);
  }
  return out;
}

}  // namespace ds::codec::testing
