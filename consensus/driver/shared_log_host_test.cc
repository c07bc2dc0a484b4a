// The Raft host over the node's shared log, on the simulator: one File::Sync per cycle across
// all groups (and one per group and cycle with a WAL per group, for comparison); idle groups cost
// no syncs and do not keep old segments alive; a destroyed group created again starts empty, also
// across a crash.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/driver/test_cluster.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

using testing::ClusterSpec;
using testing::HostProgram;
using testing::TestCluster;

ClusterSpec ManyGroups(int count, bool shared_log) {
  ClusterSpec spec;
  spec.nodes = {1, 2, 3};
  for (int g = 1; g <= count; ++g) spec.groups.push_back({.id = GroupId(g), .voters = {1, 2, 3}});
  spec.host.shared_log = shared_log;
  return spec;
}

struct SyncCount {
  uint64_t file_syncs = 0;  // on every node's disk
  uint64_t cycles = 0;      // host cycles on every node
};

SyncCount Count(TestCluster& c) {
  SyncCount n;
  for (NodeId id : {1, 2, 3}) {
    n.file_syncs += c.sim().disk(id).stats().syncs;
    if (c.node(id) != nullptr) n.cycles += c.node(id)->host->stats().cycles;
  }
  return n;
}

// Writes to every group for a while; returns the File::Syncs and cycles of that window.
SyncCount UnderLoad(uint64_t seed, int groups, bool shared_log, size_t* acked) {
  ClusterSpec spec = ManyGroups(groups, shared_log);
  TestCluster c(seed, spec);
  for (int g = 1; g <= groups; ++g) {
    if (!c.WaitForLeader(g, absl::Seconds(10))) return {};
  }
  for (int g = 1; g <= groups; ++g) c.StartWriters(g, absl::Milliseconds(50));
  c.sim().RunFor(absl::Seconds(1));
  const SyncCount before = Count(c);
  size_t acked_before = 0;
  for (int g = 1; g <= groups; ++g) acked_before += c.acked_count(g);
  c.sim().RunFor(absl::Seconds(3));
  const SyncCount after = Count(c);
  *acked = 0;
  for (int g = 1; g <= groups; ++g) *acked += c.acked_count(g);
  *acked -= acked_before;
  return {after.file_syncs - before.file_syncs, after.cycles - before.cycles};
}

TEST(SharedLogHostTest, OneSyncPerCycleForAllGroups) {
  const uint64_t seed = sim::TestSeed();
  constexpr int kGroups = 16;
  size_t acked_shared = 0;
  size_t acked_wal = 0;
  const SyncCount shared = UnderLoad(seed, kGroups, /*shared_log=*/true, &acked_shared);
  const SyncCount wal = UnderLoad(seed, kGroups, /*shared_log=*/false, &acked_wal);
  std::printf("%d groups, 3 nodes, 3 s of writes: shared log %llu syncs / %llu cycles / %zu "
              "acked; WAL per group %llu syncs / %llu cycles / %zu acked\n",
              kGroups, (unsigned long long)shared.file_syncs, (unsigned long long)shared.cycles,
              acked_shared, (unsigned long long)wal.file_syncs, (unsigned long long)wal.cycles,
              acked_wal);
  ASSERT_GT(acked_shared, 100u) << sim::ReproCommand(seed);
  ASSERT_GT(acked_wal, 100u) << sim::ReproCommand(seed);
  // At most one File::Sync per cycle (plus the odd segment roll-over).
  EXPECT_LE(shared.file_syncs, shared.cycles + shared.cycles / 20 + 3) << sim::ReproCommand(seed);
  // A WAL per group pays once for every group that had something to sync in the cycle.
  EXPECT_GT(wal.file_syncs, 3 * shared.file_syncs) << sim::ReproCommand(seed);
}

TEST(SharedLogHostTest, IdleGroupsCostNoSyncsAndDoNotPinOldSegments) {
  const uint64_t seed = sim::TestSeed();
  constexpr int kGroups = 40;
  ClusterSpec spec = ManyGroups(kGroups, true);
  spec.group_template.raft.quiesce = true;
  spec.group_template.checkpoint.every_entries = 50;
  spec.group_template.raft.compaction_keep_entries = 10;
  spec.host.log.segment_bytes = 8 << 10;
  spec.host.log.rewrite_after_segments = 3;
  TestCluster c(seed, spec);
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.WaitForLeader(g, absl::Seconds(10))) << sim::ReproCommand(seed);
  }
  c.sim().RunFor(absl::Seconds(2));  // every group goes quiet
  const SyncCount quiet_before = Count(c);
  c.sim().RunFor(absl::Seconds(10));
  const SyncCount quiet_after = Count(c);
  EXPECT_EQ(quiet_after.file_syncs, quiet_before.file_syncs)
      << "idle, quiesced groups must not sync\n" << sim::ReproCommand(seed);
  // Group 1 writes a lot (and compacts); the 39 idle groups must not keep its old segments.
  c.StartWriters(1, absl::Milliseconds(5), /*value_bytes=*/200);
  ASSERT_TRUE(c.sim().RunUntil([&] { return c.acked_count(1) >= 600; }, absl::Seconds(60)))
      << sim::ReproCommand(seed);
  c.StopWriters();
  ASSERT_TRUE(c.WaitCaughtUp(1, {1, 2, 3}, absl::Seconds(10))) << sim::ReproCommand(seed);
  for (NodeId id : {1, 2, 3}) {
    const storage::SharedLog* log = c.node(id)->host->shared_log();
    ASSERT_NE(log, nullptr);
    EXPECT_GT(log->stats().segments_purged, 0u) << "node " << id << "\n" << sim::ReproCommand(seed);
    EXPECT_GT(log->stats().groups_rewritten, 0u) << "node " << id;
    EXPECT_LE(log->segment_count(), 6u) << "node " << id << "\n" << sim::ReproCommand(seed);
  }
  // Everything survives a crash of the whole cluster: idle groups (rewritten) and the busy one.
  for (NodeId id : {1, 2, 3}) c.sim().Crash(id);
  for (NodeId id : {1, 2, 3}) c.sim().Restart(id);
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.WaitCaughtUp(g, {1, 2, 3}, absl::Seconds(20)))
        << "group " << g << "\n" << sim::ReproCommand(seed);
  }
  c.CheckAckedWrites(1);
  c.CheckConverged(1, {1, 2, 3});
}

TEST(SharedLogHostTest, DestroyedGroupCreatedAgainStartsEmptyAlsoAfterACrash) {
  const uint64_t seed = sim::TestSeed();
  TestCluster c(seed, ManyGroups(2, true));
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(10))) << sim::ReproCommand(seed);
  std::vector<std::unique_ptr<testing::KvMachine>> machines;
  auto create_everywhere = [&]() {
    int created = 0;
    for (NodeId id : {1, 2, 3}) {
      machines.push_back(std::make_unique<testing::KvMachine>());
      testing::KvMachine* m = machines.back().get();
      c.Spawn(id, [&created, m](HostProgram& p) {
        GroupOptions options;
        options.raft.group = 77;
        options.bootstrap.voters = {1, 2, 3};
        if (p.host->CreateGroup(options, m).ok()) ++created;
      });
    }
    c.sim().RunFor(absl::Milliseconds(100));
    return created;
  };
  ASSERT_EQ(create_everywhere(), 3) << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitForLeader(77, absl::Seconds(10))) << sim::ReproCommand(seed);
  std::optional<absl::StatusOr<Applied>> written;
  c.Spawn(c.Leader(77), [&](HostProgram& p) {
    written = p.host->group(77)->Propose("old=value").Wait(absl::Seconds(5));
  });
  ASSERT_TRUE(c.sim().RunUntil([&] { return written.has_value(); }, absl::Seconds(6)));
  ASSERT_TRUE(written->ok()) << written->status() << "\n" << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitCaughtUp(77, {1, 2, 3}, absl::Seconds(5))) << sim::ReproCommand(seed);

  int destroyed = 0;
  for (NodeId id : {1, 2, 3}) {
    c.Spawn(id, [&destroyed](HostProgram& p) {
      if (p.host->DestroyGroup(77, /*delete_data=*/true).ok()) ++destroyed;
    });
  }
  c.sim().RunFor(absl::Milliseconds(500));
  ASSERT_EQ(destroyed, 3) << sim::ReproCommand(seed);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_TRUE(c.sim().disk(id).List("raft/77/")->empty()) << "node " << id;
  }
  // A crash right after: the tombstone is durable, the group does not come back.
  for (NodeId id : {1, 2, 3}) c.sim().Crash(id);
  for (NodeId id : {1, 2, 3}) c.sim().Restart(id);
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(10))) << sim::ReproCommand(seed);
  machines.clear();
  ASSERT_EQ(create_everywhere(), 3) << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitForLeader(77, absl::Seconds(10))) << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitCaughtUp(77, {1, 2, 3}, absl::Seconds(5))) << sim::ReproCommand(seed);
  for (const auto& m : machines) {
    EXPECT_FALSE(m->data.contains("old")) << "old data came back\n" << sim::ReproCommand(seed);
  }
}

TEST(SharedLogHostTest, DeleteGroupDataWipesAGroupThatIsNotHosted) {
  const uint64_t seed = sim::TestSeed();
  TestCluster c(seed, ManyGroups(1, true));
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(10))) << sim::ReproCommand(seed);
  c.StartWriters(1, absl::Milliseconds(20));
  ASSERT_TRUE(c.sim().RunUntil([&] { return c.acked_count(1) >= 20; }, absl::Seconds(10)));
  c.StopWriters();
  const NodeId id = 1;
  std::optional<absl::Status> hosted, removed, wiped;
  c.Spawn(id, [&](HostProgram& p) {
    hosted = p.host->DeleteGroupData(1);
    removed = p.host->DestroyGroup(1, /*delete_data=*/false);  // its data stays
    wiped = p.host->DeleteGroupData(1);
  });
  ASSERT_TRUE(c.sim().RunUntil([&] { return wiped.has_value(); }, absl::Seconds(5)));
  EXPECT_TRUE(absl::IsFailedPrecondition(*hosted)) << *hosted;
  EXPECT_TRUE(removed->ok()) << *removed;
  EXPECT_TRUE(wiped->ok()) << *wiped;
  EXPECT_TRUE(c.sim().disk(id).List("raft/1/")->empty());
  // Created again (joining, no bootstrap): it starts empty.
  testing::KvMachine machine;
  std::optional<absl::StatusOr<GroupDriver*>> created;
  c.Spawn(id, [&](HostProgram& p) {
    GroupOptions options;
    options.raft.group = 1;
    created = p.host->CreateGroup(options, &machine);
  });
  ASSERT_TRUE(c.sim().RunUntil([&] { return created.has_value(); }, absl::Seconds(5)));
  ASSERT_TRUE(created->ok()) << created->status();
  EXPECT_EQ((**created)->core().log().last_index(), 0u) << sim::ReproCommand(seed);
  EXPECT_TRUE(machine.data.empty());
}

}  // namespace
}  // namespace crema::raft
