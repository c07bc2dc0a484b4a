#include "node/cluster/meta_command.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/wire.h"

namespace crema::cluster {
namespace {

constexpr uint8_t kVersion = 1;

void PutReplicas(WireWriter& w, const std::vector<ReplicaId>& v) {
  w.PutVarint(v.size());
  for (ReplicaId r : v) w.PutVarint(r);
}

bool GetReplicas(WireReader& r, std::vector<ReplicaId>* v) {
  uint64_t n;
  if (!r.GetVarint(&n, kMaxReplicasPerShard)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!r.GetVarint(&id, UINT32_MAX) || id == raft::kNoReplica) return false;
    if (!v->empty() && id <= v->back()) return false;
    v->push_back(static_cast<ReplicaId>(id));
  }
  return true;
}

bool Applied(ClusterMap& map) {
  ++map.version;
  return true;
}

bool AddIntent(ClusterMap& map, raft::GroupId group, NodeId node) {
  ShardInfo* g = map.MutableGroup(group);
  auto n = map.nodes.find(node);
  if (g == nullptr || n == map.nodes.end() || n->second.state != NodeState::kActive) return false;
  if (g->ReplicaOn(node) != raft::kNoReplica) return false;
  if (g->voters.size() + g->learners.size() + g->adding.size() >= kMaxReplicasPerShard) {
    return false;
  }
  const ReplicaId r = raft::MakeReplicaId(node, g->next_generation);
  g->next_generation = g->next_generation % raft::kMaxReplicaGeneration + 1;  // 1..255
  g->adding.push_back(r);
  std::sort(g->adding.begin(), g->adding.end());
  return Applied(map);
}

bool RecordConf(ClusterMap& map, const MetaCommand& c) {
  ShardInfo* g = map.MutableGroup(c.group);
  if (g == nullptr || c.conf_index <= g->conf_index || c.voters.empty()) return false;
  g->voters = c.voters;
  g->learners = c.learners;
  g->conf_index = c.conf_index;
  std::erase_if(g->adding, [g](ReplicaId r) { return g->IsMember(r); });
  return Applied(map);
}

bool CancelIntent(ClusterMap& map, raft::GroupId group, ReplicaId replica) {
  ShardInfo* g = map.MutableGroup(group);
  if (g == nullptr || g->IsMember(replica)) return false;
  auto it = std::find(g->adding.begin(), g->adding.end(), replica);
  if (it == g->adding.end()) return false;
  g->adding.erase(it);
  return Applied(map);
}

absl::Status CreateKeyspace(ClusterMap& map, const MetaCommand& c) {
  if (!map.bootstrapped()) {
    return absl::UnavailableError("the metadata group has not applied the bootstrap map yet; retry");
  }
  absl::StatusOr<keyspace::KeyspaceSpec> spec = keyspace::ParseKeyspaceSpec(c.keyspace_spec);
  if (!spec.ok()) return spec.status();
  if (const KeyspaceRecord* taken = map.LiveKeyspace(spec->index)) {
    return absl::AlreadyExistsError(absl::StrCat("index: keyspace ", spec->index, " exists ('",
                                                 taken->spec.name, "')"));
  }
  if (map.LiveKeyspaceNamed(spec->name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("name: keyspace '", spec->name, "' exists"));
  }
  if (map.DroppingKeyspaces() >= kMaxDroppingKeyspaces) {
    return absl::ResourceExhaustedError(absl::StrCat(
        kMaxDroppingKeyspaces, " dropped keyspaces still wait for their data to be purged"));
  }
  const uint64_t generation = map.next_keyspace_generation++;
  const uint32_t index = spec->index;
  map.keyspaces[{index, generation}] =
      KeyspaceRecord{*std::move(spec), generation, KeyspaceState::kLive};
  Applied(map);
  return absl::OkStatus();
}

absl::Status DropKeyspace(ClusterMap& map, const MetaCommand& c) {
  if (c.keyspace_index == 0) {
    return absl::InvalidArgumentError("index: keyspace 0 (the default) cannot be dropped");
  }
  auto it = map.keyspaces.find({c.keyspace_index, c.keyspace_generation});
  if (it == map.keyspaces.end() || it->second.state != KeyspaceState::kLive) {
    return absl::NotFoundError(absl::StrCat("no live keyspace ", c.keyspace_index,
                                            " of generation ", c.keyspace_generation));
  }
  it->second.state = KeyspaceState::kDropping;
  Applied(map);
  return absl::OkStatus();
}

absl::Status ForgetKeyspace(ClusterMap& map, const MetaCommand& c) {
  auto it = map.keyspaces.find({c.keyspace_index, c.keyspace_generation});
  if (it == map.keyspaces.end() || it->second.state != KeyspaceState::kDropping) {
    return absl::NotFoundError(absl::StrCat("no dropping keyspace ", c.keyspace_index,
                                            " of generation ", c.keyspace_generation));
  }
  map.keyspaces.erase(it);
  Applied(map);
  return absl::OkStatus();
}

}  // namespace

const char* MetaCommandKindName(MetaCommandKind kind) {
  switch (kind) {
    case MetaCommandKind::kBootstrap: return "bootstrap";
    case MetaCommandKind::kAdmit: return "admit";
    case MetaCommandKind::kSetState: return "set-state";
    case MetaCommandKind::kAddIntent: return "add-intent";
    case MetaCommandKind::kRecordConf: return "record-conf";
    case MetaCommandKind::kCancelIntent: return "cancel-intent";
    case MetaCommandKind::kCreateKeyspace: return "create-keyspace";
    case MetaCommandKind::kDropKeyspace: return "drop-keyspace";
    case MetaCommandKind::kForgetKeyspace: return "forget-keyspace";
  }
  return "?";
}

absl::Status ApplyMetaCommandOrWhy(ClusterMap& map, const MetaCommand& c) {
  switch (c.kind) {
    case MetaCommandKind::kCreateKeyspace: return CreateKeyspace(map, c);
    case MetaCommandKind::kDropKeyspace: return DropKeyspace(map, c);
    case MetaCommandKind::kForgetKeyspace: return ForgetKeyspace(map, c);
    default: break;
  }
  if (!ApplyMetaCommand(map, c)) return absl::FailedPreconditionError("no change");
  return absl::OkStatus();
}

bool ApplyMetaCommand(ClusterMap& map, const MetaCommand& c) {
  switch (c.kind) {
    case MetaCommandKind::kBootstrap:
      if (map.bootstrapped() || !c.map.bootstrapped()) return false;
      map = c.map;
      map.version = 1;
      return true;
    case MetaCommandKind::kAdmit: {
      if (!map.bootstrapped() || c.node == kNoNode) return false;
      if (map.nodes.size() >= kMaxNodes && !map.nodes.contains(c.node)) return false;
      auto [it, inserted] = map.nodes.try_emplace(c.node);
      NodeInfo& info = it->second;
      const NodeInfo before = info;
      info.state = NodeState::kActive;
      if (!c.address.empty()) info.address = c.address;
      if (!inserted && info == before) return false;  // already active at that address
      return Applied(map);
    }
    case MetaCommandKind::kSetState: {
      auto it = map.nodes.find(c.node);
      if (it == map.nodes.end() || it->second.state == c.state) return false;
      it->second.state = c.state;
      return Applied(map);
    }
    case MetaCommandKind::kAddIntent:
      return AddIntent(map, c.group, c.node);
    case MetaCommandKind::kRecordConf:
      return RecordConf(map, c);
    case MetaCommandKind::kCancelIntent:
      return CancelIntent(map, c.group, c.replica);
    case MetaCommandKind::kCreateKeyspace:
    case MetaCommandKind::kDropKeyspace:
    case MetaCommandKind::kForgetKeyspace:
      return ApplyMetaCommandOrWhy(map, c).ok();
  }
  return false;
}

std::string EncodeMetaCommand(const MetaCommand& c) {
  WireWriter w;
  w.PutU8(kVersion);
  w.PutU8(static_cast<uint8_t>(c.kind));
  switch (c.kind) {
    case MetaCommandKind::kBootstrap:
      w.PutBytes(EncodeClusterMap(c.map));
      break;
    case MetaCommandKind::kAdmit:
      w.PutVarint(c.node);
      w.PutBytes(c.address);
      break;
    case MetaCommandKind::kSetState:
      w.PutVarint(c.node);
      w.PutU8(static_cast<uint8_t>(c.state));
      break;
    case MetaCommandKind::kAddIntent:
      w.PutVarint(c.group);
      w.PutVarint(c.node);
      break;
    case MetaCommandKind::kRecordConf:
      w.PutVarint(c.group);
      PutReplicas(w, c.voters);
      PutReplicas(w, c.learners);
      w.PutVarint(c.conf_index);
      break;
    case MetaCommandKind::kCancelIntent:
      w.PutVarint(c.group);
      w.PutVarint(c.replica);
      break;
    case MetaCommandKind::kCreateKeyspace:
      w.PutBytes(c.keyspace_spec);
      break;
    case MetaCommandKind::kDropKeyspace:
    case MetaCommandKind::kForgetKeyspace:
      w.PutVarint(c.keyspace_index);
      w.PutVarint(c.keyspace_generation);
      break;
  }
  return std::move(w).Finish();
}

absl::StatusOr<MetaCommand> DecodeMetaCommand(std::string_view bytes) {
  auto bad = [](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("meta command: ", what));
  };
  WireReader r(bytes);
  MetaCommand c;
  // Initialised: a field read after a failed Get (below, before `ok` is checked) must not be an
  // indeterminate value (clang -Wsometimes-uninitialized, seen in the sanitizer build).
  uint8_t version = 0, kind = 0, state = 0;
  uint64_t node = 0;
  std::string map_bytes;
  if (!r.GetU8(&version) || version != kVersion) return bad("unknown version");
  uint64_t replica = 0;
  if (!r.GetU8(&kind) || kind < 1 ||
      kind > static_cast<uint8_t>(MetaCommandKind::kForgetKeyspace)) {
    return bad("unknown kind");
  }
  c.kind = static_cast<MetaCommandKind>(kind);
  bool ok = false;
  switch (c.kind) {
    case MetaCommandKind::kBootstrap: {
      ok = r.GetBytes(&map_bytes, 64 << 20);
      if (ok) {
        absl::StatusOr<ClusterMap> map = DecodeClusterMap(map_bytes);
        if (!map.ok()) return map.status();
        c.map = *std::move(map);
      }
      break;
    }
    case MetaCommandKind::kAdmit:
      ok = r.GetVarint(&node, raft::kMaxReplicaNode) && node != kNoNode &&
           r.GetBytes(&c.address, kMaxAddressBytes);
      c.node = static_cast<NodeId>(node);
      break;
    case MetaCommandKind::kSetState:
      ok = r.GetVarint(&node, raft::kMaxReplicaNode) && node != kNoNode && r.GetU8(&state) &&
           state <= static_cast<uint8_t>(NodeState::kRemoved);
      c.node = static_cast<NodeId>(node);
      c.state = static_cast<NodeState>(state);
      break;
    case MetaCommandKind::kAddIntent:
      ok = r.GetVarint(&c.group) && r.GetVarint(&node, raft::kMaxReplicaNode) && node != kNoNode;
      c.node = static_cast<NodeId>(node);
      break;
    case MetaCommandKind::kRecordConf:
      ok = r.GetVarint(&c.group) && GetReplicas(r, &c.voters) && GetReplicas(r, &c.learners) &&
           r.GetVarint(&c.conf_index);
      break;
    case MetaCommandKind::kCancelIntent:
      ok = r.GetVarint(&c.group) && r.GetVarint(&replica, UINT32_MAX) &&
           replica != raft::kNoReplica;
      c.replica = static_cast<ReplicaId>(replica);
      break;
    case MetaCommandKind::kCreateKeyspace:
      // Only bounded here: a spec that does not parse is refused when applied, with its reason.
      ok = r.GetBytes(&c.keyspace_spec, keyspace::kMaxKeyspaceSpecBytes);
      break;
    case MetaCommandKind::kDropKeyspace:
    case MetaCommandKind::kForgetKeyspace: {
      uint64_t index = 0;
      ok = r.GetVarint(&index, keyspace::kMaxKeyspaces - 1) && r.GetVarint(&c.keyspace_generation);
      c.keyspace_index = static_cast<uint32_t>(index);
      break;
    }
  }
  if (!ok || !r.done()) return bad("truncated, out of range or trailing bytes");
  return c;
}

std::string FormatMetaCommand(const MetaCommand& c) {
  std::string out = MetaCommandKindName(c.kind);
  switch (c.kind) {
    case MetaCommandKind::kBootstrap:
      absl::StrAppend(&out, " ", DescribeClusterMap(c.map));
      break;
    case MetaCommandKind::kAdmit:
      absl::StrAppend(&out, " n", c.node, " ", c.address);
      break;
    case MetaCommandKind::kSetState:
      absl::StrAppend(&out, " n", c.node, " ", NodeStateName(c.state));
      break;
    case MetaCommandKind::kAddIntent:
      absl::StrAppend(&out, " g", c.group, " n", c.node);
      break;
    case MetaCommandKind::kRecordConf:
      absl::StrAppend(&out, " g", c.group, " voters=(", absl::StrJoin(c.voters, ","),
                      ") learners=(", absl::StrJoin(c.learners, ","), ") at ", c.conf_index);
      break;
    case MetaCommandKind::kCancelIntent:
      absl::StrAppend(&out, " g", c.group, " r", c.replica);
      break;
    case MetaCommandKind::kCreateKeyspace:
      absl::StrAppend(&out, " ", c.keyspace_spec);
      break;
    case MetaCommandKind::kDropKeyspace:
    case MetaCommandKind::kForgetKeyspace:
      absl::StrAppend(&out, " ks", c.keyspace_index, "/", c.keyspace_generation);
      break;
  }
  return out;
}

}  // namespace crema::cluster
