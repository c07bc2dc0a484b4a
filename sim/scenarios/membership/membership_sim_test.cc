// MembershipNode clusters of 5, 50 and 200 nodes on the real simulator (sim/), under message loss,
// duplication, reordering (long-tail latency), partitions, pauses and clock offset/drift:
//   * a crash is detected by every live member within DetectionBound(N) (membership_sim.h);
//   * with 10% loss and nothing crashed, no live member is declared dead, at N = 5, 50 and 200
//     (strict: zero; the rate over many seeds is measured by membership_sim_bench — 0 false deaths
//     in over a thousand member-hours, docs/membership.md);
//   * a healed partition returns to one view within HealBound(N), also when the partition outlasted
//     the tombstones (the driver's seed reconnect);
//   * a short stall gets a node suspected, and it refutes (never declared dead); a stall longer
//     than the detection bound gets it declared dead, and it comes back at a higher incarnation.
// Times are measured from membership events (exact) or by polling every 100 ms (stated per test).
#include <algorithm>
#include <cstdio>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "gtest/gtest.h"
#include "sim/scenarios/membership/membership_sim.h"
#include "sim/partitions.h"
#include "sim/test_seed.h"

namespace crema::membership {
namespace {

constexpr int64_t kDriftPpm = 10'000;  // 1%: far beyond real oscillators

// Loss, duplication, long-tail latency (reorders), clock offset and drift.
MembershipSimOptions Faulty(uint64_t seed, int nodes, sim::Ratio drop = {5, 100}) {
  MembershipSimOptions options;
  options.sim.seed = seed;
  options.nodes = nodes;
  sim::LatencyModel& latency = options.sim.network.latency;
  latency.kind = sim::LatencyModel::Kind::kLongTail;
  latency.min = absl::Milliseconds(1);
  latency.max = absl::Milliseconds(10);
  latency.tail = {1, 50};
  latency.tail_max = absl::Milliseconds(300);
  options.sim.network.drop = drop;
  options.sim.network.duplicate = {2, 100};
  options.sim.clock.max_offset = absl::Seconds(10);
  options.sim.clock.max_drift_ppm = kDriftPpm;
  return options;
}

// Events per (observer, member) of one kind, with the virtual time of the first one.
class EventLog {
 public:
  MembershipSim::Observer Observer() {
    return [this](NodeId at, const MembershipEvent& e, absl::Duration t) {
      ++counts_[e.kind];
      first_.try_emplace({at, e.member.id, e.kind}, t);
    };
  }
  int count(MembershipEventKind kind) const {
    auto it = counts_.find(kind);
    return it == counts_.end() ? 0 : it->second;
  }
  std::optional<absl::Duration> First(NodeId at, NodeId member, MembershipEventKind kind) const {
    auto it = first_.find({at, member, kind});
    if (it == first_.end()) return std::nullopt;
    return it->second;
  }

 private:
  absl::btree_map<MembershipEventKind, int> counts_;
  absl::btree_map<std::tuple<NodeId, NodeId, MembershipEventKind>, absl::Duration> first_;
};

bool Converge(MembershipSim& cluster, absl::Duration limit) {
  return cluster.RunUntil([&] { return cluster.ViewsAgree(); }, limit);
}

void CheckCrashDetection(int n, uint64_t seed) {
  SCOPED_TRACE(sim::ReproCommand(seed));
  EventLog log;
  MembershipSim cluster(Faulty(seed, n), log.Observer());
  cluster.sim().StartAll();
  ASSERT_TRUE(Converge(cluster, HealBound(n, MembershipNodeConfig{}, kDriftPpm)));
  const NodeId victim = static_cast<NodeId>(n);  // not a seed
  const NodeId stalled = 2;
  cluster.sim().Crash(victim);
  const absl::Duration crashed_at = cluster.sim().elapsed();
  // A GC-like stall of another node meanwhile: it must catch up after resuming.
  cluster.sim().After(absl::Seconds(1), "test.pause", [&] { cluster.sim().Pause(stalled); });
  cluster.sim().After(absl::Seconds(3), "test.resume", [&] { cluster.sim().Resume(stalled); });
  const absl::Duration bound = DetectionBound(n, SwimConfig{}, kDriftPpm);
  ASSERT_TRUE(cluster.RunUntil(
      [&] {
        return cluster.sim().elapsed() - crashed_at > absl::Seconds(3) &&
               cluster.AllConsiderGone(victim);
      },
      bound + absl::Seconds(1)));
  absl::Duration slowest;
  for (NodeId id : cluster.UpNodes()) {
    const std::optional<absl::Duration> dead = log.First(id, victim, MembershipEventKind::kDead);
    ASSERT_TRUE(dead.has_value()) << "node " << id << " never declared " << victim << " dead";
    slowest = std::max(slowest, *dead - crashed_at);
  }
  std::printf("n=%d seed=%llu: every member declared the crashed node dead within %.1f s "
              "(bound %.1f s)\n",
              n, static_cast<unsigned long long>(seed), absl::ToDoubleSeconds(slowest),
              absl::ToDoubleSeconds(bound));
  EXPECT_LE(slowest, bound);
  // Nobody else was lost on the way (the stalled node refuted, if it was suspected at all).
  EXPECT_TRUE(Converge(cluster, absl::Seconds(30)));
}

TEST(MembershipSimTest, CrashDetectedWithinBound5) {
  for (uint64_t seed : sim::TestSeeds(4)) CheckCrashDetection(5, seed);
}
TEST(MembershipSimTest, CrashDetectedWithinBound50) {
  for (uint64_t seed : sim::TestSeeds(2)) CheckCrashDetection(50, seed);
}
TEST(MembershipSimTest, CrashDetectedWithinBound200) {
  for (uint64_t seed : sim::TestSeeds(1)) CheckCrashDetection(200, seed);
}

// No live member may be declared dead at all (Issue 5). Returns the number of suspicion events
// (loss should cause some; all refuted).
int CheckNoFalseDeaths(int n, uint64_t seed, absl::Duration duration) {
  SCOPED_TRACE(sim::ReproCommand(seed));
  EventLog log;
  MembershipSim cluster(Faulty(seed, n, /*drop=*/{10, 100}), log.Observer());
  cluster.sim().StartAll();
  EXPECT_TRUE(Converge(cluster, HealBound(n, MembershipNodeConfig{}, kDriftPpm)));
  cluster.sim().RunFor(duration);
  std::printf("n=%d seed=%llu: 10%% loss for %.0f s: %d suspicions, %d deaths\n", n,
              static_cast<unsigned long long>(seed), absl::ToDoubleSeconds(duration),
              log.count(MembershipEventKind::kSuspected), log.count(MembershipEventKind::kDead));
  EXPECT_EQ(log.count(MembershipEventKind::kDead), 0);
  // Everyone is in every view, and stays so (polled every 100 ms).
  EXPECT_TRUE(Converge(cluster, absl::Seconds(30)));
  EXPECT_EQ(cluster.node(1)->LiveCount(), static_cast<size_t>(n));
  return log.count(MembershipEventKind::kSuspected);
}

TEST(MembershipSimTest, TenPercentLossDeclaresNoLiveMemberDead5) {
  int suspicions = 0;  // a few per run on average; a single run may have none
  for (uint64_t seed : sim::TestSeeds(4)) suspicions += CheckNoFalseDeaths(5, seed, absl::Minutes(2));
  EXPECT_GT(suspicions, 0) << "10% loss should cause (refuted) suspicions";
}

TEST(MembershipSimTest, TenPercentLossDeclaresNoLiveMemberDead50) {
  int suspicions = 0;
  for (uint64_t seed : sim::TestSeeds(2)) {
    suspicions += CheckNoFalseDeaths(50, seed, absl::Minutes(2));
  }
  EXPECT_GT(suspicions, 0);
}

TEST(MembershipSimTest, TenPercentLossDeclaresNoLiveMemberDead200) {
  for (uint64_t seed : sim::TestSeeds(1)) {
    EXPECT_GT(CheckNoFalseDeaths(200, seed, absl::Minutes(1)), 0);
  }
}

// Splits 20 nodes in two for `length`, heals, and expects one view within HealBound.
void CheckPartitionHeals(uint64_t seed, absl::Duration length, absl::Duration tombstone_ttl) {
  SCOPED_TRACE(sim::ReproCommand(seed));
  constexpr int kNodes = 20;
  MembershipSimOptions options = Faulty(seed, kNodes);
  options.node.swim.tombstone_ttl = tombstone_ttl;
  MembershipSim cluster(options);
  cluster.sim().StartAll();
  ASSERT_TRUE(Converge(cluster, HealBound(kNodes, options.node, kDriftPpm)));
  Random shape(seed);
  const sim::Partition split = sim::SymmetricPartition(cluster.ids(), shape);
  cluster.sim().network().SetPartition(split.blocked, split.kind);
  cluster.sim().RunFor(length);
  // Each side has given up on the other.
  size_t side_one = cluster.node(1)->LiveCount();
  EXPECT_LT(side_one, static_cast<size_t>(kNodes));
  cluster.sim().network().HealPartition();
  const absl::Duration healed = cluster.sim().elapsed();
  const absl::Duration bound = HealBound(kNodes, options.node, kDriftPpm);
  EXPECT_TRUE(Converge(cluster, bound)) << "no single view " << bound << " after healing";
  std::printf("seed=%llu: %.0f s partition (tombstones %.0f s): one view %.1f s after healing "
              "(bound %.1f s, polled every 100 ms)\n",
              static_cast<unsigned long long>(seed), absl::ToDoubleSeconds(length),
              absl::ToDoubleSeconds(tombstone_ttl),
              absl::ToDoubleSeconds(cluster.sim().elapsed() - healed),
              absl::ToDoubleSeconds(bound));
}

TEST(MembershipSimTest, HealedPartitionReturnsToOneView) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    CheckPartitionHeals(seed, absl::Minutes(1), SwimConfig{}.tombstone_ttl);
  }
}

TEST(MembershipSimTest, PartitionOutlastingTombstonesHealsThroughSeeds) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    CheckPartitionHeals(seed, absl::Minutes(2), absl::Seconds(30));
  }
}

TEST(MembershipSimTest, ShortStallIsSuspectedThenRefuted) {
  for (uint64_t seed : sim::TestSeeds(3)) {
    SCOPED_TRACE(sim::ReproCommand(seed));
    constexpr int kNodes = 20;
    constexpr NodeId kStalled = 7;
    EventLog log;
    MembershipSim cluster(Faulty(seed, kNodes), log.Observer());
    cluster.sim().StartAll();
    ASSERT_TRUE(Converge(cluster, HealBound(kNodes, MembershipNodeConfig{}, kDriftPpm)));
    const Incarnation before = cluster.node(1)->Find(kStalled)->incarnation;
    const int suspicions_before = log.count(MembershipEventKind::kSuspected);
    cluster.sim().Pause(kStalled);
    // Stalled until someone suspects it: well under the minimum suspicion timeout
    // (4 · log10(20) = 5.2 s), so it cannot be declared dead before it resumes.
    auto suspected = [&] {
      for (NodeId id : cluster.UpNodes()) {
        if (log.First(id, kStalled, MembershipEventKind::kSuspected)) return true;
      }
      return false;
    };
    ASSERT_TRUE(cluster.RunUntil(suspected, absl::Seconds(30)));
    cluster.sim().Resume(kStalled);
    ASSERT_TRUE(Converge(cluster, absl::Seconds(30)));
    cluster.sim().RunFor(absl::Seconds(30));  // and it stays
    EXPECT_GT(log.count(MembershipEventKind::kSuspected), suspicions_before);
    EXPECT_GT(log.count(MembershipEventKind::kAliveAgain), 0);
    for (NodeId id : cluster.UpNodes()) {
      EXPECT_FALSE(log.First(id, kStalled, MembershipEventKind::kDead)) << "declared dead by " << id;
      if (id != kStalled) {
        EXPECT_GT(cluster.node(id)->Find(kStalled)->incarnation, before);
      }
    }
    EXPECT_TRUE(cluster.ViewsAgree());
  }
}

TEST(MembershipSimTest, LongStallIsDeclaredDeadThenRejoinsAtHigherIncarnation) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    SCOPED_TRACE(sim::ReproCommand(seed));
    constexpr int kNodes = 20;
    constexpr NodeId kStalled = 7;
    EventLog log;
    MembershipSim cluster(Faulty(seed, kNodes), log.Observer());
    cluster.sim().StartAll();
    ASSERT_TRUE(Converge(cluster, HealBound(kNodes, MembershipNodeConfig{}, kDriftPpm)));
    cluster.sim().Pause(kStalled);
    ASSERT_TRUE(cluster.RunUntil([&] { return cluster.AllConsiderGone(kStalled); },
                                 DetectionBound(kNodes, SwimConfig{}, kDriftPpm)));
    const Incarnation dead_at = cluster.node(1)->Find(kStalled)->incarnation;
    cluster.sim().RunFor(absl::Seconds(20));
    cluster.sim().Resume(kStalled);
    // It hears it was declared dead (held suspicions, push-pulls to tombstones) and refutes.
    ASSERT_TRUE(Converge(cluster, HealBound(kNodes, MembershipNodeConfig{}, kDriftPpm)));
    for (NodeId id : cluster.UpNodes()) {
      if (id == kStalled) continue;
      EXPECT_TRUE(log.First(id, kStalled, MembershipEventKind::kDead)) << id;
      EXPECT_GT(cluster.node(id)->Find(kStalled)->incarnation, dead_at) << id;
      EXPECT_TRUE(cluster.node(id)->IsAvailable(kStalled)) << id;
    }
    EXPECT_GE(log.count(MembershipEventKind::kJoined), kNodes * (kNodes - 1) + kNodes - 1);
  }
}

}  // namespace
}  // namespace crema::membership
