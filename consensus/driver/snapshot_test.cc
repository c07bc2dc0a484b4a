// Checkpoints, log compaction and snapshot streaming on the simulator:
//   * a follower that was down while the others compacted their logs catches up through a
//     chunked snapshot stream (several 256 KiB chunks) under 10% message loss;
//   * after compaction every node crashes and restarts from snapshot + log tail with the same
//     state, and old WAL segments are gone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "consensus/driver/test_cluster.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

using testing::ClusterSpec;
using testing::TestCluster;

ClusterSpec CompactingCluster() {
  ClusterSpec spec;
  spec.nodes = {1, 2, 3};
  spec.groups = {{.id = 1, .voters = {1, 2, 3}}};
  spec.group_template.checkpoint.every_entries = 50;
  spec.group_template.raft.compaction_keep_entries = 10;
  spec.group_template.storage.wal.segment_bytes = 16 << 10;  // many small segments
  spec.host.log.segment_bytes = 16 << 10;                    // (in the shared log too)
  return spec;
}

// Segments of the node's log: the shared log's, or the group's own WAL's.
size_t WalSegments(TestCluster& c, NodeId id) {
  size_t n = 0;
  for (const char* prefix : {"raftlog/log-", "raft/1/wal-"}) {
    absl::StatusOr<std::vector<std::string>> files = c.sim().disk(id).List(prefix);
    if (files.ok()) n += files->size();
  }
  return n;
}

TEST(SnapshotTest, FarBehindFollowerCatchesUpBySnapshotUnderMessageLoss) {
  for (uint64_t seed : sim::TestSeeds(2)) {
    TestCluster c(seed, CompactingCluster());
    ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(5))) << sim::ReproCommand(seed);
    const NodeId lagging = c.Leader(1) == 3 ? 2 : 3;
    c.sim().Crash(lagging);
    // ~1 MB of state (incompressible values), so the snapshot needs several chunks.
    c.StartWriters(1, absl::Milliseconds(5), /*value_bytes=*/2048);
    ASSERT_TRUE(c.sim().RunUntil([&] { return c.acked_count(1) >= 500; }, absl::Seconds(60)))
        << c.acked_count(1) << " writes\n" << sim::ReproCommand(seed);
    c.StopWriters();
    const NodeId leader = c.Leader(1);
    ASSERT_NE(leader, kNoNode) << sim::ReproCommand(seed);
    EXPECT_GT(c.group(leader, 1)->checkpoints_taken(), 0u) << sim::ReproCommand(seed);
    EXPECT_GT(c.group(leader, 1)->core().log().first_index(), 100u) << sim::ReproCommand(seed);

    c.sim().network().config().drop = sim::Ratio{1, 10};
    c.sim().Restart(lagging);
    const bool caught_up = c.WaitCaughtUp(1, {1, 2, 3}, absl::Seconds(60));
    c.sim().network().config().drop = sim::Ratio{0, 1};
    ASSERT_TRUE(caught_up) << sim::ReproCommand(seed);
    GroupDriver* follower = c.group(lagging, 1);
    EXPECT_GE(follower->snapshots_installed(), 1u) << sim::ReproCommand(seed);
    std::printf("seed %llu: %zu acked, leader first index %llu, snapshots sent %llu, installed %llu, "
                "state %zu keys, dropped %llu\n",
                (unsigned long long)seed, c.acked_count(1),
                (unsigned long long)c.group(c.Leader(1), 1)->core().log().first_index(),
                (unsigned long long)c.group(c.Leader(1), 1)->snapshots_sent(),
                (unsigned long long)follower->snapshots_installed(), c.machine(lagging, 1)->data.size(),
                (unsigned long long)c.sim().network().stats().dropped_random);
    c.CheckAckedWrites(1);
    c.CheckConverged(1, {1, 2, 3});
    if (HasFailure()) return;
  }
}

TEST(SnapshotTest, CrashAfterCompactionRestartsFromSnapshotAndLogTail) {
  const uint64_t seed = sim::TestSeed();
  TestCluster c(seed, CompactingCluster());
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(5))) << sim::ReproCommand(seed);
  c.StartWriters(1, absl::Milliseconds(5), /*value_bytes=*/256);
  ASSERT_TRUE(c.sim().RunUntil([&] { return c.acked_count(1) >= 400; }, absl::Seconds(60)))
      << sim::ReproCommand(seed);
  c.StopWriters();
  ASSERT_TRUE(c.WaitCaughtUp(1, {1, 2, 3}, absl::Seconds(10))) << sim::ReproCommand(seed);
  std::vector<std::map<std::string, std::string>> before;
  for (NodeId id : {1, 2, 3}) {
    EXPECT_GT(c.group(id, 1)->checkpoints_taken(), 0u) << sim::ReproCommand(seed);
    // 400 writes of ~300 bytes are ~120 KB of WAL in 16 KiB segments: old ones must be gone.
    EXPECT_LT(WalSegments(c, id), 5u) << "node " << id << "\n" << sim::ReproCommand(seed);
    before.push_back(c.machine(id, 1)->data);
  }
  for (NodeId id : {1, 2, 3}) c.sim().Crash(id);
  for (NodeId id : {1, 2, 3}) c.sim().Restart(id);
  c.sim().RunFor(absl::Seconds(5));  // open, replay, elect, commit; no new writes
  for (NodeId id : {1, 2, 3}) {
    testing::KvMachine* m = c.machine(id, 1);
    ASSERT_NE(m, nullptr) << "node " << id << "\n" << sim::ReproCommand(seed);
    EXPECT_EQ(m->restores, 1u);  // restored from the latest snapshot at open
    EXPECT_EQ(m->data, before[id - 1]) << "node " << id << "\n" << sim::ReproCommand(seed);
  }
  c.CheckAckedWrites(1);
}

}  // namespace
}  // namespace crema::raft
