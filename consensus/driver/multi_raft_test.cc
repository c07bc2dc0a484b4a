// Multi-Raft on the simulator: 50 groups on 3 nodes over one RaftHost per node, with writes to
// every group, a crash and restart, and groups created and destroyed at runtime; plus the
// network cost of 100 idle groups without and with coalescing and quiescence.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "consensus/driver/test_cluster.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

using testing::ClusterSpec;
using testing::HostProgram;
using testing::TestCluster;

ClusterSpec ManyGroups(int count) {
  ClusterSpec spec;
  spec.nodes = {1, 2, 3};
  for (int g = 1; g <= count; ++g) spec.groups.push_back({.id = GroupId(g), .voters = {1, 2, 3}});
  return spec;
}

TEST(MultiRaftTest, FiftyGroupsOnThreeNodesReplicateAndSurviveACrash) {
  const uint64_t seed = sim::TestSeed();
  constexpr int kGroups = 50;
  ClusterSpec spec = ManyGroups(kGroups);
  spec.network.drop = sim::Ratio{1, 100};
  TestCluster c(seed, spec);
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.WaitForLeader(g, absl::Seconds(10))) << "group " << g << "\n"
                                                       << sim::ReproCommand(seed);
  }
  for (int g = 1; g <= kGroups; ++g) c.StartWriters(g, absl::Milliseconds(100));
  c.sim().RunFor(absl::Seconds(3));
  c.sim().Crash(2);
  c.sim().RunFor(absl::Seconds(4));
  c.sim().Restart(2);
  c.sim().RunFor(absl::Seconds(3));
  c.StopWriters();
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.WaitCaughtUp(g, {1, 2, 3}, absl::Seconds(10))) << "group " << g << "\n"
                                                                << sim::ReproCommand(seed);
    EXPECT_GT(c.acked_count(g), 20u) << "group " << g << "\n" << sim::ReproCommand(seed);
    c.CheckAckedWrites(g);
    c.CheckConverged(g, {1, 2, 3});
    if (HasFailure()) return;
  }
}

TEST(MultiRaftTest, GroupsAreCreatedAndDestroyedAtRuntime) {
  const uint64_t seed = sim::TestSeed();
  TestCluster c(seed, ManyGroups(3));
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(10))) << sim::ReproCommand(seed);
  // Create group 77 on every node while the others run.
  std::vector<std::unique_ptr<testing::KvMachine>> machines;
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
  ASSERT_EQ(created, 3) << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitForLeader(77, absl::Seconds(10))) << sim::ReproCommand(seed);
  std::optional<absl::StatusOr<Applied>> written;
  c.Spawn(c.Leader(77), [&](HostProgram& p) {
    written = p.host->group(77)->Propose("hello=world").Wait(absl::Seconds(5));
  });
  ASSERT_TRUE(c.sim().RunUntil([&] { return written.has_value(); }, absl::Seconds(6)));
  ASSERT_TRUE(written->ok()) << written->status() << "\n" << sim::ReproCommand(seed);
  ASSERT_TRUE(c.WaitCaughtUp(77, {1, 2, 3}, absl::Seconds(5))) << sim::ReproCommand(seed);
  for (const auto& m : machines) EXPECT_EQ(m->data["hello"], "world");

  int destroyed = 0;
  for (NodeId id : {1, 2, 3}) {
    c.Spawn(id, [&destroyed](HostProgram& p) {
      if (p.host->DestroyGroup(77, /*delete_data=*/true).ok()) ++destroyed;
    });
  }
  c.sim().RunFor(absl::Milliseconds(500));
  ASSERT_EQ(destroyed, 3) << sim::ReproCommand(seed);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(c.group(id, 77), nullptr);
    absl::StatusOr<std::vector<std::string>> files = c.sim().disk(id).List("raft/77/");
    ASSERT_TRUE(files.ok());
    EXPECT_TRUE(files->empty()) << "node " << id << " kept " << files->size() << " files";
    EXPECT_NE(c.group(id, 1), nullptr);  // the others are untouched
  }
  EXPECT_NE(c.Leader(1), kNoNode) << sim::ReproCommand(seed);
}

// Every message must fit one envelope (message_batch.h): a proposal too big for one is refused
// up front, the largest allowed one replicates, and a group configured to batch more per message
// than an envelope holds is not created. With the envelope bound enforced by DecodeBatch, a
// bigger proposal would otherwise be accepted and then never reach a follower.
TEST(MultiRaftTest, EveryMessageFitsAnEnvelope) {
  const uint64_t seed = sim::TestSeed();
  TestCluster c(seed, ManyGroups(1));
  ASSERT_TRUE(c.WaitForLeader(1, absl::Seconds(10))) << sim::ReproCommand(seed);
  std::optional<absl::StatusOr<Applied>> too_big, largest;
  std::optional<absl::Status> bad_config;
  c.Spawn(c.Leader(1), [&](HostProgram& p) {
    too_big = p.host->group(1)->Propose(std::string(kMaxProposalBytes + 1, 'x')).Wait(
        absl::Seconds(5));
    largest = p.host->group(1)->Propose("big=" + std::string(kMaxProposalBytes - 4, 'y'))
                  .Wait(absl::Seconds(5));
    GroupOptions options;
    options.raft.group = 5;
    options.raft.max_bytes_per_msg = kMaxBytesPerMessage + 1;
    options.bootstrap.voters = {1, 2, 3};
    bad_config = p.host->CreateGroup(options, nullptr).status();
  });
  ASSERT_TRUE(c.sim().RunUntil([&] { return bad_config.has_value(); }, absl::Seconds(12)));
  EXPECT_TRUE(absl::IsInvalidArgument(too_big->status())) << too_big->status();
  ASSERT_TRUE(largest->ok()) << largest->status() << "\n" << sim::ReproCommand(seed);
  EXPECT_TRUE(absl::IsInvalidArgument(*bad_config)) << *bad_config;
  ASSERT_TRUE(c.WaitCaughtUp(1, {1, 2, 3}, absl::Seconds(10))) << sim::ReproCommand(seed);
  c.CheckConverged(1, {1, 2, 3});
}

// Network messages per second per node with `groups` idle groups.
double IdleMessagesPerSecondPerNode(uint64_t seed, int groups, bool coalesce, bool quiesce) {
  ClusterSpec spec = ManyGroups(groups);
  spec.host.coalesce = coalesce;
  spec.group_template.raft.quiesce = quiesce;
  TestCluster c(seed, spec);
  for (int g = 1; g <= groups; ++g) {
    if (!c.WaitForLeader(g, absl::Seconds(10))) return -1;
  }
  c.sim().RunFor(absl::Seconds(2));  // settle (and go quiet, if enabled)
  uint64_t before = 0;
  for (NodeId id : {1, 2, 3}) before += c.node(id)->host->stats().envelopes_sent;
  const absl::Duration window = absl::Seconds(10);
  c.sim().RunFor(window);
  uint64_t after = 0;
  for (NodeId id : {1, 2, 3}) after += c.node(id)->host->stats().envelopes_sent;
  for (int g = 1; g <= groups; ++g) {
    if (c.Leader(g) == kNoNode) return -1;  // idle groups must keep (or quietly keep) leaders
  }
  return static_cast<double>(after - before) / 3 / absl::ToDoubleSeconds(window);
}

TEST(MultiRaftTest, CoalescingAndQuiescenceCutIdleTraffic) {
  const uint64_t seed = sim::TestSeed();
  constexpr int kGroups = 100;
  const double plain = IdleMessagesPerSecondPerNode(seed, kGroups, false, false);
  const double coalesced = IdleMessagesPerSecondPerNode(seed, kGroups, true, false);
  const double quiet = IdleMessagesPerSecondPerNode(seed, kGroups, true, true);
  std::printf("100 idle groups, 3 nodes, 100 ms tick: network messages/s per node: "
              "plain %.1f, coalesced %.1f (%.1fx fewer), coalesced+quiesced %.1f\n",
              plain, coalesced, plain / coalesced, quiet);
  ASSERT_GT(plain, 0) << sim::ReproCommand(seed);
  ASSERT_GT(coalesced, 0) << sim::ReproCommand(seed);
  ASSERT_GE(quiet, 0) << "a group lost its leader\n" << sim::ReproCommand(seed);
  // Each node leads ~1/3 of the groups: ~2 heartbeats + ~2 responses per group and tick.
  EXPECT_GT(plain, 1000) << sim::ReproCommand(seed);
  // Coalesced: per tick, one envelope of heartbeats and one of responses per peer.
  EXPECT_LT(coalesced, 60) << sim::ReproCommand(seed);
  EXPECT_LT(quiet, coalesced / 4) << sim::ReproCommand(seed);
}

TEST(MultiRaftTest, QuietGroupsReelectAfterTheHostReportsANodeDown) {
  const uint64_t seed = sim::TestSeed();
  constexpr int kGroups = 12;
  ClusterSpec spec = ManyGroups(kGroups);
  spec.group_template.raft.quiesce = true;
  TestCluster c(seed, spec);
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.WaitForLeader(g, absl::Seconds(10))) << sim::ReproCommand(seed);
  }
  c.sim().RunFor(absl::Seconds(2));  // every group goes quiet
  // Crash the node leading the most groups; the failure detector (here: the test) reports it.
  std::map<NodeId, int> led;
  for (int g = 1; g <= kGroups; ++g) ++led[c.Leader(g)];
  NodeId victim = 1;
  for (const auto& [id, n] : led) {
    if (n > led[victim]) victim = id;
  }
  c.sim().Crash(victim);
  for (NodeId id : {1, 2, 3}) {
    if (id != victim) c.node(id)->host->ReportNodeDown(victim);
  }
  for (int g = 1; g <= kGroups; ++g) {
    ASSERT_TRUE(c.sim().RunUntil(
        [&] {
          const NodeId l = c.Leader(g);
          return l != kNoNode && l != victim;
        },
        absl::Seconds(10)))
        << "group " << g << " has no leader after node " << victim << " was reported down\n"
        << sim::ReproCommand(seed);
  }
}

}  // namespace
}  // namespace crema::raft
