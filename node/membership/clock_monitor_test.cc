// Unit tests of ClockMonitor: the error bound, the majority rule, hysteresis, expiry.
#include "node/membership/clock_monitor.h"

#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::membership {
namespace {

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(1);
const absl::Duration kBound = absl::Milliseconds(500);

ClockSample Sample(NodeId peer, absl::Duration offset, absl::Duration error, absl::Time at) {
  return ClockSample{.peer = peer, .offset = offset, .error = error, .taken_at = at};
}

ClockMonitor Monitor(absl::Duration hold = absl::Seconds(10)) {
  return ClockMonitor({.max_offset = kBound, .sample_ttl = absl::Seconds(30),
                       .recovery_hold = hold});
}

const std::vector<NodeId> kPeers = {2, 3, 4, 5};

TEST(ClockMonitorTest, ErrorBoundDecidesWhetherAPeerIsSurelyBeyond) {
  ClockMonitor m = Monitor();
  // 700 ms measured with +-300 ms: the true offset may be 400 ms, inside the bound.
  m.AddSample(Sample(2, absl::Milliseconds(700), absl::Milliseconds(300), kT0));
  EXPECT_FALSE(m.Evaluate(kT0, {2}));
  EXPECT_EQ(m.status().peers_beyond, 0u);
  EXPECT_FALSE(m.status().out_of_bound);
  // The same offset measured with +-100 ms is surely beyond (600 > 500); one of one: out.
  m.AddSample(Sample(2, absl::Milliseconds(-700), absl::Milliseconds(100), kT0));
  EXPECT_TRUE(m.Evaluate(kT0, {2}));
  EXPECT_EQ(m.status().peers_beyond, 1u);
  EXPECT_TRUE(m.status().out_of_bound);
  EXPECT_EQ(m.status().median_offset, absl::Milliseconds(-700));
}

TEST(ClockMonitorTest, ExactlyAtTheBoundIsNotBeyond) {
  ClockMonitor m = Monitor();
  for (NodeId p : kPeers) m.AddSample(Sample(p, kBound + absl::Milliseconds(1), absl::Milliseconds(1), kT0));
  EXPECT_FALSE(m.Evaluate(kT0, kPeers));
  m.AddSample(Sample(2, kBound + absl::Milliseconds(2), absl::Milliseconds(1), kT0));
  m.AddSample(Sample(3, kBound + absl::Milliseconds(2), absl::Milliseconds(1), kT0));
  m.AddSample(Sample(4, kBound + absl::Milliseconds(2), absl::Milliseconds(1), kT0));
  EXPECT_TRUE(m.Evaluate(kT0, kPeers));
}

TEST(ClockMonitorTest, OutOfBoundNeedsAStrictMajority) {
  ClockMonitor m = Monitor();
  const absl::Duration far = absl::Seconds(5);
  const absl::Duration tiny = absl::Milliseconds(1);
  m.AddSample(Sample(2, far, tiny, kT0));
  m.AddSample(Sample(3, far, tiny, kT0));
  m.AddSample(Sample(4, absl::Milliseconds(10), tiny, kT0));
  m.AddSample(Sample(5, absl::Milliseconds(-10), tiny, kT0));
  EXPECT_FALSE(m.Evaluate(kT0, kPeers)) << "2 of 4 is not a majority";
  EXPECT_EQ(m.status().peers_estimated, 4u);
  EXPECT_EQ(m.status().peers_beyond, 2u);
  EXPECT_EQ(m.status().max_offset_seen, far);
  m.AddSample(Sample(4, -far, tiny, kT0));
  EXPECT_TRUE(m.Evaluate(kT0, kPeers)) << "3 of 4 is";
  EXPECT_EQ(m.status().transitions, 1u);
  EXPECT_EQ(m.status().since, kT0);
  // A good node among them sees only the bad one: 1 of 2 in a 3-node cluster.
  ClockMonitor good = Monitor();
  good.AddSample(Sample(2, -far, tiny, kT0));
  good.AddSample(Sample(3, absl::Milliseconds(3), tiny, kT0));
  EXPECT_FALSE(good.Evaluate(kT0, {2, 3}));
}

TEST(ClockMonitorTest, OneEstimateOfOneBadPeerIsNotAMajorityOfTheLivePeers) {
  ClockMonitor m = Monitor();
  m.AddSample(Sample(3, -absl::Seconds(5), absl::Milliseconds(1), kT0));
  EXPECT_FALSE(m.Evaluate(kT0, kPeers)) << "1 of 4 live peers, though 1 of 1 estimates";
  EXPECT_EQ(m.status().peers_estimated, 1u);
  EXPECT_EQ(m.status().peers_beyond, 1u);
}

TEST(ClockMonitorTest, OnlyLivePeersCount) {
  ClockMonitor m = Monitor();
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Seconds(5), absl::ZeroDuration(), kT0));
  m.AddSample(Sample(6, absl::ZeroDuration(), absl::ZeroDuration(), kT0));
  EXPECT_FALSE(m.Evaluate(kT0, {6})) << "peers 2..5 are not live";
  EXPECT_EQ(m.status().peers_estimated, 1u);
  EXPECT_TRUE(m.Evaluate(kT0, {2, 3, 6}));
}

TEST(ClockMonitorTest, HysteresisHoldsUntilInBoundForTheWholeHold) {
  ClockMonitor m = Monitor(absl::Seconds(10));
  const absl::Duration tiny = absl::Milliseconds(1);
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Seconds(5), tiny, kT0));
  ASSERT_TRUE(m.Evaluate(kT0, kPeers));
  // The clock comes back: fresh in-bound samples from t0+1s.
  const absl::Time back = kT0 + absl::Seconds(1);
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Milliseconds(20), tiny, back));
  EXPECT_FALSE(m.Evaluate(back, kPeers));
  EXPECT_TRUE(m.status().out_of_bound);
  EXPECT_FALSE(m.Evaluate(back + absl::Seconds(9), kPeers));
  EXPECT_TRUE(m.status().out_of_bound) << "9 s of a 10 s hold";
  // A relapse restarts the hold.
  const absl::Time relapse = back + absl::Seconds(9) + absl::Milliseconds(500);
  for (NodeId p : {2, 3, 4}) m.AddSample(Sample(p, absl::Seconds(2), tiny, relapse));
  EXPECT_FALSE(m.Evaluate(relapse, kPeers));
  const absl::Time again = relapse + absl::Seconds(1);
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Milliseconds(20), tiny, again));
  EXPECT_FALSE(m.Evaluate(again, kPeers));  // the hold runs from the first in-bound verdict
  EXPECT_FALSE(m.Evaluate(again + absl::Seconds(9), kPeers));
  EXPECT_TRUE(m.status().out_of_bound);
  EXPECT_TRUE(m.Evaluate(again + absl::Seconds(10), kPeers));
  EXPECT_FALSE(m.status().out_of_bound);
  EXPECT_EQ(m.status().transitions, 2u);
}

TEST(ClockMonitorTest, ExpiredSamplesAreNoEvidenceEitherWay) {
  ClockMonitor m = Monitor(absl::ZeroDuration());
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Seconds(5), absl::ZeroDuration(), kT0));
  ASSERT_TRUE(m.Evaluate(kT0, kPeers));
  // 30 s later every sample has expired: still out (no evidence it came back), nothing estimated.
  EXPECT_FALSE(m.Evaluate(kT0 + absl::Seconds(30), kPeers));
  EXPECT_TRUE(m.status().out_of_bound);
  EXPECT_EQ(m.status().peers_estimated, 0u);
  EXPECT_FALSE(m.SampleOf(2).has_value()) << "dropped, not just ignored";
  // Two fresh in-bound estimates of four live peers are not enough evidence; three are (hold
  // zero: back at once).
  for (NodeId p : {3, 4}) {
    m.AddSample(Sample(p, absl::ZeroDuration(), absl::ZeroDuration(), kT0 + absl::Seconds(31)));
  }
  EXPECT_FALSE(m.Evaluate(kT0 + absl::Seconds(31), kPeers));
  m.AddSample(Sample(5, absl::ZeroDuration(), absl::ZeroDuration(), kT0 + absl::Seconds(31)));
  EXPECT_TRUE(m.Evaluate(kT0 + absl::Seconds(31), kPeers));
  EXPECT_FALSE(m.status().out_of_bound);
  // Forget drops a peer's estimate (it died or left).
  m.Forget(3);
  EXPECT_FALSE(m.SampleOf(3).has_value());
}

TEST(ClockMonitorTest, ALocalStepBeyondTheBoundDropsSamplesAndLeavesTheBoundAtOnce) {
  ClockMonitor m = Monitor(absl::Seconds(2));
  const absl::Time wall0 = absl::FromUnixSeconds(1'700'000'000);
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Milliseconds(5), absl::Milliseconds(1), kT0));
  EXPECT_FALSE(m.ObserveLocalClocks(kT0, wall0));
  ASSERT_FALSE(m.Evaluate(kT0, kPeers));
  // One second later the wall clock moved 1.5 s: a step of +500 ms is not beyond the bound.
  EXPECT_FALSE(m.ObserveLocalClocks(kT0 + absl::Seconds(1), wall0 + absl::Milliseconds(1500)));
  EXPECT_TRUE(m.SampleOf(2).has_value());
  // Then +5 s: out at once, every sample dropped.
  EXPECT_TRUE(m.ObserveLocalClocks(kT0 + absl::Seconds(2), wall0 + absl::Milliseconds(7500)));
  EXPECT_TRUE(m.status().out_of_bound);
  EXPECT_FALSE(m.SampleOf(2).has_value());
  EXPECT_EQ(m.status().last_step, absl::Seconds(5));
  EXPECT_EQ(m.Describe(),
            "clock out of bound: wall clock stepped +5000 ms (beyond 500 ms); re-measuring "
            "against peers");
  // Fresh samples show the clock in bound after all (+5 s fixed the clock): back after the hold.
  const absl::Time t = kT0 + absl::Seconds(3);
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Milliseconds(5), absl::Milliseconds(1), t));
  EXPECT_FALSE(m.Evaluate(t, kPeers));
  EXPECT_TRUE(m.Evaluate(t + absl::Seconds(2), kPeers));
  EXPECT_FALSE(m.status().out_of_bound);
  // A backward step counts the same.
  EXPECT_TRUE(m.ObserveLocalClocks(t + absl::Seconds(3), wall0 + absl::Seconds(1)));
}

TEST(ClockMonitorTest, DisabledNeverJudges) {
  ClockMonitor m({.max_offset = absl::ZeroDuration()});
  m.AddSample(Sample(2, absl::Hours(1), absl::ZeroDuration(), kT0));
  EXPECT_FALSE(m.Evaluate(kT0, {2}));
  EXPECT_FALSE(m.status().out_of_bound);
  EXPECT_EQ(m.Describe(), "clock monitor off");
}

TEST(ClockMonitorTest, DescribeNamesTheOffsetAndTheMajority) {
  ClockMonitor m = Monitor();
  for (NodeId p : kPeers) m.AddSample(Sample(p, absl::Milliseconds(5000), absl::Milliseconds(2), kT0));
  ASSERT_TRUE(m.Evaluate(kT0, kPeers));
  EXPECT_EQ(m.Describe(),
            "clock out of bound: offset +5000 ms to the median peer (max +5000 ms; 4 of 4 peers "
            "beyond 500 ms)");
}

// No false positives: whatever the true offsets (each within the bound) and however each sample
// errs within its stated error, the node is never judged out of bound.
RC_GTEST_PROP(ClockMonitorProperty, NeverOutOfBoundWhileEveryOffsetIsWithinTheBound, ()) {
  ClockMonitor m = Monitor(absl::ZeroDuration());
  const int peers = *rc::gen::inRange(1, 12);
  const int rounds = *rc::gen::inRange(1, 20);
  std::vector<NodeId> live;
  for (int p = 0; p < peers; ++p) live.push_back(static_cast<NodeId>(p + 2));
  absl::Time now = kT0;
  for (int round = 0; round < rounds; ++round) {
    now += absl::Milliseconds(*rc::gen::inRange(0, 5000));
    const NodeId peer = live[*rc::gen::inRange<size_t>(0, live.size())];
    const int64_t bound_ms = absl::ToInt64Milliseconds(kBound);
    const int64_t true_ms = *rc::gen::inRange<int64_t>(-bound_ms, bound_ms + 1);
    const int64_t error_ms = *rc::gen::inRange<int64_t>(0, 2000);
    const int64_t err_ms = *rc::gen::inRange<int64_t>(-error_ms, error_ms + 1);
    m.AddSample(Sample(peer, absl::Milliseconds(true_ms + err_ms), absl::Milliseconds(error_ms),
                       now));
    m.Evaluate(now, live);
    RC_ASSERT(!m.status().out_of_bound);
    RC_ASSERT(m.status().peers_beyond == 0u);
  }
}

}  // namespace
}  // namespace crema::membership
