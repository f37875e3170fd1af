// Where inside a value something went wrong, for error messages: `[2].pos`, `items[0]`,
// `["a key"].x`. Both codecs report rejected values this way, so a user reading
// "a tuple at [2].pos" can find the element in their own data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ds::codec {

// Appends one path step: "[3]" for an array index; ".name" for an object key that looks like
// an identifier (no dot when it is the first step); otherwise `["key"]` with the key quoted
// as by QuoteForMessage.
void AppendPathIndex(size_t index, std::string& path);
void AppendPathKey(std::string_view key, std::string& path);

// `s` as a JSON string literal for a message: escaped, so that no control character reaches a
// RESP error line, and cut at 64 bytes (on a UTF-8 boundary) with "..." to keep messages short.
std::string QuoteForMessage(std::string_view s);

// A path being walked; the keys are views into strings the caller keeps alive while their
// step is on the path.
class ValuePath {
 public:
  void PushIndex(size_t index) { steps_.push_back({{}, index, false}); }
  void PushKey(std::string_view key) { steps_.push_back({key, 0, true}); }
  void Pop() { steps_.pop_back(); }

  // "at [2].pos", or "at the top level" for the empty path.
  std::string Where() const;

 private:
  struct Step {
    std::string_view key;
    size_t index;
    bool is_key;
  };
  std::vector<Step> steps_;
};

// "at <path>" for a path rendered by AppendPath*; "at the top level" when it is empty.
std::string WhereText(const std::string& path);

}  // namespace ds::codec
