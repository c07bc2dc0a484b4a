#include "node/eventual/core/replica_store.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace crema::eventual {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Record Value(absl::Time at, std::string value, NodeId node = 1) {
  return Record{Version{absl::ToUnixNanos(at), 0, node}, false, 0, std::move(value)};
}
Record Tombstone(absl::Time at, NodeId node = 1) {
  return Record{Version{absl::ToUnixNanos(at), 0, node}, true, 0, ""};
}

void ExpectTreesConsistent(const ReplicaStore& store) {
  for (ShardId shard = 0; shard < store.config().num_shards; ++shard) {
    const RangeTree* tree = store.Tree(shard);
    const RangeTree recomputed = store.RecomputeTree(shard);
    EXPECT_EQ(tree == nullptr ? 0 : tree->root(), recomputed.root()) << "shard " << shard;
    EXPECT_EQ(tree == nullptr, store.KeysInShard(shard) == 0);
  }
}

TEST(ReplicaStoreTest, LastWriterWinsAndStaleWritesAreRefused) {
  ReplicaStore store(StoreConfig{.num_shards = 8});
  EXPECT_EQ(store.Apply("k", Value(kT0, "a"), kT0), ApplyOutcome::kApplied);
  EXPECT_EQ(store.Apply("k", Value(kT0 - absl::Seconds(1), "old"), kT0), ApplyOutcome::kStale);
  EXPECT_EQ(store.Apply("k", Value(kT0, "a"), kT0), ApplyOutcome::kStale);  // duplicate
  EXPECT_EQ(store.Find("k")->value, "a");
  EXPECT_EQ(store.Apply("k", Tombstone(kT0 + absl::Seconds(1)), kT0), ApplyOutcome::kApplied);
  EXPECT_TRUE(store.Find("k")->tombstone);
  EXPECT_EQ(store.Apply("k", Value(kT0, "resurrect?"), kT0), ApplyOutcome::kStale);
  EXPECT_EQ(store.size(), 1u);
  ExpectTreesConsistent(store);
}

TEST(ReplicaStoreTest, TombstonesArePurgedAfterTheGracePeriodAndNotAcceptedAfterIt) {
  ReplicaStore store(StoreConfig{.num_shards = 8, .tombstone_grace = absl::Minutes(10)});
  ASSERT_EQ(store.Apply("dead", Tombstone(kT0), kT0), ApplyOutcome::kApplied);
  ASSERT_EQ(store.Apply("live", Value(kT0, "v"), kT0), ApplyOutcome::kApplied);
  EXPECT_TRUE(store.TakePurgeable(kT0 + absl::Minutes(9), 100).empty());
  EXPECT_EQ(store.TakePurgeable(kT0 + absl::Minutes(10), 100), std::vector<std::string>{"dead"});
  EXPECT_EQ(store.Find("dead"), nullptr);
  EXPECT_EQ(store.Apply("dead", Tombstone(kT0), kT0 + absl::Minutes(11)), ApplyOutcome::kPurgeable);
  // The zombie case the grace period exists for: once the tombstone is gone, an old value that
  // missed the delete is accepted again.
  EXPECT_EQ(store.Apply("dead", Value(kT0 - absl::Seconds(1), "zombie"), kT0 + absl::Minutes(11)),
            ApplyOutcome::kApplied);
  ExpectTreesConsistent(store);
}

TEST(ReplicaStoreTest, ExpiredValuesPurgeAfterExpiryPlusGrace) {
  ReplicaStore store(StoreConfig{.num_shards = 4, .tombstone_grace = absl::Seconds(30)});
  Record r = Value(kT0, "ttl");
  r.expires_at_ns = absl::ToUnixNanos(kT0 + absl::Seconds(10));
  ASSERT_EQ(store.Apply("t", r, kT0), ApplyOutcome::kApplied);
  EXPECT_TRUE(store.TakePurgeable(kT0 + absl::Seconds(39), 10).empty());
  EXPECT_EQ(store.TakePurgeable(kT0 + absl::Seconds(40), 10).size(), 1u);
}

TEST(ReplicaStoreTest, CapacityRefusesNewKeysButNotOverwrites) {
  ReplicaStore store(StoreConfig{.num_shards = 4, .max_keys = 2});
  EXPECT_EQ(store.Apply("a", Value(kT0, "1"), kT0), ApplyOutcome::kApplied);
  EXPECT_EQ(store.Apply("b", Value(kT0, "1"), kT0), ApplyOutcome::kApplied);
  EXPECT_EQ(store.Apply("c", Value(kT0, "1"), kT0), ApplyOutcome::kFull);
  EXPECT_EQ(store.Apply("a", Value(kT0 + absl::Seconds(1), "2"), kT0), ApplyOutcome::kApplied);
  ReplicaStore small(StoreConfig{.num_shards = 4, .max_bytes = 100});
  EXPECT_EQ(small.Apply("a", Value(kT0, std::string(10, 'x')), kT0), ApplyOutcome::kApplied);
  EXPECT_EQ(small.Apply("a", Value(kT0 + absl::Seconds(1), std::string(100, 'x')), kT0),
            ApplyOutcome::kFull);
}

TEST(ReplicaStoreTest, LeafIterationVisitsExactlyTheKeysOfTheLeaf) {
  ReplicaStore store(StoreConfig{.num_shards = 4, .tree_depth = 1});
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(store.Apply(absl::StrCat("key", i), Value(kT0, "v"), kT0), ApplyOutcome::kApplied);
  }
  size_t visited = 0;
  for (ShardId shard : store.NonEmptyShards()) {
    for (uint32_t leaf = 0; leaf < 16; ++leaf) {
      store.ForEachInLeaf(shard, leaf, [&](const std::string& key, const Record&) {
        EXPECT_EQ(store.PlaceOf(key).shard, shard);
        EXPECT_EQ(store.PlaceOf(key).leaf, leaf);
        ++visited;
      });
    }
  }
  EXPECT_EQ(visited, 200u);
}

TEST(ReplicaStoreTest, ReplicasWithTheSameRecordsHaveTheSameTrees) {
  ReplicaStore a(StoreConfig{.num_shards = 4}), b(StoreConfig{.num_shards = 4});
  for (int i = 0; i < 50; ++i) {
    a.Apply(absl::StrCat("k", i), Value(kT0 + absl::Seconds(i), "v1"), kT0);
    a.Apply(absl::StrCat("k", i), Value(kT0 + absl::Seconds(i + 1), "v2"), kT0);
  }
  for (int i = 49; i >= 0; --i) {
    b.Apply(absl::StrCat("k", i), Value(kT0 + absl::Seconds(i + 1), "v2"), kT0);
    b.Apply(absl::StrCat("k", i), Value(kT0 + absl::Seconds(i), "v1"), kT0);  // stale
  }
  for (ShardId shard = 0; shard < 4; ++shard) EXPECT_EQ(a.Hash(shard, 0, 0), b.Hash(shard, 0, 0));
  b.Apply("k7", Tombstone(kT0 + absl::Minutes(5)), kT0);
  const ShardId differing = b.PlaceOf("k7").shard;
  for (ShardId shard = 0; shard < 4; ++shard) {
    EXPECT_EQ(a.Hash(shard, 0, 0) == b.Hash(shard, 0, 0), shard != differing);
  }
}

RC_GTEST_PROP(ReplicaStoreProperty, TreesAlwaysMatchTheirRecords,
              (std::vector<std::tuple<uint8_t, uint8_t, bool, uint8_t>> ops)) {
  ReplicaStore store(StoreConfig{.num_shards = 3, .tombstone_grace = absl::Seconds(50)});
  absl::Time now = kT0;
  for (const auto& [key, age, tombstone, action] : ops) {
    now += absl::Seconds(1);
    const std::string k = absl::StrCat("k", key % 20);
    if (action % 5 == 0) {
      store.TakePurgeable(now, 3);
    } else if (action % 7 == 0) {
      store.Erase(k);
    } else {
      Record r = tombstone ? Tombstone(now - absl::Seconds(age % 80), 1 + action % 3)
                           : Value(now - absl::Seconds(age % 80), absl::StrCat(action), 1 + action % 3);
      const Record* before = store.Find(k);
      const bool newer = before == nullptr || Supersedes(r, *before);
      const ApplyOutcome outcome = store.Apply(k, r, now);
      if (outcome == ApplyOutcome::kApplied) RC_ASSERT(newer && *store.Find(k) == r);
    }
  }
  for (ShardId shard = 0; shard < 3; ++shard) {
    const RangeTree* tree = store.Tree(shard);
    RC_ASSERT((tree == nullptr ? 0 : tree->root()) == store.RecomputeTree(shard).root());
  }
}

}  // namespace
}  // namespace crema::eventual
