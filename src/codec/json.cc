// ParseJson: strict RFC 8259 text -> normalized JsonValue (SPEC §3 "Values").
//
// Why a hand-written parser and not rapidjson's SAX Reader: rapidjson (1.1.0, what Debian
// ships) refuses integers of more than about 308 digits even with kParseNumbersAsStringsFlag
// (it still accumulates them in a double and reports "number too big"), while JSON and Erlang
// integers are unbounded and must be kept digit for digit. It also lets a lone low surrogate
// escape ("\uDC00") through, and stops at an embedded NUL byte as if the text ended there.
// The grammar is small; owning the parser also gives exact byte offsets and value paths in
// every error message.
//
// The parser is iterative: open arrays and objects live on an explicit stack, bounded by
// JsonLimits::max_depth, so no input can exhaust the C++ stack.

#include "codec/json.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "codec/bigint.h"
#include "codec/utf8.h"
#include "codec/value_path.h"

namespace ds::codec {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// How a byte is shown in "unexpected ..." messages.
std::string DescribeByte(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  char buf[24];
  if (c >= 0x21 && c < 0x7F) {
    std::snprintf(buf, sizeof(buf), "'%c'", c);
  } else {
    std::snprintf(buf, sizeof(buf), "byte 0x%02X", c);
  }
  return buf;
}

// Decides between overflow and underflow for a float token std::from_chars reported as out of
// range, from the decimal exponent of its first significant digit. The two cases are
// hundreds of orders of magnitude apart, so this estimate cannot confuse them.
bool TokenOverflows(std::string_view token) {
  size_t i = token[0] == '-' ? 1 : 0;
  long long int_digits = 0;  // digits before '.', counted from the first significant one
  long long lead_zeros = 0;  // zeros after '.' before the first significant digit
  bool seen_significant = false;
  for (; i < token.size() && IsDigit(token[i]); ++i) {
    if (token[i] != '0') seen_significant = true;
    if (seen_significant) ++int_digits;
  }
  if (i < token.size() && token[i] == '.') {
    for (++i; i < token.size() && IsDigit(token[i]); ++i) {
      if (!seen_significant && token[i] == '0') ++lead_zeros;
      if (token[i] != '0') seen_significant = true;
    }
  }
  long long exponent = 0;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    bool negative = false;
    if (token[i] == '+' || token[i] == '-') negative = token[i++] == '-';
    for (; i < token.size(); ++i) {
      exponent = std::min<long long>(exponent * 10 + (token[i] - '0'), 1'000'000'000);
    }
    if (negative) exponent = -exponent;
  }
  const long long magnitude = int_digits > 0 ? int_digits + exponent : exponent - lead_zeros;
  return magnitude > 0;
}

class Parser {
 public:
  Parser(std::string_view in, const JsonLimits& limits) : in_(in), limits_(limits) {}

  Result<JsonValue> Run();

 private:
  // An array or object whose elements are being parsed.
  struct Frame {
    JsonValue value;
    std::string key;  // objects: key of the member being parsed
    size_t start;     // offset of its '[' or '{'
  };

  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return AtEnd() ? '\0' : in_[pos_]; }
  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  Status ParseScalar(JsonValue* out);
  Status ParseString(std::string* out);
  Status ParseEscape(std::string* out);
  Status ParseNumber(JsonValue* out);
  Status ParseLiteral(std::string_view word, JsonValue value, JsonValue* out);
  // After '{' or ',' inside an object: the key, the ':' and the whitespace before the value.
  Status ParseMemberKey(Frame* frame);
  Status FinishObject(Frame* frame);
  Status OpenContainer(char bracket);

  // Path of the value being parsed (`frames` == stack size) or of an enclosing container.
  std::string PathTo(size_t frames) const;
  // "in the array at [2]" style context for syntax errors.
  std::string Context() const;
  // Where the string being parsed sits: its value path, or the object whose key it is.
  std::string StringWhere() const;
  Status LoneSurrogate(size_t at) const;
  Status Syntax(size_t at, const std::string& what) const;
  Status Unexpected(std::string_view expected) const;

  std::string_view in_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
  bool parsing_key_ = false;  // the string being parsed is an object key
  std::vector<Frame> stack_;
};

Result<JsonValue> Parser::Run() {
  SkipWhitespace();
  if (AtEnd()) return Syntax(pos_, "the text is empty (expected a JSON value)");
  JsonValue value;
  for (;;) {
    // A value starts at pos_. Containers are opened and their first element parsed next.
    const char c = Peek();
    if (c == '[' || c == '{') {
      if (Status s = OpenContainer(c); !s.ok()) return s;
      Frame& frame = stack_.back();
      const char close = c == '[' ? ']' : '}';
      if (Peek() != close) {
        if (c == '{') {
          if (Status s = ParseMemberKey(&frame); !s.ok()) return s;
        }
        continue;
      }
      ++pos_;  // an empty container is complete at once
      value = std::move(frame.value);
      stack_.pop_back();
    } else if (Status s = ParseScalar(&value); !s.ok()) {
      return s;
    }

    // `value` is complete: hand it to its container, closing every container that ends here.
    for (;;) {
      SkipWhitespace();
      if (stack_.empty()) {
        if (!AtEnd()) {
          return Syntax(pos_, "unexpected " + DescribeByte(in_[pos_]) +
                                  " after the JSON value (only whitespace may follow it)");
        }
        return value;
      }
      Frame& top = stack_.back();
      if (top.value.kind == JsonValue::Kind::kArray) {
        top.value.items.push_back(std::move(value));
        if (Peek() == ',') {
          ++pos_;
          SkipWhitespace();
          break;
        }
        if (Peek() != ']') return Unexpected("',' or ']' after an array element");
      } else {
        top.value.members.emplace_back(std::move(top.key), std::move(value));
        if (Peek() == ',') {
          ++pos_;
          SkipWhitespace();
          if (Status s = ParseMemberKey(&top); !s.ok()) return s;
          break;
        }
        if (Peek() != '}') return Unexpected("',' or '}' after an object member");
        if (Status s = FinishObject(&top); !s.ok()) return s;
      }
      ++pos_;
      value = std::move(top.value);
      stack_.pop_back();
    }
  }
}

Status Parser::OpenContainer(char bracket) {
  if (stack_.size() >= limits_.max_depth) {
    return Status::Limit("JSON value nested deeper than " + std::to_string(limits_.max_depth) +
                         " levels at byte " + std::to_string(pos_) + " (" +
                         WhereText(PathTo(stack_.size())) + ")");
  }
  Frame frame;
  frame.value.kind = bracket == '[' ? JsonValue::Kind::kArray : JsonValue::Kind::kObject;
  frame.start = pos_;
  stack_.push_back(std::move(frame));
  ++pos_;
  SkipWhitespace();
  return Status::OK();
}

Status Parser::ParseMemberKey(Frame* frame) {
  if (Peek() != '"') return Unexpected("'\"' to start an object key");
  parsing_key_ = true;
  Status s = ParseString(&frame->key);
  parsing_key_ = false;
  if (!s.ok()) return s;
  SkipWhitespace();
  if (Peek() != ':') return Unexpected("':' after an object key");
  ++pos_;
  SkipWhitespace();
  return Status::OK();
}

Status Parser::FinishObject(Frame* frame) {
  auto& members = frame->value.members;
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  // Canonical input (what WriteJson produces) is already sorted; check before sorting.
  if (!std::is_sorted(members.begin(), members.end(), by_key)) {
    std::sort(members.begin(), members.end(), by_key);
  }
  auto dup = std::adjacent_find(members.begin(), members.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != members.end()) {
    // Elixir's JSON.decode! would silently keep one of the two values; refuse instead.
    return Status::BadValue("duplicate key " + QuoteForMessage(dup->first) + " in the object " +
                            WhereText(PathTo(stack_.size() - 1)) + " (object starts at byte " +
                            std::to_string(frame->start) + ")");
  }
  return Status::OK();
}

Status Parser::ParseScalar(JsonValue* out) {
  const char c = Peek();
  if (c == '"') {
    std::string s;
    if (Status st = ParseString(&s); !st.ok()) return st;
    *out = JsonValue::String(std::move(s));
    return Status::OK();
  }
  if (c == '-' || IsDigit(c)) return ParseNumber(out);
  if (c == 't') return ParseLiteral("true", JsonValue::Bool(true), out);
  if (c == 'f') return ParseLiteral("false", JsonValue::Bool(false), out);
  if (c == 'n') return ParseLiteral("null", JsonValue::Null(), out);
  return Unexpected("a value");
}

Status Parser::ParseLiteral(std::string_view word, JsonValue value, JsonValue* out) {
  if (in_.substr(pos_, word.size()) != word) return Unexpected("a value");
  pos_ += word.size();
  *out = std::move(value);
  return Status::OK();
}

Status Parser::ParseString(std::string* out) {
  const size_t start = pos_;
  ++pos_;  // opening quote
  out->clear();
  for (;;) {
    // Copy the longest run that needs no decoding: plain ASCII and valid UTF-8 sequences.
    const size_t run = pos_;
    while (!AtEnd()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ++pos_;
      } else if (c >= 0x80) {
        const size_t len = Utf8SequenceLength(in_.substr(pos_));
        if (len == 0) break;
        pos_ += len;
      } else {
        break;
      }
    }
    out->append(in_.data() + run, pos_ - run);
    if (AtEnd()) return Syntax(start, "unterminated string");
    const auto c = static_cast<unsigned char>(in_[pos_]);
    if (c == '"') {
      ++pos_;
      return Status::OK();
    }
    if (c == '\\') {
      if (Status s = ParseEscape(out); !s.ok()) return s;
      continue;
    }
    if (c >= 0x80) {
      return Status::BadValue("invalid UTF-8 at byte " + std::to_string(pos_) + " in a string " +
                              StringWhere());
    }
    char buf[8];
    std::snprintf(buf, sizeof(buf), "0x%02X", c);
    return Syntax(pos_, std::string("control character ") + buf +
                            " inside a string (it must be escaped, e.g. \\n or \\u00XX)");
  }
}

Status Parser::ParseEscape(std::string* out) {
  const size_t at = pos_;
  ++pos_;  // backslash
  if (AtEnd()) return Syntax(at, "unterminated string");
  const char e = in_[pos_++];
  switch (e) {
    case '"':
      out->push_back('"');
      return Status::OK();
    case '\\':
      out->push_back('\\');
      return Status::OK();
    case '/':
      out->push_back('/');
      return Status::OK();
    case 'b':
      out->push_back('\b');
      return Status::OK();
    case 'f':
      out->push_back('\f');
      return Status::OK();
    case 'n':
      out->push_back('\n');
      return Status::OK();
    case 'r':
      out->push_back('\r');
      return Status::OK();
    case 't':
      out->push_back('\t');
      return Status::OK();
    case 'u':
      break;
    default:
      return Syntax(at, "invalid escape \\" + std::string(1, e) + " in a string");
  }
  auto hex4 = [&](size_t p, uint32_t* cp) {
    if (p + 4 > in_.size()) return false;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int h = HexValue(in_[p + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    *cp = v;
    return true;
  };
  uint32_t cp;
  if (!hex4(pos_, &cp)) return Syntax(at, "\\u must be followed by four hex digits");
  pos_ += 4;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    // A high surrogate must be followed by an escaped low surrogate: together one character.
    uint32_t low;
    if (in_.substr(pos_, 2) == "\\u" && hex4(pos_ + 2, &low) && low >= 0xDC00 && low <= 0xDFFF) {
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else {
      return LoneSurrogate(at);
    }
  } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return LoneSurrogate(at);
  }
  AppendUtf8(cp, *out);
  return Status::OK();
}

Status Parser::ParseNumber(JsonValue* out) {
  const size_t start = pos_;
  if (Peek() == '-') ++pos_;
  if (Peek() == '0') {
    ++pos_;
    if (IsDigit(Peek())) return Syntax(start, "numbers must not have leading zeros");
  } else if (IsDigit(Peek())) {
    while (IsDigit(Peek())) ++pos_;
  } else {
    return Syntax(start, "'-' must be followed by a digit");
  }
  bool is_float = false;
  if (Peek() == '.') {
    is_float = true;
    ++pos_;
    if (!IsDigit(Peek())) return Syntax(start, "a digit must follow the decimal point");
    while (IsDigit(Peek())) ++pos_;
  }
  if (Peek() == 'e' || Peek() == 'E') {
    is_float = true;
    ++pos_;
    if (Peek() == '+' || Peek() == '-') ++pos_;
    if (!IsDigit(Peek())) return Syntax(start, "a digit must follow the exponent mark");
    while (IsDigit(Peek())) ++pos_;
  }
  const std::string_view token = in_.substr(start, pos_ - start);

  if (!is_float) {
    const bool negative = token[0] == '-';
    const std::string_view digits = token.substr(negative ? 1 : 0);
    if (digits.size() > kMaxIntegerDigits) {
      return Status::Limit("integer of " + std::to_string(digits.size()) + " digits " +
                           WhereText(PathTo(stack_.size())) + " (byte " + std::to_string(start) +
                           "); at most " + std::to_string(kMaxIntegerDigits) +
                           " digits are supported");
    }
    // The grammar already rules out leading zeros, so only "-0" is not canonical.
    *out = JsonValue::Integer(std::string(digits == "0" ? digits : token));
    return Status::OK();
  }

  double d = 0.0;
  const auto res = std::from_chars(token.data(), token.data() + token.size(), d);
  if (res.ec == std::errc::result_out_of_range) {
    if (TokenOverflows(token)) {
      return Status::BadValue("number " + std::string(token.substr(0, 40)) +
                              (token.size() > 40 ? "..." : "") + " " +
                              WhereText(PathTo(stack_.size())) + " (byte " + std::to_string(start) +
                              ") is too large for a double");
    }
    d = token[0] == '-' ? -0.0 : 0.0;  // underflow reads as zero, as in Erlang
  } else if (res.ec != std::errc() || res.ptr != token.data() + token.size()) {
    return Syntax(start, "malformed number");  // not reachable: the grammar was checked
  }
  *out = JsonValue::Float(d);
  return Status::OK();
}

std::string Parser::PathTo(size_t frames) const {
  std::string path;
  for (size_t i = 0; i < frames; ++i) {
    const Frame& f = stack_[i];
    if (f.value.kind == JsonValue::Kind::kArray) {
      AppendPathIndex(f.value.items.size(), path);
    } else {
      AppendPathKey(f.key, path);
    }
  }
  return path;
}

std::string Parser::Context() const {
  if (stack_.empty()) return "";
  const bool array = stack_.back().value.kind == JsonValue::Kind::kArray;
  return std::string(" (in the ") + (array ? "array " : "object ") +
         WhereText(PathTo(stack_.size() - 1)) + ")";
}

std::string Parser::StringWhere() const {
  if (parsing_key_) return "(a key of the object " + WhereText(PathTo(stack_.size() - 1)) + ")";
  return WhereText(PathTo(stack_.size()));
}

Status Parser::LoneSurrogate(size_t at) const {
  return Status::BadValue("lone UTF-16 surrogate escape " + std::string(in_.substr(at, 6)) +
                          " at byte " + std::to_string(at) + " in a string " + StringWhere() +
                          " (a surrogate must be part of a \\uD8xx\\uDCxx pair)");
}

Status Parser::Syntax(size_t at, const std::string& what) const {
  return Status::BadValue("invalid JSON at byte " + std::to_string(at) + ": " + what + Context());
}

Status Parser::Unexpected(std::string_view expected) const {
  if (AtEnd()) return Syntax(pos_, "unexpected end of input, expected " + std::string(expected));
  return Syntax(pos_,
                "unexpected " + DescribeByte(in_[pos_]) + ", expected " + std::string(expected));
}

}  // namespace

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits) {
  Parser parser(text, limits);
  return parser.Run();
}

}  // namespace ds::codec
