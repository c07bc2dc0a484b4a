#include "cache/hill_climber.h"

#include "gtest/gtest.h"

namespace crema::cache {
namespace {

// Feeds one sample period with the given hit rate (in percent) and returns the adjustment.
int64_t Sample(HillClimber& climber, int hit_percent) {
  int64_t adjustment = 0;
  for (int i = 0; i < 100; ++i) {
    const int64_t a = climber.Record(i < hit_percent);
    if (i < 99) {
      EXPECT_EQ(a, 0) << "adjusted before the sample ended";
    }
    adjustment = a;
  }
  return adjustment;
}

TEST(HillClimberTest, KeepsDirectionWhileHitRateRisesAndReversesWhenItDrops) {
  HillClimber climber(/*capacity=*/1600, /*sample_size=*/100);
  const int64_t full = 1600 / HillClimber::kFullStepDivisor;  // 100.
  // First sample: 50% vs 0% before: a big rise, so grow by a full step and restart.
  EXPECT_EQ(Sample(climber, 50), full);
  // Small rise (1 point): keep growing, with a decayed step next.
  EXPECT_EQ(Sample(climber, 51), full);
  EXPECT_EQ(climber.step(), full * 98 / 100);
  // Small drop: reverse direction (shrink) by the decayed step.
  EXPECT_EQ(Sample(climber, 50), -(full * 98 / 100));
  EXPECT_EQ(climber.step(), -(full * 98 / 100) * 98 / 100);
  // Rise again: keep shrinking.
  const int64_t step = climber.step();
  EXPECT_EQ(Sample(climber, 51), step);
  EXPECT_LT(climber.step(), 0);
}

TEST(HillClimberTest, LargeChangeRestartsWithAFullStepInTheNewDirection) {
  HillClimber climber(1600, 100);
  const int64_t full = 1600 / HillClimber::kFullStepDivisor;
  Sample(climber, 60);  // Grow, full step.
  for (int i = 0; i < 20; ++i) Sample(climber, 60);  // Flat: keep growing, decaying.
  EXPECT_GT(climber.step(), 0);
  EXPECT_LT(climber.step(), full);
  // A 10-point drop: shrink now, and restart with a full step in that direction.
  EXPECT_LT(Sample(climber, 50), 0);
  EXPECT_EQ(climber.step(), -full);
}

TEST(HillClimberTest, StepDecaysTowardsZero) {
  HillClimber climber(1600, 100);
  Sample(climber, 50);
  for (int i = 0; i < 400; ++i) Sample(climber, 50);
  EXPECT_EQ(climber.step(), 0);
  EXPECT_EQ(Sample(climber, 50), 0);
}

}  // namespace
}  // namespace crema::cache
