// Keyspaces created at run time on a 3-node cluster in the simulator (CacheNode's
// CreateKeyspace / DropKeyspace / CatchUpMap under keyspace::KeyspaceNode): created through node
// 1 and used through node 2 at once (its catch-up of the map), dropped and refused everywhere,
// re-created under the same index without the dropped keyspace's data; refusals with their codes.
#include <cstdio>
#include <map>
#include <memory>

#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "node/keyspace/keyspace_node.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using keyspace::Keyspace;
using keyspace::KeyspaceHandle;
using keyspace::KeyspaceNode;
using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

constexpr absl::Duration kTimeout = absl::Seconds(5);
const ReadOptions kLinearizable{.consistency = ReadConsistency::kLinearizable};

class KeyspaceSimTest : public ::testing::Test {
 protected:
  void StartCluster(uint64_t seed) {
    seed_ = seed;
    sim::SimOptions o;
    o.seed = seed;
    sim_ = std::make_unique<sim::Simulator>(o);
    CacheConfig config;
    config.bootstrap = {1, 2, 3};
    config.num_shards = 4;
    config.tick_interval = absl::Milliseconds(50);
    config.max_clock_skew = absl::Milliseconds(100);
    config.keyspaces = *keyspace::ParseKeyspaces("1:flagged:strong");
    CacheNodeOptions options;
    options.swim.probe_interval = absl::Milliseconds(500);
    options.swim.probe_timeout = absl::Milliseconds(200);
    options.maintenance_interval = absl::Milliseconds(100);
    for (NodeId id : config.bootstrap) {
      sim_->AddNode(id, [config, options](Env env) mutable {
        config.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, config, options);
      });
    }
    sim_->StartAll();
    ASSERT_TRUE(sim_->RunUntil(
        [&] {
          bool meta_bootstrapped = false;  // the founders' map is in the metadata log
          for (NodeId id : {1, 2, 3}) {
            CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
            if (p == nullptr || p->node() == nullptr || !p->node()->ready() ||
                p->node()->Status().meta_leader == kNoNode) {
              return false;
            }
            for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
              if (r.meta != nullptr && r.meta->map().bootstrapped()) meta_bootstrapped = true;
            }
          }
          return meta_bootstrapped;
        },
        absl::Seconds(30)))
        << "cluster never became ready; reproduce: " << sim::ReproCommand(seed);
  }

  // Runs `op` in a fiber on node `id` with a KeyspaceNode over its CacheNode (flags: none, so
  // every keyspace comes from the map), and the simulation until it returns.
  void On(NodeId id, std::function<void(KeyspaceNode&, CacheNode&)> op) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(p->node(), nullptr);
    auto done = std::make_shared<bool>(false);
    CacheNode* node = p->node();
    const Clock* clock = p->env().clock;
    p->Run("test-op", [node, clock, op, done] {
      KeyspaceNode keyspaces(node, nullptr, clock, *keyspace::ParseKeyspaces(""));
      op(keyspaces, *node);
      *done = true;
    });
    ASSERT_TRUE(sim_->RunUntil([&] { return *done; }, absl::Seconds(30)))
        << "operation on node " << id << " did not finish; reproduce: " << sim::ReproCommand(seed_);
  }

  uint64_t seed_ = 0;
  bool behind_ = false;  // node 2's map had not reached the create when it opened the keyspace
  std::unique_ptr<sim::Simulator> sim_;
};

TEST_F(KeyspaceSimTest, CreateUseDropAndRecreate) {
  StartCluster(sim::TestSeed());
  if (HasFatalFailure()) return;
  uint64_t created_at = 0;
  On(1, [&](KeyspaceNode& ks, CacheNode& n) {
    // The flags' keyspaces are the map's, at generation 0.
    std::vector<Keyspace> list = ks.List();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].spec.name, "flagged");
    EXPECT_EQ(list[1].generation, 0u);
    absl::StatusOr<Keyspace> k = ks.Create("3:carts:strong:ttl=1h", kTimeout);
    ASSERT_TRUE(k.ok()) << k.status();
    EXPECT_EQ(k->generation, 1u);
    EXPECT_EQ(k->spec.default_ttl, absl::Hours(1));
    created_at = n.map().version;
    // Read-your-writes for the creator: this node opens it at once.
    absl::StatusOr<KeyspaceHandle> h = ks.TryOpen(3, {});
    ASSERT_TRUE(h.ok()) << h.status();
  });
  // Node 2 may not have heard of it yet; Open catches up instead of refusing.
  On(2, [&](KeyspaceNode& ks, CacheNode& n) {
    behind_ = n.map().version < created_at;
    absl::StatusOr<KeyspaceHandle> h = ks.OpenByName("carts", {});
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->generation, 1u);
    ASSERT_TRUE(h->api->Put("k", "in-carts", PutOptions{}).ok());
    EXPECT_EQ(**h->api->Get("k", kLinearizable), "in-carts");
  });
  const std::string stored = keyspace::StrongKeyspacePrefix(3, 1) + "k";  // in the Raft cache
  On(3, [&](KeyspaceNode& ks, CacheNode& n) {
    absl::StatusOr<KeyspaceHandle> h = ks.Open(3, {});
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_GE(n.map().version, created_at);  // caught up, if it was behind
    EXPECT_EQ(**h->api->Get("k", kLinearizable), "in-carts");
    EXPECT_EQ(**n.Get(keyspace::StrongKeyspacePrefix(3, 1) + "k", kLinearizable), "in-carts");
    absl::StatusOr<KeyspaceHandle> zero = ks.Open(0, {});
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(*zero->api->Get("k", kLinearizable), std::nullopt);  // keyspaces are disjoint
    // Refusals, each with its code.
    EXPECT_EQ(ks.Create("3:other:strong", kTimeout).status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(ks.Create("4:carts:strong", kTimeout).status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(ks.Create("4:Bad:strong", kTimeout).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ks.Create("4:ev:eventual", kTimeout).status().code(),
              absl::StatusCode::kFailedPrecondition);  // no eventual-mode node here
    EXPECT_EQ(ks.Drop("0", kTimeout).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ks.Drop("16", kTimeout).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ks.Drop("nosuch", kTimeout).code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ks.Open(9, {}).status().code(), absl::StatusCode::kNotFound);
    // Drop through node 3.
    ASSERT_TRUE(ks.Drop("carts", kTimeout).ok());
    EXPECT_EQ(ks.Open(3, {}).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ks.Drop("3", kTimeout).code(), absl::StatusCode::kNotFound);
  });
  // The metadata leader purges its data (a delete-prefix per shard), then forgets it.
  ASSERT_TRUE(sim_->RunUntil(
      [&] {
        CacheNodeProgram* p = GetCacheNodeProgram(*sim_, 1);
        return p != nullptr && p->node() != nullptr && !p->node()->map().keyspaces.contains({3, 1});
      },
      absl::Seconds(20)))
      << "the dropped keyspace never left the map; reproduce: " << sim::ReproCommand(seed_);
  On(2, [&](KeyspaceNode&, CacheNode& n) {
    EXPECT_EQ(*n.Get(stored, kLinearizable), std::nullopt);
  });
  // A node refuses it once its map has the drop: at once after a catch-up of the map...
  On(1, [&](KeyspaceNode& ks, CacheNode& n) {
    ASSERT_TRUE(n.CatchUpMap(kTimeout).ok());
    EXPECT_EQ(ks.TryOpen(3, {}).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ks.OpenByName("carts", {}).status().code(), absl::StatusCode::kNotFound);
  });
  // ...and every node after the metadata leader's next push of the map.
  sim_->RunFor(absl::Seconds(1));
  for (NodeId id : {1, 2, 3}) {
    On(id, [&](KeyspaceNode& ks, CacheNode&) {
      EXPECT_EQ(ks.TryOpen(3, {}).status().code(), absl::StatusCode::kNotFound) << "node " << id;
    });
  }
  // Re-created under the same index and name: a new generation, none of the old data.
  On(2, [&](KeyspaceNode& ks, CacheNode&) {
    absl::StatusOr<Keyspace> k = ks.Create("3:carts:strong", kTimeout);
    ASSERT_TRUE(k.ok()) << k.status();
    EXPECT_EQ(k->generation, 2u);
  });
  On(1, [&](KeyspaceNode& ks, CacheNode&) {
    absl::StatusOr<KeyspaceHandle> h = ks.Open(3, {});
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->generation, 2u);
    EXPECT_EQ(*h->api->Get("k", kLinearizable), std::nullopt);
  });
  std::fprintf(stderr, "node 2 was %s the create when it opened the keyspace\n",
               behind_ ? "behind" : "not behind");
}

// Without a metadata quorum a create is refused (nothing happened) or times out (it may have).
TEST_F(KeyspaceSimTest, NoMetadataQuorumNoCreate) {
  StartCluster(sim::TestSeed());
  if (HasFatalFailure()) return;
  sim_->Crash(2);
  sim_->Crash(3);
  On(1, [&](KeyspaceNode& ks, CacheNode&) {
    absl::StatusOr<Keyspace> k = ks.Create("5:late:strong", absl::Seconds(2));
    ASSERT_FALSE(k.ok());
    EXPECT_TRUE(absl::IsUnavailable(k.status()) || absl::IsDeadlineExceeded(k.status())) << k.status();
    EXPECT_EQ(ks.Open(5, {}).status().code(), absl::StatusCode::kUnavailable);  // no catch-up
  });
}

}  // namespace
}  // namespace crema
