#include "node/eventual/driver/eventual_node.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "xxhash.h"

namespace crema::eventual {
namespace {

template <typename T>
constexpr bool kIsReply =
    std::is_same_v<T, ReplicaWriteAck> || std::is_same_v<T, ReplicaReadReply> ||
    std::is_same_v<T, HintDeliverAck> || std::is_same_v<T, AeRootsReply> ||
    std::is_same_v<T, AeChildrenReply> || std::is_same_v<T, AeLeafKeysReply> ||
    std::is_same_v<T, AePushAck> || std::is_same_v<T, AePullReply> ||
    std::is_same_v<T, ClientReply>;

template <typename T>
uint64_t IdField(const T& m) {
  if constexpr (requires { m.req; }) {
    return m.req;
  } else if constexpr (requires { m.xid; }) {
    return m.xid;
  } else {
    return m.op;
  }
}

constexpr char kIdentityFile[] = "identity";  // the trust record
constexpr char kIdentityTempFile[] = "identity.tmp";
constexpr char kTrustMagic[] = "CREMATRS";
constexpr uint32_t kMaxTrustShards = 1 << 20;
constexpr char kRingFile[] = "ring";
constexpr char kRingTempFile[] = "ring.tmp";
constexpr char kRingMagic[] = "CREMARNG";
constexpr uint32_t kMaxSavedMembers = 65536;
constexpr int kMaxRingReads = 4;
constexpr absl::Duration kPersistRecheck = absl::Milliseconds(500);

// A saved file's body followed by its XXH3 checksum (8 bytes, wire order).
std::string Sealed(std::string body) {
  WireWriter sum;
  sum.PutU64(XXH3_64bits(body.data(), body.size()));
  return body + std::move(sum).Finish();
}

// The body of a Sealed file; false if it is too short or its checksum does not match.
bool Unsealed(std::string_view bytes, std::string_view* body) {
  if (bytes.size() < 8) return false;
  *body = bytes.substr(0, bytes.size() - 8);
  WireReader sum(bytes.substr(bytes.size() - 8));
  uint64_t checksum = 0;
  return sum.GetU64(&checksum) && checksum == XXH3_64bits(body->data(), body->size());
}

std::string EncodeRing(const std::vector<NodeId>& members) {
  WireWriter w;
  w.PutBytes(kRingMagic);
  w.PutU32(static_cast<uint32_t>(members.size()));
  for (NodeId m : members) w.PutU32(m);
  return Sealed(std::move(w).Finish());
}

bool DecodeRing(std::string_view bytes, std::vector<NodeId>* members) {
  std::string_view body;
  if (!Unsealed(bytes, &body)) return false;
  WireReader r(body);
  std::string magic;
  uint32_t count = 0;
  if (!r.GetBytes(&magic, 16) || magic != kRingMagic || !r.GetCount(&count, kMaxSavedMembers)) return false;
  members->clear();
  for (uint32_t i = 0; i < count; ++i) {
    NodeId m = kNoNode;
    if (!r.GetU32(&m) || m == kNoNode) return false;
    members->push_back(m);
  }
  return r.done();
}

// The trust record: magic, node id, shard count, the trusted shards, an XXH3 checksum.
std::string EncodeTrust(NodeId self, uint32_t num_shards, const absl::btree_set<ShardId>& trusted) {
  WireWriter w;
  w.PutBytes(kTrustMagic);
  w.PutU32(self);
  w.PutU32(num_shards);
  w.PutU32(static_cast<uint32_t>(trusted.size()));
  for (ShardId shard : trusted) w.PutU32(shard);
  return Sealed(std::move(w).Finish());
}

bool DecodeTrust(std::string_view bytes, NodeId self, uint32_t num_shards,
                 absl::btree_set<ShardId>* trusted) {
  std::string_view body;
  if (!Unsealed(bytes, &body)) return false;
  WireReader r(body);
  std::string magic;
  uint32_t id = kNoNode, shards = 0, count = 0;
  if (!r.GetBytes(&magic, 16) || magic != kTrustMagic || !r.GetU32(&id) || id != self ||
      !r.GetU32(&shards) || shards != num_shards || !r.GetCount(&count, kMaxTrustShards)) {
    return false;
  }
  trusted->clear();
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t shard = 0;
    if (!r.GetU32(&shard) || shard >= num_shards) return false;
    trusted->insert(static_cast<ShardId>(shard));
  }
  return r.done();
}

}  // namespace

const char* HintOutcomeName(HintOutcome outcome) {
  switch (outcome) {
    case HintOutcome::kDelivered: return "delivered";
    case HintOutcome::kSuperseded: return "superseded";
    case HintOutcome::kExpired: return "expired";
    case HintOutcome::kOrphaned: return "orphaned";
    case HintOutcome::kRetired: return "retired";
  }
  return "?";
}

EventualNode::EventualNode(Env env, discovery::MembershipSource* membership, EventualConfig config,
                           EventualObserver* observer)
    : env_(env),
      membership_(membership),
      config_(std::move(config)),
      observer_(observer),
      random_(env.random->Fork("eventual")),
      hlc_(env.self, config_.max_forward_skew),
      store_(config_.store),
      hints_(config_.hints) {
  assert(env_.self != kNoNode && env_.clock && env_.network && env_.disk && env_.executor &&
         env_.tracer && membership_ != nullptr);
  assert(config_.replication >= 1 && config_.replication <= kMaxReplication);
  assert(config_.max_inflight_requests > 0 && config_.max_pending_mutations > 0 &&
         config_.max_mutation_batch > 0);
}

// Touches no Env object: a simulated crash destroys the Executor (unwinding our fibers) first.
EventualNode::~EventualNode() = default;

// ---------------------------------------------------------------------------------------------
// Waiters: reply routing by request id.

EventualNode::Waiter::Waiter(EventualNode* node, size_t capacity)
    : node_(node), channel_(node->env_.executor, capacity) {}

EventualNode::Waiter::~Waiter() {
  for (uint64_t id : ids_) node_->waiters_.erase(id);
}

uint64_t EventualNode::Waiter::NewId() {
  const uint64_t id = ++node_->next_id_;
  node_->waiters_[id] = &channel_;
  ids_.push_back(id);
  return id;
}

absl::StatusOr<EventualNode::Incoming> EventualNode::Waiter::Recv(absl::Time deadline) {
  const absl::Time now = node_->Now();
  return channel_.Recv(deadline <= now ? absl::ZeroDuration() : deadline - now);
}

void EventualNode::Route(uint64_t id, NodeId from, Message message) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;  // a late reply: its request already finished
  (void)it->second->TrySend(Incoming{from, std::move(message)});
}

// ---------------------------------------------------------------------------------------------
// Lifecycle.

absl::Status EventualNode::Start() {
  if (started_) return absl::FailedPreconditionError("EventualNode already started");
  started_ = true;
  started_at_ = Now();
  // Request ids start at a random point so replies meant for an earlier incarnation of this node
  // (same id space, still in flight) are not mistaken for ours.
  next_id_ = random_.Next() >> 1;
  session_ = random_.Next() | 1;
  mutations_ = std::make_unique<Channel<Mutation>>(env_.executor, config_.max_pending_mutations);
  absl::StatusOr<discovery::MembershipSource::SubscriptionId> subscribed =
      membership_->Subscribe([this](const membership::MembershipEvent& event) {
        using Kind = membership::MembershipEventKind;
        if (event.kind == Kind::kDead) dead_since_.try_emplace(event.member.id, Now());
        if (event.kind == Kind::kJoined || event.kind == Kind::kAliveAgain) {
          dead_since_.erase(event.member.id);
        }
        if (recovered_) sync_wake_.WakeAll(*env_.executor);
      });
  if (!subscribed.ok()) return subscribed.status();
  env_.network->SetHandler(Service::kEventual, [this](NodeId from, std::string bytes) {
    OnMessage(from, std::move(bytes));
  });
  SpawnTracked("eventual.recover", [this] {
    for (int attempt = 0; !stopped_; ++attempt) {
      absl::Status status = Recover();
      if (status.ok()) {
        AfterRecovery();
        return;
      }
      env_.tracer->Record("eventual.recover_failed", status.ToString());
      if (!env_.executor->Sleep(absl::Milliseconds(100) * std::min(attempt + 1, 20)).ok()) return;
    }
  });
  return absl::OkStatus();
}

void EventualNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (mutations_) mutations_->Close();
  for (FiberId fiber : fibers_) env_.executor->Cancel(fiber);
  sync_wake_.WakeAll(*env_.executor);
}

FiberId EventualNode::SpawnTracked(std::string name, absl::AnyInvocable<void()> body) {
  const FiberId id = env_.executor->Spawn(std::move(name), std::move(body));
  fibers_.push_back(id);
  return id;
}

absl::Status EventualNode::CheckServing() const {
  if (!started_) return absl::FailedPreconditionError("eventual node not started");
  if (stopped_) return absl::FailedPreconditionError("eventual node stopped");
  if (!recovered_) return absl::FailedPreconditionError("eventual node recovering from disk");
  if (!membership_->Joined()) return absl::UnavailableError("membership not joined yet");
  return absl::OkStatus();
}

absl::Status EventualNode::Recover() {
  const std::string data_prefix = config_.disk_prefix + "data/";
  const std::string hint_prefix = config_.disk_prefix + "hints/";
  DurableMap::Contents contents;
  DurableMapRecovery recovery;
  bool wiped = false;
  absl::StatusOr<std::unique_ptr<DurableMap>> data =
      DurableMap::Open(env_.disk, data_prefix, {}, &contents, &recovery);
  if (absl::IsDataLoss(data.status())) {
    // An unreadable snapshot: this replica's data is lost; start empty and recover it from the
    // other replicas (the fresh-disk path below makes sure no read is served before that).
    env_.tracer->Record("eventual.data_lost", data.status().ToString());
    // The trust record goes first: a crash half-way through must not leave a disk that trusts
    // shards whose records it lost.
    if (absl::Status s = env_.disk->Delete(config_.disk_prefix + kIdentityFile);
        !s.ok() && !absl::IsNotFound(s)) {
      return s;
    }
    absl::Status wipe = DurableMap::Wipe(env_.disk, data_prefix);
    if (!wipe.ok()) return wipe;
    ++stats_.disk_wiped;
    wiped = true;
    data = DurableMap::Open(env_.disk, data_prefix, {}, &contents, &recovery);
  }
  if (!data.ok()) return data.status();
  stats_.torn_tail_bytes += recovery.torn_tail_bytes;
  store_ = ReplicaStore(config_.store);
  const absl::Time wall = Wall();
  for (const auto& [key, bytes] : contents) {
    WireReader reader(bytes);
    Record record;
    if (!ValidateKey(key).ok() || !DecodeRecord(reader, &record).ok() || !reader.done()) {
      ++stats_.malformed_messages;
      continue;
    }
    if (store_.Apply(key, record, wall) == ApplyOutcome::kApplied) ++stats_.recovered_records;
  }
  if (!store_.max_version().IsZero()) (void)hlc_.Observe(store_.max_version(), wall);
  data_map_ = std::move(*data);

  DurableMap::Contents hint_contents;
  absl::StatusOr<std::unique_ptr<DurableMap>> hint_map =
      DurableMap::Open(env_.disk, hint_prefix, {}, &hint_contents, &recovery);
  if (absl::IsDataLoss(hint_map.status())) {
    env_.tracer->Record("eventual.hints_lost", hint_map.status().ToString());
    absl::Status wipe = DurableMap::Wipe(env_.disk, hint_prefix);
    if (!wipe.ok()) return wipe;
    if (observer_ != nullptr) observer_->HintsLost(env_.self);
    hint_map = DurableMap::Open(env_.disk, hint_prefix, {}, &hint_contents, &recovery);
  }
  if (!hint_map.ok()) return hint_map.status();
  hints_ = HintSet(config_.hints);
  std::vector<Hint> recovered_hints;
  for (const auto& [storage_key, bytes] : hint_contents) {
    Hint hint;
    if (!HintSet::Decode(bytes, &hint).ok()) {
      ++stats_.malformed_messages;
      continue;
    }
    if (hints_.Add(hint) != HintAddResult::kFull) recovered_hints.push_back(std::move(hint));
  }
  stats_.recovered_hints += recovered_hints.size();
  hint_map_ = std::move(*hint_map);

  // The trust record names the shards whose records this disk holds completely (PersistTrust);
  // absent on a new or wiped disk, so nothing is trusted until synchronised.
  absl::StatusOr<std::optional<absl::btree_set<ShardId>>> recorded = ReadTrustRecord();
  if (!recorded.ok()) return recorded.status();
  recovered_trusted_.clear();
  if (*recorded && !wiped) recovered_trusted_ = std::move(**recorded);
  if (!*recorded && config_.bootstrap_new_cluster) {
    // A founding member's empty disk is complete: it never acknowledged anything.
    for (ShardId shard = 0; shard < config_.store.num_shards; ++shard) {
      recovered_trusted_.insert(shard);
    }
    if (absl::Status s = WriteTrustRecord(recovered_trusted_); !s.ok()) return s;
  }
  persisted_trusted_ = recovered_trusted_;
  // The last ring this node knew (absent, damaged or unreadable: the initial members, if any).
  remembered_members_ = config_.initial_members;
  absl::StatusOr<std::unique_ptr<File>> ring_file =
      env_.disk->Open(config_.disk_prefix + kRingFile, OpenMode::kOpenExisting);
  if (ring_file.ok()) {
    for (int attempt = 0; attempt < kMaxRingReads; ++attempt) {
      absl::StatusOr<std::string> bytes = (*ring_file)->Read(0, (*ring_file)->Size());
      std::vector<NodeId> saved;
      if (bytes.ok() && DecodeRing(*bytes, &saved)) {
        remembered_members_ = std::move(saved);
        ring_file_recovered_ = true;
        break;
      }
    }
  }
  if (observer_ != nullptr) observer_->HintsRecovered(env_.self, recovered_hints);
  env_.tracer->Record("eventual.recovered",
                      absl::StrCat("records=", store_.size(), " hints=", hints_.size(),
                                   " trusted=", recovered_trusted_.size()));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::btree_set<ShardId>>> EventualNode::ReadTrustRecord() {
  absl::StatusOr<std::unique_ptr<File>> file =
      env_.disk->Open(config_.disk_prefix + kIdentityFile, OpenMode::kOpenExisting);
  if (absl::IsNotFound(file.status())) return std::nullopt;
  if (!file.ok()) return file.status();
  for (int attempt = 0; attempt < kMaxRingReads; ++attempt) {
    absl::StatusOr<std::string> bytes = (*file)->Read(0, (*file)->Size());
    absl::btree_set<ShardId> trusted;
    if (bytes.ok() && DecodeTrust(*bytes, env_.self, config_.store.num_shards, &trusted)) {
      return trusted;
    }
  }
  // Unreadable or not ours (e.g. the completeness marker of an older version, or a different
  // shard count): trust nothing — it only costs a resynchronisation.
  env_.tracer->Record("eventual.trust_record_invalid", "");
  return std::nullopt;
}

absl::Status EventualNode::WriteTrustRecord(const absl::btree_set<ShardId>& trusted) {
  const std::string temp = config_.disk_prefix + kIdentityTempFile;
  absl::StatusOr<std::unique_ptr<File>> file = env_.disk->Open(temp, OpenMode::kCreate);
  absl::Status status = file.status();
  if (status.ok()) status = (*file)->Truncate(0);
  if (status.ok()) {
    status = (*file)->Write(0, EncodeTrust(env_.self, config_.store.num_shards, trusted));
  }
  if (status.ok()) status = (*file)->Sync();
  if (status.ok()) status = env_.disk->Rename(temp, config_.disk_prefix + kIdentityFile);
  return status;
}

void EventualNode::PersistTrust() {
  if (trusted_ == persisted_trusted_) return;
  const absl::btree_set<ShardId> snapshot = trusted_;
  if (absl::Status s = WriteTrustRecord(snapshot); s.ok()) {
    persisted_trusted_ = snapshot;
    return;
  } else {
    env_.tracer->Record("eventual.trust_record_failed", s.ToString());
  }
  // A failed write (disk full, say) must not leave a record that trusts a shard the node no
  // longer trusts: then the record goes, and a restart trusts nothing (costs a resync).
  const bool only_additions = std::includes(snapshot.begin(), snapshot.end(),
                                            persisted_trusted_.begin(), persisted_trusted_.end());
  if (only_additions) return;  // the old record is a subset: still true; retried next round
  absl::Status deleted = env_.disk->Delete(config_.disk_prefix + kIdentityFile);
  if (deleted.ok() || absl::IsNotFound(deleted)) persisted_trusted_.clear();
}

void EventualNode::PersistLoop() {
  while (!stopped_) {
    PersistTrust();
    SaveRing();
    const absl::Status waited = env_.executor->Wait(persist_wake_, Now() + kPersistRecheck);
    if (absl::IsCancelled(waited)) return;
  }
}

void EventualNode::AfterRecovery() {
  recovered_ = true;
  trusted_ = recovered_trusted_;  // only what the trust record names
  (void)Ring();  // prunes trusted_ to the shards owned now
  SpawnTracked("eventual.commit", [this] { CommitLoop(); });
  SpawnTracked("eventual.persist", [this] { PersistLoop(); });
  SpawnTracked("eventual.sync", [this] { SyncLoop(); });
  SpawnTracked("eventual.hints", [this] { HintLoop(); });
  SpawnTracked("eventual.maintenance", [this] { MaintenanceLoop(); });
}

// ---------------------------------------------------------------------------------------------
// Messages.

void EventualNode::Send(NodeId to, const Message& message) {
  env_.network->Send(to, Service::kEventual, EncodeMessage(message));
}

void EventualNode::OnMessage(NodeId from, std::string bytes) {
  if (stopped_) return;
  absl::StatusOr<Message> decoded = DecodeMessage(bytes);
  if (!decoded.ok()) {
    ++stats_.malformed_messages;
    return;
  }
  if (!recovered_) return;  // senders retry
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (kIsReply<T>) {
          Route(IdField(m), from, Message(std::move(m)));
        } else if constexpr (std::is_same_v<T, ReplicaWrite>) {
          HandleReplicaWrite(from, std::move(m));
        } else if constexpr (std::is_same_v<T, ReplicaRead>) {
          HandleReplicaRead(from, m);
        } else if constexpr (std::is_same_v<T, HintDeliver>) {
          HandleHintDeliver(from, std::move(m));
        } else if constexpr (std::is_same_v<T, AePush>) {
          HandleAePush(from, std::move(m));
        } else if constexpr (std::is_same_v<T, AeRoots>) {
          HandleAeRoots(from, m);
        } else if constexpr (std::is_same_v<T, AeChildren>) {
          HandleAeChildren(from, m);
        } else if constexpr (std::is_same_v<T, AeLeafKeys>) {
          HandleAeLeafKeys(from, m);
        } else if constexpr (std::is_same_v<T, AePull>) {
          HandleAePull(from, m);
        } else if constexpr (std::is_same_v<T, ClientRequest>) {
          HandleClientRequest(from, std::move(m));
        }
      },
      *decoded);
}

void EventualNode::ObserveClock(const Version& version) {
  if (!version.IsZero()) (void)hlc_.Observe(version, Wall());
}

// ---------------------------------------------------------------------------------------------
// Ring, health, readiness.

bool EventualNode::Healthy(NodeId node) {
  if (node == env_.self) return !stopped_;
  return membership_->IsAvailable(node);
}

const EventualRing& EventualNode::Ring() {
  const absl::Time now = Now();
  if (ring_ && membership_->view_version() == ring_view_version_ && now < next_ring_check_) {
    return *ring_;
  }
  ring_view_version_ = membership_->view_version();
  next_ring_check_ = absl::InfiniteFuture();
  std::vector<NodeId> ids;
  const std::vector<membership::Member> members = membership_->Members();
  // Saved members the source does not know (yet) stay until ring_removal_delay after the start.
  if (now - started_at_ < config_.ring_removal_delay) {
    for (NodeId id : remembered_members_) {
      const bool known = std::any_of(members.begin(), members.end(),
                                     [id](const membership::Member& m) { return m.id == id; });
      if (!known && id != env_.self) ids.push_back(id);
    }
    if (!remembered_members_.empty()) {
      next_ring_check_ = std::min(next_ring_check_, started_at_ + config_.ring_removal_delay);
    }
  }
  for (const membership::Member& m : members) {
    if (m.id == env_.self) continue;
    if (m.state == membership::MemberState::kLeft) continue;
    if (m.state == membership::MemberState::kDead) {
      const absl::Time since = dead_since_.try_emplace(m.id, now).first->second;
      if (now - since >= config_.ring_removal_delay) continue;
      next_ring_check_ = std::min(next_ring_check_, since + config_.ring_removal_delay);
    }
    ids.push_back(m.id);
  }
  if (!left_) ids.push_back(env_.self);
  EventualRing next(ids, config_.replication, config_.vnodes, config_.store.num_shards);
  if (!ring_ || ring_->members() != next.members()) {
    std::optional<EventualRing> before = std::move(ring_);
    if (before) {
      recent_rings_.emplace_back(*before, now);
      if (recent_rings_.size() > kMaxRecentRings) recent_rings_.pop_front();
    } else if (next.Contains(env_.self) &&
               (ring_file_recovered_ ||
                (!config_.bootstrap_new_cluster &&
                 std::find(remembered_members_.begin(), remembered_members_.end(), env_.self) ==
                     remembered_members_.end()))) {
      // A joining node's first ring already holds itself, while the others' rings do not yet:
      // for them its arrival is a ring change, and so it is for the writes it coordinates —
      // they must also reach the owners in the ring without it (seed 3927 of the dynamo sweep:
      // a joiner's first W=ALL~ write went to itself and two others, and an R=ONE~ read through
      // an owner in the old ring, which never got it, missed it).
      // A restarted node is taken for a joiner too: its saved ring holds itself, but if it was
      // down longer than ring_removal_delay the others have removed it, and nothing on its disk
      // says whether they did. Treating every restart so costs, for ownership_settle, the extra
      // acknowledgements of owners in the ring without it (often the same nodes).
      recent_rings_.emplace_back(next.Without(env_.self), now);
    }
    ring_ = std::move(next);
    ring_dirty_ = true;
    OnRingChanged(before ? *before : EventualRing({}, config_.replication, config_.vnodes,
                                                  config_.store.num_shards),
                  *ring_);
  }
  return *ring_;
}

void EventualNode::OnRingChanged(const EventualRing& before, const EventualRing& after) {
  // A shard this node no longer owns is no longer trusted: should it own it again later, it has
  // missed the writes in between and must synchronise first.
  bool distrusted = false;
  for (auto it = trusted_.begin(); it != trusted_.end();) {
    if (after.IsOwner(*it, env_.self)) {
      ++it;
    } else {
      it = trusted_.erase(it);
      distrusted = true;
    }
  }
  for (auto it = synced_.begin(); it != synced_.end();) {
    it = after.IsOwner(it->first, env_.self) ? std::next(it) : synced_.erase(it);
  }
  for (auto it = acquired_at_.begin(); it != acquired_at_.end();) {
    it = after.IsOwner(it->first, env_.self) ? std::next(it) : acquired_at_.erase(it);
  }
  // Shards gained now start their settle period (a fresh disk's start from its first ring).
  const absl::Time now = Now();
  for (ShardId shard = 0; shard < config_.store.num_shards; ++shard) {
    if (trusted_.contains(shard) || !after.IsOwner(shard, env_.self)) continue;
    if (before.IsOwner(shard, env_.self) && acquired_at_.contains(shard)) continue;
    acquired_at_.try_emplace(shard, now);
  }
  env_.tracer->Record("eventual.ring", absl::StrJoin(after.members(), ","));
  (void)before;
  if (recovered_) {
    sync_wake_.WakeAll(*env_.executor);
    // The ring is saved, and a shard no longer trusted leaves the trust record, promptly.
    if (distrusted || ring_dirty_) persist_wake_.WakeAll(*env_.executor);
  }
}

void EventualNode::SaveRing() {
  if (!ring_dirty_ || !ring_) return;
  ring_dirty_ = false;
  const std::string temp = config_.disk_prefix + kRingTempFile;
  absl::StatusOr<std::unique_ptr<File>> file = env_.disk->Open(temp, OpenMode::kCreate);
  absl::Status status = file.status();
  if (status.ok()) status = (*file)->Truncate(0);
  if (status.ok()) status = (*file)->Write(0, EncodeRing(ring_->members()));
  if (status.ok()) status = (*file)->Sync();
  if (status.ok()) status = env_.disk->Rename(temp, config_.disk_prefix + kRingFile);
  if (!status.ok()) ring_dirty_ = true;  // try again later
}

std::vector<NodeId> EventualNode::RequiredPeers(ShardId shard) {
  const std::vector<NodeId>& list = Ring().PreferenceList(shard);
  std::vector<NodeId> peers;
  const size_t n = static_cast<size_t>(config_.replication);
  // The owners in this ring, and the owners in the ring without this node (the previous owners
  // if it just arrived): the first n members, and the first n others.
  size_t others = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == env_.self) continue;
    ++others;
    const bool owner_now = i < n;
    const bool owner_without_me = others <= n;
    if (!owner_now && !owner_without_me) break;
    peers.push_back(list[i]);
  }
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  return peers;
}

bool EventualNode::Skippable(NodeId peer) {
  auto it = unavailable_since_.find(peer);
  return it != unavailable_since_.end() && Now() - it->second >= config_.recovery_skip_after;
}

bool EventualNode::ReadyFor(ShardId shard, absl::Span<const NodeId> listed) {
  if (!membership_->Joined()) return false;
  if (trusted_.contains(shard)) return true;
  if (!Ring().IsOwner(shard, env_.self)) return false;
  auto acquired = acquired_at_.find(shard);
  if (acquired != acquired_at_.end() && Now() - acquired->second < config_.ownership_settle) {
    return false;
  }
  auto synced = synced_.find(shard);
  auto done = [&](NodeId peer) {
    return peer == env_.self || (synced != synced_.end() && synced->second.contains(peer)) ||
           Skippable(peer);
  };
  for (NodeId peer : RequiredPeers(shard)) {
    if (!done(peer)) return false;
  }
  for (NodeId peer : listed) {
    if (!done(peer)) return false;
  }
  return true;
}

}  // namespace crema::eventual
