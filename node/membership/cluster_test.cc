// Multi-node tests of the SWIM core on SimCluster (an in-memory deterministic network): crash
// detection bounds, false positives under loss, partition healing, dissemination in O(log N)
// rounds, and run-to-run determinism. Bigger sweeps live in membership_bench.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"
#include "node/membership/testing/scenarios.h"
#include "node/membership/testing/sim_cluster.h"
#include "sim/test_seed.h"
#include "xxhash.h"

namespace crema::membership::testing {
namespace {

// The bound we promise: the first probe of the victim lands within a few periods (randomised
// round-robin), then the suspicion timeout (at most suspicion_max = 6 · 4 · max(1, log10 N)
// periods, usually close to the minimum as confirmations arrive), then dissemination of "dead"
// in O(log N) periods. We assert the maximum plus 10 periods of slack.
double DetectionBoundSeconds(int n) {
  return 6 * 4 * std::max(1.0, std::log10(static_cast<double>(n))) + 10;
}

TEST(ClusterTest, CrashIsDetectedByEveryMemberWithinBound) {
  for (int n : {5, 50, 200}) {
    const std::vector<uint64_t> seeds = sim::TestSeeds(n == 200 ? 1 : 3);
    for (uint64_t seed : seeds) {
      const double seconds = MeasureDetection(seed, n, SwimConfig{}).all_dead_s;
      std::printf("n=%3d seed=%llu: all members declared the crashed one dead after %.1f s\n", n,
                  static_cast<unsigned long long>(seed), seconds);
      EXPECT_LE(seconds, DetectionBoundSeconds(n)) << sim::ReproCommand(seed);
    }
  }
}

// Issue 5: in a healthy run with 10% message loss no live member is declared dead — strictly, at
// every size. Loss makes probes fail, so members are suspected; each suspect refutes, and the
// refutation reaches every holder of the suspicion long before its timeout (gossip timer, eager
// refutation, reminders answered by the suspect; arithmetic in docs/membership.md). The rate
// over many seeds is measured by the benchmarks (0 in 1,000+ member-hours).
void ExpectNoFalseDeaths(int n, int seeds, absl::Duration duration) {
  int suspicions = 0;
  for (uint64_t seed : sim::TestSeeds(seeds)) {
    const SteadyStateResult r = MeasureSteadyState(seed, n, SwimConfig{}, 10, duration);
    std::printf("n=%d seed=%llu: 10%% loss, %.0f s: %d suspicion events, %d false deaths\n", n,
                static_cast<unsigned long long>(seed), absl::ToDoubleSeconds(duration),
                r.suspicions, r.false_deaths);
    suspicions += r.suspicions;
    EXPECT_EQ(r.false_deaths, 0) << "n=" << n << " " << sim::ReproCommand(seed);
    EXPECT_TRUE(r.converged_after) << sim::ReproCommand(seed);
  }
  EXPECT_GT(suspicions, 0) << "n=" << n << ": 10% loss should cause (refuted) suspicions";
}

TEST(ClusterTest, TenPercentLossDeclaresNoLiveMemberDead5) { ExpectNoFalseDeaths(5, 4, absl::Minutes(2)); }
TEST(ClusterTest, TenPercentLossDeclaresNoLiveMemberDead50) {
  ExpectNoFalseDeaths(50, 2, absl::Minutes(2));
}
TEST(ClusterTest, TenPercentLossDeclaresNoLiveMemberDead200) {
  ExpectNoFalseDeaths(200, 1, absl::Minutes(1));
}

TEST(ClusterTest, HealedPartitionReturnsToOneView) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    SwimConfig config;
    config.push_pull_interval = absl::Seconds(10);
    SimCluster cluster(seed, config, NetworkConfig{});
    ASSERT_TRUE(cluster.StartConverged(20)) << sim::ReproCommand(seed);
    absl::btree_set<NodeId> side;
    for (NodeId id = 1; id <= 10; ++id) side.insert(id);
    cluster.Partition(side);
    cluster.RunFor(absl::Minutes(2));
    // Each side has declared the other dead.
    EXPECT_EQ(cluster.node(1).LiveCount(), 10u) << sim::ReproCommand(seed);
    EXPECT_EQ(cluster.node(20).LiveCount(), 10u) << sim::ReproCommand(seed);
    cluster.Heal();
    const absl::Time healed = cluster.now();
    EXPECT_TRUE(cluster.RunUntil([&] { return cluster.ViewsAgree(); }, absl::Minutes(2)))
        << sim::ReproCommand(seed);
    std::printf("seed=%llu: one view %.1f s after healing\n",
                static_cast<unsigned long long>(seed),
                absl::ToDoubleSeconds(cluster.now() - healed));
  }
}

TEST(ClusterTest, DisseminationTakesLogarithmicRounds) {
  // Gossip rounds (every 200 ms to 3 members) plus piggybacking on probes: an update reaches
  // everyone in O(log N) rounds — well under a probe period here. Bounded retransmission leaves a
  // small residue (a member that got none of the ~λ·log(N+1) copies sent to it: ~e^-8 per member,
  // so a few percent of runs at N = 8–64), which anti-entropy repairs within a push-pull interval.
  // So: the median of 5 runs within 3·log2 N periods, and every run within the repair bound.
  const SwimConfig config;
  for (int n : {8, 64, 200}) {
    std::vector<double> runs;
    for (uint64_t seed : sim::TestSeeds(n == 200 ? 3 : 5)) {
      runs.push_back(MeasureDissemination(seed, n, config));
      std::printf("n=%3d seed=%llu: update reached everyone in %.2f probe periods "
                  "(log2 N = %.1f)\n",
                  n, static_cast<unsigned long long>(seed), runs.back(), std::log2(n));
      const double repair_bound =
          absl::FDivDuration(config.push_pull_interval, config.probe_interval) + 3 * std::log2(n);
      EXPECT_LE(runs.back(), repair_bound) << sim::ReproCommand(seed);
    }
    std::sort(runs.begin(), runs.end());
    EXPECT_LE(runs[runs.size() / 2], 3 * std::log2(n)) << "n=" << n;
  }
}

uint64_t TraceHash(uint64_t seed) {
  SimCluster cluster(seed, SwimConfig{}, NetworkConfig{.loss_numerator = 5});
  uint64_t hash = 0;
  cluster.set_observer([&](NodeId at, const MembershipEvent& e, absl::Time t) {
    const uint64_t fields[] = {at, static_cast<uint64_t>(e.kind), e.member.id,
                               e.member.incarnation,
                               static_cast<uint64_t>(absl::ToUnixNanos(t))};
    hash = XXH3_64bits_withSeed(fields, sizeof(fields), hash);
  });
  cluster.StartConverged(30);
  cluster.Crash(7);
  cluster.RunFor(absl::Seconds(60));
  return hash ^ cluster.messages_sent();
}

TEST(ClusterTest, SameSeedSameRun) {
  const uint64_t seed = sim::TestSeed();
  EXPECT_EQ(TraceHash(seed), TraceHash(seed)) << sim::ReproCommand(seed);
}

}  // namespace
}  // namespace crema::membership::testing
