// The stored envelope: SessionState <-> the bytes of one session's object (docs/STORAGE.md).
//
// Format 2 (written):
//   {"dropped":{<view>:{<key>:<us>}},"format":2,"last_seen_at":<us>,"reset":{<view>:<us>},
//    "views":{<view>:{"data":{<key>:{"t":<us>,"v":<value>}},"vsn":<n>,"vsn_at":<us>}},
//    "writer":<id>}
// Format 1 (read only): the same without "dropped" and "reset" (no deletion records).
//
// Encode writes canonical JSON (members sorted by key bytes, no whitespace), so equal states
// give equal bytes; std::map orders std::string keys by unsigned byte value, which is exactly
// the canonical member order. Values are already canonical JSON text and are embedded as is.
//
// Decode is strict: an object of format N must have exactly the members of format N. The format
// policy (STORAGE.md) bumps the format for any change, even an added member, because a daemon
// that ignored a member it did not know would silently drop it on its next write.
#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "codec/json.h"
#include "session/session_state.h"

namespace ds::session {
namespace {

constexpr int64_t kFormat = 2;        // written
constexpr int64_t kOldestFormat = 1;  // the oldest still read

// The envelope wraps each value in five levels (document, views, slice, data, entry). Values
// were accepted with a depth limit far below this, so anything deeper is not ours.
constexpr size_t kMaxEnvelopeDepth = 1024;

using codec::JsonValue;

// "00" "01" ... "99": two digits per lookup.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The two digits of n < 100.
const char* DigitPair(uint32_t n) { return &kDigitPairs[size_t{2} * n]; }

// The longest decimal text of an int64_t: "-9223372036854775808".
constexpr size_t kMaxIntBytes = 20;

// The number of decimal digits of u, without a loop: 1233 / 4096 is log10(2) to four places,
// so t below is floor(log10(u)) or one more, which the table of powers of ten settles.
constexpr auto kPowersOf10 = [] {
  std::array<uint64_t, 20> powers{};
  uint64_t p = 1;
  for (uint64_t& power : powers) {
    power = p;
    p *= 10;
  }
  return powers;
}();
size_t DecimalDigits(uint64_t u) {
  const uint64_t v = u | 1;  // 0 has one digit, as 1 has
  const auto t = static_cast<size_t>((std::bit_width(v) * 1233) >> 12);
  return t + 1 - (v < kPowersOf10[t] ? 1 : 0);
}

// Writes the decimal text of n (as std::to_chars would) at `out`, which has room for
// kMaxIntBytes; returns its end. Every stored value carries a 16-digit microsecond time, so
// this runs several times per flush: the digits go straight to their place from the last one,
// four per 64-bit division (split with cheap 32-bit arithmetic), with no buffer to copy after.
char* WriteInt(int64_t n, char* out) {
  uint64_t u = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  if (n < 0) *out++ = '-';
  char* const end = out + DecimalDigits(u);
  char* p = end;
  while (u >= 10000) {
    const auto four = static_cast<uint32_t>(u % 10000);
    u /= 10000;
    p -= 4;
    std::memcpy(p, DigitPair(four / 100), 2);
    std::memcpy(p + 2, DigitPair(four % 100), 2);
  }
  auto rest = static_cast<uint32_t>(u);
  if (rest >= 100) {
    p -= 2;
    std::memcpy(p, DigitPair(rest % 100), 2);
    rest /= 100;
  }
  if (rest >= 10) {
    std::memcpy(p - 2, DigitPair(rest), 2);
  } else {
    p[-1] = static_cast<char>('0' + rest);
  }
  return end;
}

// Writes the envelope into a buffer sized once for the worst case (see Encode): pieces are
// stored through a cursor, with no capacity check or call per piece as std::string::append
// would make. Encode runs once per flush of a session, i.e. about once per stash.
class EnvelopeCursor {
 public:
  explicit EnvelopeCursor(char* at) : at_(at) {}
  char* at() const { return at_; }

  template <size_t N>
  void Literal(const char (&text)[N]) {  // a string literal, without its terminating NUL
    std::memcpy(at_, text, N - 1);
    at_ += N - 1;
  }
  void Char(char c) { *at_++ = c; }
  void Raw(std::string_view bytes) {
    std::memcpy(at_, bytes.data(), bytes.size());
    at_ += bytes.size();
  }
  void Name(std::string_view name) { at_ = codec::WriteJsonString(name, at_); }
  void Int(int64_t n) { at_ = WriteInt(n, at_); }

  // A time in microseconds. Times repeat within one envelope: the keys of one stash share its
  // time, which is often last_seen_at as well, and a view's vsn_at is the time of its first
  // keys. So the digits of the last two distinct times are copied from where they were written
  // rather than computed again (a 16-digit time costs ~95 instructions to convert, ~20 to copy).
  void Time(Micros us) {
    for (const WrittenTime& seen : recent_times_) {
      if (seen.us == us && seen.digits != nullptr) {
        Raw(std::string_view(seen.digits, seen.length));
        return;
      }
    }
    char* const digits = at_;
    Int(us);
    recent_times_[next_slot_] = {us, digits, static_cast<size_t>(at_ - digits)};
    next_slot_ ^= 1;
  }

 private:
  struct WrittenTime {
    Micros us = 0;
    const char* digits = nullptr;  // in the output, already written; nullptr: slot unused
    size_t length = 0;
  };

  char* at_;
  std::array<WrittenTime, 2> recent_times_{};
  size_t next_slot_ = 0;
};

// A JSON integer that fits int64_t.
bool ToInt64(const JsonValue& v, int64_t* out) {
  if (v.kind != JsonValue::Kind::kInteger) return false;
  const char* first = v.text.data();
  const char* last = first + v.text.size();
  auto [ptr, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && ptr == last;
}

// Where in the envelope an error is, for messages: `view "X"`, `key "k" of view "X"`.
std::string Quoted(std::string_view s) {
  std::string out;
  codec::AppendJsonString(s, out);
  return out;
}

// Messages name what is wrong and where, without repeating "stored session": the caller says
// which session it was ("stored session <key> cannot be read: ...").
Status Bad(std::string what) { return Status::Corruption(std::move(what)); }

// Reads the members of `obj` named in `names` (sorted, as members are) into `found`, in the
// same order; fails naming the first member that is missing or not expected.
template <size_t N>
Status Members(const JsonValue& obj, const char* const (&names)[N], const JsonValue* (&found)[N],
               std::string_view where, int64_t format) {
  if (obj.kind != JsonValue::Kind::kObject) return Bad(std::string(where) + " is not an object");
  for (auto& f : found) f = nullptr;
  for (const auto& [name, value] : obj.members) {
    size_t i = 0;
    while (i < N && name != names[i]) i++;
    if (i == N) {
      return Bad(std::string(where) + " has an unexpected member " + Quoted(name) + " (format " +
                 std::to_string(format) + " has no such member)");
    }
    found[i] = &value;
  }
  for (size_t i = 0; i < N; i++) {
    if (found[i] == nullptr) {
      return Bad(std::string(where) + " has no " + Quoted(names[i]) + " member");
    }
  }
  return Status::OK();
}

Status Int(const JsonValue& v, std::string_view name, std::string_view where, int64_t* out) {
  if (ToInt64(v, out)) return Status::OK();
  return Bad(Quoted(name) + " of " + std::string(where) + " is not a 64-bit integer");
}

Result<Slice> DecodeSlice(const std::string& view, const JsonValue& obj, int64_t format) {
  std::string where = "view " + Quoted(view);
  static constexpr const char* kNames[] = {"data", "vsn", "vsn_at"};
  const JsonValue* m[3];
  if (Status st = Members(obj, kNames, m, where, format); !st.ok()) return st;
  Slice slice;
  if (Status st = Int(*m[1], "vsn", where, &slice.vsn); !st.ok()) return st;
  if (Status st = Int(*m[2], "vsn_at", where, &slice.vsn_at); !st.ok()) return st;
  const JsonValue& data = *m[0];
  if (data.kind != JsonValue::Kind::kObject) {
    return Bad("\"data\" of " + where + " is not an object");
  }
  slice.data.reserve(data.members.size());
  for (const auto& [key, entry] : data.members) {
    if (key.empty()) return Bad(where + " has a key with an empty name");
    std::string key_where = "key " + Quoted(key) + " of " + where;
    static constexpr const char* kEntryNames[] = {"t", "v"};
    const JsonValue* e[2];
    if (Status st = Members(entry, kEntryNames, e, key_where, format); !st.ok()) return st;
    StoredValue value;
    if (Status st = Int(*e[0], "t", key_where, &value.written_at); !st.ok()) return st;
    // Re-serialized, so a hand-edited object still yields canonical text.
    value.json = codec::WriteJson(*e[1]);
    // Members arrive sorted, so each insert goes at the end.
    slice.data.emplace_hint(slice.data.end(), key, std::move(value));
  }
  return slice;
}

// A map of names to times: "reset" ({view: us}) or one view of "dropped" ({key: us}).
Status DecodeTimes(const JsonValue& obj, std::string_view where, std::string_view what,
                   std::map<std::string, Micros, std::less<>>* out) {
  if (obj.kind != JsonValue::Kind::kObject) return Bad(std::string(where) + " is not an object");
  for (const auto& [name, value] : obj.members) {
    if (name.empty())
      return Bad(std::string(where) + " has a " + std::string(what) + " with an empty name");
    int64_t at = 0;
    if (!ToInt64(value, &at)) {
      return Bad(Quoted(name) + " of " + std::string(where) + " is not a 64-bit integer");
    }
    out->emplace_hint(out->end(), name, at);
  }
  return Status::OK();
}

// Worst-case bytes of WriteTimes' output for `times`.
size_t MaxTimesBytes(const std::map<std::string, Micros, std::less<>>& times) {
  size_t bytes = 2;
  for (const auto& [name, at] : times) bytes += codec::MaxJsonStringBytes(name) + 2 + kMaxIntBytes;
  return bytes;
}

// {name:us,...}: "reset", or one view of "dropped".
void WriteTimes(const std::map<std::string, Micros, std::less<>>& times, EnvelopeCursor& out) {
  out.Char('{');
  bool first = true;
  for (const auto& [name, at] : times) {
    if (!first) out.Char(',');
    first = false;
    out.Name(name);
    out.Char(':');
    out.Time(at);
  }
  out.Char('}');
}

// Writes the envelope of `state` at `at`, which has room for the bound Encode computed;
// returns the end of what it wrote.
char* WriteEnvelope(const SessionState& state, std::string_view writer_id, char* at) {
  EnvelopeCursor out(at);
  out.Literal("{\"dropped\":{");
  bool first_dropped = true;
  for (const auto& [view, keys] : state.dropped()) {
    if (!first_dropped) out.Char(',');
    first_dropped = false;
    out.Name(view);
    out.Char(':');
    WriteTimes(keys, out);
  }
  out.Literal("},\"format\":");
  out.Int(kFormat);
  out.Literal(",\"last_seen_at\":");
  out.Time(state.last_seen_at());
  out.Literal(",\"reset\":");
  WriteTimes(state.resets(), out);
  out.Literal(",\"views\":{");
  bool first_view = true;
  for (const auto& [view, slice] : state.views()) {
    if (!first_view) out.Char(',');
    first_view = false;
    out.Name(view);
    out.Literal(":{\"data\":{");
    bool first_key = true;
    for (const auto& [key, value] : slice.data) {
      if (!first_key) out.Char(',');
      first_key = false;
      out.Name(key);
      out.Literal(":{\"t\":");
      out.Time(value.written_at);
      out.Literal(",\"v\":");
      out.Raw(value.json);
      out.Char('}');
    }
    out.Literal("},\"vsn\":");
    out.Int(slice.vsn);
    out.Literal(",\"vsn_at\":");
    out.Time(slice.vsn_at);
    out.Char('}');
  }
  out.Literal("},\"writer\":");
  out.Name(writer_id);
  out.Char('}');
  return out.at();
}

}  // namespace

std::string SessionState::Encode(std::string_view writer_id) const {
  // The most bytes the envelope can take: every name fully escaped, every integer at its
  // longest, plus the fixed text around them (generously rounded up). The envelope is written
  // into a buffer of that size, without a capacity check per piece.
  constexpr size_t kFixedBytes = 128;  // {"dropped":{},"format":...,"writer":} and ints
  constexpr size_t kViewBytes = 64;    // :{"data":{},"vsn":,"vsn_at":}, commas, two ints
  constexpr size_t kValueBytes = 32;   // :{"t":,"v":}, a comma, one int
  size_t bound = kFixedBytes + codec::MaxJsonStringBytes(writer_id) + MaxTimesBytes(resets());
  for (const auto& [view, keys] : dropped()) {
    bound += codec::MaxJsonStringBytes(view) + 2 + MaxTimesBytes(keys);
  }
  for (const auto& [view, slice] : views_) {
    bound += codec::MaxJsonStringBytes(view) + kViewBytes + 2 * kMaxIntBytes;
    for (const auto& [key, value] : slice.data) {
      bound += codec::MaxJsonStringBytes(key) + kValueBytes + kMaxIntBytes + value.json.size();
    }
  }
  // A session is flushed on nearly every stash. Most are small: they are written on the
  // stack and copied out, so the result is allocated at its exact size and written once. A
  // heap buffer of the bound would first be zero-filled: about twice the envelope's bytes, each
  // line a cache miss in memory the allocator has just handed out.
  constexpr size_t kStackBytes = 4096;
  if (bound <= kStackBytes) {
    char stack[kStackBytes];
    const char* end = WriteEnvelope(*this, writer_id, stack);
    assert(static_cast<size_t>(end - stack) <= bound);
    return std::string(stack, static_cast<size_t>(end - stack));
  }
  std::string bytes(bound, '\0');
  const char* end = WriteEnvelope(*this, writer_id, bytes.data());
  const auto written = static_cast<size_t>(end - bytes.data());
  assert(written <= bound);
  bytes.resize(written);
  return bytes;
}

Result<SessionState> SessionState::Decode(std::string_view bytes) { return Decode(bytes, nullptr); }

Result<SessionState> SessionState::Decode(std::string_view bytes, std::string* writer_id) {
  codec::JsonLimits limits;
  limits.max_depth = kMaxEnvelopeDepth;
  Result<JsonValue> parsed = codec::ParseJson(bytes, limits);
  if (!parsed.ok()) return Bad("not valid JSON: " + parsed.status().message());
  const JsonValue& root = *parsed;
  if (root.kind != JsonValue::Kind::kObject) return Bad("not a JSON object");

  // The format first: a future format may differ in anything else, and its reader deserves
  // the upgrade message rather than a complaint about some member.
  const JsonValue* format_value = nullptr;
  for (const auto& [name, value] : root.members) {
    if (name == "format") format_value = &value;
  }
  if (format_value == nullptr) {
    return Bad("no \"format\" member; the object was not written by durable-stashd");
  }
  int64_t format = 0;
  if (!ToInt64(*format_value, &format)) return Bad("\"format\" is not an integer");
  if (format > kFormat) {
    return Status::Corruption("stored session uses format " + std::to_string(format) +
                              ", newer than this daemon understands; upgrade durable-stashd");
  }
  if (format < kOldestFormat) return Bad("unknown format " + std::to_string(format));

  // Format 1 is format 2 without the deletion records.
  static constexpr const char* kNames1[] = {"format", "last_seen_at", "views", "writer"};
  static constexpr const char* kNames2[] = {"dropped", "format", "last_seen_at",
                                            "reset",   "views",  "writer"};
  const JsonValue* m[6] = {};
  const JsonValue* dropped = nullptr;
  const JsonValue* reset = nullptr;
  if (format == 1) {
    const JsonValue* m1[4];
    if (Status st = Members(root, kNames1, m1, "the envelope", format); !st.ok()) return st;
    m[1] = m1[0];  // format
    m[2] = m1[1];  // last_seen_at
    m[4] = m1[2];  // views
    m[5] = m1[3];  // writer
  } else {
    if (Status st = Members(root, kNames2, m, "the envelope", format); !st.ok()) return st;
    dropped = m[0];
    reset = m[3];
  }

  SessionState state;
  if (Status st = Int(*m[2], "last_seen_at", "the envelope", &state.last_seen_at_); !st.ok()) {
    return st;
  }
  const JsonValue& writer = *m[5];
  if (writer.kind != JsonValue::Kind::kString) return Bad("\"writer\" is not a string");
  const JsonValue& views = *m[4];
  if (views.kind != JsonValue::Kind::kObject) return Bad("\"views\" is not an object");
  state.views_.reserve(views.members.size());
  for (const auto& [view, obj] : views.members) {
    if (view.empty()) return Bad("a view has an empty name");
    Result<Slice> slice = DecodeSlice(view, obj, format);
    if (!slice.ok()) return slice.status();
    state.views_.emplace_hint(state.views_.end(), view, std::move(slice).value());
  }
  if (dropped != nullptr) {
    if (dropped->kind != JsonValue::Kind::kObject) return Bad("\"dropped\" is not an object");
    for (const auto& [view, keys] : dropped->members) {
      if (view.empty()) return Bad("\"dropped\" has a view with an empty name");
      DroppedKeys decoded;
      std::string where = "view " + Quoted(view) + " of \"dropped\"";
      if (Status st = DecodeTimes(keys, where, "key", &decoded); !st.ok()) return st;
      // An empty map records nothing; the daemon never writes one.
      if (!decoded.empty()) {
        auto& by_view = state.records().dropped;
        by_view.emplace_hint(by_view.end(), view, decoded);
      }
    }
  }
  if (reset != nullptr) {
    if (Status st = DecodeTimes(*reset, "\"reset\"", "view", &state.records().resets); !st.ok()) {
      return st;
    }
    state.FreeEmptyRecords();  // an empty "reset" object records nothing
  }
  if (writer_id != nullptr) *writer_id = writer.text;
  return state;
}

}  // namespace ds::session
