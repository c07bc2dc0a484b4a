// The embedded API on a 3-node cluster in the simulator: bootstrap, every operation through
// every node, linearizable reads after writes elsewhere, read-your-writes through one node,
// expiry, a leader crash, and exactly-once increments across retries.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

class CacheNodeSimTest : public ::testing::Test {
 protected:
  void StartCluster(uint64_t seed, std::vector<NodeId> ids = {1, 2, 3},
                    std::vector<NodeId> joiners = {}) {
    seed_ = seed;
    sim::SimOptions o;
    o.seed = seed;
    sim_ = std::make_unique<sim::Simulator>(o);
    CacheConfig config;
    config.bootstrap = ids;
    config.num_shards = 8;
    config.max_capacity = 10'000;
    config.tick_interval = absl::Milliseconds(50);
    config.election_tick = 10;
    config.max_clock_skew = absl::Milliseconds(100);
    CacheNodeOptions options;
    options.swim.probe_interval = absl::Milliseconds(500);
    options.swim.probe_timeout = absl::Milliseconds(200);
    options.maintenance_interval = absl::Milliseconds(100);
    for (NodeId id : ids) {
      sim_->AddNode(id, [config, options](Env env) mutable {
        config.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, config, options);
      });
    }
    for (NodeId id : joiners) {
      CacheConfig joiner = config;
      joiner.bootstrap.clear();
      joiner.seeds = ids;
      sim_->AddNode(id, [joiner, options](Env env) mutable {
        joiner.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, joiner, options);
      });
    }
    sim_->StartAll();
    ASSERT_TRUE(sim_->RunUntil([&] { return ClusterReady(ids); }, absl::Seconds(30)))
        << "cluster never became ready; reproduce: " << sim::ReproCommand(seed);
  }

  bool ClusterReady(const std::vector<NodeId>& ids) {
    for (NodeId id : ids) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr || !p->node()->ready()) return false;
      if (p->node()->Status().meta_leader == kNoNode) return false;
    }
    return true;
  }

  // Runs `op` in a fiber on node `id` and the simulation until it returns.
  void On(NodeId id, std::function<void(CacheNode&)> op, absl::Duration limit = absl::Seconds(20)) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(p->node(), nullptr);
    auto done = std::make_shared<bool>(false);
    CacheNode* node = p->node();
    p->Run("test-op", [node, op, done] {
      op(*node);
      *done = true;
    });
    ASSERT_TRUE(sim_->RunUntil([&] { return *done; }, limit))
        << "operation on node " << id << " did not finish; reproduce: "
        << sim::ReproCommand(seed_);
  }

  uint64_t seed_ = 0;
  std::unique_ptr<sim::Simulator> sim_;
};

const ReadOptions kLinearizable{.consistency = ReadConsistency::kLinearizable};
const ReadOptions kLocal{.consistency = ReadConsistency::kLocal};

TEST_F(CacheNodeSimTest, EveryOperationThroughEveryNode) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    absl::StatusOr<PutResult> put = n.Put("user:123", "Alice", PutOptions{});
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_TRUE(put->written);
  });
  // A linearizable read through another node sees it at once.
  On(2, [](CacheNode& n) {
    absl::StatusOr<std::optional<std::string>> v = n.Get("user:123", kLinearizable);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, "Alice");
  });
  // Conditional writes, previous values, CAS and increments through the third node.
  On(3, [](CacheNode& n) {
    PutOptions nx;
    nx.condition = PutCondition::kIfAbsent;
    EXPECT_FALSE(n.Put("user:123", "Bob", nx)->written);
    PutOptions getset;
    getset.return_previous = true;
    EXPECT_EQ(n.Put("user:123", "Carol", getset)->previous, "Alice");
    EXPECT_TRUE(*n.CompareAndSet("user:123", "Carol", "Dave", Expiration::Keep(), {}));
    EXPECT_FALSE(*n.CompareAndSet("user:123", "Carol", "Eve", Expiration::Keep(), {}));
    EXPECT_EQ(*n.Increment("counter", 5, {}), 5);
    EXPECT_EQ(*n.Increment("counter", -2, {}), 3);
    absl::StatusOr<int64_t> bad = n.Increment("user:123", 1, {});
    EXPECT_TRUE(absl::IsFailedPrecondition(bad.status())) << bad.status();
    // Read-your-writes through this node, with local reads.
    EXPECT_EQ(*n.Get("user:123", kLocal), "Dave");
    EXPECT_EQ(*n.Get("counter", kLocal), "3");
  });
  // Many keys over every shard; multi-get and multi-put.
  On(1, [](CacheNode& n) {
    std::vector<std::pair<std::string, std::string>> entries;
    std::vector<std::string> keys;
    for (int i = 0; i < 40; ++i) {
      entries.emplace_back(absl::StrCat("k", i), absl::StrCat("v", i));
      keys.push_back(absl::StrCat("k", i));
    }
    ASSERT_TRUE(n.MultiPut(entries, Expiration::Default(), {}).ok());
    keys.push_back("missing");
    absl::StatusOr<std::vector<std::optional<std::string>>> got = n.MultiGet(keys, kLinearizable);
    ASSERT_TRUE(got.ok()) << got.status();
    for (int i = 0; i < 40; ++i) EXPECT_EQ((*got)[i], absl::StrCat("v", i));
    EXPECT_EQ(got->back(), std::nullopt);
    EXPECT_EQ(*n.Delete("k0", {}), "v0");
    EXPECT_EQ(*n.Delete("k0", {}), std::nullopt);
  });
  // TTLs: set, observe, persist, expire.
  On(2, [](CacheNode& n) {
    ASSERT_TRUE(n.Put("t", "v", PutOptions{.expiration = Expiration::After(absl::Seconds(2))}).ok());
    absl::StatusOr<TtlResult> ttl = n.Ttl("t", kLinearizable);
    ASSERT_TRUE(ttl.ok());
    EXPECT_EQ(ttl->kind, TtlResult::Kind::kExpires);
    EXPECT_LE(ttl->remaining, absl::Seconds(2));
    EXPECT_TRUE(*n.Expire("k1", Expiration::After(absl::Seconds(1)), {}));
    EXPECT_FALSE(*n.Expire("nope", Expiration::After(absl::Seconds(1)), {}));
    EXPECT_EQ(n.Ttl("k2", kLinearizable)->kind, TtlResult::Kind::kNoExpiry);
    EXPECT_EQ(n.Ttl("nope", kLinearizable)->kind, TtlResult::Kind::kMissing);
  });
  sim_->RunFor(absl::Seconds(3));
  On(3, [](CacheNode& n) {
    EXPECT_EQ(*n.Get("t", kLinearizable), std::nullopt);
    EXPECT_EQ(*n.Get("k1", kLocal), std::nullopt);
    EXPECT_EQ(*n.Get("k2", kLocal), "v2");
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

TEST_F(CacheNodeSimTest, SurvivesALeaderCrashAndIncrementsStayExact) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  int expected = 0;
  for (int round = 0; round < 3; ++round) {
    for (NodeId via : {1u, 2u, 3u}) {
      if (sim_->state(via) != sim::NodeState::kUp) continue;
      On(via, [&expected](CacheNode& n) {
        absl::StatusOr<int64_t> v = n.Increment("hits", 1, WriteOptions{.timeout = absl::Seconds(10)});
        ASSERT_TRUE(v.ok()) << v.status();
        ++expected;
        EXPECT_EQ(*v, expected);
      });
    }
    // Crash whichever node leads the shard of "hits", then bring it back.
    NodeId leader = kNoNode;
    for (NodeId id : {1u, 2u, 3u}) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr) continue;
      for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
        if (r.cache != nullptr && r.driver != nullptr && r.driver->has_core() &&
            r.driver->core().role() == raft::Role::kLeader && r.cache->size() > 0) {
          leader = id;
        }
      }
    }
    ASSERT_NE(leader, kNoNode);
    sim_->Crash(leader);
    sim_->RunFor(absl::Seconds(1));
    const NodeId survivor = leader == 1 ? 2 : 1;
    On(survivor, [&expected](CacheNode& n) {
      absl::StatusOr<int64_t> v = n.Increment("hits", 1, WriteOptions{.timeout = absl::Seconds(10)});
      ASSERT_TRUE(v.ok()) << v.status();
      ++expected;
      EXPECT_EQ(*v, expected);
    });
    sim_->Restart(leader);
    ASSERT_TRUE(sim_->RunUntil([&] { return ClusterReady({1, 2, 3}); }, absl::Seconds(20)));
  }
  On(3, [&expected](CacheNode& n) {
    EXPECT_EQ(*n.Get("hits", kLinearizable), absl::StrCat(expected));
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// The map's view of where replicas are, and whether every group sits on its targets.
bool Settled(CacheNode& n) {
  const cluster::ClusterMap& map = n.map();
  cluster::TargetPlacement targets(map);
  for (raft::GroupId g = cluster::kFirstShardGroup;
       g < cluster::kFirstShardGroup + map.params.num_shards; ++g) {
    const cluster::ShardInfo* info = map.Group(g);
    std::vector<NodeId> nodes = info->VoterNodes();
    std::vector<NodeId> want = targets.Targets(g);
    std::sort(nodes.begin(), nodes.end());
    std::sort(want.begin(), want.end());
    if (nodes != want || !info->learners.empty() || !info->adding.empty()) return false;
  }
  return true;
}

std::string Dump(CacheNode& n) {
  const cluster::ClusterMap& map = n.map();
  cluster::TargetPlacement targets(map);
  std::string out = absl::StrCat(cluster::DescribeClusterMap(map), "\n");
  for (raft::GroupId g = cluster::kFirstShardGroup;
       g < cluster::kFirstShardGroup + map.params.num_shards; ++g) {
    const cluster::ShardInfo* info = map.Group(g);
    absl::StrAppend(&out, "group ", g, " voters=", absl::StrJoin(info->voters, ","),
                    " learners=", absl::StrJoin(info->learners, ","), " adding=",
                    absl::StrJoin(info->adding, ","), " targets=",
                    absl::StrJoin(targets.Targets(g), ","), " conf_index=", info->conf_index,
                    "\n");
  }
  for (const auto& [id, info] : map.nodes) {
    absl::StrAppend(&out, "node ", id, " ", NodeStateName(info.state), "\n");
  }
  for (const CacheNode::ReplicaView& r : n.Replicas()) {
    absl::StrAppend(&out, "  replica g", r.group, " r", r.replica);
    if (r.driver == nullptr) {
      absl::StrAppend(&out, " opening\n");
      continue;
    }
    absl::StrAppend(&out, " stopped=", r.driver->stopped(), " applied=", r.driver->applied());
    if (r.driver->has_core()) {
      const raft::Raft& c = r.driver->core();
      absl::StrAppend(&out, " role=", raft::RoleName(c.role()), " term=", c.term(),
                      " leader=", c.leader(), " commit=", c.commit(), " quiet=", c.quiesced());
      for (const auto& [id, p] : c.progress()) {
        absl::StrAppend(&out, " [", id, " match=", p.match, " next=", p.next, "]");
      }
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

TEST_F(CacheNodeSimTest, AdmitMovesShardsToTheNewNodeAndDrainMovesThemOff) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed, {1, 2, 3}, {4});
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(n.Put(absl::StrCat("k", i), absl::StrCat("v", i), PutOptions{}).ok());
    }
  });
  ASSERT_TRUE(sim_->RunUntil([&] {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, 1);
    return p->node()->membership().IsAvailable(4);
  }, absl::Seconds(20)));
  On(2, [](CacheNode& n) {
    absl::Status s = n.AdmitNode(4, WriteOptions{});
    ASSERT_TRUE(s.ok()) << s;
  });
  auto node = [&](NodeId id) { return GetCacheNodeProgram(*sim_, id)->node(); };
  ASSERT_TRUE(sim_->RunUntil([&] {
    return node(1)->map().nodes.contains(4) && Settled(*node(1)) &&
           node(4)->map().version == node(1)->map().version;
  }, absl::Seconds(120))) << "admission never settled; reproduce: " << sim::ReproCommand(seed)
                           << "\n" << Dump(*node(1)) << "node 4: " << Dump(*node(4));
  int on_four = 0;
  for (const CacheNode::ReplicaView& r : node(4)->Replicas()) on_four += r.cache != nullptr;
  EXPECT_GT(on_four, 0) << "the new node received no shard";
  // Drain node 1: everything moves off it, then it is marked removed.
  On(3, [](CacheNode& n) { ASSERT_TRUE(n.DrainNode(1, WriteOptions{}).ok()); });
  ASSERT_TRUE(sim_->RunUntil([&] {
    auto it = node(2)->map().nodes.find(1);
    return it != node(2)->map().nodes.end() && it->second.state == NodeState::kRemoved &&
           Settled(*node(2));
  }, absl::Seconds(120))) << "drain never finished; reproduce: " << sim::ReproCommand(seed);
  sim_->RunFor(absl::Seconds(2));
  for (const CacheNode::ReplicaView& r : node(1)->Replicas()) {
    EXPECT_EQ(r.cache, nullptr) << "node 1 still hosts group " << r.group;
  }
  // Nothing was lost on the way.
  On(4, [](CacheNode& n) {
    for (int i = 0; i < 60; ++i) {
      absl::StatusOr<std::optional<std::string>> v = n.Get(absl::StrCat("k", i), kLinearizable);
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(*v, absl::StrCat("v", i));
    }
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

}  // namespace
}  // namespace crema
