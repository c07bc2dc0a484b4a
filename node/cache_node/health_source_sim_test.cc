// The cache node's health view comes from CacheNodeOptions::health when one is given (crema_server
// passes its etcd source for --membership=etcd), not from its own SWIM: on 4 simulated nodes with
// a scripted source each (node/discovery/scripted_source.h) — a view that SWIM does not share —
//   * a node the source declares dead is replaced (removed from the map, its replicas moved off)
//     although SWIM still sees it alive;
//   * a crashed node SWIM has declared dead is NOT replaced while the source still holds it
//     alive, and is once the source says it is dead (as a lease expiry would).
// Both fail if placement health came from SWIM. The real-process counterpart, against a real
// etcd, is //tools/integration:etcd_placement_test.
#include <map>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "node/discovery/scripted_source.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using discovery::ScriptedMembershipSource;
using membership::MemberState;
using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

constexpr absl::Duration kReplaceDeadAfter = absl::Seconds(2);

class HealthSourceSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = sim::TestSeed();
    trace_ = std::make_unique<::testing::ScopedTrace>(__FILE__, __LINE__, sim::ReproCommand(seed_));
    sim::SimOptions o;
    o.seed = seed_;
    sim_ = std::make_unique<sim::Simulator>(o);
    CacheConfig config;
    config.bootstrap = ids_;
    config.num_shards = 8;
    config.replication_factor = 3;
    config.max_capacity = 10'000;
    config.tick_interval = absl::Milliseconds(50);
    config.election_tick = 10;
    config.max_clock_skew = absl::Milliseconds(100);
    config.replace_dead_after = kReplaceDeadAfter;
    CacheNodeOptions options;
    options.swim.probe_interval = absl::Milliseconds(500);
    options.swim.probe_timeout = absl::Milliseconds(200);
    options.maintenance_interval = absl::Milliseconds(100);
    for (NodeId id : ids_) {
      sources_[id] = std::make_unique<ScriptedMembershipSource>(id, ids_);
      ASSERT_TRUE(sources_[id]->Start().ok());
      sim_->AddNode(id, [config, options, source = sources_[id].get()](Env env) mutable {
        config.node_id = env.self;
        options.health = source;
        return std::make_unique<CacheNodeProgram>(env, config, options);
      });
    }
    sim_->StartAll();
    ASSERT_TRUE(sim_->RunUntil([&] { return Ready(); }, absl::Seconds(30)))
        << "cluster never became ready: " << Why();
  }

  // Every node serves, and the metadata group has a leader (not every node hosts it: 3 of 4).
  bool Ready() {
    bool meta_leader = false;
    for (NodeId id : ids_) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr || !p->node()->ready()) return false;
      meta_leader = meta_leader || p->node()->Status().meta_leader != kNoNode;
    }
    return meta_leader;
  }

  std::string Why() {
    std::string why;
    for (NodeId id : ids_) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      why += "node " + std::to_string(id) + ": ";
      if (p == nullptr) {
        why += "down; ";
      } else if (p->node() == nullptr) {
        why += "not started (" + p->start_error().ToString() + "); ";
      } else {
        why += p->node()->ready() ? "ready" : "not ready";
        why += " meta_leader=" + std::to_string(p->node()->Status().meta_leader) + "; ";
      }
    }
    return why + " at " + absl::FormatDuration(sim_->elapsed());
  }

  CacheNode& node(NodeId id) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    EXPECT_NE(p, nullptr);
    return *p->node();
  }

  // Every surviving node's source now says `dead` is dead (the same verdict everywhere, as etcd's
  // deleted key reaches every watcher).
  void DeclareDead(NodeId dead) {
    for (NodeId id : ids_) {
      if (id != dead) sources_[id]->Set(dead, MemberState::kDead);
    }
  }

  // In node `at`'s map: `gone` is removed and no shard nor the metadata group lists it.
  bool Replaced(NodeId at, NodeId gone) {
    const cluster::ClusterMap& map = node(at).map();
    auto it = map.nodes.find(gone);
    if (it == map.nodes.end() || it->second.state != NodeState::kRemoved) return false;
    if (map.meta.ReplicaOn(gone) != raft::kNoReplica) return false;
    for (const cluster::ShardInfo& shard : map.shards) {
      if (shard.ReplicaOn(gone) != raft::kNoReplica) return false;
    }
    return true;
  }

  // For failure messages: `gone`'s state in node `at`'s map and the groups still listing it.
  std::string Describe(NodeId at, NodeId gone) {
    const cluster::ClusterMap& map = node(at).map();
    std::string out = "map v" + std::to_string(map.version) + " at " +
                      absl::FormatDuration(sim_->elapsed()) + ": node " + std::to_string(gone) +
                      " is " + NodeStateName(map.nodes.at(gone).state) + "; still listed in";
    if (map.meta.ReplicaOn(gone) != raft::kNoReplica) out += " meta";
    for (size_t i = 0; i < map.shards.size(); ++i) {
      if (map.shards[i].ReplicaOn(gone) != raft::kNoReplica) out += " shard" + std::to_string(i);
    }
    return out + "; meta leader " + std::to_string(node(at).Status().meta_leader);
  }

  bool HoldsReplicas(NodeId at, NodeId holder) {
    const cluster::ClusterMap& map = node(at).map();
    for (const cluster::ShardInfo& shard : map.shards) {
      if (shard.ReplicaOn(holder) != raft::kNoReplica) return true;
    }
    return false;
  }

  uint64_t seed_ = 0;
  std::unique_ptr<::testing::ScopedTrace> trace_;
  const std::vector<NodeId> ids_ = {1, 2, 3, 4};
  std::map<NodeId, std::unique_ptr<ScriptedMembershipSource>> sources_;  // outlive the nodes
  std::unique_ptr<sim::Simulator> sim_;
};

TEST_F(HealthSourceSimTest, ANodeTheSourceDeclaresDeadIsReplacedThoughSwimSeesItAlive) {
  // The victim keeps running, so it must never run the controller (no node's own view calls
  // itself dead): the one node of four that is not a voter of the metadata group (3 voters).
  NodeId victim = kNoNode;
  for (NodeId id : ids_) {
    if (node(1).map().meta.ReplicaOn(id) == raft::kNoReplica) victim = id;
  }
  ASSERT_NE(victim, kNoNode) << "every node hosts the metadata group";
  ASSERT_TRUE(HoldsReplicas(1, victim)) << "node " << victim << " holds no replica: nothing to move";
  DeclareDead(victim);
  ASSERT_TRUE(sim_->RunUntil([&] { return Replaced(1, victim); }, absl::Seconds(60)))
      << "node " << victim << " was declared dead by the health source but never replaced; "
      << Describe(1, victim);
  // The verdict was the source's alone: SWIM still sees the victim alive, while /cluster's
  // `available` follows the source.
  EXPECT_TRUE(node(1).membership().IsAvailable(victim));
  for (const NodeStatus& n : node(1).Status().nodes) {
    if (n.id == victim) {
      EXPECT_FALSE(n.available);
    }
  }
}

TEST_F(HealthSourceSimTest, ACrashedNodeIsReplacedOnlyOnceTheSourceSaysItIsDead) {
  ASSERT_TRUE(HoldsReplicas(1, 4)) << "node 4 holds no replica: nothing to move";
  sim_->Crash(4);
  ASSERT_TRUE(sim_->RunUntil([&] { return !node(1).membership().IsAvailable(4); },
                             absl::Seconds(30)))
      << "SWIM never noticed the crash";
  // SWIM says dead; the source (etcd, its lease not yet expired) still says alive: no reaction,
  // though replace_dead_after passes several times over.
  sim_->RunFor(kReplaceDeadAfter * 5);
  for (NodeId at : {1, 2, 3}) {
    EXPECT_EQ(node(at).map().nodes.at(4).state, NodeState::kActive) << "at node " << at;
  }
  EXPECT_TRUE(HoldsReplicas(1, 4));
  // The lease expires: now it is replaced.
  DeclareDead(4);
  EXPECT_TRUE(sim_->RunUntil([&] { return Replaced(1, 4); }, absl::Seconds(60)))
      << "node 4 was declared dead by the health source but never replaced; " << Describe(1, 4);
}

}  // namespace
}  // namespace crema
