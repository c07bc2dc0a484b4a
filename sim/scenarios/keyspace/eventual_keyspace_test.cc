// Eventual keyspaces (node/keyspace) over a simulated EventualNode cluster: levels chosen per
// request, isolation between keyspaces, refused operations, default TTL, capacity. It lives under
// sim/scenarios/ because it needs the simulator; the parser and strong-keyspace tests stay in
// node/keyspace/keyspace_test.cc. CREMA_SEED replays a run.
#include <functional>
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
  uint64_t seed_ = 0;
  std::unique_ptr<::testing::ScopedTrace> trace_;
  std::unique_ptr<dynamo::DynamoCluster> cluster_;
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

}  // namespace
}  // namespace crema::keyspace
