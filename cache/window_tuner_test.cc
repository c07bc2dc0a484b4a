#include "cache/window_tuner.h"

#include "gtest/gtest.h"

namespace crema::cache {
namespace {

using Side = WindowTuner::Side;

TEST(WindowTunerTest, DepthIsATwentiethOfCapacityWithinBounds) {
  EXPECT_EQ(WindowTuner(1000).depth(), 50);
  EXPECT_EQ(WindowTuner(10).depth(), WindowTuner::kMinDepth);
  EXPECT_EQ(WindowTuner(int64_t{1} << 30).depth(), WindowTuner::kMaxDepth);
}

TEST(WindowTunerTest, AMissOnARecentlyRejectedCandidateGrowsTheWindowOnce) {
  WindowTuner tuner(1000);
  tuner.OnWindowExit();
  tuner.OnLost(Side::kWindow, /*hash=*/7, /*weight=*/3);
  EXPECT_EQ(tuner.OnMiss(7), WindowTuner::kStepPerHit * 3);
  EXPECT_EQ(tuner.OnMiss(7), 0) << "a shadow record counts once";
  EXPECT_EQ(tuner.OnMiss(8), 0) << "a key never lost says nothing";
}

TEST(WindowTunerTest, AMissOnARecentMainVictimShrinksTheWindow) {
  WindowTuner tuner(1000);
  tuner.OnLost(Side::kMain, 9, 1);
  EXPECT_EQ(tuner.OnMiss(9), -WindowTuner::kStepPerHit);
}

TEST(WindowTunerTest, AWindowLossMoreThanDepthExitsAgoIsIgnored) {
  // A re-reference farther than `depth` exits away (a loop longer than the window could grow in
  // one step) must not pull the window open.
  WindowTuner tuner(1000);
  tuner.OnLost(Side::kWindow, 11, 1);
  for (int64_t i = 0; i <= tuner.depth(); ++i) tuner.OnWindowExit();
  EXPECT_EQ(tuner.OnMiss(11), 0);
  tuner.OnLost(Side::kWindow, 12, 1);
  for (int64_t i = 0; i < tuner.depth(); ++i) tuner.OnWindowExit();
  EXPECT_EQ(tuner.OnMiss(12), WindowTuner::kStepPerHit) << "exactly depth exits ago still counts";
}

TEST(WindowTunerTest, ShadowsKeepOnlyTheLastDepthLossesOfEachSide) {
  WindowTuner tuner(200);  // depth 10.
  ASSERT_EQ(tuner.depth(), 10);
  for (uint64_t h = 100; h < 100 + 25; ++h) tuner.OnLost(Side::kMain, h, 1);
  EXPECT_EQ(tuner.shadow_size(), 10);
  EXPECT_EQ(tuner.OnMiss(100), 0) << "the oldest main losses are forgotten";
  EXPECT_EQ(tuner.OnMiss(114), 0);
  EXPECT_EQ(tuner.OnMiss(115), -WindowTuner::kStepPerHit);
  EXPECT_EQ(tuner.OnMiss(124), -WindowTuner::kStepPerHit);
  // The window side's ring is separate: main losses never push out window records.
  tuner.OnLost(Side::kWindow, 500, 1);
  for (uint64_t h = 200; h < 230; ++h) tuner.OnLost(Side::kMain, h, 1);
  EXPECT_EQ(tuner.OnMiss(500), WindowTuner::kStepPerHit);
}

TEST(WindowTunerTest, ALaterLossOfTheSameKeyReplacesItsRecord) {
  WindowTuner tuner(200);
  tuner.OnLost(Side::kWindow, 42, 1);
  tuner.OnLost(Side::kMain, 42, 1);  // Re-admitted later, then evicted from main.
  EXPECT_EQ(tuner.OnMiss(42), -WindowTuner::kStepPerHit);
  // The stale window-ring slot of key 42 must not erase a newer record when it is recycled.
  tuner.OnLost(Side::kMain, 43, 1);
  for (int64_t i = 0; i < 2 * tuner.depth(); ++i) tuner.OnLost(Side::kWindow, 1000 + i, 1);
  EXPECT_EQ(tuner.OnMiss(43), -WindowTuner::kStepPerHit);
}

TEST(WindowTunerTest, SamplingBoundsRecordsAndKeepsTheExpectedAdjustment) {
  // depth 50,000 with at most 1,000 records per side: a 1/50 sample of the keys, each sampled
  // shadow hit worth ~50 hits.
  WindowTuner tuner(1'000'000, /*max_records_per_side=*/1000);
  ASSERT_EQ(tuner.depth(), 50'000);
  int64_t sampled = 0, total_adjustment = 0;
  for (uint64_t h = 1; h <= 50'000; ++h) {
    const uint64_t hash = h * 0x9E3779B97F4A7C15ull;
    sampled += tuner.Sampled(hash) ? 1 : 0;
    tuner.OnLost(Side::kMain, hash, 1);
  }
  EXPECT_NEAR(static_cast<double>(sampled), 1000.0, 150.0);
  EXPECT_LE(tuner.shadow_size(), 1250) << "the ring bounds the records";
  for (uint64_t h = 1; h <= 50'000; ++h) {
    const uint64_t hash = h * 0x9E3779B97F4A7C15ull;
    const int64_t adjustment = tuner.OnMiss(hash);
    if (!tuner.Sampled(hash)) {
      EXPECT_EQ(adjustment, 0);
    }
    total_adjustment += adjustment;
  }
  // Unsampled, every one of the last 50,000 main losses would give -kStepPerHit.
  EXPECT_NEAR(static_cast<double>(total_adjustment), -2.0 * 50'000, 0.2 * 2 * 50'000);
  EXPECT_LT(tuner.memory_bytes(), size_t{200'000});
}

TEST(WindowTunerTest, NoSamplingWhenTheBoundExceedsTheDepth) {
  WindowTuner tuner(1000, /*max_records_per_side=*/8192);
  for (uint64_t h = 0; h < 1000; ++h) EXPECT_TRUE(tuner.Sampled(h * 0x9E3779B97F4A7C15ull));
  tuner.OnLost(Side::kMain, 9, 1);
  EXPECT_EQ(tuner.OnMiss(9), -WindowTuner::kStepPerHit);
}

}  // namespace
}  // namespace crema::cache
