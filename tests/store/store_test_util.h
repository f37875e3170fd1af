// Helpers shared by the store tests: status matchers, a temporary directory, and a List walk.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/store.h"

namespace ds::store::test {

inline ::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

template <typename T>
::testing::AssertionResult IsOk(const Result<T>& result) {
  return IsOk(result.status());
}

// The code of a Status or Result (kOk when it holds a value).
inline StatusCode CodeOf(const Status& status) { return status.code(); }
template <typename T>
StatusCode CodeOf(const Result<T>& result) {
  return result.ok() ? StatusCode::kOk : result.status().code();
}

// A fresh directory under the test temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ds-store-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads every key under `prefix` page by page, checking the paging rules on the way: no page
// is larger than max_keys, a page with a continuation is not empty and not the last one, and
// the keys come in strictly increasing byte order across pages.
inline std::vector<std::string> ListAll(Store& store, const std::string& prefix, size_t max_keys,
                                        int* pages = nullptr) {
  std::vector<std::string> keys;
  std::string continuation;
  int count = 0;
  do {
    Result<ListPage> page = store.List(prefix, continuation, max_keys);
    EXPECT_TRUE(IsOk(page));
    if (!page.ok()) break;
    ++count;
    EXPECT_LE(page->entries.size(), max_keys);
    if (!page->continuation.empty()) {
      EXPECT_FALSE(page->entries.empty());
    }
    for (const ListEntry& entry : page->entries) {
      if (!keys.empty()) {
        EXPECT_LT(keys.back(), entry.key) << "not in strictly increasing order";
      }
      keys.push_back(entry.key);
    }
    continuation = page->continuation;
    if (count > 100000) {
      ADD_FAILURE() << "listing does not end";
      break;
    }
  } while (!continuation.empty());
  if (pages != nullptr) *pages = count;
  return keys;
}

}  // namespace ds::store::test
