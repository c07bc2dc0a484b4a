// Background work of EventualNode: synchronising untrusted shards, hand-off of shards no longer
// owned, periodic anti-entropy, hint replay and expiry, purging, and decommissioning.
#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/eventual/driver/exchange_runner.h"

namespace crema::eventual {
namespace {

constexpr size_t kMaxHintRemovalsPerRound = 1024;
constexpr int kMaxHintBatchesPerTarget = 64;
constexpr absl::Duration kSyncRecheck = absl::Milliseconds(500);

std::vector<std::vector<ShardId>> Chunks(const std::vector<ShardId>& shards, size_t size) {
  std::vector<std::vector<ShardId>> chunks;
  for (size_t i = 0; i < shards.size(); i += size) {
    chunks.emplace_back(shards.begin() + i, shards.begin() + std::min(shards.size(), i + size));
  }
  return chunks;
}

}  // namespace

void EventualNode::SyncLoop() {
  absl::Time next_exchange = Now() + random_.DurationBetween(absl::ZeroDuration(),
                                                             config_.anti_entropy_interval);
  while (!stopped_) {
    // Track how long each ring member has been unavailable (Skippable).
    const absl::Time now = Now();
    for (NodeId member : Ring().members()) {
      if (Healthy(member)) {
        unavailable_since_.erase(member);
      } else {
        unavailable_since_.try_emplace(member, now);
      }
    }
    if (membership_->Joined()) SyncUntrusted();
    if (!config_.bugs.no_repair && !leaving_) HandOff();
    if (Now() >= next_exchange) {
      if (!config_.bugs.no_repair) PeriodicExchange();
      // ±10% jitter keeps nodes from exchanging in lockstep.
      next_exchange = Now() + config_.anti_entropy_interval * 0.9 +
                      random_.DurationBetween(absl::ZeroDuration(), config_.anti_entropy_interval * 0.2);
    }
    const absl::Time wake = std::min(next_exchange, Now() + kSyncRecheck);
    const absl::Status waited = env_.executor->Wait(sync_wake_, wake);
    if (absl::IsCancelled(waited)) return;
  }
}

void EventualNode::SyncUntrusted() {
  const EventualRing& ring = Ring();
  // Which untrusted owned shards still need an exchange with which peer.
  absl::btree_map<NodeId, std::vector<ShardId>> needed;
  std::vector<ShardId> untrusted;
  const absl::Time now = Now();
  for (ShardId shard = 0; shard < config_.store.num_shards; ++shard) {
    if (trusted_.contains(shard) || !ring.IsOwner(shard, env_.self)) continue;
    auto acquired = acquired_at_.find(shard);
    if (acquired != acquired_at_.end() && now - acquired->second < config_.ownership_settle) continue;
    untrusted.push_back(shard);
    const absl::btree_set<NodeId>& done = synced_[shard];
    for (NodeId peer : RequiredPeers(shard)) {
      if (!done.contains(peer) && Healthy(peer)) needed[peer].push_back(shard);
    }
  }
  if (untrusted.empty()) return;
  for (const auto& [peer, shards] : needed) {
    // Co-owners get repaired both ways; a previous owner that no longer owns a shard is only
    // pulled from (hand-off moves its copy to the owners).
    std::vector<ShardId> shared, pull_only;
    for (ShardId shard : shards) (ring.IsOwner(shard, peer) ? shared : pull_only).push_back(shard);
    for (const auto& [group, mode] : {std::pair{&shared, ExchangeMode::kBoth},
                                      std::pair{&pull_only, ExchangeMode::kPullOnly}}) {
      for (const std::vector<ShardId>& chunk : Chunks(*group, config_.anti_entropy_shards_per_exchange)) {
        if (stopped_) return;
        absl::StatusOr<ExchangeReport> report = Exchange(peer, chunk, mode);
        if (!report.ok() || !report->complete) break;  // try this peer again next round
        for (ShardId shard : chunk) {
          if (Ring().IsOwner(shard, env_.self)) synced_[shard].insert(peer);
        }
      }
    }
  }
  size_t promoted = 0;
  for (ShardId shard : untrusted) {
    if (!ReadyFor(shard, {})) continue;
    trusted_.insert(shard);
    acquired_at_.erase(shard);
    ++promoted;
  }
  if (promoted > 0) {
    persist_wake_.WakeAll(*env_.executor);  // the trust record names them soon
    env_.tracer->Record("eventual.trusted", absl::StrCat(promoted, " shards, ",
                                                         untrusted.size() - promoted, " left"));
  }
}

void EventualNode::HandOff() {
  const EventualRing& ring = Ring();
  for (ShardId shard : store_.NonEmptyShards()) {
    if (stopped_ || ring.IsOwner(shard, env_.self)) continue;
    const std::vector<NodeId> owners = ring.Owners(shard);
    if (owners.empty()) continue;
    bool all_healthy = true;
    for (NodeId owner : owners) all_healthy = all_healthy && Healthy(owner);
    if (!all_healthy) continue;  // keep the data until every owner can take it
    // What the owners must confirm before it may go: the records as they are now.
    std::vector<std::pair<std::string, Version>> snapshot;
    store_.ForEachInShard(shard, [&](const std::string& key, const Record& record) {
      snapshot.emplace_back(key, record.version);
    });
    bool confirmed = true;
    for (NodeId owner : owners) {
      absl::StatusOr<ExchangeReport> report = Exchange(owner, {shard}, ExchangeMode::kPushOnly);
      confirmed = confirmed && report.ok() && report->complete;
      if (!confirmed) break;
    }
    if (!confirmed || Ring().IsOwner(shard, env_.self)) continue;
    for (auto& [key, version] : snapshot) {
      Mutation erase;
      erase.kind = MutationKind::kErase;
      erase.key = std::move(key);
      erase.record.version = version;  // erased only if still exactly this version
      (void)Enqueue(std::move(erase));
    }
    env_.tracer->Record("eventual.handoff", absl::StrCat("shard=", shard, " keys=", snapshot.size()));
  }
}

void EventualNode::PeriodicExchange() {
  const EventualRing& ring = Ring();
  std::vector<NodeId> peers;
  for (NodeId member : ring.members()) {
    if (member != env_.self) peers.push_back(member);
  }
  for (size_t tries = 0; tries < peers.size(); ++tries) {
    const NodeId peer = peers[ae_cursor_++ % peers.size()];
    if (!Healthy(peer)) continue;
    std::vector<ShardId> shared;
    for (ShardId shard = 0; shard < config_.store.num_shards; ++shard) {
      if (ring.IsOwner(shard, env_.self) && ring.IsOwner(shard, peer)) shared.push_back(shard);
    }
    if (shared.empty()) continue;
    for (const std::vector<ShardId>& chunk : Chunks(shared, config_.anti_entropy_shards_per_exchange)) {
      if (stopped_) return;
      if (!Exchange(peer, chunk, ExchangeMode::kBoth).ok()) break;
    }
    return;
  }
}

void EventualNode::HintLoop() {
  while (!stopped_) {
    if (!env_.executor->Sleep(config_.hint_replay_interval).ok()) return;
    const absl::Time wall = Wall();
    // An expired or orphaned hint may hold the only copy of a write (a sloppy W=1 acknowledged
    // by this stand-in alone): its record moves into this node's store first, which hand-off
    // pushes to the key's owners once they are all healthy (seed 5094 of the dynamo sweep: a
    // stand-in cut off for longer than the hint window dropped the only copy of a W=ONE~ write).
    if (!RetireHints(hints_.Expired(wall, kMaxHintRemovalsPerRound), HintOutcome::kExpired)) return;
    std::vector<Hint> orphaned;
    for (NodeId target : hints_.Targets()) {
      if (Ring().Contains(target)) continue;
      for (Hint& hint : hints_.Batch(target, "", kMaxHintRemovalsPerRound, SIZE_MAX)) {
        orphaned.push_back(std::move(hint));
      }
    }
    if (!RetireHints(std::move(orphaned), HintOutcome::kOrphaned)) return;
    if (config_.bugs.no_repair) continue;
    if (env_.buggify != nullptr && env_.buggify->Fire("eventual.late_hint")) continue;
    for (NodeId target : hints_.Targets()) {
      if (stopped_) return;
      if (Ring().Contains(target) && Healthy(target)) DeliverHints(target);
    }
  }
}

void EventualNode::RemoveHint(const Hint& hint, HintOutcome outcome) {
  Mutation m;
  m.kind = MutationKind::kRemoveHint;
  m.key = hint.key;
  m.target = hint.target;
  m.record = hint.record;
  m.outcome = outcome;
  (void)Enqueue(std::move(m));
}

bool EventualNode::RetireHints(std::vector<Hint> hints, HintOutcome outcome) {
  if (hints.empty()) return true;
  std::vector<KeyedRecord> records;
  records.reserve(hints.size());
  for (const Hint& hint : hints) records.push_back({hint.key, hint.record});
  auto promise = std::make_shared<Promise<std::vector<ReplicaStatus>>>(env_.executor);
  Future<std::vector<ReplicaStatus>> future = promise->GetFuture();
  ApplyRecords(std::move(records), [promise](std::vector<ReplicaStatus> statuses) {
    promise->Set(std::move(statuses));
  });
  absl::StatusOr<std::vector<ReplicaStatus>> statuses = future.Wait();
  if (!statuses.ok()) return false;  // stopped
  for (size_t i = 0; i < hints.size() && i < statuses->size(); ++i) {
    if ((*statuses)[i] == ReplicaStatus::kOk) RemoveHint(hints[i], outcome);
  }
  return true;
}

void EventualNode::DeliverHints(NodeId target) {
  ExchangeRunner run(this, target);
  std::string after;
  for (int batch_number = 0; batch_number < kMaxHintBatchesPerTarget; ++batch_number) {
    std::vector<Hint> batch = hints_.Batch(target, after, kMaxBatchRecords, kMaxBatchBytes);
    if (batch.empty()) return;
    after = batch.back().key;
    std::vector<ReplicaStatus> statuses(batch.size(), ReplicaStatus::kOk);
    if (!config_.bugs.forget_hints) {
      HintDeliver deliver;
      for (const Hint& hint : batch) deliver.records.push_back({hint.key, hint.record});
      absl::StatusOr<std::vector<Message>> reply = run.Call({Message(std::move(deliver))});
      if (!reply.ok()) return;
      statuses = std::get<HintDeliverAck>((*reply)[0]).statuses;
      if (statuses.size() != batch.size()) return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (statuses[i] != ReplicaStatus::kOk) continue;
      Mutation m;
      m.kind = MutationKind::kRemoveHint;
      m.key = batch[i].key;
      m.target = target;
      m.record = batch[i].record;
      m.outcome = HintOutcome::kDelivered;
      (void)Enqueue(std::move(m));
    }
  }
}

void EventualNode::MaintenanceLoop() {
  while (!stopped_) {
    if (!env_.executor->Sleep(config_.purge_interval).ok()) return;
    Mutation purge;
    purge.kind = MutationKind::kPurge;
    (void)Enqueue(std::move(purge));
  }
}

bool EventualNode::PushAllTo(const EventualRing& ring) {
  absl::btree_map<NodeId, std::vector<ShardId>> plan;
  for (ShardId shard : store_.NonEmptyShards()) {
    for (NodeId owner : ring.Owners(shard)) {
      if (owner != env_.self) plan[owner].push_back(shard);
    }
  }
  bool all = true;
  for (const auto& [owner, shards] : plan) {
    for (const std::vector<ShardId>& chunk : Chunks(shards, config_.anti_entropy_shards_per_exchange)) {
      absl::StatusOr<ExchangeReport> report = Exchange(owner, chunk, ExchangeMode::kPushOnly);
      all = all && report.ok() && report->complete;
    }
  }
  return all;
}

absl::Status EventualNode::Decommission(absl::Duration timeout) {
  absl::Status serving = CheckServing();
  if (!serving.ok()) return serving;
  if (leaving_) return absl::FailedPreconditionError("already leaving");
  leaving_ = true;
  env_.tracer->Record("eventual.decommission", "start");
  const absl::Time deadline = Now() + timeout;
  const EventualRing future = Ring().Without(env_.self);
  bool pushed = false;
  while (!(pushed = PushAllTo(future)) && Now() < deadline) {
    if (!env_.executor->Sleep(config_.retry_interval).ok()) return absl::CancelledError("stopped");
  }
  membership_->Leave();
  // Writes from coordinators that have not heard yet are forwarded (ForwardWhileLeaving); push
  // once more after they had time to hear.
  if (!env_.executor->Sleep(config_.leave_settle).ok()) return absl::CancelledError("stopped");
  // Hints: delivered where the target is reachable; the rest (target down, or gone from the
  // ring) would leave with this node, and a hint may be a write's only copy. So their records
  // move into the store first, and the final push below carries them to the keys' owners in the
  // ring without this node, as expiry's retirement does (bounded: the hint map's own bounds).
  for (NodeId target : hints_.Targets()) {
    if (future.Contains(target) && Healthy(target)) DeliverHints(target);
  }
  for (NodeId target : hints_.Targets()) {
    std::string after;  // pages of kMaxHintRemovalsPerRound; the hint set is bounded
    for (;;) {
      std::vector<Hint> page = hints_.Batch(target, after, kMaxHintRemovalsPerRound, SIZE_MAX);
      if (page.empty()) break;
      after = page.back().key;
      if (!RetireHints(std::move(page), HintOutcome::kRetired)) return absl::CancelledError("stopped");
    }
  }
  while (!(pushed = PushAllTo(future)) && Now() < deadline) {
    if (!env_.executor->Sleep(config_.retry_interval).ok()) return absl::CancelledError("stopped");
  }
  left_ = true;
  ring_.reset();
  env_.tracer->Record("eventual.decommission", pushed ? "done" : "incomplete");
  if (!pushed) return absl::DeadlineExceededError("some shards were not fully handed off");
  return absl::OkStatus();
}

}  // namespace crema::eventual
