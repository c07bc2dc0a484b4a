// Shard placement: keys → shards → replica sets, by consistent hashing.
//
// Two steps:
//   1. key → shard: XXH3-64(key, kKeyHashSeed) mod num_shards. The shard count is fixed for the
//      life of a cluster (it is the unit of Raft groups, rebalancing and transfer), so a key's
//      shard never changes.
//   2. shard → replica set: a consistent-hash ring with virtual nodes. Each member owns
//      `vnodes_per_member` points XXH3-64(member id, vnode index; kRingSeed); a shard sits at
//      XXH3-64(shard; kShardSeed) and its replica set is the first `replicas` *distinct* members
//      met walking clockwise from there (the first one is the preferred leader).
//
// Why a ring with virtual nodes rather than rendezvous (HRW) hashing: both give minimal movement
// (≈ 1/N of shards move when one of N members joins or leaves) and both are deterministic. The
// ring's balance is tunable with V (max/mean load ≈ 1 + O(1/√V), measured in docs/membership.md),
// its lookups are O(log(N·V)) for arbitrary points (HRW needs O(N) hashes per lookup), and its
// successor-list replica sets change by at most one member per join or leave (a join inserts the
// newcomer and drops one; a leave removes the leaver and adds one), which keeps Raft
// reconfiguration to a single-member change per shard. Since shards are few, `ShardMap` also
// precomputes the table so the hot path is one hash and one array index.
//
// Determinism: all hashes use fixed seeds and the ring sorts by (point, member id), so the same
// member set gives the same placement on every node, whatever order members were learned in.
//
// Thread safety: immutable after construction; safe to share between threads.
#ifndef CREMA_NODE_MEMBERSHIP_PLACEMENT_H_
#define CREMA_NODE_MEMBERSHIP_PLACEMENT_H_

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "node/membership/types.h"

namespace crema::membership {

using ShardId = uint32_t;

inline constexpr uint64_t kKeyHashSeed = 0x6372656d614b6579ULL;  // "cremaKey"
inline constexpr uint64_t kShardSeed = 0x6372656d61536864ULL;    // "cremaShd"
inline constexpr uint64_t kRingSeed = 0x6372656d6152696eULL;     // "cremaRin"
inline constexpr int kMaxVnodesPerMember = 4096;
inline constexpr uint32_t kMaxShards = 1u << 20;
inline constexpr size_t kMaxRingMembers = 65536;

// XXH3-64 of the key with kKeyHashSeed.
uint64_t KeyHash(std::string_view key);

// REQUIRES: 0 < num_shards <= kMaxShards.
ShardId ShardOfKey(std::string_view key, uint32_t num_shards);

// The ring position of a shard.
uint64_t ShardPoint(ShardId shard);

class HashRing {
 public:
  // REQUIRES: 1 <= vnodes_per_member <= kMaxVnodesPerMember, members.size() <= kMaxRingMembers,
  // no kNoNode. Duplicate ids are ignored.
  HashRing(absl::Span<const NodeId> members, int vnodes_per_member);

  // The member owning `point` (first vnode clockwise). REQUIRES: !empty().
  NodeId Owner(uint64_t point) const;

  // The first min(count, member_count()) distinct members clockwise from `point`.
  std::vector<NodeId> Successors(uint64_t point, int count) const;

  bool empty() const { return points_.empty(); }
  size_t member_count() const { return members_.size(); }
  const std::vector<NodeId>& members() const { return members_; }  // sorted, distinct

 private:
  size_t FirstAtOrAfter(uint64_t point) const;

  std::vector<NodeId> members_;
  std::vector<std::pair<uint64_t, NodeId>> points_;  // sorted by (point, id)
};

struct PlacementConfig {
  uint32_t num_shards = 4096;
  int replicas = 3;
  int vnodes_per_member = 256;
};

// The replica set of every shard, for one member set.
class ShardMap {
 public:
  // REQUIRES: config within the bounds above; replicas >= 1.
  ShardMap(absl::Span<const NodeId> members, PlacementConfig config);

  // Up to `replicas` distinct members (fewer if the cluster is smaller); preferred leader first.
  const std::vector<NodeId>& ReplicasOfShard(ShardId shard) const;
  const std::vector<NodeId>& ReplicasOfKey(std::string_view key) const {
    return ReplicasOfShard(ShardOfKey(key, config_.num_shards));
  }
  const PlacementConfig& config() const { return config_; }
  const HashRing& ring() const { return ring_; }

 private:
  PlacementConfig config_;
  HashRing ring_;
  std::vector<std::vector<NodeId>> replicas_by_shard_;
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_PLACEMENT_H_
