// ReadIndex futures on the simulator: on the leader and on followers (through the leader), with
// and without leases, a read returns only once the local state machine has applied the read
// index, and then sees every write acknowledged before the read started. A node cut off from the
// leader never serves a read: it fails (UNAVAILABLE fast, or DEADLINE_EXCEEDED).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "consensus/driver/test_cluster.h"
#include "sim/partitions.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

using testing::AckedWrite;
using testing::ClusterSpec;
using testing::HostProgram;
using testing::TestCluster;

struct ReadStats {
  uint64_t ok_on_leader = 0;
  uint64_t ok_on_follower = 0;
  uint64_t failed = 0;
  uint64_t violations = 0;
  std::string first_violation;
};

// A reader fiber per node: ReadIndex, then check the local machine against the writes
// acknowledged before the read began.
void StartReaders(TestCluster& c, ReadStats* stats) {
  for (NodeId id : {1, 2, 3}) {
    c.Spawn(id, [&c, stats, id](HostProgram& p) {
      while (p.env.executor->Sleep(absl::Milliseconds(7)).ok()) {
        GroupDriver* d = p.opened ? p.host->group(1) : nullptr;
        if (d == nullptr || d->stopped()) continue;
        const size_t acked_before = c.acked().size();
        const bool leader = d->core().role() == Role::kLeader;
        absl::StatusOr<Index> index = d->ReadIndex().Wait(absl::Seconds(3));
        if (!index.ok()) {
          ++stats->failed;
          continue;
        }
        ++(leader ? stats->ok_on_leader : stats->ok_on_follower);
        const testing::KvMachine& m = *p.machines.at(1);
        std::string problem;
        if (d->applied() < *index) problem = "returned before apply";
        for (size_t i = 0; i < acked_before && problem.empty(); ++i) {
          const AckedWrite& w = c.acked()[i];
          auto it = m.data.find(w.key);
          if (it == m.data.end() || it->second != w.value) {
            problem = "misses acknowledged write " + w.key;
          }
        }
        if (!problem.empty() && stats->violations++ == 0) {
          stats->first_violation = "node " + std::to_string(id) + ": " + problem;
        }
      }
    });
  }
}

void RunReadTest(bool leases) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    ClusterSpec spec;
    spec.nodes = {1, 2, 3};
    spec.groups = {{.id = 1, .voters = {1, 2, 3}}};
    if (leases) {
      spec.group_template.raft.lease_based_reads = true;
      spec.group_template.raft.max_clock_drift = absl::Milliseconds(20);
    }
    spec.network.drop = sim::Ratio{1, 50};
    TestCluster c(seed, spec);
    ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(5))) << sim::ReproCommand(seed);
    ReadStats stats;
    c.StartWriters(1, absl::Milliseconds(10));
    StartReaders(c, &stats);
    c.sim().RunFor(absl::Seconds(4));
    // A leader change in the middle: reads keep their guarantee across it.
    c.sim().Crash(c.Leader(1));
    c.sim().RunFor(absl::Seconds(5));
    EXPECT_EQ(stats.violations, 0u) << stats.first_violation << "\n" << sim::ReproCommand(seed);
    EXPECT_GT(stats.ok_on_leader, 20u) << sim::ReproCommand(seed);
    EXPECT_GT(stats.ok_on_follower, 20u) << sim::ReproCommand(seed);
    EXPECT_GT(c.acked().size(), 100u) << sim::ReproCommand(seed);
    std::printf("seed %llu leases=%d: reads ok leader %llu follower %llu, failed %llu, writes %zu\n",
                static_cast<unsigned long long>(seed), leases,
                static_cast<unsigned long long>(stats.ok_on_leader),
                static_cast<unsigned long long>(stats.ok_on_follower),
                static_cast<unsigned long long>(stats.failed), c.acked().size());
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ReadIndexTest, LinearizableOnLeaderAndFollowers) { RunReadTest(/*leases=*/false); }

TEST(ReadIndexTest, LeaseReadsOnLeaderAndFollowers) { RunReadTest(/*leases=*/true); }

TEST(ReadIndexTest, IsolatedNodeFailsReadsInsteadOfServingThem) {
  const uint64_t seed = sim::TestSeed();
  ClusterSpec spec;
  spec.nodes = {1, 2, 3};
  spec.groups = {{.id = 1, .voters = {1, 2, 3}}};
  spec.group_template.read_timeout = absl::Seconds(1);
  TestCluster c(seed, spec);
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(5))) << sim::ReproCommand(seed);
  const NodeId leader = c.Leader(1);
  const NodeId isolated = leader == 1 ? 2 : 1;
  std::vector<sim::Link> blocked;
  for (NodeId other : {1, 2, 3}) {
    if (other == isolated) continue;
    blocked.push_back({isolated, other});
    blocked.push_back({other, isolated});
  }
  c.sim().network().SetPartition(blocked, "isolate");
  std::vector<absl::Status> results;
  std::vector<absl::Duration> latencies;
  c.Spawn(isolated, [&](HostProgram& p) {
    for (int i = 0; i < 6; ++i) {
      const absl::Time start = p.env.clock->MonotonicNow();
      absl::StatusOr<Index> r = p.host->group(1)->ReadIndex().Wait(absl::Seconds(10));
      results.push_back(r.status());
      latencies.push_back(p.env.clock->MonotonicNow() - start);
      (void)p.env.executor->Sleep(absl::Milliseconds(700));
    }
  });
  c.sim().RunFor(absl::Seconds(15));
  ASSERT_EQ(results.size(), 6u) << sim::ReproCommand(seed);
  bool fast_unavailable = false;
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(absl::IsUnavailable(results[i]) || absl::IsDeadlineExceeded(results[i]))
        << i << ": " << results[i] << "\n" << sim::ReproCommand(seed);
    EXPECT_LE(latencies[i], absl::Seconds(1) + absl::Milliseconds(200));
    if (absl::IsUnavailable(results[i]) && latencies[i] < absl::Milliseconds(50)) {
      fast_unavailable = true;  // once it knows it has no leader, it fails at once
    }
  }
  EXPECT_TRUE(fast_unavailable) << sim::ReproCommand(seed);
}

}  // namespace
}  // namespace crema::raft
