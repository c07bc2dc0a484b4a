// ClusterMap: the replicated description of a Crema cluster — which nodes are data nodes, which
// replicas each shard (and the metadata group itself) has, and the cluster-wide parameters fixed
// at bootstrap. The metadata Raft group holds it (meta_state_machine.h); every node keeps a copy
// that follows it (map_follower in node/cache_node); clients' requests are routed by it.
//
// Shards and groups: key -> shard by membership::ShardOfKey(key, num_shards); shard s is Raft
// group GroupOfShard(s); the metadata group is kMetaGroup.
//
// Replicas: a shard's record lists its Raft configuration as last recorded (`voters`, `learners`,
// with the shard-log index of that configuration, `conf_index`) and `adding`: replicas the
// placement controller is about to add. A node hosts exactly the replicas on it that appear in
// voters, learners or adding (HostedReplicas). The record may lag the shard's real configuration
// only in the safe direction — it never drops a replica before Raft has removed it, and replicas
// are listed in `adding` before Raft adds them — so a node never deletes a replica Raft still
// counts on. New replicas get a fresh generation (consensus/types.h), so a replica id is never
// reused for a replica that lost its state.
//
// Node states: kActive nodes are placement targets; kDraining nodes keep their replicas until
// moved; kRemoved nodes hold none (a removed node must be admitted again to take part).
//
// Placement targets (TargetNodes): the ring over active nodes (membership::ShardMap), first
// `replication_factor` distinct nodes clockwise from the shard's point; the first is the
// preferred leader. The metadata group's target is the first meta_replication_factor active
// nodes from kMetaPoint.
//
// Keyspaces (node/keyspace/keyspace_config.h): the cluster's keyspaces, created and dropped only
// through metadata commands (meta_command.h). Each record has its spec, a generation and a state.
// Keyspaces in the bootstrap map (the founders' --keyspaces) have generation 0; every keyspace
// created later gets the map's next_keyspace_generation (then incremented), so a keyspace
// re-created under an index that was dropped is a different keyspace (its stored keys differ:
// node/keyspace/keyspace_node.h). A dropped keyspace stays in the map, `dropping`, until its data
// is purged; requests to it are refused at once.
// Invariants (checked by DecodeClusterMap): keyed by (index, generation); at most one live
// record per index and per name (so at most kMaxKeyspaces live); at most kMaxDroppingKeyspaces
// dropping; a record's spec.index is its key's index; generations of created keyspaces are below
// next_keyspace_generation. A map without keyspaces is one bootstrapped before they were kept in
// the map (encoding version 1): nodes then use their own flags (docs/dynamo.md).
//
// Encoding: versioned, deterministic (sorted), bounded; decoding never crashes on garbage.
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_CLUSTER_CLUSTER_MAP_H_
#define CREMA_NODE_CLUSTER_CLUSTER_MAP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "cache/replicated/cache_state_machine.h"
#include "consensus/types.h"
#include "node/cache_node/cache_api.h"
#include "node/keyspace/keyspace_config.h"
#include "node/network.h"

namespace crema::cluster {

using ShardId = uint32_t;
using raft::ReplicaId;

inline constexpr raft::GroupId kMetaGroup = 1;
inline constexpr raft::GroupId kFirstShardGroup = 16;
inline constexpr raft::GroupId GroupOfShard(ShardId shard) { return kFirstShardGroup + shard; }
inline constexpr bool IsShardGroup(raft::GroupId g) { return g >= kFirstShardGroup; }
inline constexpr ShardId ShardOfGroup(raft::GroupId g) {
  return static_cast<ShardId>(g - kFirstShardGroup);
}
// The metadata group's point on the ring.
inline constexpr uint64_t kMetaPoint = 0x6d6574612d677270ULL;  // "meta-grp"

inline constexpr size_t kMaxNodes = 4096;
inline constexpr size_t kMaxAddressBytes = 256;
inline constexpr uint32_t kMaxShards = 65'536;
inline constexpr size_t kMaxReplicasPerShard = 16;
inline constexpr int kVnodesPerNode = 128;

struct ClusterParams {
  uint32_t num_shards = 0;
  int replication_factor = 3;
  int meta_replication_factor = 3;
  replicated::ShardConfig shard;  // every shard's replicated settings
  friend bool operator==(const ClusterParams&, const ClusterParams&) = default;
};

struct NodeInfo {
  std::string address;
  NodeState state = NodeState::kActive;
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

struct ShardInfo {
  std::vector<ReplicaId> voters;    // sorted
  std::vector<ReplicaId> learners;  // sorted
  raft::Index conf_index = 0;       // 0: the bootstrap configuration
  std::vector<ReplicaId> adding;    // sorted; being added (hosted before Raft adds them)
  uint32_t next_generation = 1;     // for the shard's next new replica
  friend bool operator==(const ShardInfo&, const ShardInfo&) = default;

  bool Has(ReplicaId r) const;          // voter, learner or adding
  bool IsMember(ReplicaId r) const;     // voter or learner
  // This shard's replica on `node` (voter, learner or adding), or kNoReplica.
  ReplicaId ReplicaOn(NodeId node) const;
  std::vector<NodeId> VoterNodes() const;
};

inline constexpr size_t kMaxDroppingKeyspaces = keyspace::kMaxKeyspaces;

enum class KeyspaceState : uint8_t { kLive = 0, kDropping = 1 };
const char* KeyspaceStateName(KeyspaceState state);  // "live", "dropping"

struct KeyspaceRecord {
  keyspace::KeyspaceSpec spec;
  uint64_t generation = 0;  // 0: declared at bootstrap
  KeyspaceState state = KeyspaceState::kLive;
  friend bool operator==(const KeyspaceRecord&, const KeyspaceRecord&) = default;
};

// (index, generation)
using KeyspaceKey = std::pair<uint32_t, uint64_t>;

struct ClusterMap {
  uint64_t version = 0;  // 0: not bootstrapped; +1 per effective metadata command
  ClusterParams params;
  absl::btree_map<NodeId, NodeInfo> nodes;
  std::vector<ShardInfo> shards;  // index = shard id
  ShardInfo meta;                 // the metadata group's own replicas
  absl::btree_map<KeyspaceKey, KeyspaceRecord> keyspaces;  // see the file comment
  uint64_t next_keyspace_generation = 1;
  friend bool operator==(const ClusterMap&, const ClusterMap&) = default;

  // The live keyspace with this index / name; nullptr if none.
  const KeyspaceRecord* LiveKeyspace(uint32_t index) const;
  const KeyspaceRecord* LiveKeyspaceNamed(std::string_view name) const;
  size_t DroppingKeyspaces() const;

  bool bootstrapped() const { return version > 0; }
  // Nodes in state kActive, ascending.
  std::vector<NodeId> ActiveNodes() const;
  const ShardInfo* Shard(ShardId shard) const {
    return shard < shards.size() ? &shards[shard] : nullptr;
  }
  // The record of a group (a shard, or the metadata group); nullptr if unknown.
  const ShardInfo* Group(raft::GroupId group) const;
  ShardInfo* MutableGroup(raft::GroupId group);
};

// The map a brand-new cluster starts from: `founders` (sorted, distinct) all active with the
// given addresses (may be empty strings), every shard and the metadata group placed by the ring
// with generation-0 replicas (replica id = node id), and `keyspaces` live at generation 0 (none
// given: the strong default keyspace 0). Every founder computes the same map.
// REQUIRES: `keyspaces` came from keyspace::ParseKeyspaces (unique indexes and names).
ClusterMap InitialClusterMap(const std::vector<NodeId>& founders,
                             const std::vector<std::string>& addresses,
                             const ClusterParams& params,
                             const std::vector<keyspace::KeyspaceSpec>& keyspaces = {});

// Placement targets over the map's active nodes (see the file comment), preferred leader first.
// Compute a TargetPlacement once per map version: it builds the ring.
class TargetPlacement {
 public:
  explicit TargetPlacement(const ClusterMap& map);
  const std::vector<NodeId>& ShardTargets(ShardId shard) const { return shards_[shard]; }
  const std::vector<NodeId>& MetaTargets() const { return meta_; }
  const std::vector<NodeId>& Targets(raft::GroupId group) const {
    return group == kMetaGroup ? meta_ : shards_[ShardOfGroup(group)];
  }

 private:
  std::vector<std::vector<NodeId>> shards_;
  std::vector<NodeId> meta_;
};

// (group, replica) pairs this node should host per the map, ascending by group.
std::vector<std::pair<raft::GroupId, ReplicaId>> HostedReplicas(const ClusterMap& map,
                                                                 NodeId node);

std::string EncodeClusterMap(const ClusterMap& map);
[[nodiscard]] absl::StatusOr<ClusterMap> DecodeClusterMap(std::string_view bytes);
// One line, e.g. "v12 nodes=3 active=3 shards=64 rf=3 meta=3v/0l keyspaces=2".
std::string DescribeClusterMap(const ClusterMap& map);

}  // namespace crema::cluster

#endif  // CREMA_NODE_CLUSTER_CLUSTER_MAP_H_
