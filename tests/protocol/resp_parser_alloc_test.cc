// Checks that the parser's hot path does not allocate: once its vectors have grown to fit a
// request, parsing more requests of that shape allocates nothing. Counting allocations needs
// the global operator new replaced, so this file holds only that test (the replacement applies
// to the whole test binary, harmlessly: it only counts).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#include "protocol/resp_parser.h"

namespace {
// Test-only global: the replaced operator new has nowhere else to count.
std::atomic<size_t> g_allocations{0};
}  // namespace

// NOLINTBEGIN(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory): this is the allocator.
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
// NOLINTEND(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)

namespace ds::protocol {
namespace {

TEST(RequestParserAllocationTest, PipelinedSetAndGetDoNotAllocate) {
  std::string pipeline;
  for (int i = 0; i < 100; ++i) {
    pipeline +=
        "*3\r\n$3\r\nSET\r\n$6\r\nkey:" + std::to_string(10 + i % 90) + "\r\n$5\r\nvalue\r\n";
    pipeline += "*2\r\n$3\r\nGET\r\n$6\r\nkey:" + std::to_string(10 + i % 90) + "\r\n";
  }
  RequestParser parser;
  std::string_view rest = pipeline;
  // The first request sizes the parser's vectors.
  ASSERT_EQ(parser.Parse(rest), RequestParser::State::kComplete);
  rest.remove_prefix(parser.consumed());

  const size_t before = g_allocations.load();
  size_t requests = 0;
  while (parser.Parse(rest) == RequestParser::State::kComplete) {
    ++requests;
    rest.remove_prefix(parser.consumed());
  }
  const size_t allocations = g_allocations.load() - before;
  EXPECT_EQ(requests, 199U);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(allocations, 0U);
}

}  // namespace
}  // namespace ds::protocol
