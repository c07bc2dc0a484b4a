// The embedded API over the real transport: three nodes on loopback in one process (each with
// its own loop thread, sockets and data directory), called from several application threads at
// once; a node stopped and restarted from its data directory.
#include "transport/embedded/distributed_cache.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace crema {
namespace {

// Ports that were free a moment ago (bound, noted, released).
std::vector<uint16_t> FreePorts(int n) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> held;
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    auto a = std::make_unique<boost::asio::ip::tcp::acceptor>(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(a->local_endpoint().port());
    held.push_back(std::move(a));
  }
  return ports;
}

class DistributedCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") /
           absl::StrCat("crema-embedded-", ::getpid());
    std::filesystem::remove_all(dir_);
    ports_ = FreePorts(3);
    for (NodeId id = 1; id <= 3; ++id) StartNode(id);
    for (auto& node : nodes_) ASSERT_TRUE(node->WaitUntilReady(absl::Seconds(30)));
  }
  void TearDown() override {
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }

  void StartNode(NodeId id) {
    CacheConfig config;
    config.node_id = id;
    config.bootstrap = {1, 2, 3};
    config.num_shards = 8;
    config.max_capacity = 10'000;
    config.tick_interval = absl::Milliseconds(50);
    transport::NodeRuntimeOptions runtime;
    runtime.self = id;
    runtime.listen_address = absl::StrCat("127.0.0.1:", ports_[id - 1]);
    for (NodeId peer = 1; peer <= 3; ++peer) {
      if (peer != id) runtime.peers[peer] = absl::StrCat("127.0.0.1:", ports_[peer - 1]);
    }
    runtime.data_dir = (dir_ / absl::StrCat("n", id)).string();
    std::filesystem::create_directories(runtime.data_dir);
    runtime.cluster_secret = "test-secret-with-enough-entropy-0123456789";
    CacheNodeOptions options;
    options.swim.probe_interval = absl::Milliseconds(300);
    options.swim.probe_timeout = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<DistributedCache>> cache =
        DistributedCache::Start(config, runtime, options);
    ASSERT_TRUE(cache.ok()) << cache.status();
    if (nodes_.size() < id) nodes_.resize(id);
    nodes_[id - 1] = *std::move(cache);
  }

  std::filesystem::path dir_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<DistributedCache>> nodes_;
};

TEST_F(DistributedCacheTest, ThreadsOnEveryNodeShareOneLinearizableCache) {
  ASSERT_TRUE(nodes_[0]->Put("user:123", "Alice").ok());
  absl::StatusOr<std::optional<std::string>> v =
      nodes_[1]->Get("user:123", {.consistency = ReadConsistency::kLinearizable});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "Alice");
  // Four application threads per node increment one counter and write their own keys.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      DistributedCache& node = *nodes_[t % 3];
      for (int i = 0; i < 25; ++i) {
        if (!node.Increment("hits", 1).ok()) ++failures;
        if (!node.Put(absl::StrCat("t", t, "-", i), absl::StrCat(i)).ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<std::optional<std::string>> hits =
      nodes_[2]->Get("hits", {.consistency = ReadConsistency::kLinearizable});
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(*hits, "300");
  // Read-your-writes through one node with local reads.
  ASSERT_TRUE(nodes_[1]->Put("mine", "v1").ok());
  EXPECT_EQ(*nodes_[1]->Get("mine"), "v1");
}

TEST_F(DistributedCacheTest, ANodeStoppedAndRestartedFromItsDataKeepsServing) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(nodes_[0]->Put(absl::StrCat("k", i), "v").ok());
  nodes_[2]->Stop();
  nodes_[2].reset();
  // Two of three nodes still serve every shard.
  for (int i = 20; i < 40; ++i) {
    absl::StatusOr<PutResult> put = nodes_[1]->Put(absl::StrCat("k", i), "v");
    ASSERT_TRUE(put.ok()) << put.status();
  }
  StartNode(3);
  ASSERT_TRUE(nodes_[2]->WaitUntilReady(absl::Seconds(30)));
  absl::StatusOr<std::vector<std::optional<std::string>>> all = nodes_[2]->MultiGet(
      [] {
        std::vector<std::string> keys;
        for (int i = 0; i < 40; ++i) keys.push_back(absl::StrCat("k", i));
        return keys;
      }(),
      {.consistency = ReadConsistency::kLinearizable});
  ASSERT_TRUE(all.ok()) << all.status();
  for (const std::optional<std::string>& v : *all) EXPECT_EQ(v, "v");
  // After Stop, calls fail cleanly instead of hanging.
  nodes_[0]->Stop();
  EXPECT_TRUE(absl::IsUnavailable(nodes_[0]->Get("k1").status()));
}

// Every call of the facade, from an application thread, reaches the node and returns its answer.
TEST_F(DistributedCacheTest, EveryOperationWorksFromAnApplicationThread) {
  DistributedCache& a = *nodes_[0];
  DistributedCache& b = *nodes_[1];
  ASSERT_TRUE(a.Put("k", "v1", {.expiration = Expiration::After(absl::Minutes(5))}).ok());
  absl::StatusOr<PutResult> nx = b.Put("k", "v2", {.condition = PutCondition::kIfAbsent});
  ASSERT_TRUE(nx.ok()) << nx.status();
  EXPECT_FALSE(nx->written);
  absl::StatusOr<PutResult> swap = b.Put("k", "v2", {.expiration = Expiration::Keep(), .return_previous = true});
  ASSERT_TRUE(swap.ok()) << swap.status();
  EXPECT_EQ(swap->previous, "v1");
  absl::StatusOr<TtlResult> ttl = a.Ttl("k", {.consistency = ReadConsistency::kLinearizable});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->kind, TtlResult::Kind::kExpires);  // KEEPTTL kept the deadline
  EXPECT_GT(ttl->remaining, absl::Minutes(4));
  EXPECT_TRUE(*b.CompareAndSet("k", "v2", "v3"));
  EXPECT_FALSE(*b.CompareAndSet("k", "v2", "v4"));
  // The CAS wrote with the default expiry (none here): PERSIST has nothing to remove.
  EXPECT_FALSE(*a.Expire("k", Expiration::Never()));
  EXPECT_TRUE(*a.Expire("k", Expiration::After(absl::Minutes(2))));
  EXPECT_TRUE(*a.Expire("k", Expiration::Never()));
  EXPECT_EQ(a.Ttl("k", {.consistency = ReadConsistency::kLinearizable})->kind,
            TtlResult::Kind::kNoExpiry);
  EXPECT_EQ(*a.GetAndTouch("k", Expiration::After(absl::Minutes(1))), "v3");
  EXPECT_EQ(a.Ttl("k", {.consistency = ReadConsistency::kLinearizable})->kind,
            TtlResult::Kind::kExpires);
  ASSERT_TRUE(a.MultiPut({{"m1", "1"}, {"m2", "2"}}).ok());
  EXPECT_EQ(*b.Increment("m1", 9), 10);
  EXPECT_EQ(b.Increment("k", 1).status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<int64_t> size = a.Size({.consistency = ReadConsistency::kLinearizable});
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 3);
  EXPECT_EQ(*b.Delete("m2"), "2");
  EXPECT_EQ(*a.Get("m2", {.consistency = ReadConsistency::kLinearizable}), std::nullopt);
  // Status and administration.
  absl::StatusOr<ClusterStatus> status = a.Status();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->self, 1u);
  EXPECT_EQ(status->num_shards, 8u);
  ASSERT_EQ(status->shards.size(), 8u);
  EXPECT_EQ(status->nodes.size(), 3u);
  EXPECT_FALSE(a.TransferShardLeader(999, 2).ok());  // no such shard
  EXPECT_FALSE(a.DrainNode(9).ok());                 // no such data node
  EXPECT_FALSE(a.RemoveNode(9).ok());
  EXPECT_FALSE(a.AdmitNode(9).ok());                 // never seen by gossip
  // A leadership transfer to a voter that does not lead the shard is accepted.
  const ShardStatus& shard = status->shards[0];
  for (NodeId voter : shard.voters) {
    if (voter != shard.leader) {
      absl::Status moved = b.TransferShardLeader(0, voter);
      EXPECT_TRUE(moved.ok()) << moved;
      break;
    }
  }
}

TEST(DistributedCacheStartTest, BadConfigMismatchedSelfAndATakenPortAreErrors) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string dir = std::filesystem::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") /
                          absl::StrCat("crema-embedded-start-", ::getpid());
  std::filesystem::create_directories(dir);
  CacheConfig config;
  config.node_id = 1;
  config.bootstrap = {1};
  transport::NodeRuntimeOptions runtime;
  runtime.self = 1;
  runtime.data_dir = dir;
  runtime.cluster_secret = "test-secret-with-enough-entropy-0123456789";
  runtime.listen_address = absl::StrCat("127.0.0.1:", taken.local_endpoint().port());

  CacheConfig no_shards = config;
  no_shards.num_shards = 0;
  EXPECT_EQ(DistributedCache::Start(no_shards, runtime, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  transport::NodeRuntimeOptions other_self = runtime;
  other_self.self = 2;
  EXPECT_EQ(DistributedCache::Start(config, other_self, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<DistributedCache>> busy = DistributedCache::Start(config, runtime, {});
  EXPECT_FALSE(busy.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crema
