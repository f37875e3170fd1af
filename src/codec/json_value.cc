// JsonValue helpers (see json_value.h).

#include "codec/json_value.h"

#include <algorithm>

namespace ds::codec {

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (kind != Kind::kObject) return nullptr;
  // Members are sorted by key bytes (std::string compares like memcmp), so binary search.
  auto it =
      std::lower_bound(members.begin(), members.end(), key,
                       [](const auto& member, std::string_view k) { return member.first < k; });
  if (it == members.end() || it->first != key) return nullptr;
  return &it->second;
}

void SortMembers(std::vector<std::pair<std::string, JsonValue>>& members) {
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace ds::codec
