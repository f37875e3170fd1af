#include "protocol/request_peek.h"

#include <cstdint>

#include "protocol/plain_length.h"

namespace ds::protocol {

size_t PeekRequest(std::string_view input, RequestHead* head) {
  // Bounds that only keep the arithmetic below from overflowing: a peek that gives up leaves
  // the request to the parser, whose limits are the ones that count.
  constexpr uint64_t kMaxArgs = uint64_t{1} << 32;
  constexpr uint64_t kMaxBulk = uint64_t{1} << 40;
  const char* const data = input.data();
  size_t pos = 1;
  uint64_t count = 0;
  if (input.empty() || data[0] != '*' || !ReadPlainLength(input, &pos, kMaxArgs, &count)) return 0;
  *head = RequestHead{};
  for (uint64_t n = 0; n < count; ++n) {
    if (pos >= input.size() || data[pos] != '$') return 0;
    ++pos;
    uint64_t length = 0;
    if (!ReadPlainLength(input, &pos, kMaxBulk, &length)) return 0;
    if (input.size() - pos < length + 2) return 0;
    const std::string_view arg(data + pos, static_cast<size_t>(length));
    pos += static_cast<size_t>(length);
    if (data[pos] != '\r' || data[pos + 1] != '\n') return 0;
    pos += 2;
    if (n == 0) head->name = arg;
    if (n == 1) head->first = arg;
  }
  return pos;
}

}  // namespace ds::protocol
