// CacheNode: start-up, shutdown, and the CacheApi methods — each turns its arguments into a
// replicated command or a read of one shard and hands it to the origin path (origin.cc).
#include "node/cache_node/cache_node.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/membership/placement.h"
#include "node/sync.h"
#include "xxhash.h"

namespace crema {
namespace {

using replicated::Command;
using replicated::CommandKind;
using replicated::ExpiryKind;
using replicated::ResultCode;

// The API's answer for a state machine result that is not a success.
absl::Status ResultError(const replicated::Result& r) {
  switch (r.code) {
    case ResultCode::kOk:
    case ResultCode::kNotApplied:
      return absl::OkStatus();
    case ResultCode::kNotInteger:
      return absl::FailedPreconditionError("value is not an integer or out of range");
    case ResultCode::kSessionLimit:
      return absl::ResourceExhaustedError("too many unacknowledged requests for this shard");
    case ResultCode::kExpiredRequest:
      return absl::UnavailableError("request expired before it could be applied");
    case ResultCode::kStale:
      return absl::DeadlineExceededError("request outcome unknown (superseded)");
    case ResultCode::kInvalid:
      return absl::InternalError("the shard rejected the command as invalid");
  }
  return absl::InternalError("unknown result code");
}

}  // namespace

CacheNode::CacheNode(Env env, CacheConfig config, CacheNodeOptions options)
    : env_(env), config_(std::move(config)), options_(std::move(options)) {}

CacheNode::~CacheNode() {
  // The node's fibers are gone by now (Shutdown, or a crash unwound them): touch nothing of the
  // Env. Raft groups go before the state machines they drive.
  *alive_ = false;
  // The health source outlives the node (CacheNodeOptions::health): it must not call us back.
  if (health_subscription_.has_value()) options_.health->Unsubscribe(*health_subscription_);
  if (controller_) controller_->Stop();
  host_.reset();
}

absl::StatusOr<std::unique_ptr<CacheNode>> CacheNode::Start(Env env, CacheConfig config,
                                                            CacheNodeOptions options) {
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  if (config.node_id != env.self) {
    return absl::InvalidArgumentError("cache config: node_id differs from the environment's");
  }
  if (env.self > raft::kMaxReplicaNode) {
    return absl::InvalidArgumentError("node ids must be below 2^24");
  }
  std::unique_ptr<CacheNode> node(new CacheNode(env, std::move(config), std::move(options)));
  if (absl::Status s = node->StartInternal(); !s.ok()) return s;
  return node;
}

absl::Status CacheNode::StartInternal() {
  // Everything that can fail runs before the first fiber of the node's parts exists: a failed
  // start destroys this object, and a fiber left behind would run on freed memory.
  session_nonce_ = env_.random->Next();
  bool first_start = false;
  if (absl::Status s = LoadOrCreateIdentity(&first_start); !s.ok()) return s;
  founder_first_start_ = first_start && !config_.bootstrap.empty();
  std::optional<cluster::ClusterMap> initial_map;
  if (founder_first_start_) {
    cluster::ClusterParams params;
    params.num_shards = config_.num_shards;
    params.replication_factor = config_.replication_factor;
    params.meta_replication_factor = config_.meta_replication_factor;
    // Capacity per shard: the founders' capacity, spread over every shard's replicas.
    std::vector<NodeId> founders = config_.bootstrap;
    std::sort(founders.begin(), founders.end());
    const int64_t replicas =
        int64_t{config_.num_shards} * std::min<int64_t>(config_.replication_factor,
                                                        static_cast<int64_t>(founders.size()));
    params.shard.capacity =
        std::max<int64_t>(1, config_.max_capacity * static_cast<int64_t>(founders.size()) /
                                 std::max<int64_t>(replicas, 1));
    params.shard.weigh_bytes = config_.capacity_unit == CapacityUnit::kBytes;
    params.shard.session_ttl_ns = absl::ToInt64Nanoseconds(options_.session_ttl);
    params.shard.max_request_age_ns = absl::ToInt64Nanoseconds(options_.max_request_age);
    if (absl::Status s = params.shard.Validate(); !s.ok()) return s;
    std::vector<std::string> addresses(founders.size());
    for (size_t i = 0; i < founders.size(); ++i) {
      if (founders[i] == env_.self) addresses[i] = config_.peer_address;
    }
    initial_map = cluster::InitialClusterMap(founders, addresses, params, config_.keyspaces);
  }

  // From here on nothing fails.
  raft::RaftHostOptions host_options;
  host_options.tick_interval = config_.tick_interval;
  host_options.shared_log = config_.raft_shared_log;
  if (options_.metrics != nullptr) {
    metrics::Histogram fsync = options_.metrics->fsync_seconds;
    host_options.on_log_sync = [fsync](absl::Duration took) mutable { fsync.ObserveDuration(took); };
  }
  host_ = raft::RaftHost::Start(env_, host_options);
  rpc_ = std::make_unique<forward::Rpc>(env_, [this] { return map_.version; });
  rpc_->SetOnPeerMapVersion([this](NodeId peer, uint64_t) { FetchMap(peer); });
  env_.network->SetPeerHandler([this, alive = alive_](NodeId peer, bool reachable) {
    if (*alive) OnPeerHint(peer, reachable);
  });
  InstallHandlers();

  membership::MembershipNodeConfig m;
  m.swim = options_.swim;
  m.seeds = config_.seeds;
  for (NodeId f : config_.bootstrap) m.seeds.push_back(f);
  m.address = config_.peer_address;
  m.placement.num_shards = std::max<uint32_t>(config_.num_shards, 1);
  m.clock = options_.clock;
  m.clock.max_offset = options_.monitor_clock ? config_.max_clock_skew : absl::ZeroDuration();
  membership_ = std::make_unique<membership::MembershipNode>(env_, std::move(m));
  membership_->SetClockObserver(
      [this](const membership::ClockStatus& status, const std::string& description) {
        OnClockTransition(status, description);
      });
  // A fresh MembershipNode starts, and subscribes, without error.
  absl::Status membership_started = membership_->Start();
  assert(membership_started.ok());
  (void)membership_started;
  absl::StatusOr<membership::MembershipNode::SubscriptionId> subscribed = membership_->Subscribe(
      [this](const membership::MembershipEvent& e) { OnMembershipEvent(e); });
  assert(subscribed.ok());
  (void)subscribed;
  if (options_.health != nullptr) {
    absl::StatusOr<discovery::MembershipSource::SubscriptionId> health =
        options_.health->Subscribe([this](const membership::MembershipEvent& e) { OnHealthEvent(e); });
    if (health.ok()) health_subscription_ = *health;
    // Nodes the view already holds as down are down for Raft from the start.
    for (const membership::Member& m : options_.health->Members()) {
      if (m.id != env_.self && !options_.health->IsAvailable(m.id)) host_->ReportNodeDown(m.id);
    }
  }

  if (initial_map.has_value()) {
    SetMap(*std::move(initial_map));
  } else if (absl::StatusOr<cluster::ClusterMap> persisted = LoadPersistedMap(); persisted.ok()) {
    SetMap(*std::move(persisted));
  }
  // Replicas of the known map (a founder bootstraps its initial groups here).
  ReconcileReplicas();
  // Every founding group exists durably: a restart is never a first start again. If the write
  // fails (a disk fault), the maintenance loop retries it.
  PersistFounderIdentity();
  started_ = true;
  env_.executor->Spawn(absl::StrCat("cache-node-", env_.self),
                       [this, alive = alive_] {
                         if (*alive) MaintenanceLoop();
                       });
  return absl::OkStatus();
}

void CacheNode::Shutdown(absl::Duration timeout) {
  if (shutdown_) return;
  shutdown_ = true;
  const absl::Time deadline = env_.clock->MonotonicNow() + timeout;
  if (controller_) controller_->Stop();
  // Hand leaderships to another voter so clients see no election timeout.
  for (auto& [group, h] : hosted_) {
    if (h.driver == nullptr || !h.driver->has_core() || h.driver->stopped()) continue;
    const raft::Raft& core = h.driver->core();
    if (core.role() != raft::Role::kLeader) continue;
    for (raft::ReplicaId to : core.conf().voters) {
      if (to == core.id()) continue;
      auto p = core.progress().find(to);
      if (p == core.progress().end() || p->second.match < core.commit()) continue;
      (void)h.driver->TransferLeadership(to).Wait(
          std::max(absl::ZeroDuration(),
                   std::min(deadline - env_.clock->MonotonicNow(), absl::Seconds(1))));
      break;
    }
    if (env_.clock->MonotonicNow() >= deadline) break;
  }
  if (membership_) membership_->Leave();
  if (health_subscription_.has_value()) options_.health->Unsubscribe(*health_subscription_);
  health_subscription_.reset();
  if (rpc_) rpc_->Shutdown();
  if (host_) host_->Shutdown();
}

// --- helpers ------------------------------------------------------------------------------------

absl::Status CacheNode::ValidateKey(std::string_view key) const {
  if (key.empty()) return absl::InvalidArgumentError("empty key");
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("key longer than ", kMaxKeyBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<cluster::ShardId> CacheNode::ShardOf(std::string_view key) const {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (!map_.bootstrapped()) return absl::UnavailableError("this node has no cluster map yet");
  return membership::ShardOfKey(key, map_.params.num_shards);
}

int64_t CacheNode::DefaultTtlNs() const {
  return config_.default_ttl == absl::InfiniteDuration()
             ? 0
             : absl::ToInt64Nanoseconds(config_.default_ttl);
}

replicated::Expiry CacheNode::ToExpiry(const Expiration& e) const {
  switch (e.kind) {
    case Expiration::Kind::kDefault:
      return DefaultTtlNs() > 0 ? replicated::Expiry{ExpiryKind::kAfter, DefaultTtlNs()}
                                : replicated::Expiry{ExpiryKind::kNever, 0};
    case Expiration::Kind::kNever: return {ExpiryKind::kNever, 0};
    case Expiration::Kind::kAfter:
      return {ExpiryKind::kAfter, std::max<int64_t>(1, absl::ToInt64Nanoseconds(e.ttl))};
    case Expiration::Kind::kAt:
      return {ExpiryKind::kAt, absl::ToUnixNanos(e.at)};
    case Expiration::Kind::kKeep: return {ExpiryKind::kKeep, 0};
  }
  return {ExpiryKind::kNever, 0};
}

absl::Duration CacheNode::Clamp(absl::Duration timeout) {
  return std::clamp(timeout, absl::Milliseconds(1), absl::Minutes(1));
}

absl::StatusOr<CacheNode::WriteOutcome> CacheNode::Write(cluster::ShardId shard, Command command,
                                                         absl::Duration timeout) {
  if (shutdown_) return absl::UnavailableError("node shutting down");
  command.default_ttl_ns = DefaultTtlNs();
  ++stats_.writes;
  absl::StatusOr<WriteOutcome> out = ExecuteWrite(
      cluster::GroupOfShard(shard), std::move(command),
      env_.clock->MonotonicNow() + Clamp(timeout));
  if (!out.ok()) return out.status();
  if (absl::Status s = ResultError(out->result); !s.ok()) return s;
  return out;
}

// --- reads --------------------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> CacheNode::Get(std::string_view key,
                                                          const ReadOptions& options) {
  absl::StatusOr<std::vector<std::optional<std::string>>> r =
      MultiGet({std::string(key)}, options);
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

absl::StatusOr<std::vector<std::optional<std::string>>> CacheNode::MultiGet(
    const std::vector<std::string>& keys, const ReadOptions& options) {
  if (keys.empty() || keys.size() > kMaxMultiKeys) {
    return absl::InvalidArgumentError("bad number of keys");
  }
  const ReadConsistency consistency = options.consistency.value_or(config_.default_read);
  const absl::Time deadline = env_.clock->MonotonicNow() + Clamp(options.timeout);
  // Group keys by shard, in shard order (deterministic), remembering their positions.
  absl::btree_map<cluster::ShardId, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<cluster::ShardId> shard = ShardOf(keys[i]);
    if (!shard.ok()) return shard.status();
    by_shard[*shard].push_back(i);
  }
  std::vector<std::optional<std::string>> out(keys.size());
  for (const auto& [shard, positions] : by_shard) {
    std::vector<std::string> shard_keys;
    for (size_t i : positions) shard_keys.push_back(keys[i]);
    absl::StatusOr<ReadOutcome> r = ExecuteRead(cluster::GroupOfShard(shard), ReadOp::kGet,
                                                shard_keys, consistency, deadline);
    if (!r.ok()) return r.status();
    for (size_t j = 0; j < positions.size(); ++j) {
      if (r->items[j].present) out[positions[j]] = std::move(r->items[j].value);
    }
  }
  return out;
}

std::optional<absl::StatusOr<std::optional<std::string>>> CacheNode::TryGetNow(
    std::string_view key, const ReadOptions& options) {
  if (shutdown_ || options_.plant_local_read_no_floor ||
      options_.plant_linearizable_read_no_read_index) {
    return std::nullopt;  // the planted bugs live on the slow path only
  }
  // One reading of each clock serves the whole read: the step check below validates exactly the
  // wall time the expiry decision uses, and the lease check uses the same monotonic time.
  const absl::Time mono = options.now ? options.now->monotonic : env_.clock->MonotonicNow();
  const absl::Time wall = options.now ? options.now->wall : env_.clock->Now();
  if (ClockOutOfBound(mono, wall)) return std::nullopt;  // Get refuses or forwards (clock_guard.cc)
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return std::nullopt;  // Get gives the error
  const raft::GroupId group = cluster::GroupOfShard(*shard);
  Hosted* h = Find(group);
  if (!Readable(h)) return std::nullopt;
  // ReadLocal for one key without its vectors: the clock is within its bound (checked above, for
  // this very reading), so ReadLocal's refusal of entries with deadlines cannot apply.
  auto read_now = [&]() -> absl::StatusOr<std::optional<std::string>> {
    std::optional<std::string> v = h->cache->Read(key, wall);
    CountRead(v.has_value());
    return v;
  };
  if (options.consistency.value_or(config_.default_read) == ReadConsistency::kLocal) {
    // ExecuteRead's local rule, without its waits.
    if (!h->LocalReady() || !CaughtUp(*h, Floor(group))) return std::nullopt;
    ++stats_.reads_local;
    return read_now();
  }
  // Linearizable: on a leader whose lease is valid (Raft::LeaseValid: leader, an entry of its term
  // committed, no transfer under way) a ReadIndex is answered at once with its commit index
  // (Raft::ServeReadAsLeader); this replica must have applied all of it. Without a valid lease a
  // round is needed: Get does it. (The planted bug skips exactly this check.)
  if (!(options_.plant_inline_read_without_lease && h->LocalReady())) {
    const raft::Raft& core = h->driver->core();
    if (!core.LeaseValid(mono) || h->driver->applied() < core.commit()) {
      return std::nullopt;
    }
    ++stats_.reads_linearizable;
    RaiseFloor(group, core.commit());
  }
  return read_now();
}

absl::StatusOr<TtlResult> CacheNode::Ttl(std::string_view key, const ReadOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  absl::StatusOr<ReadOutcome> r = ExecuteRead(
      cluster::GroupOfShard(*shard), ReadOp::kTtl, {std::string(key)},
      options.consistency.value_or(config_.default_read),
      env_.clock->MonotonicNow() + Clamp(options.timeout));
  if (!r.ok()) return r.status();
  TtlResult ttl;
  const ReadItem& item = r->items[0];
  if (!item.present) return ttl;
  if (item.deadline == absl::InfiniteFuture()) {
    ttl.kind = TtlResult::Kind::kNoExpiry;
    return ttl;
  }
  const absl::Duration remaining = item.deadline - env_.clock->Now();
  if (remaining <= absl::ZeroDuration()) return ttl;  // expired while it travelled
  ttl.kind = TtlResult::Kind::kExpires;
  ttl.remaining = remaining;
  return ttl;
}

absl::StatusOr<int64_t> CacheNode::Size(const ReadOptions&) {
  // Every shard's size as this node knows it: its own replicas' counts (a shard not hosted here
  // counts through its leader's last status, when known). Approximate by design.
  int64_t total = 0;
  for (const auto& [group, h] : hosted_) {
    if (h.cache != nullptr) total += h.cache->size();
  }
  if (map_.bootstrapped() && map_.params.replication_factor > 0) {
    // Each key is held by replication_factor replicas; scale this node's share to the cluster.
    const int64_t hosted_shards = std::count_if(hosted_.begin(), hosted_.end(), [](auto& e) {
      return e.second.cache != nullptr;
    });
    if (hosted_shards > 0) total = total * map_.params.num_shards / hosted_shards;
  }
  return total;
}

// --- writes -------------------------------------------------------------------------------------

absl::StatusOr<PutResult> CacheNode::Put(std::string_view key, std::string_view value,
                                         const PutOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("value longer than ", kMaxValueBytes, " bytes"));
  }
  if (options.expiration.kind == Expiration::Kind::kAfter &&
      options.expiration.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("invalid expire time");
  }
  Command c;
  c.kind = CommandKind::kPut;
  c.key = std::string(key);
  c.value = std::string(value);
  c.expiry = ToExpiry(options.expiration);
  c.condition = options.condition;
  c.return_previous = options.return_previous;
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  PutResult result;
  result.written = out->result.code == ResultCode::kOk;
  result.previous = std::move(out->result.value);
  return result;
}

absl::Status CacheNode::MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                                 const Expiration& expiration, const WriteOptions& options) {
  if (entries.empty() || entries.size() > kMaxMultiKeys) {
    return absl::InvalidArgumentError("bad number of entries");
  }
  // Bad keys and values fail the whole call before anything is proposed.
  for (const auto& [key, value] : entries) {
    if (absl::StatusOr<cluster::ShardId> shard = ShardOf(key); !shard.ok()) return shard.status();
    if (value.size() > kMaxValueBytes) return absl::InvalidArgumentError("value too long");
  }
  for (absl::Status& s : MultiPutEach(entries, expiration, options)) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> CacheNode::Delete(std::string_view key,
                                                             const WriteOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  Command c;
  c.kind = CommandKind::kDelete;
  c.key = std::string(key);
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return std::move(out->result.value);
}

absl::StatusOr<bool> CacheNode::CompareAndSet(std::string_view key,
                                              std::optional<std::string> expected,
                                              std::string_view new_value,
                                              const Expiration& expiration,
                                              const WriteOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  if (new_value.size() > kMaxValueBytes || (expected && expected->size() > kMaxValueBytes)) {
    return absl::InvalidArgumentError("value too long");
  }
  Command c;
  c.kind = CommandKind::kCas;
  c.key = std::string(key);
  c.expected = std::move(expected);
  c.value = std::string(new_value);
  c.expiry = ToExpiry(expiration);
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return out->result.code == ResultCode::kOk;
}

absl::StatusOr<int64_t> CacheNode::Increment(std::string_view key, int64_t delta,
                                             const WriteOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  Command c;
  c.kind = CommandKind::kIncrement;
  c.key = std::string(key);
  c.delta = delta;
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return out->result.integer;
}

absl::StatusOr<bool> CacheNode::Expire(std::string_view key, const Expiration& expiration,
                                       const WriteOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  if (expiration.kind != Expiration::Kind::kAfter && expiration.kind != Expiration::Kind::kAt &&
      expiration.kind != Expiration::Kind::kNever) {
    return absl::InvalidArgumentError("expire needs a ttl, a time, or never");
  }
  Command c;
  c.kind = CommandKind::kExpire;
  c.key = std::string(key);
  if (expiration.kind == Expiration::Kind::kAfter && expiration.ttl <= absl::ZeroDuration()) {
    c.expiry = {ExpiryKind::kAt, absl::ToUnixNanos(absl::UnixEpoch())};  // in the past: delete
  } else {
    c.expiry = ToExpiry(expiration);
  }
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return out->result.code == ResultCode::kOk;
}

// One kExpireIf entry: the condition is judged by the state machine when it applies the entry, so
// it is atomic with the change and the same on every replica.
absl::StatusOr<bool> CacheNode::ExpireIf(std::string_view key, const Expiration& expiration,
                                         ExpireCondition condition, const WriteOptions& options) {
  if (!condition.Valid()) return absl::InvalidArgumentError("incompatible expire conditions");
  if (condition.empty()) return Expire(key, expiration, options);
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  if (expiration.kind != Expiration::Kind::kAfter && expiration.kind != Expiration::Kind::kAt) {
    return absl::InvalidArgumentError("a conditional expire needs a ttl or a time");
  }
  Command c;
  c.kind = CommandKind::kExpireIf;
  c.key = std::string(key);
  c.expire_condition = condition;
  if (expiration.kind == Expiration::Kind::kAfter && expiration.ttl <= absl::ZeroDuration()) {
    c.expiry = {ExpiryKind::kAt, absl::ToUnixNanos(absl::UnixEpoch())};  // in the past
  } else {
    c.expiry = ToExpiry(expiration);
  }
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return out->result.code == ResultCode::kOk;
}

absl::StatusOr<std::optional<std::string>> CacheNode::GetAndTouch(
    std::string_view key, std::optional<Expiration> expiration, const WriteOptions& options) {
  absl::StatusOr<cluster::ShardId> shard = ShardOf(key);
  if (!shard.ok()) return shard.status();
  Command c;
  c.kind = CommandKind::kGetAndTouch;
  c.key = std::string(key);
  if (expiration) {
    if (expiration->kind == Expiration::Kind::kAfter && expiration->ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("invalid expire time");
    }
    c.touch = true;
    c.expiry = ToExpiry(*expiration);
  }
  absl::StatusOr<WriteOutcome> out = Write(*shard, std::move(c), options.timeout);
  if (!out.ok()) return out.status();
  return std::move(out->result.value);
}

// --- administration -----------------------------------------------------------------------------

absl::Status CacheNode::AdmitNode(NodeId node, const WriteOptions& options) {
  if (node == kNoNode || node > raft::kMaxReplicaNode) {
    return absl::InvalidArgumentError("bad node id");
  }
  cluster::MetaCommand c{.kind = cluster::MetaCommandKind::kAdmit, .node = node};
  std::optional<std::string> address = KnownAddress(node);
  if (address) c.address = *address;
  if (!address && !map_.nodes.contains(node) && node != env_.self) {
    return absl::NotFoundError(absl::StrCat("node ", node, " is not known by gossip"));
  }
  return MetaChange(std::move(c), options.timeout);
}

absl::Status CacheNode::DrainNode(NodeId node, const WriteOptions& options) {
  if (!map_.nodes.contains(node)) return absl::NotFoundError(absl::StrCat("no node ", node));
  return MetaChange(cluster::MetaCommand{.kind = cluster::MetaCommandKind::kSetState,
                                         .node = node, .state = NodeState::kDraining},
                    options.timeout);
}

absl::Status CacheNode::RemoveNode(NodeId node, const WriteOptions& options) {
  if (!map_.nodes.contains(node)) return absl::NotFoundError(absl::StrCat("no node ", node));
  if (map_.ActiveNodes().size() <= 1 && map_.nodes.at(node).state == NodeState::kActive) {
    return absl::FailedPreconditionError("cannot remove the last active node");
  }
  return MetaChange(cluster::MetaCommand{.kind = cluster::MetaCommandKind::kSetState,
                                         .node = node, .state = NodeState::kRemoved},
                    options.timeout);
}

absl::Status CacheNode::MetaChange(cluster::MetaCommand command, absl::Duration timeout) {
  return MetaPropose(std::move(command), timeout).status();
}

absl::Status CacheNode::TransferShardLeader(uint32_t shard, NodeId to,
                                            const WriteOptions& options) {
  if (!map_.bootstrapped() || shard >= map_.params.num_shards) {
    return absl::NotFoundError(absl::StrCat("no shard ", shard));
  }
  const raft::ReplicaId replica = map_.shards[shard].ReplicaOn(to);
  if (replica == raft::kNoReplica || !raft::IsVoter(raft::ConfState{map_.shards[shard].voters},
                                                    replica)) {
    return absl::FailedPreconditionError(absl::StrCat("node ", to, " is not a voter of shard ",
                                                      shard));
  }
  forward::Request q;
  q.kind = forward::RequestKind::kTransferLeader;
  q.group = cluster::GroupOfShard(shard);
  q.payload = cluster::EncodeReplicaList({replica});
  bool maybe = false;
  absl::StatusOr<forward::Reply> reply =
      CallLeader(q.group, std::move(q), env_.clock->MonotonicNow() + Clamp(options.timeout),
                 &maybe);
  if (!reply.ok()) return reply.status();
  if (reply->status == forward::ReplyStatus::kError) return reply->ErrorStatus();
  return absl::OkStatus();
}

ClusterStatus CacheNode::Status() {
  ClusterStatus s;
  s.self = env_.self;
  s.map_version = map_.version;
  s.num_shards = map_.params.num_shards;
  s.replication_factor = map_.params.replication_factor;
  s.ready = ready();
  const membership::ClockStatus& clock = membership_->clock_status();
  s.clock.monitored = clock.enabled;
  s.clock.out_of_bound = ClockOutOfBound();
  s.clock.median_offset_ms = absl::ToInt64Milliseconds(clock.median_offset);
  s.clock.max_offset_ms = absl::ToInt64Milliseconds(clock.max_offset_seen);
  s.clock.peers_estimated = static_cast<int64_t>(clock.peers_estimated);
  s.clock.peers_beyond = static_cast<int64_t>(clock.peers_beyond);
  s.clock.description = membership_->DescribeClock();
  if (const Hosted* meta = Find(cluster::kMetaGroup);
      meta != nullptr && meta->driver != nullptr && meta->driver->has_core()) {
    s.meta_leader = raft::NodeOfReplica(meta->driver->core().leader());
  } else if (auto hint = leader_hints_.find(cluster::kMetaGroup); hint != leader_hints_.end()) {
    s.meta_leader = hint->second;
  }
  absl::btree_map<NodeId, NodeStatus> nodes;
  for (const auto& [id, info] : map_.nodes) {
    NodeStatus& n = nodes[id];
    n.id = id;
    n.address = info.address;
    n.state = info.state;
  }
  for (const membership::Member& m : membership_->Members()) {
    NodeStatus& n = nodes[m.id];
    n.id = m.id;
    if (n.address.empty()) n.address = m.address;
    if (!map_.nodes.contains(m.id)) n.state = NodeState::kJoining;
    n.gossip_state = std::string(membership::MemberStateName(m.state));
  }
  for (auto& [id, n] : nodes) {
    const membership::PeerHealth health = membership_->Health(id);
    if (n.gossip_state.empty()) n.gossip_state = health.known ? "known" : "unknown";
    n.phi = id == env_.self ? 0 : health.phi;
    n.available = PeerAvailable(id);
  }
  for (cluster::ShardId shard = 0; shard < map_.shards.size(); ++shard) {
    const cluster::ShardInfo& info = map_.shards[shard];
    ShardStatus st;
    st.shard = shard;
    for (raft::ReplicaId r : info.voters) {
      st.voters.push_back(raft::NodeOfReplica(r));
      if (nodes.contains(raft::NodeOfReplica(r))) ++nodes[raft::NodeOfReplica(r)].replicas;
    }
    for (raft::ReplicaId r : info.learners) st.learners.push_back(raft::NodeOfReplica(r));
    const raft::GroupId group = cluster::GroupOfShard(shard);
    if (const Hosted* h = Find(group);
        h != nullptr && h->driver != nullptr && h->driver->has_core() && !h->driver->stopped()) {
      const raft::Raft& core = h->driver->core();
      st.leader = raft::NodeOfReplica(core.leader());
      st.commit_index = core.commit();
      if (h->cache) st.entries = h->cache->size();
      if (core.role() == raft::Role::kLeader) {
        for (const auto& [r, p] : core.progress()) {
          st.max_apply_lag = std::max(st.max_apply_lag,
                                      core.commit() > p.match ? core.commit() - p.match : 0);
        }
      }
    } else if (auto hint = leader_hints_.find(group); hint != leader_hints_.end()) {
      st.leader = hint->second;
    }
    if (st.leader != kNoNode && nodes.contains(st.leader)) ++nodes[st.leader].leaders;
    s.shards.push_back(std::move(st));
  }
  for (auto& [id, n] : nodes) s.nodes.push_back(std::move(n));
  return s;
}

}  // namespace crema
