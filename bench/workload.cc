#include "workload.h"

#include <cstring>

namespace ds::bench {

void Template::AddCommand(const std::vector<std::string>& args) {
  bytes_ += "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    // Substitute a fixed-width key for each marker, remembering where its digits are.
    std::string value;
    std::vector<size_t> offsets;
    for (size_t pos = 0;;) {
      const size_t at = arg.find(kSession, pos);
      value.append(arg, pos, at == std::string::npos ? std::string::npos : at - pos);
      if (at == std::string::npos) break;
      value += kSessionPrefix;
      offsets.push_back(value.size());
      value.append(kSessionDigits, '0');
      pos = at + kSession.size();
    }
    bytes_ += "$" + std::to_string(value.size()) + "\r\n";
    for (size_t off : offsets) digit_offsets_.push_back(bytes_.size() + off);
    bytes_ += value;
    bytes_ += "\r\n";
  }
  ++commands_;
}

void Template::Append(uint64_t index, std::string& out) const {
  const size_t base = out.size();
  out.append(bytes_);
  char digits[kSessionDigits];
  for (size_t i = kSessionDigits; i-- > 0;) {
    digits[i] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
  for (size_t off : digit_offsets_) std::memcpy(out.data() + base + off, digits, kSessionDigits);
}

namespace {

// Length of the line starting at data[pos] including its CRLF, or 0 if incomplete.
size_t LineLength(std::string_view data, size_t pos) {
  const size_t cr = data.find("\r\n", pos);
  return cr == std::string_view::npos ? 0 : cr + 2 - pos;
}

int64_t ParseInt(std::string_view s, bool* bad) {
  int64_t v = 0;
  const bool neg = !s.empty() && s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size()) *bad = true;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      *bad = true;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

size_t ReplyLengthAt(std::string_view data, size_t pos, bool* bad, int depth) {
  if (pos >= data.size()) return 0;
  const size_t line = LineLength(data, pos);
  if (line == 0) return 0;
  if (line < 3) {
    *bad = true;
    return 0;
  }
  const char type = data[pos];
  const std::string_view body = data.substr(pos + 1, line - 3);
  switch (type) {
    case '+':
    case '-':
    case ':':
      return line;
    case '$': {
      const int64_t n = ParseInt(body, bad);
      if (*bad) return 0;
      if (n < 0) return line;
      const size_t total = line + static_cast<size_t>(n) + 2;
      return pos + total <= data.size() ? total : 0;
    }
    case '*': {
      const int64_t n = ParseInt(body, bad);
      if (*bad || depth > 8) {
        *bad = true;
        return 0;
      }
      size_t total = line;
      for (int64_t i = 0; i < n; ++i) {
        const size_t len = ReplyLengthAt(data, pos + total, bad, depth + 1);
        if (len == 0) return 0;
        total += len;
      }
      return total;
    }
    default:
      *bad = true;
      return 0;
  }
}

}  // namespace

size_t ReplyLength(std::string_view data, bool* bad) { return ReplyLengthAt(data, 0, bad, 0); }

std::string JsonValueOfSize(size_t bytes, uint64_t seed) {
  // {"count":N,"flags":[true,false,null],"name":"bench","text":"xxxx..."}
  const std::string head = "{\"count\":" + std::to_string(seed % 100000) +
                           ",\"flags\":[true,false,null],\"name\":\"bench\",\"text\":\"";
  const std::string tail = "\"}";
  std::string out = head;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 ";
  uint64_t x = seed * 2654435761u + 1;
  for (size_t i = head.size() + tail.size(); i < bytes; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(kAlphabet[x % (sizeof(kAlphabet) - 1)]);
  }
  out += tail;
  return out;
}

}  // namespace ds::bench
