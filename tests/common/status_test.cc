#include "common/status.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace ds {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorsCarryCodeAndMessage) {
  Status s = Status::PreconditionFailed("etag changed");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsPreconditionFailed());
  EXPECT_FALSE(s.IsTransient());
  EXPECT_EQ(s.ToString(), "PreconditionFailed: etag changed");
}

TEST(StatusTest, TransientCodes) {
  EXPECT_TRUE(Status::Unavailable("x").IsTransient());
  EXPECT_TRUE(Status::Timeout("x").IsTransient());
  EXPECT_TRUE(Status::OutcomeUnknown("x").IsTransient());
  EXPECT_FALSE(Status::NotFound("x").IsTransient());
  EXPECT_FALSE(Status::Corruption("x").IsTransient());
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Status::NotFound("nope");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsNotFound());
}

}  // namespace
}  // namespace ds
