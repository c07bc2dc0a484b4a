// ReplicaStore: one node's in-memory replica of an eventual keyspace — the newest record per key,
// indexed by (shard, Merkle leaf, key), with one RangeTree per shard and a purge queue.
//
// Pure and deterministic (time is passed in). The driver makes every change durable
// (durable_map.h) *before* applying it here, so this is exactly the node's durable state.
//
// Rules (record.h has the record semantics):
//   * `Apply(key, r, now)` stores r iff it supersedes the stored record (or there is none) and
//     now < PurgeTime(r): a dead record past its grace period is dropped on arrival, never stored.
//     Outcomes: kApplied, kStale (not newer), kPurgeable (too old to keep), kFull (a new key would
//     exceed max_keys or max_bytes; overwrites that fit are always accepted).
//   * Every stored record's LeafDigest is XORed into its shard's tree; replacing or erasing it
//     XORs the old digest out. Invariant: each tree equals the XOR of its shard's records' digests
//     (checked by tests through `RecomputeTree`).
//   * `TakePurgeable(now)` removes records whose purge time has come: dead records vanish from the
//     tree at the same moment on every replica whose clock agrees (and within the clock skew on
//     the others), so trees of converged replicas agree again after every sweep.
//
// Capacity is a hard bound, not an eviction policy: an eventual keyspace refuses new keys beyond
// it (RESOURCE_EXHAUSTED at the coordinator when too few replicas accept). Per-replica eviction
// would make replicas diverge on purpose; docs/dynamo.md discusses it.
//
// Thread safety: none; one store belongs to one node's event loop.
#ifndef CREMA_NODE_EVENTUAL_CORE_REPLICA_STORE_H_
#define CREMA_NODE_EVENTUAL_CORE_REPLICA_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "node/eventual/core/merkle.h"
#include "node/eventual/core/record.h"
#include "node/membership/placement.h"

namespace crema::eventual {

using membership::ShardId;

inline constexpr uint32_t kMaxEventualShards = 1u << 16;

struct StoreConfig {
  uint32_t num_shards = 256;  // key ranges (the unit of Merkle trees and hand-off); <= 65,536
  int tree_depth = 2;         // RangeTree depth per shard
  absl::Duration tombstone_grace = absl::Hours(1);
  size_t max_keys = 1'000'000;
  size_t max_bytes = size_t{1} << 30;
};

enum class ApplyOutcome : uint8_t { kApplied, kStale, kPurgeable, kFull };
const char* ApplyOutcomeName(ApplyOutcome outcome);

// Where a key lives: its shard and its leaf in the shard's tree.
struct KeyPlace {
  ShardId shard = 0;
  uint32_t leaf = 0;
};

class ReplicaStore {
 public:
  using Visitor = std::function<void(const std::string& key, const Record& record)>;

  explicit ReplicaStore(StoreConfig config);

  KeyPlace PlaceOf(std::string_view key) const;

  // What Apply would do now, without changing anything.
  ApplyOutcome Check(std::string_view key, const Record& record, absl::Time now) const;
  ApplyOutcome Apply(std::string_view key, const Record& record, absl::Time now);

  // The stored record (live or dead), or nullptr.
  const Record* Find(std::string_view key) const;

  // Removes the key's record, whatever it is (hand-off of a shard no longer owned). True if any.
  bool Erase(std::string_view key);

  // Removes up to `max` records whose purge time is <= now; returns their keys.
  std::vector<std::string> TakePurgeable(absl::Time now, size_t max);

  // nullptr for a shard with no records.
  const RangeTree* Tree(ShardId shard) const;
  uint64_t Hash(ShardId shard, int level, uint32_t index) const;

  // Visits records in key order within (shard, leaf).
  void ForEachInLeaf(ShardId shard, uint32_t leaf, const Visitor& visit) const;
  void ForEachInShard(ShardId shard, const Visitor& visit) const;
  void ForEach(const Visitor& visit) const;
  // Shards holding at least one record, ascending.
  std::vector<ShardId> NonEmptyShards() const;
  size_t KeysInShard(ShardId shard) const;

  // Rebuilds a shard's tree from its records (for invariant checks in tests).
  RangeTree RecomputeTree(ShardId shard) const;

  const Version& max_version() const { return max_version_; }
  size_t size() const { return records_.size(); }
  size_t bytes() const { return bytes_; }
  const StoreConfig& config() const { return config_; }

 private:
  struct Slot {
    ShardId shard;
    uint32_t leaf;
    std::string key;
  };
  struct SlotView {
    ShardId shard;
    uint32_t leaf;
    std::string_view key;
  };
  struct SlotLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      // Keys compared as views: clang's std::tuple has no string < string_view.
      return std::tuple(a.shard, a.leaf, std::string_view(a.key)) <
             std::tuple(b.shard, b.leaf, std::string_view(b.key));
    }
    bool operator()(const Slot& a, const Slot& b) const {
      return std::tie(a.shard, a.leaf, a.key) < std::tie(b.shard, b.leaf, b.key);
    }
  };
  using RecordMap = absl::btree_map<Slot, Record, SlotLess>;

  SlotView ViewOf(std::string_view key) const;
  void Unindex(const Slot& slot, const Record& record);
  void Index(const Slot& slot, const Record& record);
  void VisitRange(RecordMap::const_iterator it, ShardId shard, const uint32_t* leaf,
                  const Visitor& visit) const;

  StoreConfig config_;
  RecordMap records_;
  absl::btree_map<ShardId, RangeTree> trees_;
  absl::btree_map<ShardId, size_t> shard_keys_;
  // (purge time in Unix ns, slot) for every record with a finite purge time.
  absl::btree_set<std::pair<int64_t, std::tuple<ShardId, uint32_t, std::string>>> purge_queue_;
  size_t bytes_ = 0;
  Version max_version_;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_REPLICA_STORE_H_
