// Multi-node tests of the SWIM core on SimCluster (an in-memory deterministic network): crash
// detection bounds, false positives under loss, partition healing, dissemination in O(log N)
// rounds, and run-to-run determinism. Bigger sweeps live in membership_bench.
#include <cmath>
#include <cstdio>

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

TEST(ClusterTest, TenPercentLossDeclaresNoLiveMemberDead) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    const SteadyStateResult r = MeasureSteadyState(seed, 50, SwimConfig{}, 10, absl::Minutes(2));
    std::printf("seed=%llu: 50 nodes, 10%% loss, 120 s: %d suspicion events, %d false deaths\n",
                static_cast<unsigned long long>(seed), r.suspicions, r.false_deaths);
    EXPECT_GT(r.suspicions, 0) << "10% loss should cause (refuted) suspicions";
    // Not zero over many seeds: ~1 transient local false death per 15 two-minute runs at N = 50
    // (80-seed sweeps in both harnesses, docs/membership.md). Each is reverted within seconds, so
    // assert a small count and one view afterwards; 0 would make this test flaky.
    EXPECT_LE(r.false_deaths, 5) << sim::ReproCommand(seed);
    EXPECT_TRUE(r.converged_after) << sim::ReproCommand(seed);
  }
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
  const uint64_t seed = sim::TestSeed();
  for (int n : {8, 64, 200}) {
    const double periods = MeasureDissemination(seed, n, SwimConfig{});
    std::printf("n=%3d: update reached everyone in %.1f probe periods (log2 N = %.1f)\n", n,
                periods, std::log2(n));
    // Each informed node passes it on about twice a period (its ping and its ack), so about
    // log2(N) periods plus stragglers; 3·log2(N) is a generous bound.
    EXPECT_LE(periods, 3 * std::log2(n)) << sim::ReproCommand(seed);
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
