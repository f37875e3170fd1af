// Test helper: deterministic random JsonValues in normalized form (sorted unique keys,
// canonical integers, finite floats, valid UTF-8), for round-trip properties.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "codec/json_value.h"
#include "codec/utf8.h"

namespace ds::codec::testing {

class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  JsonValue Value(int depth = 0) {
    const int kind = Uniform(0, depth >= 4 ? 5 : 7);
    switch (kind) {
      case 0:
        return JsonValue::Null();
      case 1:
        return JsonValue::Bool(Uniform(0, 1) == 1);
      case 2:
        return JsonValue::Integer(IntegerText());
      case 3:
        return JsonValue::Float(Double());
      case 4:
      case 5:
        return JsonValue::String(Text());
      case 6: {
        std::vector<JsonValue> items;
        for (int n = Uniform(0, 5); n > 0; --n) items.push_back(Value(depth + 1));
        return JsonValue::Array(std::move(items));
      }
      default: {
        std::set<std::string> keys;
        for (int n = Uniform(0, 5); n > 0; --n) keys.insert(Text());
        std::vector<std::pair<std::string, JsonValue>> members;
        for (const std::string& k : keys) members.emplace_back(k, Value(depth + 1));
        return JsonValue::Object(std::move(members));
      }
    }
  }

  std::string IntegerText() {
    switch (Uniform(0, 3)) {
      case 0:
        return std::to_string(Uniform(-300, 300));
      case 1:
        return std::to_string(static_cast<int64_t>(rng_()));
      default: {
        std::string s = Uniform(0, 1) ? "-" : "";
        s.push_back(static_cast<char>('1' + Uniform(0, 8)));
        for (int n = Uniform(0, 60); n > 0; --n)
          s.push_back(static_cast<char>('0' + Uniform(0, 9)));
        return s;
      }
    }
  }

  double Double() {
    for (;;) {
      double d;
      if (Uniform(0, 1)) {
        const uint64_t bits = rng_();
        std::memcpy(&d, &bits, sizeof(d));
      } else {
        d = Uniform(-100000, 100000) / 8.0;
      }
      if (std::isfinite(d)) return d;
    }
  }

  std::string Text() {
    static const uint32_t kPool[] = {'a',  'b',  'Z',    '0',    ' ',     '"',
                                     '\\', '/',  '\n',   '\t',   0,       0x1F,
                                     0x7F, 0xE9, 0x20AC, 0xFFFF, 0x1F600, 0x10FFFF};
    std::string s;
    for (int n = Uniform(0, 8); n > 0; --n) {
      AppendUtf8(kPool[Uniform(0, sizeof(kPool) / sizeof(kPool[0]) - 1)], s);
    }
    return s;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::mt19937_64 rng_;
};

}  // namespace ds::codec::testing
