// BatchClock: one reading of its source for everything asked while a Hold lives, the source
// itself otherwise.
#include "session/clock.h"

#include <gtest/gtest.h>

namespace ds::session {
namespace {

// A source that counts its readings and moves one microsecond with each.
class CountingClock final : public Clock {
 public:
  Micros Now() override { return 1000 + ++readings; }
  int readings = 0;
};

TEST(BatchClockTest, OutsideAHoldEveryCallReadsTheSource) {
  CountingClock source;
  BatchClock clock(source);
  EXPECT_EQ(clock.Now(), 1001);
  EXPECT_EQ(clock.Now(), 1002);
  EXPECT_EQ(source.readings, 2);
}

TEST(BatchClockTest, AHoldGivesOneReadingTakenAtTheFirstCall) {
  CountingClock source;
  BatchClock clock(source);
  {
    BatchClock::Hold hold(clock);
    EXPECT_EQ(source.readings, 0);  // nothing read until asked
    EXPECT_EQ(clock.Now(), 1001);
    EXPECT_EQ(clock.Now(), 1001);
    EXPECT_EQ(clock.Now(), 1001);
    EXPECT_EQ(source.readings, 1);
  }
  // Released: reading again, and the next Hold takes a new reading.
  EXPECT_EQ(clock.Now(), 1002);
  BatchClock::Hold hold(clock);
  EXPECT_EQ(clock.Now(), 1003);
  EXPECT_EQ(clock.Now(), 1003);
}

TEST(BatchClockTest, AHoldInsideAnotherKeepsTheOuterReading) {
  CountingClock source;
  BatchClock clock(source);
  {
    BatchClock::Hold outer(clock);
    EXPECT_EQ(clock.Now(), 1001);
    {
      BatchClock::Hold inner(clock);
      EXPECT_EQ(clock.Now(), 1001);
    }
    EXPECT_EQ(clock.Now(), 1001);  // the inner Hold's end did not release the outer one
  }
  EXPECT_EQ(clock.Now(), 1002);
  EXPECT_EQ(source.readings, 2);
}

TEST(BatchClockTest, AHoldFollowsAManualClockBetweenBatches) {
  ManualClock source(5'000);
  BatchClock clock(source);
  {
    BatchClock::Hold hold(clock);
    EXPECT_EQ(clock.Now(), 5'000);
    source.Advance(10);
    EXPECT_EQ(clock.Now(), 5'000);  // held
  }
  EXPECT_EQ(clock.Now(), 5'010);
}

}  // namespace
}  // namespace ds::session
