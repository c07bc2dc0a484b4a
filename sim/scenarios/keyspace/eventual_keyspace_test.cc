// Eventual keyspaces (node/keyspace) over a simulated EventualNode cluster: levels chosen per
// request, isolation between keyspaces, refused operations, default TTL, capacity. It lives under
// sim/scenarios/ because it needs the simulator; the parser and strong-keyspace tests stay in
// node/keyspace/keyspace_test.cc. CREMA_SEED replays a run.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/keyspace/keyspace_node.h"
#include "sim/scenarios/dynamo/dynamo_cluster.h"
#include "sim/test_seed.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::keyspace {
namespace {

using eventual::Consistency;

class EventualKeyspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = sim::TestSeed();
    trace_ = std::make_unique<::testing::ScopedTrace>(__FILE__, __LINE__, sim::ReproCommand(seed_));
    dynamo::DynamoClusterOptions o;
    o.sim.seed = seed_;
    o.servers = 3;
    cluster_ = std::make_unique<dynamo::DynamoCluster>(o);
    ASSERT_TRUE(cluster_->RunUntil([&] { return cluster_->MembershipAgrees() && cluster_->AllTrusted(); },
                                   absl::Seconds(30)));
  }
  // Runs `body` on node `at` with a KeyspaceNode over its EventualNode.
  void On(NodeId at, const char* spec, const std::function<void(KeyspaceNode&)>& body) {
    absl::StatusOr<std::vector<KeyspaceSpec>> specs = ParseKeyspaces(spec);
    ASSERT_TRUE(specs.ok()) << specs.status();
    ASSERT_TRUE(cluster_->RunFiber(at, [&](eventual::EventualNode& n, const Env& env) {
      testing::FakeCacheApi strong(env.clock, nullptr);
      KeyspaceNode node(&strong, &n, env.clock, *specs, absl::ZeroDuration());
      body(node);
    }));
  }
  static CacheApi* Api(KeyspaceNode& node, uint32_t index, RequestLevels levels, std::vector<KeyspaceHandle>* keep) {
    absl::StatusOr<KeyspaceHandle> h = node.Open(index, levels);
    EXPECT_TRUE(h.ok()) << h.status();
    keep->push_back(*h);
    return h->api;
  }
  // Records of eventual keyspace (index, generation) in node `id`'s replica store.
  size_t StoredOf(NodeId id, uint32_t index, uint64_t generation) {
    size_t n = 0;
    cluster_->node(id)->store().ForEach([&](const std::string& key, const eventual::Record&) {
      std::optional<StoredKeyspace> ks = EventualKeyspaceOf(key);
      n += ks && ks->index == index && ks->generation == generation;
    });
    return n;
  }

  uint64_t seed_ = 0;
  std::unique_ptr<::testing::ScopedTrace> trace_;
  std::unique_ptr<dynamo::DynamoCluster> cluster_;
  // Keyspaces following one (fake) cluster map, one KeyspaceNode per node that lives as long as
  // the test (declared after cluster_: destroyed before the nodes it points at).
  std::unique_ptr<testing::FakeCacheApi> map_;
  std::map<NodeId, std::unique_ptr<KeyspaceNode>> followers_;
};

constexpr char kSpec[] = "1:a:eventual:ttl=1h,2:b:eventual:capacity=1KiB";

TEST_F(EventualKeyspaceTest, WrittenAtAllOnOneNodeReadAtOneOnAnotherAndKeyspacesAreDisjoint) {
  On(1, kSpec, [&](KeyspaceNode& node) {
    std::vector<KeyspaceHandle> keep;
    CacheApi* a = Api(node, 1, {.write = Consistency::All()}, &keep);
    ASSERT_TRUE(a->Put("k", "v1", {}).ok());
    ASSERT_TRUE(a->MultiPut({{"m1", "x"}, {"m2", "y"}}, Expiration::Never(), {}).ok());
  });
  On(2, kSpec, [&](KeyspaceNode& node) {
    std::vector<KeyspaceHandle> keep;
    CacheApi* a = Api(node, 1, {.read = Consistency::One()}, &keep);
    CacheApi* b = Api(node, 2, {}, &keep);
    EXPECT_EQ(**a->Get("k", {}), "v1");
    EXPECT_EQ(*b->Get("k", {}), std::nullopt);
    absl::StatusOr<std::vector<std::optional<std::string>>> m = a->MultiGet({"m1", "m2", "none"}, {});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(*m, (std::vector<std::optional<std::string>>{"x", "y", std::nullopt}));
    absl::StatusOr<TtlResult> ttl = a->Ttl("k", {});
    ASSERT_TRUE(ttl.ok());
    EXPECT_EQ(ttl->kind, TtlResult::Kind::kExpires);
    EXPECT_GT(ttl->remaining, absl::Minutes(59));
    EXPECT_LE(ttl->remaining, absl::Hours(1));
    EXPECT_EQ(**a->Delete("k", {}), "v1");
    EXPECT_EQ(*a->Delete("k", {}), std::nullopt);
    EXPECT_EQ(*a->Get("k", {}), std::nullopt);
  });
}

TEST_F(EventualKeyspaceTest, OperationsLwwCannotMakeAtomicAreRefused) {
  On(1, kSpec, [&](KeyspaceNode& node) {
    std::vector<KeyspaceHandle> keep;
    CacheApi* a = Api(node, 1, {}, &keep);
    EXPECT_EQ(a->Increment("n", 1, {}).status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(a->Put("k", "v", {.condition = PutCondition::kIfAbsent}).status().code(),
              absl::StatusCode::kUnimplemented);
    EXPECT_EQ(a->Expire("k", Expiration::Never(), {}).status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(a->CompareAndSet("k", std::nullopt, "v", {}, {}).status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(a->Size({}).status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(a->Put(std::string(eventual::kMaxKeyBytes + 1, 'k'), "v", {}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(node.Open(1, {.write = Consistency::Count(9)})->api->Put("k", "v", {}).status().code(),
              absl::StatusCode::kInvalidArgument);
  });
}

TEST_F(EventualKeyspaceTest, CapacityRefusesWritesOnceTheNodesShareIsFullButDeletesPass) {
  On(1, kSpec, [&](KeyspaceNode& node) {
    std::vector<KeyspaceHandle> keep;
    CacheApi* b = Api(node, 2, {.write = Consistency::All()}, &keep);
    int written = 0;
    absl::Status last;
    for (int i = 0; i < 100 && last.ok(); ++i) {
      last = b->Put(absl::StrCat("key", i), std::string(100, 'v'), {}).status();
      if (last.ok()) ++written;
    }
    EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
    EXPECT_GE(written, 9);  // 1 KiB of ~104-byte entries, every node holding all (N = 3)
    EXPECT_LE(written, 11);
    EXPECT_GE(node.UsageBytes(2, 0), 1024u);
    EXPECT_EQ(node.UsageBytes(1, 0), 0u);
    EXPECT_TRUE(b->Delete("key0", {}).ok());
  });
}

// An eventual keyspace created at run time, dropped: every node erases its records (and takes no
// new ones), so the replicas converge without them; the index re-created holds nothing.
TEST_F(EventualKeyspaceTest, ADroppedKeyspacesRecordsAreErasedOnEveryNode) {
  ASSERT_TRUE(cluster_->RunFiber(1, [&](eventual::EventualNode&, const Env& env) {
    map_ = std::make_unique<testing::FakeCacheApi>(env.clock, nullptr);
    map_->EnableKeyspaces(*ParseKeyspaces("1:a:eventual"));
  }));
  for (NodeId id : cluster_->servers()) {
    ASSERT_TRUE(cluster_->RunFiber(id, [&](eventual::EventualNode& n, const Env& env) {
      followers_[id] = std::make_unique<KeyspaceNode>(map_.get(), &n, env.clock,
                                                      *ParseKeyspaces(""), absl::ZeroDuration());
    }));
  }
  ASSERT_TRUE(cluster_->RunFiber(1, [&](eventual::EventualNode&, const Env&) {
    KeyspaceNode& node = *followers_[1];
    absl::StatusOr<Keyspace> feeds = node.Create("5:feeds:eventual:write=all", absl::Seconds(5));
    ASSERT_TRUE(feeds.ok()) << feeds.status();
    ASSERT_EQ(feeds->generation, 1u);
    std::vector<KeyspaceHandle> keep;
    CacheApi* api = Api(node, 5, {}, &keep);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(api->Put(absl::StrCat("f", i), "x", {}).ok());
    CacheApi* a = Api(node, 1, {.write = Consistency::All()}, &keep);
    ASSERT_TRUE(a->Put("kept", "y", {}).ok());
  }));
  for (NodeId id : cluster_->servers()) EXPECT_EQ(StoredOf(id, 5, 1), 20u) << "node " << id;
  ASSERT_TRUE(cluster_->RunFiber(2, [&](eventual::EventualNode&, const Env&) {
    ASSERT_TRUE(followers_[2]->Drop("feeds", absl::Seconds(5)).ok());
  }));
  // Every node erases them within a purge pass or two; the live keyspace keeps its data.
  ASSERT_TRUE(cluster_->RunUntil(
      [&] {
        for (NodeId id : cluster_->servers()) {
          if (StoredOf(id, 5, 1) != 0) return false;
        }
        return true;
      },
      absl::Seconds(20)));
  for (NodeId id : cluster_->servers()) EXPECT_EQ(StoredOf(id, 1, 0), 1u) << "node " << id;
  std::string why;
  EXPECT_TRUE(cluster_->RunUntil([&] { return cluster_->Converged(&why); }, absl::Seconds(20))) << why;
  ASSERT_TRUE(cluster_->RunFiber(3, [&](eventual::EventualNode&, const Env&) {
    KeyspaceNode& node = *followers_[3];
    EXPECT_EQ(node.Open(5, {}).status().code(), absl::StatusCode::kNotFound);
    absl::StatusOr<Keyspace> again = node.Create("5:feeds:eventual:read=all", absl::Seconds(5));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->generation, 2u);
    std::vector<KeyspaceHandle> keep;
    EXPECT_EQ(*Api(node, 5, {}, &keep)->Get("f1", {}), std::nullopt);
  }));
}

}  // namespace
}  // namespace crema::keyspace
