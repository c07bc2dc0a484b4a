// Keyspaces: the spec parser and strong keyspaces over a fake Raft cache (namespacing, reserved
// prefix, TTL rules). Eventual keyspaces need a simulated EventualNode cluster: their tests are in
// sim/scenarios/keyspace/ (code below sim/ does not depend on the simulator).
#include "node/keyspace/keyspace_node.h"

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
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

TEST_F(StrongKeyspaceTest, KeyspaceZeroRefusesTheReservedPrefixEvenAlone) {
  KeyspaceNode node = Node("");
  CacheApi* zero = Open(node, 0);
  ASSERT_TRUE(zero->Put("plain", "v", {}).ok());
  EXPECT_EQ(**api_.Get("plain", {}), "v");  // keyspace 0 stores keys as they are
  EXPECT_EQ(zero->Put(std::string("\xffks\x85\x01:k", 7), "v", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A node follows the map's keyspaces, not its flags, and says when they differ.
TEST_F(StrongKeyspaceTest, TheMapRulesAndAFlagMismatchIsReported) {
  api_.EnableKeyspaces(*ParseKeyspaces("1:main:strong"));
  KeyspaceNode node = Node("2:other:strong");
  std::vector<std::string> mismatches;
  node.SetOnFlagMismatch([&](std::string m) { mismatches.push_back(std::move(m)); });
  EXPECT_EQ(node.Open(2, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(node.Open(1, {}).ok());
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0], "--keyspaces=0:default:strong,2:other:strong but the cluster map was "
                           "bootstrapped with 0:default:strong,1:main:strong (the map rules)");
  // A keyspace created (by any node) appears at the next Open; no second report.
  ASSERT_TRUE(api_.CreateKeyspace("4:late:strong", {}).ok());
  EXPECT_EQ(node.Open(4, {})->generation, 1u);
  EXPECT_EQ(mismatches.size(), 1u);
}

// --- stored keys carry the generation (keyspace_node.h) ---

// A byte string from a literal that may hold NULs or hex escapes.
template <size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

TEST(StoredKeyTest, GenerationZeroKeepsTheOldPrefixesAndLaterGenerationsAreMarked) {
  KeyspaceSpec strong{.index = 3, .name = "s"};
  KeyspaceSpec eventual{.index = 3, .name = "e", .mode = Mode::kEventual};
  EXPECT_EQ(StoredKey(KeyspaceSpec{}, 0, "k"), "k");
  EXPECT_EQ(StoredKey(strong, 0, "k"), Bytes("\xffks\x03:k"));
  EXPECT_EQ(StoredKey(strong, 1, "k"), Bytes("\xffks\x83\x01:k"));
  EXPECT_EQ(StoredKey(strong, 300, "k"), Bytes("\xffks\x83\xac\x02:k"));
  EXPECT_EQ(StoredKey(eventual, 0, "k"), Bytes("\x03k"));
  EXPECT_EQ(StoredKey(eventual, 5, "k"), Bytes("\x83\x05k"));
  // Without the marker bit, generation 0's key "\x05k" would be generation 5's key "k".
  EXPECT_NE(StoredKey(eventual, 0, "\x05k"), StoredKey(eventual, 5, "k"));
  std::optional<StoredKeyspace> of = EventualKeyspaceOf(StoredKey(eventual, 300, "key"));
  ASSERT_TRUE(of.has_value());
  EXPECT_EQ(of->index, 3u);
  EXPECT_EQ(of->generation, 300u);
  EXPECT_EQ(of->prefix_bytes, 3u);
  EXPECT_FALSE(EventualKeyspaceOf("").has_value());
  EXPECT_FALSE(EventualKeyspaceOf("\x83\xff").has_value());  // a varint cut short
  EXPECT_FALSE(EventualKeyspaceOf(std::string("\x83") + std::string(12, '\xff') + "k").has_value());
}

// No two (index, generation, key) triples of one mode share a stored key, and keyspace 0's own
// keys (which may not start with "\xffks") never look like another strong keyspace's.
RC_GTEST_PROP(StoredKeyTest, DistinctKeyspacesNeverShareAStoredKey,
              (bool eventual, uint8_t i1, uint8_t i2, uint16_t g1, uint16_t g2)) {
  const auto key = [] {
    return *rc::gen::container<std::string>(
        rc::gen::element('k', '\x03', '\x05', '\x80', '\x83', '\xff', ':', 's'));
  };
  const std::string k1 = key(), k2 = key();
  KeyspaceSpec a{.index = i1 % kMaxKeyspaces, .mode = eventual ? Mode::kEventual : Mode::kStrong};
  KeyspaceSpec b{.index = i2 % kMaxKeyspaces, .mode = a.mode};
  const uint64_t ga = g1 % 300, gb = g2 % 300;
  const bool same = a.index == b.index && ga == gb && k1 == k2;
  const std::string sa = StoredKey(a, ga, k1), sb = StoredKey(b, gb, k2);
  if (!eventual && ((a.index == 0 && ga == 0 && k1.starts_with("\xffks")) ||
                    (b.index == 0 && gb == 0 && k2.starts_with("\xffks")))) {
    return;  // refused by keyspace 0
  }
  RC_ASSERT((sa == sb) == same);
  if (eventual) {
    std::optional<StoredKeyspace> of = EventualKeyspaceOf(sa);
    RC_ASSERT(of.has_value());
    RC_ASSERT(of->index == a.index);
    RC_ASSERT(of->generation == ga);
    RC_ASSERT(sa.substr(of->prefix_bytes) == k1);
  }
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

// Every operation of a strong keyspace other than 0 reaches the Raft cache under the keyspace's
// stored key, never the client's bare key; administration and status pass through unchanged.
TEST_F(StrongKeyspaceTest, EveryOperationUsesTheStoredKey) {
  KeyspaceNode node = Node("1:other:strong");
  CacheApi* one = Open(node, 1);
  const std::string a = std::string("\xffks\x01:a", 6);
  const std::string b = std::string("\xffks\x01:b", 6);
  ASSERT_TRUE(one->MultiPut({{"a", "1"}, {"b", "2"}}, Expiration::Default(), {}).ok());
  EXPECT_EQ(**api_.Get(a, {}), "1");
  EXPECT_EQ(**api_.Get(b, {}), "2");
  EXPECT_EQ(api_.Get("a", {})->has_value(), false);
  absl::StatusOr<std::vector<std::optional<std::string>>> both = one->MultiGet({"a", "b", "c"}, {});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(*both, (std::vector<std::optional<std::string>>{"1", "2", std::nullopt}));
  EXPECT_EQ(*one->Increment("a", 41, {}), 42);
  EXPECT_EQ(**api_.Get(a, {}), "42");
  EXPECT_TRUE(*one->CompareAndSet("a", "42", "cas", Expiration::Default(), {}));
  EXPECT_FALSE(*one->CompareAndSet("a", "42", "again", Expiration::Default(), {}));
  EXPECT_EQ(**api_.Get(a, {}), "cas");
  EXPECT_TRUE(*one->Expire("a", Expiration::After(absl::Seconds(30)), {}));
  EXPECT_EQ(api_.Ttl(a, {})->remaining, absl::Seconds(30));
  EXPECT_FALSE(*one->ExpireIf("a", Expiration::After(absl::Seconds(90)), {.if_no_expiry = true}, {}));
  EXPECT_TRUE(*one->ExpireIf("a", Expiration::After(absl::Seconds(90)), {.if_greater = true}, {}));
  EXPECT_EQ(one->Ttl("a", {})->remaining, absl::Seconds(90));
  EXPECT_EQ(**one->GetAndTouch("a", Expiration::Never(), {}), "cas");
  EXPECT_EQ(api_.Ttl(a, {})->kind, TtlResult::Kind::kNoExpiry);
  EXPECT_EQ(**one->GetAndTouch("a", std::nullopt, {}), "cas");
  EXPECT_EQ(**one->Delete("b", {}), "2");
  EXPECT_FALSE(api_.Get(b, {})->has_value());
  // DBSIZE counts the whole strong cache, so only keyspace 0 answers it.
  EXPECT_EQ(one->Size({}).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(*Open(node, 0)->Size({}), 1);
  // Inline reads: the stored key as well.
  api_.set_inline_reads(true);
  std::optional<absl::StatusOr<std::optional<std::string>>> now = one->TryGetNow("a", {});
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(***now, "cas");
  // Administration is cluster-wide: unchanged.
  api_.status().num_shards = 8;
  ASSERT_TRUE(one->AdmitNode(4, {}).ok());
  ASSERT_TRUE(one->DrainNode(2, {}).ok());
  ASSERT_TRUE(one->RemoveNode(5, {}).ok());
  ASSERT_TRUE(one->TransferShardLeader(3, 1, {}).ok());
  EXPECT_EQ(api_.admin_log,
            (std::vector<std::string>{"admit 4", "drain 2", "remove 5", "transfer 3 to 1"}));
  api_.status().map_version = 77;
  EXPECT_EQ(one->Status().map_version, 77u);
}

// Keyspace 0 stores bare keys, so every operation refuses the reserved prefix (and the inline read
// declines it rather than reading another keyspace's entry).
TEST_F(StrongKeyspaceTest, KeyspaceZeroRefusesTheReservedPrefixInEveryOperation) {
  KeyspaceNode node = Node("1:other:strong");
  CacheApi* one = Open(node, 1);
  CacheApi* zero = Open(node, 0);
  ASSERT_TRUE(one->Put("k", "secret", {}).ok());
  const std::string stolen = std::string("\xffks\x01:k", 6);
  const auto refused = [](const absl::Status& s) { return s.code() == absl::StatusCode::kInvalidArgument; };
  EXPECT_TRUE(refused(zero->Get(stolen, {}).status()));
  EXPECT_TRUE(refused(zero->MultiGet({"fine", stolen}, {}).status()));
  EXPECT_TRUE(refused(zero->Ttl(stolen, {}).status()));
  EXPECT_TRUE(refused(zero->MultiPut({{"fine", "v"}, {stolen, "v"}}, Expiration::Default(), {})));
  EXPECT_TRUE(refused(zero->Delete(stolen, {}).status()));
  EXPECT_TRUE(refused(zero->CompareAndSet(stolen, "secret", "x", Expiration::Default(), {}).status()));
  EXPECT_TRUE(refused(zero->Increment(stolen, 1, {}).status()));
  EXPECT_TRUE(refused(zero->Expire(stolen, Expiration::Never(), {}).status()));
  EXPECT_TRUE(refused(zero->ExpireIf(stolen, Expiration::Never(), {}, {}).status()));
  EXPECT_TRUE(refused(zero->GetAndTouch(stolen, std::nullopt, {}).status()));
  api_.set_inline_reads(true);
  EXPECT_FALSE(zero->TryGetNow(stolen, {}).has_value());
  ASSERT_TRUE(zero->TryGetNow("k", {}).has_value());
  // Nothing above touched keyspace 1's entry, and the refused MultiPut wrote none of its entries.
  EXPECT_EQ(**one->Get("k", {}), "secret");
  EXPECT_FALSE(api_.Get("fine", {})->has_value());
  // Pipelined SETs (MultiPutEach): the refused key fails alone, the others are written.
  std::vector<absl::Status> each =
      zero->MultiPutEach({{"fine", "v"}, {stolen, "v"}, {"also", "w"}}, Expiration::Default(), {});
  ASSERT_EQ(each.size(), 3u);
  EXPECT_TRUE(each[0].ok()) << each[0];
  EXPECT_TRUE(refused(each[1]));
  EXPECT_TRUE(each[2].ok()) << each[2];
  EXPECT_EQ(**api_.Get("fine", {}), "v");
  EXPECT_EQ(**api_.Get("also", {}), "w");
  EXPECT_EQ(**one->Get("k", {}), "secret");
}

// MultiPutEach of another keyspace writes the stored keys, each with its own outcome.
TEST_F(StrongKeyspaceTest, MultiPutEachWritesStoredKeysWithTheirOwnOutcomes) {
  KeyspaceNode node = Node("1:other:strong");
  CacheApi* one = Open(node, 1);
  std::vector<absl::Status> each =
      one->MultiPutEach({{"a", "1"}, {"b", "2"}}, Expiration::Default(), {});
  ASSERT_EQ(each.size(), 2u);
  EXPECT_TRUE(each[0].ok() && each[1].ok());
  EXPECT_EQ(**api_.Get(std::string("\xffks\x01:a", 6), {}), "1");
  EXPECT_EQ(**api_.Get(std::string("\xffks\x01:b", 6), {}), "2");
  EXPECT_FALSE(api_.Get("a", {})->has_value());
}

// The keyspace's TTL rules on absolute deadlines and KEEPTTL: a deadline in the past deletes, one
// within max_ttl stays absolute, a later one is cut to max_ttl, KEEPTTL is passed on as it is.
TEST_F(StrongKeyspaceTest, AbsoluteDeadlinesAndKeepFollowTheRules) {
  KeyspaceNode node = Node("1:capped:strong:ttl=10s:max_ttl=1m");
  CacheApi* one = Open(node, 1);
  const absl::Time now = clock_.Now();
  ASSERT_TRUE(one->Put("near", "v", {.expiration = Expiration::At(now + absl::Seconds(20))}).ok());
  EXPECT_EQ(one->Ttl("near", {})->remaining, absl::Seconds(20));
  ASSERT_TRUE(one->Put("far", "v", {.expiration = Expiration::At(now + absl::Hours(2))}).ok());
  EXPECT_EQ(one->Ttl("far", {})->remaining, absl::Minutes(1));
  ASSERT_TRUE(one->Expire("near", Expiration::Keep(), {}).ok());
  EXPECT_EQ(one->Ttl("near", {})->remaining, absl::Seconds(20));
  ASSERT_TRUE(one->Put("gone", "v", {}).ok());
  ASSERT_TRUE(one->Expire("gone", Expiration::At(now - absl::Seconds(1)), {}).ok());
  EXPECT_FALSE(one->Get("gone", {})->has_value());
  // Expire with a TTL beyond the maximum is cut as well, and so is PERSIST (no "never" under max_ttl).
  ASSERT_TRUE(one->Expire("near", Expiration::After(absl::Hours(1)), {}).ok());
  EXPECT_EQ(one->Ttl("near", {})->remaining, absl::Minutes(1));
  ASSERT_TRUE(one->Expire("near", Expiration::Never(), {}).ok());
  EXPECT_EQ(one->Ttl("near", {})->remaining, absl::Minutes(1));
}

}  // namespace
}  // namespace crema::keyspace
