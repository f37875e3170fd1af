// IsCanonicalJson: recognizes JSON text that normalization would leave byte for byte as it is.
//
// Why: every DS.STASH value is normalized (ParseJson, then WriteJson), which builds a
// JsonValue tree (an allocation per string, member and element) only to print it again.
// Most values arrive already canonical (a JSON encoder's output with sorted keys, as Elixir's
// JSON.encode! gives for small maps), and then the result is the input. This scanner checks
// that in one pass without allocating, and the caller copies the text.
//
// It must never say "canonical" when ParseJson would fail or WriteJson would print different
// bytes, so it accepts only forms it can prove unchanged and answers false for anything else
// (false only means "take the full path", which also produces the error messages):
//   - no whitespace outside strings; nothing after the value;
//   - integers without a '-0' (ParseJson's grammar already refuses leading zeros), at most
//     kMaxIntegerDigits digits;
//   - floats whose text is exactly FormatFloatShort of their value (what WriteJson prints);
//   - strings with raw valid UTF-8 and exactly the escapes AppendJsonString writes (the two
//     characters quote and backslash, the short forms b t n f r, and u00XX in upper-case hex
//     for the other control characters);
//   - object keys without escapes, strictly increasing in byte order (so sorted and unique:
//     ParseJson keeps that order and WriteJson prints it);
//   - nesting no deeper than the limit (and than kMaxFastDepth, so recursion stays shallow).
// tests/codec/json_canonical_test.cc checks the promise against ParseJson + WriteJson on
// random and mutated texts.

#include <charconv>
#include <cstring>
#include <string_view>

#include "codec/bigint.h"
#include "codec/byte_scan.h"
#include "codec/json.h"
#include "codec/utf8.h"
#include "common/name_compare.h"

namespace ds::codec {

namespace {

constexpr size_t kMaxFastDepth = 64;

class CanonicalScanner {
 public:
  CanonicalScanner(std::string_view in, size_t max_depth) : in_(in), max_depth_(max_depth) {}

  bool Run() { return Value(0) && pos_ == in_.size(); }

 private:
  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return AtEnd() ? '\0' : in_[pos_]; }
  // A literal (true, false, null): compared with a memcmp of constant length, which the
  // compiler makes a load and a compare rather than a call.
  template <size_t N>
  bool Consume(const char (&word)[N]) {
    constexpr size_t kLength = N - 1;
    if (in_.size() - pos_ < kLength || std::memcmp(in_.data() + pos_, word, kLength) != 0) {
      return false;
    }
    pos_ += kLength;
    return true;
  }

  // Value, String and Number are inlined into their callers, so that only a nested object or
  // array costs a call: with a call per scalar, a 64-byte object of four members made seven
  // calls, whose register saving and restoring cost more than scanning the scalars.
  [[gnu::always_inline]] bool Value(size_t depth) {
    switch (Peek()) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String(/*is_key=*/false);
      case 't':
        return Consume("true");
      case 'f':
        return Consume("false");
      case 'n':
        return Consume("null");
      default:
        return Number();
    }
  }

  bool Array(size_t depth) {
    if (depth > max_depth_) return false;
    ++pos_;  // '['
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (!Value(depth)) return false;
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

  bool Object(size_t depth) {
    if (depth > max_depth_) return false;
    ++pos_;  // '{'
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    std::string_view previous_key;
    bool first = true;
    for (;;) {
      if (Peek() != '"') return false;
      const size_t key_start = pos_ + 1;
      if (!String(/*is_key=*/true)) return false;
      const std::string_view key = in_.substr(key_start, pos_ - 1 - key_start);
      // Escape-free keys are their own decoded bytes, so comparing the text compares what
      // ParseJson sorts by. Strictly increasing: already sorted, and no duplicates.
      if (!first && !NameLess(previous_key, key)) return false;
      previous_key = key;
      first = false;
      if (Peek() != ':') return false;
      ++pos_;
      if (!Value(depth)) return false;
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

  static bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

  // A string literal whose bytes AppendJsonString would write unchanged. Keys must not
  // contain escapes at all (see Object).
  [[gnu::always_inline]] bool String(bool is_key) {
    ++pos_;  // opening quote
    while (!AtEnd()) {
      // Plain text (printable ASCII other than '"' and '\\') goes unchanged: skipped a word at
      // a time (codec/byte_scan.h) up to whatever comes next.
      pos_ = FindNotPlainJsonText(in_, pos_);
      if (AtEnd()) break;
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;  // must be escaped: ParseJson refuses it
      if (c >= 0x80) {
        const size_t len = Utf8SequenceLength(in_.substr(pos_));
        if (len == 0) return false;
        pos_ += len;
        continue;
      }
      if (is_key || pos_ + 1 >= in_.size()) return false;
      switch (in_[pos_ + 1]) {
        case '"':
        case '\\':
        case 'b':
        case 't':
        case 'n':
        case 'f':
        case 'r':
          pos_ += 2;
          continue;
        case 'u': {
          // Only \u00XX for control characters without a short escape, in upper case.
          const std::string_view hex = in_.substr(pos_ + 2, 4);
          if (hex.size() != 4 || hex[0] != '0' || hex[1] != '0' || !IsUpperHex(hex[2]) ||
              !IsUpperHex(hex[3]) || hex[2] > '1') {
            return false;
          }
          const int v = (hex[2] - '0') * 16 + (hex[3] <= '9' ? hex[3] - '0' : hex[3] - 'A' + 10);
          if (v == 0x08 || v == 0x09 || v == 0x0A || v == 0x0C || v == 0x0D) return false;
          pos_ += 6;
          continue;
        }
        default:
          return false;  // e.g. an escaped '/': WriteJson prints '/' itself
      }
    }
    return false;  // unterminated
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  [[gnu::always_inline]] bool Number() {
    const size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    const size_t digits_start = pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) ++pos_;
    } else {
      return false;
    }
    const size_t int_digits = pos_ - digits_start;
    bool is_float = false;
    if (Peek() == '.') {
      is_float = true;
      ++pos_;
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      is_float = true;
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++pos_;
    }
    if (!is_float) {
      // A leading zero followed by a digit is refused by ParseJson; "-0" is printed as "0".
      if (IsDigit(Peek()) || (negative && int_digits == 1 && in_[digits_start] == '0')) {
        return false;
      }
      return int_digits <= kMaxIntegerDigits;
    }
    const std::string_view token(in_.data() + start, pos_ - start);
    double d = 0.0;
    const auto res = std::from_chars(token.data(), token.data() + token.size(), d);
    if (res.ec != std::errc() || res.ptr != token.data() + token.size()) return false;
    return FormatFloatShort(d) == token;
  }

  std::string_view in_;
  const size_t max_depth_;
  size_t pos_ = 0;
};

}  // namespace

bool IsCanonicalJson(std::string_view text, const JsonLimits& limits) {
  const size_t max_depth = limits.max_depth < kMaxFastDepth ? limits.max_depth : kMaxFastDepth;
  return CanonicalScanner(text, max_depth).Run();
}

}  // namespace ds::codec
