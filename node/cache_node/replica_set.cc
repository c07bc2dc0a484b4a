// CacheNode, hosting by the map: which replicas this node runs (exactly those the cluster map
// lists for it), and how it keeps its copy of the map current (its own metadata replica, pushes
// of deltas from the metadata leader, fetches when it learns of a newer version).
//
// Safety of deleting replica data: a replica is destroyed (and its files deleted) only when the
// node's map no longer lists it, and only after that map is durable on this node — so a restart
// never resurrects, from an older map, a replica whose data is gone. The map lists a replica until
// Raft has removed it (cluster_map.h), so nothing Raft counts on is ever deleted.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/wire.h"
#include "xxhash.h"

namespace crema {
namespace {

constexpr char kMapFile[] = "node/cluster_map";
constexpr char kMapTempFile[] = "node/cluster_map.tmp";
constexpr char kIdentityFile[] = "node/identity";
constexpr char kIdentityTempFile[] = "node/identity.tmp";
constexpr int kReadAttempts = 3;  // transient read corruption is retried

using forward::Reply;
using forward::ReplyStatus;
using forward::RequestKind;

// Whole-file contents with an XXH3 checksum in front; DataLoss if it does not match.
absl::StatusOr<std::string> ReadChecked(Disk& disk, std::string_view name) {
  absl::Status last = absl::NotFoundError(std::string(name));
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    absl::StatusOr<std::unique_ptr<File>> file = disk.Open(name, OpenMode::kOpenExisting);
    if (!file.ok()) return file.status();
    const uint64_t size = (*file)->Size();
    if (size < 8 || size > kMaxReadBytes) return absl::DataLossError("bad size");
    absl::StatusOr<std::string> bytes = (*file)->Read(0, size);
    if (!bytes.ok()) return bytes.status();
    uint64_t sum = 0;
    for (int i = 7; i >= 0; --i) sum = (sum << 8) | static_cast<uint8_t>((*bytes)[i]);
    std::string body = bytes->substr(8);
    if (XXH3_64bits(body.data(), body.size()) == sum) return body;
    last = absl::DataLossError(absl::StrCat(std::string(name), ": checksum mismatch"));
  }
  return last;
}

absl::Status WriteChecked(Disk& disk, std::string_view name, std::string_view temp,
                          std::string_view body) {
  std::string bytes(8, '\0');
  const uint64_t sum = XXH3_64bits(body.data(), body.size());
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  bytes.append(body);
  absl::StatusOr<std::unique_ptr<File>> file = disk.Open(temp, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  if (absl::Status s = (*file)->Write(0, bytes); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  return disk.Rename(temp, name);
}

}  // namespace

CacheNode::Hosted* CacheNode::Find(raft::GroupId group) {
  auto it = hosted_index_.find(group);
  return it == hosted_index_.end() ? nullptr : it->second;
}

const CacheNode::Hosted* CacheNode::Find(raft::GroupId group) const {
  auto it = hosted_index_.find(group);
  return it == hosted_index_.end() ? nullptr : it->second;
}

CacheNode::Hosted& CacheNode::AddHosted(raft::GroupId group) {
  Hosted& h = hosted_[group];
  hosted_index_[group] = &h;
  return h;
}

void CacheNode::EraseHosted(raft::GroupId group) {
  hosted_.erase(group);
  hosted_index_.erase(group);
}

std::vector<CacheNode::ReplicaView> CacheNode::Replicas() const {
  std::vector<ReplicaView> out;
  for (const auto& [group, h] : hosted_) {
    out.push_back({group, h.replica, h.destroying ? nullptr : h.driver, h.cache.get(),
                   h.meta.get()});
  }
  return out;
}

// --- identity and the persisted map -------------------------------------------------------------

absl::Status CacheNode::LoadOrCreateIdentity(bool* first_start) {
  if (first_start != nullptr) {
    absl::StatusOr<std::string> identity = ReadChecked(*env_.disk, kIdentityFile);
    // Missing: a first start. Unreadable: not a first start (never risk a second bootstrap).
    *first_start = absl::IsNotFound(identity.status());
    if (identity.ok()) {
      WireReader r(*identity);
      uint64_t id;
      if (!r.GetVarint(&id) || id != env_.self) {
        return absl::FailedPreconditionError(
            "the data directory belongs to another node id; refusing to start");
      }
    }
    return absl::OkStatus();
  }
  WireWriter w;
  w.PutVarint(env_.self);
  return WriteChecked(*env_.disk, kIdentityFile, kIdentityTempFile, std::move(w).Finish());
}

bool CacheNode::IsFoundingReplica(raft::GroupId group, raft::ReplicaId replica) const {
  const cluster::ShardInfo* info = map_.Group(group);
  return info != nullptr && info->conf_index == 0 && raft::GenerationOfReplica(replica) == 0 &&
         std::find(info->voters.begin(), info->voters.end(), replica) != info->voters.end();
}

void CacheNode::PersistFounderIdentity() {
  if (!founder_first_start_) return;
  // Only once every founding replica exists: one whose creation failed (a full disk) must still
  // be created as a founder (bootstrapped), or a shard whose founders all failed would wait for a
  // leader forever, its replicas created as joiners.
  for (const auto& [group, replica] : cluster::HostedReplicas(map_, env_.self)) {
    const Hosted* h = Find(group);
    if (IsFoundingReplica(group, replica) && (h == nullptr || h->driver == nullptr)) return;
  }
  if (absl::Status s = LoadOrCreateIdentity(nullptr); !s.ok()) {
    env_.tracer->Record("cache.identity_write_failed", std::string(s.message()));
    return;
  }
  founder_first_start_ = false;
}

absl::Status CacheNode::PersistMap() {
  if (map_.version <= persisted_version_) return absl::OkStatus();
  const uint64_t version = map_.version;
  absl::Status s = WriteChecked(*env_.disk, kMapFile, kMapTempFile,
                                cluster::EncodeClusterMap(map_));
  if (s.ok()) persisted_version_ = std::max(persisted_version_, version);
  return s;
}

absl::StatusOr<cluster::ClusterMap> CacheNode::LoadPersistedMap() {
  absl::StatusOr<std::string> bytes = ReadChecked(*env_.disk, kMapFile);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<cluster::ClusterMap> map = cluster::DecodeClusterMap(*bytes);
  if (map.ok()) persisted_version_ = map->version;
  return map;
}

// --- the map ------------------------------------------------------------------------------------

void CacheNode::SetMap(cluster::ClusterMap map) {
  if (map.version < map_.version) return;  // older than what we have
  if (map.version == map_.version && map_.bootstrapped()) return;
  if (map.keyspaces != map_.keyspaces) keyspaces_version_ = map.version;
  map_ = std::move(map);
  targets_ = std::make_unique<cluster::TargetPlacement>(map_);
  for (const auto& [id, info] : map_.nodes) {
    if (id != env_.self && !info.address.empty()) env_.network->LearnAddress(id, info.address);
  }
  last_map_news_ = env_.clock->MonotonicNow();
  if (controller_) controller_->Invalidate();
  env_.tracer->Record("cache.map", cluster::DescribeClusterMap(map_));
  ScheduleReconcile();
}

void CacheNode::OnMetaChange() {
  const Hosted* h = Find(cluster::kMetaGroup);
  if (h == nullptr || h->meta == nullptr) return;
  if (h->meta->map().version > map_.version) SetMap(h->meta->map());
}

bool CacheNode::ApplyDeltas(uint64_t from_version, const std::vector<std::string>& deltas) {
  if (from_version > map_.version) return false;  // a gap
  cluster::ClusterMap next = map_;
  for (size_t i = 0; i < deltas.size(); ++i) {
    if (from_version + i < map_.version) continue;  // already applied
    absl::StatusOr<cluster::MetaCommand> c = cluster::DecodeMetaCommand(deltas[i]);
    if (!c.ok() || !cluster::ApplyMetaCommand(next, *c)) return false;
  }
  if (next.version > map_.version) SetMap(std::move(next));
  return true;
}

Reply CacheNode::ServeMapFetch(const forward::Request& request) {
  WireReader r(request.payload);
  uint64_t have;
  if (!r.GetVarint(&have) || !r.done()) {
    return Reply::Error(absl::InvalidArgumentError("bad map fetch"));
  }
  WireWriter w;
  const Hosted* meta = Find(cluster::kMetaGroup);
  std::optional<std::vector<std::string>> deltas;
  if (meta != nullptr && meta->meta != nullptr && meta->meta->map().version == map_.version) {
    deltas = meta->meta->DeltasSince(have);
  }
  if (have >= map_.version) {
    w.PutU8(0);  // up to date
  } else if (deltas && have > 0) {
    w.PutU8(1);
    w.PutVarint(have);
    w.PutVarint(deltas->size());
    for (const std::string& d : *deltas) w.PutBytes(d);
  } else {
    w.PutU8(2);
    w.PutBytes(cluster::EncodeClusterMap(map_));
  }
  Reply reply;
  reply.status = ReplyStatus::kOk;
  reply.payload = std::move(w).Finish();
  return reply;
}

Reply CacheNode::ServeMapPush(const forward::Request& request) {
  WireReader r(request.payload);
  uint64_t from, n;
  std::vector<std::string> deltas;
  if (!r.GetVarint(&from) || !r.GetVarint(&n, cluster::MetaStateMachine::kMaxDeltas)) {
    return Reply::Error(absl::InvalidArgumentError("bad map push"));
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string d;
    if (!r.GetBytes(&d, forward::kMaxPayloadBytes)) {
      return Reply::Error(absl::InvalidArgumentError("bad map push"));
    }
    deltas.push_back(std::move(d));
  }
  if (!ApplyDeltas(from, deltas)) FetchMap(kNoNode);
  return Reply{};
}

void CacheNode::FetchMap(NodeId from) {
  if (fetching_map_ || shutdown_) return;
  fetching_map_ = true;
  ++stats_.map_fetches;
  env_.executor->Spawn("map-fetch", [this, alive = alive_, from] {
    if (!*alive) return;
    std::vector<NodeId> sources;
    if (from != kNoNode) sources.push_back(from);
    for (raft::ReplicaId r : map_.meta.voters) sources.push_back(raft::NodeOfReplica(r));
    for (NodeId n : config_.bootstrap) sources.push_back(n);
    for (NodeId n : config_.seeds) sources.push_back(n);
    for (NodeId n : membership_->LiveMembers()) sources.push_back(n);
    if (options_.health != nullptr) {
      for (NodeId n : LivePeers()) sources.push_back(n);
    }
    std::erase(sources, env_.self);
    for (size_t i = 0; i < sources.size() && i < 6 && !shutdown_; ++i) {
      forward::Request q;
      q.kind = RequestKind::kMapFetch;
      WireWriter w;
      w.PutVarint(map_.version);
      q.payload = std::move(w).Finish();
      absl::StatusOr<Reply> reply = rpc_->Call(sources[i], std::move(q), options_.attempt_timeout);
      if (!*alive) return;
      if (!reply.ok() || reply->status != ReplyStatus::kOk) continue;
      WireReader r(reply->payload);
      uint8_t kind;
      if (!r.GetU8(&kind)) continue;
      if (kind == 0) {
        if (reply->map_version <= map_.version) break;
        continue;
      }
      if (kind == 1) {
        uint64_t base, n;
        std::vector<std::string> deltas;
        bool ok = r.GetVarint(&base) && r.GetVarint(&n, cluster::MetaStateMachine::kMaxDeltas);
        for (uint64_t j = 0; ok && j < n; ++j) {
          std::string d;
          ok = r.GetBytes(&d, forward::kMaxPayloadBytes);
          deltas.push_back(std::move(d));
        }
        if (ok && ApplyDeltas(base, deltas)) break;
        continue;
      }
      std::string bytes;
      if (kind == 2 && r.GetBytes(&bytes, forward::kMaxPayloadBytes)) {
        absl::StatusOr<cluster::ClusterMap> map = cluster::DecodeClusterMap(bytes);
        if (map.ok()) {
          SetMap(*std::move(map));
          break;
        }
      }
    }
    fetching_map_ = false;
  });
}

void CacheNode::PushMap() {
  const Hosted* h = Find(cluster::kMetaGroup);
  if (h == nullptr || h->meta == nullptr || pushed_version_ >= h->meta->map().version) return;
  std::optional<std::vector<std::string>> deltas = h->meta->DeltasSince(pushed_version_);
  const uint64_t from = pushed_version_;
  pushed_version_ = h->meta->map().version;
  if (!deltas || from == 0) return;  // too far behind for deltas: nodes fetch on their own
  WireWriter w;
  w.PutVarint(from);
  w.PutVarint(deltas->size());
  for (const std::string& d : *deltas) w.PutBytes(d);
  const std::string payload = std::move(w).Finish();
  absl::btree_set<NodeId> to;
  for (const auto& [id, info] : map_.nodes) to.insert(id);
  for (NodeId n : membership_->LiveMembers()) to.insert(n);
  for (NodeId n : LivePeers()) to.insert(n);
  to.erase(env_.self);
  for (NodeId n : to) {
    forward::Request q;
    q.kind = RequestKind::kMapPush;
    q.payload = payload;
    rpc_->Send(n, std::move(q));
  }
}

// --- hosting replicas ---------------------------------------------------------------------------

absl::Status CacheNode::WipeGroupFiles(raft::GroupId group) {
  // The group's entries and hard state live in the node's shared Raft log, its snapshots under
  // "raft/<group>/": the host deletes both (a tombstone, then the files).
  if (absl::Status s = host_->DeleteGroupData(group); !s.ok()) return s;
  wipe_pending_.erase(group);
  return absl::OkStatus();
}

void CacheNode::ScheduleReconcile() {
  reconcile_scheduled_ = true;
  if (reconciling_ || reconcile_spawned_ || shutdown_) return;
  reconcile_spawned_ = true;
  env_.executor->Spawn("replica-reconcile", [this, alive = alive_] {
    if (!*alive) return;
    reconcile_spawned_ = false;
    ReconcileReplicas();
  });
}

void CacheNode::ReconcileReplicas() {
  // One reconciler at a time (Start calls it directly while a scheduled one may be pending):
  // two would create and destroy the same replicas under each other's feet.
  if (reconciling_) {
    reconcile_scheduled_ = true;  // the running one goes round again
    return;
  }
  reconciling_ = true;
  bool retry_later = false;  // a replica failed to open: try again after a pause
  for (int round = 0; round < 64 && reconcile_scheduled_ && !shutdown_; ++round) {
    reconcile_scheduled_ = false;
    absl::btree_map<raft::GroupId, raft::ReplicaId> desired;
    for (const auto& [group, replica] : cluster::HostedReplicas(map_, env_.self)) {
      desired[group] = replica;
    }
    std::vector<raft::GroupId> destroy;
    for (const auto& [group, h] : hosted_) {
      auto it = desired.find(group);
      if (it == desired.end() || it->second != h.replica) destroy.push_back(group);
    }
    if (!destroy.empty()) {
      if (absl::Status s = PersistMap(); !s.ok()) {
        env_.tracer->Record("cache.persist_map_failed", std::string(s.message()));
        reconcile_scheduled_ = true;  // try again later (e.g. the disk is full)
        (void)env_.executor->Sleep(options_.maintenance_interval);
        continue;
      }
      for (raft::GroupId group : destroy) (void)DestroyReplica(group);
    }
    for (const auto& [group, replica] : desired) {
      if (shutdown_) break;
      if (hosted_.contains(group)) continue;
      // A corrupt replica waits for its replacement (a new generation) instead.
      if (auto c = corrupt_local_.find(group); c != corrupt_local_.end() && c->second == replica) {
        continue;
      }
      const bool bootstrap = founder_first_start_ && IsFoundingReplica(group, replica);
      if (absl::Status s = CreateReplica(group, replica, bootstrap); !s.ok()) {
        env_.tracer->Record("cache.create_replica_failed",
                            absl::StrCat(group, " ", s.message()));
        retry_later = true;  // not in this call: a failing open retried at once spins the loop
      }
    }
    if (reconcile_scheduled_) (void)env_.executor->Yield();
  }
  reconciling_ = false;
  if ((reconcile_scheduled_ || retry_later) && !shutdown_) {
    // Failures left work: retry after a pause rather than spinning.
    env_.executor->Spawn("replica-reconcile-retry", [this, alive = alive_] {
      if (!*alive || !env_.executor->Sleep(options_.maintenance_interval).ok() || !*alive) return;
      ScheduleReconcile();
    });
  }
}

absl::Status CacheNode::CreateReplica(raft::GroupId group, raft::ReplicaId replica,
                                      bool bootstrap) {
  const cluster::ShardInfo* info = map_.Group(group);
  if (info == nullptr) return absl::NotFoundError("group not in the map");
  raft::GroupOptions o;
  o.raft.id = replica;
  o.raft.group = group;
  o.raft.election_tick = config_.election_tick;
  o.raft.heartbeat_tick = 1;
  o.raft.quiesce = true;
  o.raft.lease_based_reads = config_.lease_reads;
  o.raft.max_clock_drift = config_.max_clock_drift;
  if (bootstrap) o.bootstrap.voters = info->voters;
  o.checkpoint = options_.checkpoint;
  if (auto c = corrupt_local_.find(group); c != corrupt_local_.end()) {
    if (c->second == replica) return absl::DataLossError("this replica is corrupt; awaiting repair");
    corrupt_local_.erase(c);  // a new generation: it starts from wiped files
  }
  Hosted& h = AddHosted(group);
  h.replica = replica;
  h.opening = true;  // DestroyReplica defers to us until CreateGroup returns (it owns `sm`)
  if (group == cluster::kMetaGroup) {
    h.meta = std::make_unique<cluster::MetaStateMachine>();
    h.meta->SetOnChange([this, alive = alive_] {
      if (*alive) OnMetaChange();
    });
  } else {
    h.cache = std::make_unique<replicated::CacheStateMachine>(map_.params.shard);
    if (options_.plant_replica_self_eviction) h.cache->PlantSelfEvictionForTesting();
  }
  raft::StateMachine* sm = h.cache ? static_cast<raft::StateMachine*>(h.cache.get())
                                   : static_cast<raft::StateMachine*>(h.meta.get());
  if (wipe_pending_.contains(group)) {
    // An earlier destroy removed the group but could not delete all of its files.
    if (absl::Status s = WipeGroupFiles(group); !s.ok()) {
      EraseHosted(group);
      return s;
    }
  }
  absl::StatusOr<raft::GroupDriver*> driver = host_->CreateGroup(o, sm);
  Hosted* again = Find(group);
  if (again != nullptr) again->opening = false;
  if (again != nullptr && again->destroying) {
    // Destroyed while it opened: finish that now that nothing uses its state machine.
    if (driver.ok()) again->driver = *driver;
    (void)DestroyReplica(group);
    ScheduleReconcile();
    return absl::AbortedError("replica destroyed while opening");
  }
  if (!driver.ok()) {
    if (again != nullptr && again->driver == nullptr) EraseHosted(group);
    if (absl::IsDataLoss(driver.status())) {
      // Repair from peers: report it; the placement controller replaces it with a new
      // generation, which starts from wiped files and catches up by snapshot.
      corrupt_local_[group] = replica;
      wipe_pending_.insert(group);
      env_.tracer->Record("cache.replica_corrupt",
                          absl::StrCat(group, " r", replica, " ", driver.status().message()));
    }
    return driver.status();
  }
  if (again == nullptr) return absl::AbortedError("replica went away while opening");
  again->driver = *driver;
  ++stats_.replicas_created;
  env_.tracer->Record("cache.replica_created", absl::StrCat(group, " r", replica,
                                                            bootstrap ? " bootstrap" : ""));
  if (group == cluster::kMetaGroup) OnMetaChange();
  return absl::OkStatus();
}

absl::Status CacheNode::DestroyReplica(raft::GroupId group) {
  Hosted* h = Find(group);
  if (h == nullptr) return absl::OkStatus();
  h->destroying = true;
  if (h->opening) return absl::OkStatus();  // CreateReplica finishes the destroy
  FoldCacheStats(group, *h);  // its last evictions and expirations, before it goes
  // The host frees the driver while DestroyGroup waits: nobody may reach it through `h` now.
  const bool had_driver = h->driver != nullptr;
  h->driver = nullptr;
  absl::Status s = absl::OkStatus();
  if (had_driver) s = host_->DestroyGroup(group, /*delete_data=*/true);
  if (!s.ok()) wipe_pending_.insert(group);  // the group is gone; its files must go before reuse
  EraseHosted(group);
  evicting_.erase(group);
  ++stats_.replicas_destroyed;
  env_.tracer->Record("cache.replica_destroyed",
                      absl::StrCat(group, " ", std::string(s.message())));
  return s;
}

}  // namespace crema
