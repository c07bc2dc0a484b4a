#include "cache/frequency_sketch.h"

#include <cstdint>

#include "gtest/gtest.h"
#include "xxhash.h"

namespace crema::cache {
namespace {

uint64_t HashOf(uint64_t i) { return XXH3_64bits(&i, sizeof(i)); }

TEST(FrequencySketchTest, CountsUpToFifteenAndSaturates) {
  FrequencySketch sketch(1024);
  const uint64_t h = HashOf(7);
  EXPECT_EQ(sketch.Frequency(h), 0);
  for (int i = 1; i <= 15; ++i) {
    sketch.Increment(h);
    EXPECT_EQ(sketch.Frequency(h), i);
  }
  for (int i = 0; i < 100; ++i) sketch.Increment(h);
  EXPECT_EQ(sketch.Frequency(h), FrequencySketch::kMaxFrequency);
  // Saturated increments do not count towards the reset sample.
  EXPECT_EQ(sketch.additions(), 15);
}

TEST(FrequencySketchTest, HalvingHalvesEveryCounterRoundingDown) {
  FrequencySketch sketch(1024);
  const uint64_t a = HashOf(1), b = HashOf(2), c = HashOf(3);
  for (int i = 0; i < 15; ++i) sketch.Increment(a);
  for (int i = 0; i < 7; ++i) sketch.Increment(b);
  sketch.Increment(c);
  ASSERT_EQ(sketch.Frequency(a), 15);
  ASSERT_EQ(sketch.Frequency(b), 7);
  ASSERT_EQ(sketch.Frequency(c), 1);
  const int64_t additions = sketch.additions();
  sketch.Halve();
  EXPECT_EQ(sketch.Frequency(a), 7);
  EXPECT_EQ(sketch.Frequency(b), 3);
  EXPECT_EQ(sketch.Frequency(c), 0);
  EXPECT_EQ(sketch.additions(), additions / 2);
}

TEST(FrequencySketchTest, ResetsAfterSampleSizeAdditions) {
  const int64_t entries = 64;
  FrequencySketch sketch(entries);
  ASSERT_EQ(sketch.sample_size(), entries * FrequencySketch::kSampleSizePerEntry);
  const uint64_t hot = HashOf(99);
  for (int i = 0; i < 15; ++i) sketch.Increment(hot);
  // Distinct keys until the sample fills; the hot key must then have been halved (at least once).
  uint64_t key = 1000;
  while (sketch.additions() < sketch.sample_size() - 1) sketch.Increment(HashOf(key++));
  EXPECT_GE(sketch.Frequency(hot), 14);  // Collisions may only raise it before the reset.
  sketch.Increment(HashOf(key++));        // The addition that reaches the sample size.
  EXPECT_LE(sketch.Frequency(hot), 7);
  EXPECT_LT(sketch.additions(), sketch.sample_size());
}

TEST(FrequencySketchTest, EstimatesAreNeverBelowTheTrueCountAndRarelyFarAbove) {
  // Count-min property: min over rows >= true count (until saturation or a reset).
  const int64_t entries = 4096;
  FrequencySketch sketch(entries);
  for (uint64_t k = 0; k < 2000; ++k) {
    for (uint64_t i = 0; i < k % 4; ++i) sketch.Increment(HashOf(k));
  }
  ASSERT_LT(sketch.additions(), sketch.sample_size());
  int overestimates = 0;
  for (uint64_t k = 0; k < 2000; ++k) {
    const int f = sketch.Frequency(HashOf(k));
    EXPECT_GE(f, static_cast<int>(k % 4));
    if (f > static_cast<int>(k % 4)) ++overestimates;
  }
  EXPECT_LT(overestimates, 2000 / 20);  // Under 5% with 4 counters per row per entry.
}

}  // namespace
}  // namespace crema::cache
