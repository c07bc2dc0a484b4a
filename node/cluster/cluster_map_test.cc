// The cluster map, its metadata commands and the metadata state machine: deterministic initial
// placement, the rules that keep the map safe to host replicas by, codecs, and delta replay.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_command.h"
#include "node/cluster/meta_state_machine.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema::cluster {
namespace {

ClusterParams Params(uint32_t shards) {
  ClusterParams p;
  p.num_shards = shards;
  p.replication_factor = 3;
  p.meta_replication_factor = 3;
  p.shard.capacity = 1000;
  return p;
}

MetaCommand Admit(NodeId node, std::string address) {
  MetaCommand c;
  c.kind = MetaCommandKind::kAdmit;
  c.node = node;
  c.address = std::move(address);
  return c;
}

MetaCommand Intent(raft::GroupId group, NodeId node) {
  MetaCommand c;
  c.kind = MetaCommandKind::kAddIntent;
  c.group = group;
  c.node = node;
  return c;
}

MetaCommand Record(raft::GroupId group, std::vector<ReplicaId> voters,
                   std::vector<ReplicaId> learners, raft::Index index) {
  MetaCommand c;
  c.kind = MetaCommandKind::kRecordConf;
  c.group = group;
  c.voters = std::move(voters);
  c.learners = std::move(learners);
  c.conf_index = index;
  return c;
}

TEST(ClusterMapTest, InitialMapIsTheSameForEveryFounderAndBalanced) {
  const ClusterMap a = InitialClusterMap({1, 2, 3, 4, 5}, {"a", "b", "c", "d", "e"}, Params(64));
  const ClusterMap b = InitialClusterMap({1, 2, 3, 4, 5}, {"a", "b", "c", "d", "e"}, Params(64));
  EXPECT_EQ(EncodeClusterMap(a), EncodeClusterMap(b));
  EXPECT_EQ(a.version, 1u);
  std::vector<int> replicas(6, 0);
  for (const ShardInfo& s : a.shards) {
    ASSERT_EQ(s.voters.size(), 3u);
    for (ReplicaId r : s.voters) ++replicas[raft::NodeOfReplica(r)];
  }
  for (NodeId n = 1; n <= 5; ++n) {
    EXPECT_GT(replicas[n], 64 * 3 / 5 / 2) << "node " << n << " holds too few replicas";
  }
  EXPECT_EQ(a.meta.voters.size(), 3u);
  // Every node hosts what the map lists for it.
  size_t hosted = 0;
  for (NodeId n = 1; n <= 5; ++n) hosted += HostedReplicas(a, n).size();
  EXPECT_EQ(hosted, 64u * 3 + 3);
}

TEST(ClusterMapTest, EncodingRoundTripsAndRejectsGarbage) {
  ClusterMap map = InitialClusterMap({1, 2, 3}, {"x:1", "y:2", "z:3"}, Params(8));
  ASSERT_TRUE(ApplyMetaCommand(map, Admit(9, "w:9")));
  ASSERT_TRUE(ApplyMetaCommand(map, Intent(GroupOfShard(2), 9)));
  const std::string bytes = EncodeClusterMap(map);
  absl::StatusOr<ClusterMap> back = DecodeClusterMap(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, map);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeClusterMap(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeClusterMap(bytes + "x").ok());
}

RC_GTEST_PROP(ClusterMapTest, GarbageNeverCrashesTheDecoders, (std::string garbage)) {
  (void)DecodeClusterMap(garbage);
  (void)DecodeMetaCommand(garbage);
  (void)MetaStateMachine::DecodeOutcome(garbage);
}

TEST(ClusterMapTest, IntentsGetFreshGenerationsAndRecordsOnlyMoveForward) {
  ClusterMap map = InitialClusterMap({1, 2, 3}, {}, Params(4));
  const raft::GroupId g = GroupOfShard(1);
  EXPECT_FALSE(ApplyMetaCommand(map, Intent(g, 4)));  // not a data node
  ASSERT_TRUE(ApplyMetaCommand(map, Admit(4, "d")));
  EXPECT_FALSE(ApplyMetaCommand(map, Admit(4, "d")));  // no-op: version unchanged
  const uint64_t v = map.version;
  ASSERT_TRUE(ApplyMetaCommand(map, Intent(g, 4)));
  EXPECT_EQ(map.version, v + 1);
  const ReplicaId added = map.shards[1].adding.front();
  EXPECT_EQ(raft::NodeOfReplica(added), 4u);
  EXPECT_EQ(raft::GenerationOfReplica(added), 1u);
  EXPECT_FALSE(ApplyMetaCommand(map, Intent(g, 4)));  // node 4 already has one
  // The node hosts the replica as soon as it is an intent, before Raft adds it.
  const auto hosted = HostedReplicas(map, 4);
  ASSERT_EQ(hosted.size(), 1u);
  EXPECT_EQ(hosted[0], std::make_pair(g, added));
  // Recording the configuration with the learner takes it out of `adding`.
  std::vector<ReplicaId> voters = map.shards[1].voters;
  ASSERT_TRUE(ApplyMetaCommand(map, Record(g, voters, {added}, 5)));
  EXPECT_TRUE(map.shards[1].adding.empty());
  EXPECT_TRUE(map.shards[1].IsMember(added));
  // An older record is ignored.
  EXPECT_FALSE(ApplyMetaCommand(map, Record(g, voters, {}, 4)));
  EXPECT_TRUE(map.shards[1].IsMember(added));
  // Remove a founding voter, promote the learner: the removed node no longer hosts the shard.
  const ReplicaId removed = voters.front();
  std::vector<ReplicaId> next(voters.begin() + 1, voters.end());
  next.push_back(added);
  std::sort(next.begin(), next.end());
  ASSERT_TRUE(ApplyMetaCommand(map, Record(g, next, {}, 9)));
  for (const auto& [group, r] : HostedReplicas(map, raft::NodeOfReplica(removed))) {
    EXPECT_NE(group, g);
  }
  // Re-adding a node that once held the shard gives it a new generation, never the old id.
  ASSERT_TRUE(ApplyMetaCommand(map, Intent(g, raft::NodeOfReplica(removed))));
  EXPECT_NE(map.shards[1].adding.front(), removed);
}

TEST(ClusterMapTest, FollowersReplayingDeltasHoldTheSameMap) {
  MetaStateMachine leader;
  MetaCommand boot;
  boot.kind = MetaCommandKind::kBootstrap;
  boot.map = InitialClusterMap({1, 2, 3}, {"a", "b", "c"}, Params(16));
  raft::Index i = 0;
  leader.ApplyWithResult(++i, EncodeMetaCommand(boot));
  ClusterMap follower = leader.map();
  const uint64_t from = follower.version;
  for (const MetaCommand& c : {Admit(4, "d"), Intent(GroupOfShard(3), 4), Admit(4, "d"),
                               Intent(kMetaGroup, 4)}) {
    leader.ApplyWithResult(++i, EncodeMetaCommand(c));
  }
  std::optional<std::vector<std::string>> deltas = leader.DeltasSince(from);
  ASSERT_TRUE(deltas.has_value());
  EXPECT_EQ(deltas->size(), 3u);  // the repeated admit changed nothing and is not a delta
  for (const std::string& d : *deltas) {
    absl::StatusOr<MetaCommand> c = DecodeMetaCommand(d);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(ApplyMetaCommand(follower, *c));
  }
  EXPECT_EQ(follower, leader.map());
  // A node that has nothing replays everything, the bootstrap included.
  ClusterMap empty;
  const std::optional<std::vector<std::string>> everything = leader.DeltasSince(0);
  ASSERT_TRUE(everything.has_value());
  for (const std::string& d : *everything) {
    EXPECT_TRUE(ApplyMetaCommand(empty, *DecodeMetaCommand(d)));
  }
  EXPECT_EQ(empty, leader.map());
  MetaStateMachine restored;
  ASSERT_TRUE(restored.Restore(leader.Checkpoint()).ok());
  EXPECT_EQ(restored.map(), leader.map());
  EXPECT_FALSE(restored.DeltasSince(from).has_value());  // window lost: send the whole map
  EXPECT_TRUE(restored.DeltasSince(restored.map().version)->empty());
}

}  // namespace
}  // namespace crema::cluster
