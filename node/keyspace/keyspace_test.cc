// Keyspaces: the spec parser and strong keyspaces over a fake Raft cache (namespacing, reserved
// prefix, TTL rules). Eventual keyspaces need a simulated EventualNode cluster: their tests are in
// sim/scenarios/keyspace/ (code below sim/ does not depend on the simulator).
#include "node/keyspace/keyspace_node.h"

#include "gtest/gtest.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::keyspace {
namespace {

using eventual::Consistency;

TEST(KeyspaceConfigTest, ParsesRoundTripsAndAddsTheDefaultKeyspace) {
  absl::StatusOr<std::vector<KeyspaceSpec>> specs =
      ParseKeyspaces("3:sessions:eventual:ttl=30m:max_ttl=1h:capacity=64MiB:read=one:write=quorum~,1:main:strong");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 3u);
  EXPECT_EQ((*specs)[0].index, 0u);
  EXPECT_EQ((*specs)[0].mode, Mode::kStrong);
  EXPECT_EQ((*specs)[1].name, "main");
  const KeyspaceSpec& s = (*specs)[2];
  EXPECT_EQ(s.mode, Mode::kEventual);
  EXPECT_EQ(s.default_ttl, absl::Minutes(30));
  EXPECT_EQ(s.capacity_bytes, 64u << 20);
  EXPECT_EQ(s.read, Consistency::One());
  EXPECT_TRUE(s.write.sloppy);
  absl::StatusOr<std::vector<KeyspaceSpec>> again = ParseKeyspaces(s.ToString());
  ASSERT_TRUE(again.ok()) << s.ToString() << ": " << again.status();
  EXPECT_EQ((*again)[1].ToString(), s.ToString());
  EXPECT_TRUE(AnyEventual(*specs));
}

TEST(KeyspaceConfigTest, RejectsBadSpecsWithTheirReason) {
  for (const char* bad : {"16:x:strong", "1:X:strong", "1:a:weak", "1:a", "1:a:strong,1:b:strong",
                          "1:a:strong,2:a:eventual", "1:a:eventual:ttl=-1s", "1:a:eventual:ttl=2h:max_ttl=1h",
                          "1:a:eventual:capacity=lots", "1:a:strong:read=one", "1:a:eventual:write=most",
                          "1:a:eventual:colour=red", "1:a:strong:capacity=1MiB"}) {
    absl::StatusOr<std::vector<KeyspaceSpec>> specs = ParseKeyspaces(bad);
    EXPECT_FALSE(specs.ok()) << bad;
    EXPECT_EQ(specs.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

class StrongKeyspaceTest : public ::testing::Test {
 protected:
  StrongKeyspaceTest() : api_(&clock_, nullptr) {}
  KeyspaceNode Node(const char* spec) {
    absl::StatusOr<std::vector<KeyspaceSpec>> specs = ParseKeyspaces(spec);
    EXPECT_TRUE(specs.ok()) << specs.status();
    return KeyspaceNode(&api_, nullptr, &clock_, *specs);
  }
  CacheApi* Open(KeyspaceNode& node, uint32_t index) {
    absl::StatusOr<KeyspaceHandle> h = node.Open(index, {});
    EXPECT_TRUE(h.ok()) << h.status();
    handles_.push_back(*h);
    return h->api;
  }
  ManualClock clock_;
  testing::FakeCacheApi api_;
  std::vector<KeyspaceHandle> handles_;
};

TEST_F(StrongKeyspaceTest, KeyspacesAreDisjointAndTheReservedPrefixIsRefused) {
  KeyspaceNode node = Node("1:other:strong");
  CacheApi* zero = Open(node, 0);
  CacheApi* one = Open(node, 1);
  ASSERT_TRUE(one->Put("k", "in-1", {}).ok());
  EXPECT_EQ(*zero->Get("k", {}), std::nullopt);
  ASSERT_TRUE(zero->Put("k", "in-0", {}).ok());
  EXPECT_EQ(**one->Get("k", {}), "in-1");
  EXPECT_EQ(**api_.Get(std::string("\xffks\x01:k", 6), {}), "in-1");
  EXPECT_EQ(zero->Get(std::string("\xffks\x01:k", 6), {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Open(2, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(node.OpenByName("other", {})->spec->index, 1u);
}

TEST_F(StrongKeyspaceTest, DefaultAndMaximumTtlApply) {
  KeyspaceNode node = Node("0:main:strong:ttl=10s:max_ttl=1m");
  CacheApi* zero = Open(node, 0);
  ASSERT_TRUE(zero->Put("default", "v", {}).ok());
  ASSERT_TRUE(zero->Put("long", "v", {.expiration = Expiration::After(absl::Hours(5))}).ok());
  ASSERT_TRUE(zero->Put("never", "v", {.expiration = Expiration::Never()}).ok());
  EXPECT_EQ(zero->Ttl("default", {})->remaining, absl::Seconds(10));
  EXPECT_EQ(zero->Ttl("long", {})->remaining, absl::Minutes(1));
  EXPECT_EQ(zero->Ttl("never", {})->remaining, absl::Minutes(1));
}

}  // namespace
}  // namespace crema::keyspace
