// The cluster map, its metadata commands and the metadata state machine: deterministic initial
// placement, the rules that keep the map safe to host replicas by, codecs, and delta replay.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Regression (cluster_codec_fuzzer): a map of a few bytes that claims kMaxShards shards is refused
// before records for them are allocated (it used to allocate ~6 MB for 20 bytes), while a real
// map with that many shards still decodes.
std::string MapClaimingShards(uint64_t shards, size_t shard_bytes) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  };
  out += '\x01';  // encoding version
  varint(0);       // map version 0: parameters unchecked
  varint(shards);
  out += std::string(7, '\0');  // rf, meta rf, capacity, weigh_bytes, session ttl, age, 0 nodes
  out += std::string(5, '\0');  // the metadata group: no replicas, generation 0
  varint(shards);
  out += std::string(shard_bytes, '\0');
  return out;
}

TEST(ClusterMapTest, ShardCountBeyondTheInputIsRefusedBeforeAllocating) {
  absl::StatusOr<ClusterMap> claimed = DecodeClusterMap(MapClaimingShards(kMaxShards, 0));
  ASSERT_FALSE(claimed.ok());
  EXPECT_NE(claimed.status().message().find("more shards than bytes"), std::string::npos);
  EXPECT_FALSE(DecodeClusterMap(MapClaimingShards(kMaxShards, 5 * kMaxShards - 1)).ok());
  absl::StatusOr<ClusterMap> real = DecodeClusterMap(MapClaimingShards(kMaxShards, 5 * kMaxShards));
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(real->shards.size(), kMaxShards);
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

// --- keyspaces created at run time ---

MetaCommand CreateKs(std::string spec) {
  MetaCommand c;
  c.kind = MetaCommandKind::kCreateKeyspace;
  c.keyspace_spec = std::move(spec);
  return c;
}

MetaCommand DropKs(uint32_t index, uint64_t generation,
                   MetaCommandKind kind = MetaCommandKind::kDropKeyspace) {
  MetaCommand c;
  c.kind = kind;
  c.keyspace_index = index;
  c.keyspace_generation = generation;
  return c;
}

ClusterMap MapWithFlagKeyspaces() {
  absl::StatusOr<std::vector<keyspace::KeyspaceSpec>> flags =
      keyspace::ParseKeyspaces("1:sessions:eventual:ttl=30m:read=one");
  EXPECT_TRUE(flags.ok());
  return InitialClusterMap({1, 2, 3}, {"a", "b", "c"}, Params(4), *flags);
}

TEST(KeyspaceMetaTest, FlagKeyspacesAreTheBootstrapMapsAtGenerationZero) {
  const ClusterMap map = MapWithFlagKeyspaces();
  ASSERT_EQ(map.keyspaces.size(), 2u);
  ASSERT_NE(map.LiveKeyspace(0), nullptr);  // the default, added by ParseKeyspaces
  EXPECT_EQ(map.LiveKeyspace(0)->spec.name, "default");
  ASSERT_NE(map.LiveKeyspace(1), nullptr);
  EXPECT_EQ(map.LiveKeyspace(1)->generation, 0u);
  EXPECT_EQ(map.LiveKeyspaceNamed("sessions"), map.LiveKeyspace(1));
  EXPECT_EQ(map.next_keyspace_generation, 1u);
  // Without flag keyspaces the map still has keyspace 0.
  const ClusterMap plain = InitialClusterMap({1}, {}, Params(1));
  ASSERT_EQ(plain.keyspaces.size(), 1u);
  EXPECT_EQ(plain.LiveKeyspace(0)->spec.name, "default");
}

TEST(KeyspaceMetaTest, CreateDuplicateDropAndRecreateWithANewGeneration) {
  ClusterMap map = MapWithFlagKeyspaces();
  uint64_t v = map.version;
  ASSERT_TRUE(ApplyMetaCommandOrWhy(map, CreateKs("3:carts:strong:ttl=1h")).ok());
  EXPECT_EQ(map.version, ++v);
  ASSERT_NE(map.LiveKeyspace(3), nullptr);
  EXPECT_EQ(map.LiveKeyspace(3)->generation, 1u);
  EXPECT_EQ(map.LiveKeyspace(3)->spec.default_ttl, absl::Hours(1));

  // Refusals change nothing and say why.
  absl::Status s = ApplyMetaCommandOrWhy(map, CreateKs("3:other:strong"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_NE(s.message().find("index"), std::string::npos) << s;
  s = ApplyMetaCommandOrWhy(map, CreateKs("4:carts:eventual"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_NE(s.message().find("name"), std::string::npos) << s;
  s = ApplyMetaCommandOrWhy(map, CreateKs("4:Carts:eventual"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("name"), std::string::npos) << s;
  for (const char* bad : {"", "16:x:strong", "4:x:weak", "4:x:strong:capacity=1MiB", "4:x:strong,5:y:strong",
                          "4:x:eventual:ttl=soon"}) {
    EXPECT_EQ(ApplyMetaCommandOrWhy(map, CreateKs(bad)).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(map.version, v);

  // Drop: dropping at once; a second drop, a wrong generation and keyspace 0 are refused.
  EXPECT_EQ(ApplyMetaCommandOrWhy(map, DropKs(3, 7)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ApplyMetaCommandOrWhy(map, DropKs(0, 0)).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ApplyMetaCommandOrWhy(map, DropKs(3, 1)).ok());
  EXPECT_EQ(map.version, ++v);
  EXPECT_EQ(map.LiveKeyspace(3), nullptr);
  EXPECT_EQ(map.LiveKeyspaceNamed("carts"), nullptr);
  EXPECT_EQ(map.keyspaces.at({3, 1}).state, KeyspaceState::kDropping);
  EXPECT_EQ(ApplyMetaCommandOrWhy(map, DropKs(3, 1)).code(), absl::StatusCode::kNotFound);

  // Re-created under the same index and name while the old one is still dropping: a new
  // generation, so a different keyspace.
  ASSERT_TRUE(ApplyMetaCommandOrWhy(map, CreateKs("3:carts:eventual")).ok());
  EXPECT_EQ(map.LiveKeyspace(3)->generation, 2u);
  EXPECT_EQ(map.LiveKeyspace(3)->spec.mode, keyspace::Mode::kEventual);
  EXPECT_EQ(map.keyspaces.size(), 4u);
  // Forget: only a dropping keyspace leaves the map.
  EXPECT_FALSE(ApplyMetaCommand(map, DropKs(3, 2, MetaCommandKind::kForgetKeyspace)));
  EXPECT_TRUE(ApplyMetaCommand(map, DropKs(3, 1, MetaCommandKind::kForgetKeyspace)));
  EXPECT_EQ(map.keyspaces.size(), 3u);
  EXPECT_EQ(map.next_keyspace_generation, 3u);
}

TEST(KeyspaceMetaTest, DroppedKeyspacesWaitingForTheirPurgeAreBounded) {
  ClusterMap map = InitialClusterMap({1}, {}, Params(1));
  for (size_t i = 0; i < kMaxDroppingKeyspaces; ++i) {
    ASSERT_TRUE(ApplyMetaCommandOrWhy(map, CreateKs("5:x:strong")).ok()) << i;
    ASSERT_TRUE(ApplyMetaCommandOrWhy(map, DropKs(5, map.next_keyspace_generation - 1)).ok());
  }
  EXPECT_EQ(ApplyMetaCommandOrWhy(map, CreateKs("5:x:strong")).code(),
            absl::StatusCode::kResourceExhausted);
  // The bounded map still encodes and decodes.
  absl::StatusOr<ClusterMap> back = DecodeClusterMap(EncodeClusterMap(map));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, map);
}

TEST(KeyspaceMetaTest, MapsWithKeyspacesEncodeDeterministicallyAndRefuseBadRecords) {
  ClusterMap map = MapWithFlagKeyspaces();
  ASSERT_TRUE(ApplyMetaCommand(map, CreateKs("7:queue:eventual:capacity=64MiB:write=all")));
  ASSERT_TRUE(ApplyMetaCommand(map, CreateKs("9:locks:strong")));
  ASSERT_TRUE(ApplyMetaCommand(map, DropKs(9, 2)));
  const std::string bytes = EncodeClusterMap(map);
  absl::StatusOr<ClusterMap> back = DecodeClusterMap(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, map);
  EXPECT_EQ(EncodeClusterMap(*back), bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeClusterMap(bytes.substr(0, cut)).ok()) << cut;
  }
  // Records breaking the invariants are refused: two live keyspaces named alike, a spec at the
  // wrong index, a generation not yet issued.
  ClusterMap twins = map;
  // Copies first: inserting into a btree_map may move the element a reference points at.
  const KeyspaceRecord queue = map.keyspaces.at({7, 1});
  twins.keyspaces[{8, 0}] = queue;
  twins.keyspaces[{8, 0}].spec.index = 8;
  EXPECT_FALSE(DecodeClusterMap(EncodeClusterMap(twins)).ok());
  ClusterMap misplaced = map;
  misplaced.keyspaces[{8, 0}] = queue;
  misplaced.keyspaces[{8, 0}].spec.name = "other";
  EXPECT_FALSE(DecodeClusterMap(EncodeClusterMap(misplaced)).ok());
  ClusterMap future = map;
  future.next_keyspace_generation = 2;
  EXPECT_FALSE(DecodeClusterMap(EncodeClusterMap(future)).ok());
  // Commands survive their codec, and so do refusals in outcomes.
  for (const MetaCommand& c : {CreateKs("7:queue:eventual"), DropKs(9, 2),
                               DropKs(3, 4, MetaCommandKind::kForgetKeyspace)}) {
    absl::StatusOr<MetaCommand> again = DecodeMetaCommand(EncodeMetaCommand(c));
    ASSERT_TRUE(again.ok()) << FormatMetaCommand(c);
    EXPECT_EQ(*again, c);
  }
  EXPECT_FALSE(DecodeMetaCommand(EncodeMetaCommand(CreateKs(std::string(300, 'x')))).ok());
  EXPECT_FALSE(DecodeMetaCommand(EncodeMetaCommand(DropKs(16, 1))).ok());
  const MetaStateMachine::Outcome refused{false, 9, absl::AlreadyExistsError("name: taken")};
  absl::StatusOr<MetaStateMachine::Outcome> o =
      MetaStateMachine::DecodeOutcome(MetaStateMachine::EncodeOutcome(refused));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->refusal, refused.refusal);
  EXPECT_EQ(o->version, 9u);
}

TEST(KeyspaceMetaTest, TheStateMachineReportsWhyAKeyspaceCommandWasRefused) {
  MetaStateMachine machine;
  MetaCommand boot;
  boot.kind = MetaCommandKind::kBootstrap;
  boot.map = MapWithFlagKeyspaces();
  raft::Index i = 0;
  machine.ApplyWithResult(++i, EncodeMetaCommand(boot));
  const uint64_t from = machine.map().version;
  absl::StatusOr<MetaStateMachine::Outcome> o = MetaStateMachine::DecodeOutcome(
      machine.ApplyWithResult(++i, EncodeMetaCommand(CreateKs("1:again:strong"))));
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->changed);
  EXPECT_EQ(o->refusal.code(), absl::StatusCode::kAlreadyExists);
  o = MetaStateMachine::DecodeOutcome(
      machine.ApplyWithResult(++i, EncodeMetaCommand(CreateKs("2:fresh:strong"))));
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->changed);
  EXPECT_TRUE(o->refusal.ok());
  machine.ApplyWithResult(++i, EncodeMetaCommand(DropKs(2, 1)));
  // A follower replaying the deltas holds the same map, keyspaces included.
  ClusterMap follower = boot.map;
  follower.version = from;
  const std::optional<std::vector<std::string>> deltas = machine.DeltasSince(from);
  ASSERT_TRUE(deltas.has_value());
  for (const std::string& d : *deltas) {
    ASSERT_TRUE(ApplyMetaCommand(follower, *DecodeMetaCommand(d)));
  }
  EXPECT_EQ(follower, machine.map());
  EXPECT_EQ(EncodeClusterMap(follower), machine.Checkpoint());
}

RC_GTEST_PROP(KeyspaceMetaTest, EverySpecThatParsesRoundTripsThroughTheMap,
              (uint8_t index, uint8_t mode, uint16_t ttl_s, uint8_t capacity_mib, uint8_t level)) {
  static const char* kLevels[] = {"one", "quorum", "all", "2", "quorum~", "1~"};
  const bool eventual = mode % 2 == 1;
  std::string spec = absl::StrCat(index % keyspace::kMaxKeyspaces, ":ks", index,
                                  eventual ? ":eventual" : ":strong");
  if (ttl_s != 0) absl::StrAppend(&spec, ":ttl=", ttl_s, "s:max_ttl=", ttl_s + 1, "s");
  if (eventual) {
    absl::StrAppend(&spec, ":capacity=", capacity_mib, "MiB:read=", kLevels[level % 6],
                    ":write=", kLevels[(level / 6) % 6]);
  }
  ClusterMap map = InitialClusterMap({1}, {}, Params(1));
  const uint64_t before = map.version;
  const absl::Status s = ApplyMetaCommandOrWhy(map, CreateKs(spec));
  if (index % keyspace::kMaxKeyspaces == 0) {
    RC_ASSERT(s.code() == absl::StatusCode::kAlreadyExists);
    return;
  }
  RC_ASSERT(s.ok());
  RC_ASSERT(map.version == before + 1);
  absl::StatusOr<ClusterMap> back = DecodeClusterMap(EncodeClusterMap(map));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == map);
}

}  // namespace
}  // namespace crema::cluster
