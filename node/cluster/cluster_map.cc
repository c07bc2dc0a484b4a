#include "node/cluster/cluster_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/membership/placement.h"
#include "node/wire.h"

namespace crema::cluster {
namespace {

constexpr uint8_t kVersion = 1;

bool Contains(const std::vector<ReplicaId>& v, ReplicaId r) {
  return std::find(v.begin(), v.end(), r) != v.end();
}

void PutReplicas(WireWriter& w, const std::vector<ReplicaId>& v) {
  w.PutVarint(v.size());
  for (ReplicaId r : v) w.PutVarint(r);
}

bool GetReplicas(WireReader& r, std::vector<ReplicaId>* v) {
  uint64_t n;
  if (!r.GetVarint(&n, kMaxReplicasPerShard)) return false;
  v->clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!r.GetVarint(&id, UINT32_MAX) || id == raft::kNoReplica) return false;
    if (!v->empty() && id <= v->back()) return false;  // sorted, distinct
    v->push_back(static_cast<ReplicaId>(id));
  }
  return true;
}

void PutShard(WireWriter& w, const ShardInfo& s) {
  PutReplicas(w, s.voters);
  PutReplicas(w, s.learners);
  w.PutVarint(s.conf_index);
  PutReplicas(w, s.adding);
  w.PutVarint(s.next_generation);
}

bool GetShard(WireReader& r, ShardInfo* s) {
  uint64_t generation;
  return GetReplicas(r, &s->voters) && GetReplicas(r, &s->learners) &&
         r.GetVarint(&s->conf_index) && GetReplicas(r, &s->adding) &&
         r.GetVarint(&generation, raft::kMaxReplicaGeneration + 1) &&
         (s->next_generation = static_cast<uint32_t>(generation), true);
}

std::vector<ReplicaId> SortedReplicas(const std::vector<NodeId>& nodes) {
  std::vector<ReplicaId> v(nodes.begin(), nodes.end());  // generation 0: replica id = node id
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

bool ShardInfo::Has(ReplicaId r) const { return IsMember(r) || Contains(adding, r); }

bool ShardInfo::IsMember(ReplicaId r) const {
  return Contains(voters, r) || Contains(learners, r);
}

ReplicaId ShardInfo::ReplicaOn(NodeId node) const {
  for (const auto* list : {&voters, &learners, &adding}) {
    for (ReplicaId r : *list) {
      if (raft::NodeOfReplica(r) == node) return r;
    }
  }
  return raft::kNoReplica;
}

std::vector<NodeId> ShardInfo::VoterNodes() const {
  std::vector<NodeId> nodes;
  for (ReplicaId r : voters) nodes.push_back(raft::NodeOfReplica(r));
  return nodes;
}

std::vector<NodeId> ClusterMap::ActiveNodes() const {
  std::vector<NodeId> active;
  for (const auto& [id, info] : nodes) {
    if (info.state == NodeState::kActive) active.push_back(id);
  }
  return active;
}

const ShardInfo* ClusterMap::Group(raft::GroupId group) const {
  if (group == kMetaGroup) return bootstrapped() ? &meta : nullptr;
  if (!IsShardGroup(group)) return nullptr;
  return Shard(ShardOfGroup(group));
}

ShardInfo* ClusterMap::MutableGroup(raft::GroupId group) {
  return const_cast<ShardInfo*>(static_cast<const ClusterMap*>(this)->Group(group));
}

TargetPlacement::TargetPlacement(const ClusterMap& map) {
  const std::vector<NodeId> active = map.ActiveNodes();
  shards_.resize(map.params.num_shards);
  if (active.empty()) return;
  membership::HashRing ring(active, kVnodesPerNode);
  for (ShardId s = 0; s < map.params.num_shards; ++s) {
    shards_[s] = ring.Successors(membership::ShardPoint(s), map.params.replication_factor);
  }
  meta_ = ring.Successors(kMetaPoint, map.params.meta_replication_factor);
}

ClusterMap InitialClusterMap(const std::vector<NodeId>& founders,
                             const std::vector<std::string>& addresses,
                             const ClusterParams& params) {
  ClusterMap map;
  map.version = 1;
  map.params = params;
  for (size_t i = 0; i < founders.size(); ++i) {
    map.nodes[founders[i]] = NodeInfo{i < addresses.size() ? addresses[i] : "",
                                      NodeState::kActive};
  }
  const TargetPlacement targets(map);
  map.shards.resize(params.num_shards);
  for (ShardId s = 0; s < params.num_shards; ++s) {
    map.shards[s].voters = SortedReplicas(targets.ShardTargets(s));
  }
  map.meta.voters = SortedReplicas(targets.MetaTargets());
  return map;
}

std::vector<std::pair<raft::GroupId, ReplicaId>> HostedReplicas(const ClusterMap& map,
                                                                 NodeId node) {
  std::vector<std::pair<raft::GroupId, ReplicaId>> hosted;
  if (!map.bootstrapped()) return hosted;
  if (ReplicaId r = map.meta.ReplicaOn(node); r != raft::kNoReplica) {
    hosted.emplace_back(kMetaGroup, r);
  }
  for (ShardId s = 0; s < map.shards.size(); ++s) {
    if (ReplicaId r = map.shards[s].ReplicaOn(node); r != raft::kNoReplica) {
      hosted.emplace_back(GroupOfShard(s), r);
    }
  }
  return hosted;
}

std::string EncodeClusterMap(const ClusterMap& map) {
  WireWriter w;
  w.PutU8(kVersion);
  w.PutVarint(map.version);
  w.PutVarint(map.params.num_shards);
  w.PutVarint(map.params.replication_factor);
  w.PutVarint(map.params.meta_replication_factor);
  w.PutSigned(map.params.shard.capacity);
  w.PutBool(map.params.shard.weigh_bytes);
  w.PutSigned(map.params.shard.session_ttl_ns);
  w.PutSigned(map.params.shard.max_request_age_ns);
  w.PutVarint(map.nodes.size());
  for (const auto& [id, info] : map.nodes) {
    w.PutVarint(id);
    w.PutBytes(info.address);
    w.PutU8(static_cast<uint8_t>(info.state));
  }
  PutShard(w, map.meta);
  w.PutVarint(map.shards.size());
  for (const ShardInfo& s : map.shards) PutShard(w, s);
  return std::move(w).Finish();
}

absl::StatusOr<ClusterMap> DecodeClusterMap(std::string_view bytes) {
  auto bad = [](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("cluster map: ", what));
  };
  WireReader r(bytes);
  ClusterMap map;
  uint8_t version;
  uint64_t shards, rf, meta_rf, nodes;
  if (!r.GetU8(&version) || version != kVersion) return bad("unknown version");
  if (!r.GetVarint(&map.version) || !r.GetVarint(&shards, kMaxShards) ||
      !r.GetVarint(&rf, kMaxReplicasPerShard) || !r.GetVarint(&meta_rf, kMaxReplicasPerShard) ||
      !r.GetSigned(&map.params.shard.capacity) || !r.GetBool(&map.params.shard.weigh_bytes) ||
      !r.GetSigned(&map.params.shard.session_ttl_ns) ||
      !r.GetSigned(&map.params.shard.max_request_age_ns)) {
    return bad("truncated parameters");
  }
  map.params.num_shards = static_cast<uint32_t>(shards);
  map.params.replication_factor = static_cast<int>(rf);
  map.params.meta_replication_factor = static_cast<int>(meta_rf);
  if (map.version > 0 && (shards == 0 || rf == 0 || meta_rf == 0 ||
                          !map.params.shard.Validate().ok())) {
    return bad("bad parameters");
  }
  if (!r.GetVarint(&nodes, kMaxNodes)) return bad("bad node count");
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t id;
    NodeInfo info;
    uint8_t state;
    if (!r.GetVarint(&id, raft::kMaxReplicaNode) || id == kNoNode ||
        !r.GetBytes(&info.address, kMaxAddressBytes) || !r.GetU8(&state) ||
        state > static_cast<uint8_t>(NodeState::kRemoved)) {
      return bad("bad node");
    }
    info.state = static_cast<NodeState>(state);
    if (!map.nodes.emplace(static_cast<NodeId>(id), std::move(info)).second) {
      return bad("duplicate node");
    }
  }
  if (!GetShard(r, &map.meta)) return bad("bad metadata group");
  uint64_t shard_count;
  if (!r.GetVarint(&shard_count, kMaxShards) || shard_count != shards) {
    return bad("shard count mismatch");
  }
  map.shards.resize(shard_count);
  for (ShardInfo& s : map.shards) {
    if (!GetShard(r, &s)) return bad("bad shard");
  }
  if (!r.done()) return bad("trailing bytes");
  return map;
}

std::string DescribeClusterMap(const ClusterMap& map) {
  return absl::StrCat("v", map.version, " nodes=", map.nodes.size(),
                      " active=", map.ActiveNodes().size(), " shards=", map.params.num_shards,
                      " rf=", map.params.replication_factor, " meta=",
                      map.meta.voters.size(), "v/", map.meta.learners.size(), "l");
}

}  // namespace crema::cluster
