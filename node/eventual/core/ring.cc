#include "node/eventual/core/ring.h"

#include <algorithm>
#include <cassert>

namespace crema::eventual {

EventualRing::EventualRing(absl::Span<const NodeId> members, int replication, int vnodes,
                           uint32_t num_shards)
    : members_(members.begin(), members.end()),
      replication_(replication),
      vnodes_(vnodes),
      num_shards_(num_shards) {
  assert(replication >= 1 && num_shards > 0);
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
  ring_ = std::make_shared<const membership::HashRing>(members_, vnodes);
  lists_ = std::make_shared<std::vector<std::vector<NodeId>>>(num_shards);
}

const std::vector<NodeId>& EventualRing::PreferenceList(ShardId shard) const {
  assert(shard < num_shards_);
  std::vector<NodeId>& list = (*lists_)[shard];
  if (list.empty() && !members_.empty()) {
    list = ring_->Successors(membership::ShardPoint(shard), static_cast<int>(members_.size()));
  }
  return list;
}

std::vector<NodeId> EventualRing::Owners(ShardId shard) const {
  const std::vector<NodeId>& list = PreferenceList(shard);
  const size_t n = std::min(list.size(), static_cast<size_t>(replication_));
  return std::vector<NodeId>(list.begin(), list.begin() + n);
}

bool EventualRing::IsOwner(ShardId shard, NodeId node) const {
  const std::vector<NodeId>& list = PreferenceList(shard);
  const size_t n = std::min(list.size(), static_cast<size_t>(replication_));
  return std::find(list.begin(), list.begin() + n, node) != list.begin() + n;
}

std::vector<WriteTarget> EventualRing::PlanWrite(ShardId shard, const Healthy& healthy) const {
  const std::vector<NodeId>& list = PreferenceList(shard);
  const size_t n = std::min(list.size(), static_cast<size_t>(replication_));
  std::vector<WriteTarget> targets;
  std::vector<NodeId> orphaned;  // unhealthy owners, in preference order
  for (size_t i = 0; i < n; ++i) {
    if (healthy(list[i])) {
      targets.push_back({list[i], kNoNode});
    } else {
      orphaned.push_back(list[i]);
    }
  }
  size_t next = n;
  for (NodeId owner : orphaned) {
    while (next < list.size() && !healthy(list[next])) ++next;
    if (next >= list.size()) break;
    targets.push_back({list[next++], owner});
  }
  return targets;
}

EventualRing EventualRing::Without(NodeId node) const {
  std::vector<NodeId> rest;
  for (NodeId m : members_) {
    if (m != node) rest.push_back(m);
  }
  return EventualRing(rest, replication_, vnodes_, num_shards_);
}

bool EventualRing::Contains(NodeId node) const {
  return std::binary_search(members_.begin(), members_.end(), node);
}

}  // namespace crema::eventual
