#include "node/membership/phi_accrual.h"

#include <cmath>

#include "gtest/gtest.h"

namespace crema::membership {
namespace {

const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

PhiAccrualDetector Trained(PhiAccrualConfig config, absl::Duration interval, int beats,
                           absl::Time* last) {
  PhiAccrualDetector detector(config);
  absl::Time t = kStart;
  for (int i = 0; i < beats; ++i) {
    detector.Heartbeat(t);
    *last = t;
    t += interval;
  }
  return detector;
}

// The first time (at `step` resolution) after `from` where phi reaches the threshold.
absl::Duration CrossingAfter(const PhiAccrualDetector& detector, absl::Time from,
                             absl::Duration step) {
  for (absl::Duration d = absl::ZeroDuration(); d < absl::Hours(1); d += step) {
    if (!detector.IsAvailable(from + d)) return d;
  }
  return absl::InfiniteDuration();
}

TEST(PhiAccrualTest, ZeroBeforeAnyHeartbeat) {
  PhiAccrualDetector detector(PhiAccrualConfig{});
  EXPECT_EQ(detector.Phi(kStart + absl::Hours(1)), 0.0);
  EXPECT_TRUE(detector.IsAvailable(kStart));
}

TEST(PhiAccrualTest, PhiGrowsWithSilence) {
  absl::Time last;
  PhiAccrualDetector detector = Trained(PhiAccrualConfig{}, absl::Seconds(1), 50, &last);
  double previous = -1;
  for (int ms = 0; ms <= 10000; ms += 250) {
    const double phi = detector.Phi(last + absl::Milliseconds(ms));
    EXPECT_GE(phi, previous) << "at +" << ms << "ms";
    EXPECT_TRUE(std::isfinite(phi));
    previous = phi;
  }
  EXPECT_LT(detector.Phi(last + absl::Milliseconds(500)), 0.5);
  EXPECT_GT(detector.Phi(last + absl::Seconds(10)), 100);
  // Far in the tail phi stays finite and keeps growing (the asymptotic branch).
  EXPECT_GT(detector.Phi(last + absl::Hours(1)), detector.Phi(last + absl::Minutes(30)));
  EXPECT_TRUE(std::isfinite(detector.Phi(last + absl::Hours(1))));
}

TEST(PhiAccrualTest, HeartbeatResetsPhi) {
  absl::Time last;
  PhiAccrualDetector detector = Trained(PhiAccrualConfig{}, absl::Seconds(1), 20, &last);
  EXPECT_FALSE(detector.IsAvailable(last + absl::Seconds(5)));
  detector.Heartbeat(last + absl::Seconds(5));
  EXPECT_TRUE(detector.IsAvailable(last + absl::Seconds(5) + absl::Milliseconds(100)));
}

// With regular heartbeats the std deviation is clamped to min_std_deviation, so the threshold is
// crossed at mean + z·min_std where P(Z > z) = 10^-8 (z ≈ 5.61).
TEST(PhiAccrualTest, ThresholdCrossingTimeFollowsInterval) {
  for (absl::Duration interval : {absl::Milliseconds(100), absl::Seconds(1), absl::Seconds(5)}) {
    PhiAccrualConfig config;
    config.min_std_deviation = interval / 10;
    absl::Time last;
    PhiAccrualDetector detector = Trained(config, interval, 100, &last);
    const absl::Duration crossing = CrossingAfter(detector, last, interval / 1000);
    const absl::Duration expected = interval + config.min_std_deviation * 5.612;
    EXPECT_NEAR(absl::ToDoubleMilliseconds(crossing), absl::ToDoubleMilliseconds(expected),
                absl::ToDoubleMilliseconds(interval) / 100)
        << "interval " << interval;
  }
}

TEST(PhiAccrualTest, AcceptablePauseDelaysCrossing) {
  PhiAccrualConfig config;
  absl::Time last;
  PhiAccrualDetector plain = Trained(config, absl::Seconds(1), 30, &last);
  config.acceptable_heartbeat_pause = absl::Seconds(3);
  PhiAccrualDetector tolerant = Trained(config, absl::Seconds(1), 30, &last);
  const absl::Duration a = CrossingAfter(plain, last, absl::Milliseconds(1));
  const absl::Duration b = CrossingAfter(tolerant, last, absl::Milliseconds(1));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(b - a), 3000, 2);
}

TEST(PhiAccrualTest, JitteryHeartbeatsWidenTheDistribution) {
  PhiAccrualDetector regular(PhiAccrualConfig{});
  PhiAccrualDetector jittery(PhiAccrualConfig{});
  absl::Time t = kStart;
  absl::Time u = kStart;
  for (int i = 0; i < 200; ++i) {
    regular.Heartbeat(t);
    jittery.Heartbeat(u);
    t += absl::Seconds(1);
    u += absl::Milliseconds(i % 2 == 0 ? 500 : 1500);
  }
  EXPECT_NEAR(absl::ToDoubleMilliseconds(jittery.MeanInterval()), 1000, 5);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(jittery.StdDeviation()), 500, 5);
  // 2.5 s of silence: alarming for the regular peer, normal for the jittery one.
  EXPECT_FALSE(regular.IsAvailable(t - absl::Seconds(1) + absl::Milliseconds(2500)));
  EXPECT_TRUE(jittery.IsAvailable(u - absl::Milliseconds(1500) + absl::Milliseconds(2500)));
}

TEST(PhiAccrualTest, WindowIsBounded) {
  PhiAccrualConfig config;
  config.window_samples = 10;
  PhiAccrualDetector detector(config);
  absl::Time t = kStart;
  for (int i = 0; i < 100; ++i) {
    detector.Heartbeat(t);
    if (i + 1 < 100) t += absl::Seconds(10);
  }
  for (int i = 0; i < 10; ++i) {  // the last 10 intervals are 1 s: the 10 s ones are forgotten
    t += absl::Seconds(1);
    detector.Heartbeat(t);
  }
  EXPECT_EQ(detector.sample_count(), 10u);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(detector.MeanInterval()), 1000, 1);
}

TEST(PhiAccrualTest, NormalTailMatchesKnownValues) {
  EXPECT_NEAR(NormalTailPhi(0, 0, 1), std::log10(2.0), 1e-9);  // P = 0.5
  EXPECT_NEAR(NormalTailPhi(5.612, 0, 1), 8.0, 0.01);
  // Continuity across the erfc → asymptotic switch (u = 20 ⇒ x = 20·√2).
  const double x = 20 * std::sqrt(2.0);
  EXPECT_NEAR(NormalTailPhi(x - 1e-6, 0, 1), NormalTailPhi(x + 1e-6, 0, 1), 0.01);
}

}  // namespace
}  // namespace crema::membership
