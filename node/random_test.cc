#include "node/random.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace crema {
namespace {

TEST(RandomTest, SameSeedSameStream) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= (x != c.Next());
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, ForkIsIndependentOfDrawsMade) {
  Random a(7), b(7);
  for (int i = 0; i < 10; ++i) a.Next();
  EXPECT_EQ(a.Fork("net").Next(), b.Fork("net").Next());
  EXPECT_NE(a.Fork("net").Next(), a.Fork("disk").Next());
  EXPECT_NE(a.Fork(1).Next(), a.Fork(2).Next());
}

TEST(RandomTest, UniformCoversRangeRoughlyEvenly) {
  Random r(1);
  int counts[10] = {};
  for (int i = 0; i < 100000; ++i) counts[r.Uniform(10)]++;
  for (int c : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

TEST(RandomTest, ChanceMatchesRatio) {
  Random r(2);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += r.Chance(3, 10);
  EXPECT_GT(hits, 29000);
  EXPECT_LT(hits, 31000);
  EXPECT_FALSE(r.Chance(0, 5));
  EXPECT_TRUE(r.Chance(5, 5));
}

RC_GTEST_PROP(RandomProp, RangeStaysInBounds, (uint64_t seed, int32_t a, int32_t b)) {
  Random r(seed);
  const int64_t lo = std::min<int64_t>(a, b), hi = std::max<int64_t>(a, b);
  for (int i = 0; i < 20; ++i) {
    const int64_t x = r.Range(lo, hi);
    RC_ASSERT(x >= lo);
    RC_ASSERT(x <= hi);
  }
}

RC_GTEST_PROP(RandomProp, DurationBetweenStaysInBounds, (uint64_t seed, uint32_t a, uint32_t b)) {
  Random r(seed);
  const absl::Duration lo = absl::Microseconds(std::min(a, b));
  const absl::Duration hi = absl::Microseconds(std::max(a, b));
  const absl::Duration d = r.DurationBetween(lo, hi);
  RC_ASSERT(d >= lo);
  RC_ASSERT(d <= hi);
}

}  // namespace
}  // namespace crema
