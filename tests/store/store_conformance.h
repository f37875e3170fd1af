// The Store conformance suite: every clause of the contract in store/store.h, written once and
// run against every store (SPEC §8: "one conformance suite runs against every store").
//
// How to run it against a store
// -----------------------------
// 1. Write a StoreBackend: a name and an `open` function that returns a NEW, EMPTY store each
//    time it is called (each test calls it once, in SetUp). If the stores need tidying after a
//    test (a directory to remove, a bucket prefix to empty), do it in `cleanup`, which runs
//    after the test's store has been destroyed. A backend sharing one bucket between tests
//    must give each store its own key prefix: the tests list with the empty prefix.
// 2. Instantiate the suite in your test file:
//
//      using ds::store::conformance::StoreBackend;  // and StoreConformanceTest, StoreBackendName
//      INSTANTIATE_TEST_SUITE_P(S3, StoreConformanceTest,
//                               testing::Values(StoreBackend{"S3", [] { return ...; }}),
//                               StoreBackendName);
//
// 3. Add store_conformance.cc to the test binary's SOURCES (not a library: the TEST_P
//    registrations live in that file's static initializers and a linker would drop them):
//
//      ds_add_test(s3_store_test SOURCES s3_store_test.cc store_conformance.cc LIBS ds_store)
//
// What the suite assumes: etags are opaque strings (only compared for equality); keys are
// non-empty (an empty key is InvalidArgument, as in S3); max_keys == 0 is InvalidArgument.
// Stores that cannot hold keys outside printable UTF-8 (NUL, 0xFF, "." and "..", which S3 path
// URLs mangle) set `arbitrary_byte_keys = false` to skip the one test that uses them.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"

namespace ds::store::conformance {

struct StoreBackend {
  std::string name;  // becomes the test-name suffix: letters, digits and '_' only
  std::function<std::unique_ptr<Store>()> open;
  std::function<void()> cleanup = nullptr;  // optional
  bool arbitrary_byte_keys = true;
};

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return *store_; }

  std::unique_ptr<Store> store_;
};

}  // namespace ds::store::conformance
