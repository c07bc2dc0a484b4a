#include "node/membership/placement.h"

#include <algorithm>
#include <cassert>

#include "xxhash.h"

namespace crema::membership {
namespace {

uint64_t VnodePoint(NodeId member, uint32_t vnode) {
  // Fixed little-endian layout so points are the same on every platform.
  unsigned char bytes[8];
  for (int i = 0; i < 4; ++i) {
    bytes[i] = static_cast<unsigned char>(member >> (8 * i));
    bytes[4 + i] = static_cast<unsigned char>(vnode >> (8 * i));
  }
  return XXH3_64bits_withSeed(bytes, sizeof(bytes), kRingSeed);
}

}  // namespace

uint64_t KeyHash(std::string_view key) {
  return XXH3_64bits_withSeed(key.data(), key.size(), kKeyHashSeed);
}

ShardId ShardOfKey(std::string_view key, uint32_t num_shards) {
  assert(num_shards > 0 && num_shards <= kMaxShards);
  return static_cast<ShardId>(KeyHash(key) % num_shards);
}

uint64_t ShardPoint(ShardId shard) {
  unsigned char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<unsigned char>(shard >> (8 * i));
  return XXH3_64bits_withSeed(bytes, sizeof(bytes), kShardSeed);
}

HashRing::HashRing(absl::Span<const NodeId> members, int vnodes_per_member) {
  assert(vnodes_per_member >= 1 && vnodes_per_member <= kMaxVnodesPerMember);
  assert(members.size() <= kMaxRingMembers);
  members_.assign(members.begin(), members.end());
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
  points_.reserve(members_.size() * vnodes_per_member);
  for (NodeId member : members_) {
    assert(member != kNoNode);
    for (int v = 0; v < vnodes_per_member; ++v) {
      points_.emplace_back(VnodePoint(member, static_cast<uint32_t>(v)), member);
    }
  }
  std::sort(points_.begin(), points_.end());
}

size_t HashRing::FirstAtOrAfter(uint64_t point) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), std::make_pair(point, kNoNode));
  return it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());  // wrap around
}

NodeId HashRing::Owner(uint64_t point) const {
  assert(!empty());
  return points_[FirstAtOrAfter(point)].second;
}

std::vector<NodeId> HashRing::Successors(uint64_t point, int count) const {
  std::vector<NodeId> result;
  const size_t want = std::min(static_cast<size_t>(std::max(count, 0)), members_.size());
  if (want == 0) return result;
  result.reserve(want);
  size_t index = FirstAtOrAfter(point);
  // Bounded: one lap of the ring visits every member.
  for (size_t step = 0; step < points_.size() && result.size() < want; ++step) {
    const NodeId member = points_[index].second;
    if (std::find(result.begin(), result.end(), member) == result.end()) result.push_back(member);
    index = index + 1 == points_.size() ? 0 : index + 1;
  }
  assert(result.size() == want);
  return result;
}

ShardMap::ShardMap(absl::Span<const NodeId> members, PlacementConfig config)
    : config_(config), ring_(members, config.vnodes_per_member) {
  assert(config_.num_shards > 0 && config_.num_shards <= kMaxShards);
  assert(config_.replicas >= 1);
  replicas_by_shard_.resize(config_.num_shards);
  for (ShardId shard = 0; shard < config_.num_shards; ++shard) {
    replicas_by_shard_[shard] = ring_.Successors(ShardPoint(shard), config_.replicas);
  }
}

const std::vector<NodeId>& ShardMap::ReplicasOfShard(ShardId shard) const {
  assert(shard < config_.num_shards);
  return replicas_by_shard_[shard];
}

}  // namespace crema::membership
