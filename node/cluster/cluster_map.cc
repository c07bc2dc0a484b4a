#include "node/cluster/cluster_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/membership/placement.h"
#include "node/wire.h"

namespace crema::cluster {
namespace {

// 1: before keyspaces were kept in the map (still decoded: no keyspaces); 2: with them.
constexpr uint8_t kVersionWithoutKeyspaces = 1;
constexpr uint8_t kVersion = 2;

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

// Five varints (three replica counts, conf_index, next_generation) of at least one byte each.
constexpr size_t kMinEncodedShardBytes = 5;

bool GetShard(WireReader& r, ShardInfo* s) {
  uint64_t generation;
  return GetReplicas(r, &s->voters) && GetReplicas(r, &s->learners) &&
         r.GetVarint(&s->conf_index) && GetReplicas(r, &s->adding) &&
         r.GetVarint(&generation, raft::kMaxReplicaGeneration + 1) &&
         (s->next_generation = static_cast<uint32_t>(generation), true);
}

void PutKeyspaces(WireWriter& w, const ClusterMap& map) {
  w.PutVarint(map.next_keyspace_generation);
  w.PutVarint(map.keyspaces.size());
  for (const auto& [key, record] : map.keyspaces) {
    w.PutVarint(key.first);
    w.PutVarint(key.second);
    w.PutU8(static_cast<uint8_t>(record.state));
    w.PutBytes(record.spec.ToString());
  }
}

// Reads the keyspace records and checks the invariants of cluster_map.h; nullptr or the reason.
const char* GetKeyspaces(WireReader& r, ClusterMap* map) {
  uint64_t count;
  if (!r.GetVarint(&map->next_keyspace_generation) || map->next_keyspace_generation == 0 ||
      !r.GetVarint(&count, keyspace::kMaxKeyspaces + kMaxDroppingKeyspaces)) {
    return "bad keyspace count";
  }
  absl::btree_map<std::string, uint32_t> live_names;
  size_t dropping = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t index, generation;
    uint8_t state;
    std::string_view text;
    if (!r.GetVarint(&index, keyspace::kMaxKeyspaces - 1) || !r.GetVarint(&generation) ||
        !r.GetU8(&state) || state > static_cast<uint8_t>(KeyspaceState::kDropping) ||
        !r.GetView(&text, keyspace::kMaxKeyspaceSpecBytes)) {
      return "bad keyspace record";
    }
    absl::StatusOr<keyspace::KeyspaceSpec> spec = keyspace::ParseKeyspaceSpec(text);
    if (!spec.ok() || spec->index != index) return "bad keyspace spec";
    if (generation != 0 && generation >= map->next_keyspace_generation) {
      return "keyspace generation not yet issued";
    }
    const KeyspaceKey key{static_cast<uint32_t>(index), generation};
    if (!map->keyspaces.empty() && key <= map->keyspaces.rbegin()->first) {
      return "keyspaces not sorted";
    }
    KeyspaceRecord record{*std::move(spec), generation, static_cast<KeyspaceState>(state)};
    if (record.state == KeyspaceState::kDropping) {
      if (++dropping > kMaxDroppingKeyspaces) return "too many dropping keyspaces";
    } else if (map->LiveKeyspace(key.first) != nullptr ||
               !live_names.emplace(record.spec.name, key.first).second) {
      return "two live keyspaces share an index or a name";
    }
    map->keyspaces.emplace(key, std::move(record));
  }
  return nullptr;
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

const char* KeyspaceStateName(KeyspaceState state) {
  return state == KeyspaceState::kLive ? "live" : "dropping";
}

const KeyspaceRecord* ClusterMap::LiveKeyspace(uint32_t index) const {
  // Records of one index are adjacent, ordered by generation; at most one of them is live.
  for (auto it = keyspaces.lower_bound({index, 0}); it != keyspaces.end() && it->first.first == index;
       ++it) {
    if (it->second.state == KeyspaceState::kLive) return &it->second;
  }
  return nullptr;
}

const KeyspaceRecord* ClusterMap::LiveKeyspaceNamed(std::string_view name) const {
  for (const auto& [key, record] : keyspaces) {
    if (record.state == KeyspaceState::kLive && record.spec.name == name) return &record;
  }
  return nullptr;
}

size_t ClusterMap::DroppingKeyspaces() const {
  size_t n = 0;
  for (const auto& [key, record] : keyspaces) n += record.state == KeyspaceState::kDropping;
  return n;
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
                             const ClusterParams& params,
                             const std::vector<keyspace::KeyspaceSpec>& keyspaces) {
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
  for (const keyspace::KeyspaceSpec& spec : keyspaces) {
    map.keyspaces[{spec.index, 0}] = KeyspaceRecord{spec, 0, KeyspaceState::kLive};
  }
  if (map.LiveKeyspace(0) == nullptr) {
    map.keyspaces[{0, 0}] = KeyspaceRecord{keyspace::KeyspaceSpec{}, 0, KeyspaceState::kLive};
  }
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
  PutKeyspaces(w, map);
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
  if (!r.GetU8(&version) || (version != kVersion && version != kVersionWithoutKeyspaces)) {
    return bad("unknown version");
  }
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
  // Every shard record takes at least kMinEncodedShardBytes: refuse a count the rest of the input
  // cannot hold before allocating records for it (a 20-byte input claiming 65,536 shards made
  // this allocate ~6 MB; found by cluster_codec_fuzzer's memory budget).
  if (shard_count > r.remaining() / kMinEncodedShardBytes) return bad("more shards than bytes");
  map.shards.resize(shard_count);
  for (ShardInfo& s : map.shards) {
    if (!GetShard(r, &s)) return bad("bad shard");
  }
  if (version == kVersion) {
    if (const char* why = GetKeyspaces(r, &map)) return bad(why);
  }
  if (!r.done()) return bad("trailing bytes");
  return map;
}

std::string DescribeClusterMap(const ClusterMap& map) {
  return absl::StrCat("v", map.version, " nodes=", map.nodes.size(),
                      " active=", map.ActiveNodes().size(), " shards=", map.params.num_shards,
                      " rf=", map.params.replication_factor, " meta=",
                      map.meta.voters.size(), "v/", map.meta.learners.size(), "l",
                      " keyspaces=", map.keyspaces.size() - map.DroppingKeyspaces());
}

}  // namespace crema::cluster
