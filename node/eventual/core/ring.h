// EventualRing: preference lists for eventual keyspaces on the project's consistent-hash ring.
//
// Keys map to shards (ReplicaStore::PlaceOf: XXH3 key hash mod num_shards, the fixed, equal-sized
// partitions of Dynamo's "strategy 3"); a shard sits on the ring of node/membership/placement.h at
// ShardPoint(shard), and its preference list is the ring walked clockwise from there, distinct
// members only. The first N are the shard's *home replicas* (owners).
//
// Sloppy quorum (Dynamo, DeCandia et al., SOSP 2007, §4.6): a write goes to the first N *healthy*
// members of the preference list. `PlanWrite` keeps each healthy owner as a home target and, for
// every unhealthy owner, takes the next healthy member beyond the first N as a *stand-in* that
// stores a hinted copy meant for that owner (hint_for). With too few healthy members, some owners
// get no stand-in.
//
// Which members are on the ring is the caller's decision (eventual_node.h: every member the
// membership source knows that has not left and has not been dead longer than the removal delay —
// a crash is a temporary failure handled by stand-ins and hints, not a reason to move data, as in
// Dynamo §4.8). Health is a separate, per-request signal.
//
// Determinism: built from a sorted member set with the ring's fixed seeds, so every node with the
// same member set computes the same lists. Thread safety: immutable after construction.
#ifndef CREMA_NODE_EVENTUAL_CORE_RING_H_
#define CREMA_NODE_EVENTUAL_CORE_RING_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "node/membership/placement.h"
#include "node/network.h"

namespace crema::eventual {

using membership::ShardId;

// One destination of a write: a home replica (hint_for == kNoNode) or a stand-in holding a hinted
// copy for the unreachable home replica `hint_for`.
struct WriteTarget {
  NodeId node = kNoNode;
  NodeId hint_for = kNoNode;
  bool home() const { return hint_for == kNoNode; }
  friend bool operator==(const WriteTarget&, const WriteTarget&) = default;
};

class EventualRing {
 public:
  using Healthy = std::function<bool(NodeId)>;

  // REQUIRES: 1 <= replication; 1 <= vnodes <= membership::kMaxVnodesPerMember; num_shards > 0.
  EventualRing(absl::Span<const NodeId> members, int replication, int vnodes, uint32_t num_shards);

  // The whole preference list of a shard: every member once, clockwise from the shard's point.
  const std::vector<NodeId>& PreferenceList(ShardId shard) const;
  // The first min(N, members) entries: the home replicas.
  std::vector<NodeId> Owners(ShardId shard) const;
  bool IsOwner(ShardId shard, NodeId node) const;

  // Home targets for healthy owners, stand-ins for unhealthy ones (see the file comment), in
  // preference order.
  std::vector<WriteTarget> PlanWrite(ShardId shard, const Healthy& healthy) const;

  // The same ring without `node` (a member leaving, or a node asking who owned its ranges before
  // it arrived).
  EventualRing Without(NodeId node) const;

  bool Contains(NodeId node) const;
  const std::vector<NodeId>& members() const { return members_; }  // sorted
  int replication() const { return replication_; }
  uint32_t num_shards() const { return num_shards_; }

 private:
  std::vector<NodeId> members_;
  int replication_;
  int vnodes_;
  uint32_t num_shards_;
  std::shared_ptr<const membership::HashRing> ring_;
  // Filled lazily per shard; shared by copies (immutable once filled, single-threaded use).
  std::shared_ptr<std::vector<std::vector<NodeId>>> lists_;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_RING_H_
