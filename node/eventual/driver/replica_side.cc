// The replica side of EventualNode: handlers for writes, reads, hint deliveries and pushes, and
// the one fiber that makes every mutation durable (group commit) before applying it in memory and
// acknowledging it.
#include <algorithm>
#include <cassert>
#include <memory>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "node/eventual/driver/eventual_node.h"

namespace crema::eventual {
namespace {

std::string EncodeStored(const Record& record) {
  WireWriter w;
  EncodeRecord(record, w);
  return std::move(w).Finish();
}

}  // namespace

void EventualNode::HandleReplicaWrite(NodeId from, ReplicaWrite message) {
  ++stats_.replica_writes;
  ObserveClock(message.record.version);
  if (leaving_ && message.hint_for == kNoNode) {
    ForwardWhileLeaving(from, std::move(message));
    return;
  }
  Mutation mutation;
  mutation.kind = message.hint_for == kNoNode || message.hint_for == env_.self ? MutationKind::kStore
                                                                               : MutationKind::kHint;
  mutation.key = std::move(message.key);
  mutation.record = std::move(message.record);
  mutation.target = message.hint_for;
  mutation.done = [this, from, op = message.op](ReplicaStatus status) {
    if (!stopped_) Send(from, ReplicaWriteAck{op, status, hlc_.last()});
  };
  (void)Enqueue(std::move(mutation));
}

void EventualNode::HandleReplicaRead(NodeId from, const ReplicaRead& message) {
  ++stats_.replica_reads;
  if (env_.buggify != nullptr && env_.buggify->Fire("eventual.drop_read")) return;
  ReplicaReadReply reply;
  reply.op = message.op;
  const ShardId shard = store_.PlaceOf(message.key).shard;
  if (leaving_ || (!message.include_hints && !ReadyFor(shard, message.peers))) {
    ++stats_.not_ready_answers;
    reply.ready = false;
  } else {
    const absl::Time wall = Wall();
    const Record* stored = store_.Find(message.key);
    // A record past its purge time is already gone as far as the protocol is concerned.
    if (stored != nullptr && PurgeTime(*stored, config_.store.tombstone_grace) > wall) {
      reply.record = *stored;
    }
    if (message.include_hints) {
      std::optional<Record> hinted = hints_.NewestForKey(message.key);
      if (hinted && (!reply.record || Supersedes(*hinted, *reply.record))) reply.record = hinted;
    }
  }
  reply.clock = hlc_.last();
  Send(from, reply);
}

void EventualNode::HandleHintDeliver(NodeId from, HintDeliver message) {
  for (const KeyedRecord& r : message.records) ObserveClock(r.record.version);
  ApplyRecords(std::move(message.records),
               [this, from, op = message.op](std::vector<ReplicaStatus> statuses) {
                 if (!stopped_) Send(from, HintDeliverAck{op, std::move(statuses)});
               });
}

void EventualNode::HandleAePush(NodeId from, AePush message) {
  for (const KeyedRecord& r : message.records) ObserveClock(r.record.version);
  ApplyRecords(std::move(message.records),
               [this, from, xid = message.xid](std::vector<ReplicaStatus> statuses) {
                 if (!stopped_) Send(from, AePushAck{xid, std::move(statuses)});
               });
}

void EventualNode::ApplyRecords(std::vector<KeyedRecord> records,
                                absl::AnyInvocable<void(std::vector<ReplicaStatus>)> done) {
  struct Pending {
    std::vector<ReplicaStatus> statuses;
    size_t remaining = 0;
    absl::AnyInvocable<void(std::vector<ReplicaStatus>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->statuses.assign(records.size(), ReplicaStatus::kOk);
  pending->remaining = records.size();
  pending->done = std::move(done);
  if (records.empty()) {
    pending->done({});
    return;
  }
  for (size_t i = 0; i < records.size(); ++i) {
    Mutation mutation;
    mutation.kind = MutationKind::kStore;
    mutation.key = std::move(records[i].key);
    mutation.record = std::move(records[i].record);
    mutation.done = [pending, i](ReplicaStatus status) {
      pending->statuses[i] = status;
      if (--pending->remaining == 0) pending->done(std::move(pending->statuses));
    };
    (void)Enqueue(std::move(mutation));
  }
}

bool EventualNode::Enqueue(Mutation mutation) {
  if (stopped_ || mutations_ == nullptr || mutations_->closed()) {
    if (mutation.done) mutation.done(ReplicaStatus::kUnavailable);
    return false;
  }
  if (mutations_->size() >= mutations_->capacity()) {
    ++stats_.busy_refusals;
    if (mutation.done) mutation.done(ReplicaStatus::kBusy);
    return false;
  }
  const bool sent = mutations_->TrySend(std::move(mutation));
  assert(sent);
  (void)sent;
  return true;
}

ReplicaStatus EventualNode::ApplyAndWait(Mutation mutation) {
  auto promise = std::make_shared<Promise<ReplicaStatus>>(env_.executor);
  Future<ReplicaStatus> future = promise->GetFuture();
  mutation.done = [promise](ReplicaStatus status) { promise->Set(status); };
  (void)Enqueue(std::move(mutation));
  absl::StatusOr<ReplicaStatus> status = future.Wait();
  return status.ok() ? *status : ReplicaStatus::kUnavailable;
}

void EventualNode::CommitLoop() {
  std::vector<Mutation> batch;
  while (true) {
    absl::StatusOr<Mutation> first = mutations_->Recv();
    if (!first.ok()) break;  // closed (stopped) or cancelled
    batch.clear();
    batch.push_back(std::move(*first));
    while (batch.size() < config_.max_mutation_batch) {
      std::optional<Mutation> next = mutations_->TryRecv();
      if (!next) break;
      batch.push_back(std::move(*next));
    }
    if (env_.buggify != nullptr && env_.buggify->Fire("eventual.slow_commit")) {
      if (!env_.executor->Sleep(absl::Milliseconds(50)).ok()) break;
    }
    CommitBatch(batch);
  }
  // Whatever is still queued will never be made durable: refuse it.
  while (std::optional<Mutation> left = mutations_->TryRecv()) {
    if (left->done) left->done(ReplicaStatus::kUnavailable);
  }
}

void EventualNode::CommitBatch(std::vector<Mutation>& batch) {
  const absl::Time wall = Wall();
  // kData/kHint: the mutation changes that map. kAfterData/kAfterHint: a no-op only because an
  // earlier mutation of this batch staged the same or a newer record — it is acknowledged as
  // stored only if that map's commit succeeds (a duplicated write whose first copy's commit
  // failed must not be acknowledged: seed 2449 of the dynamo sweep).
  enum class Effect : uint8_t { kNone, kData, kHint, kAfterData, kAfterHint };
  std::vector<Effect> effects(batch.size(), Effect::kNone);
  std::vector<ReplicaStatus> statuses(batch.size(), ReplicaStatus::kOk);
  std::vector<std::vector<std::string>> purged(batch.size());
  // Records staged earlier in this batch, so later mutations of the same key see them.
  absl::btree_map<std::string, Record> staged;
  absl::btree_map<std::pair<NodeId, std::string>, Record> staged_hints;
  // Hints whose removal this batch staged: a second removal of the same hint (delivered and
  // expired in one batch: seed 5485 of the dynamo sweep) is a no-op, not a second ending.
  absl::btree_set<std::pair<NodeId, std::string>> removed_hints;
  for (size_t i = 0; i < batch.size(); ++i) {
    Mutation& m = batch[i];
    switch (m.kind) {
      case MutationKind::kStore: {
        if (dead_ != nullptr && dead_->IsDead(m.key)) break;  // a dropped keyspace's: not kept
        auto it = staged.find(m.key);
        const Record* current = it != staged.end() ? &it->second : store_.Find(m.key);
        if (PurgeTime(m.record, config_.store.tombstone_grace) <= wall) break;  // too old to keep
        if (current != nullptr && !Supersedes(m.record, *current)) {         // stale: holds newer
          if (it != staged.end()) effects[i] = Effect::kAfterData;
          break;
        }
        if (store_.Check(m.key, m.record, wall) == ApplyOutcome::kFull) {
          statuses[i] = ReplicaStatus::kFull;
          break;
        }
        data_map_->Put(m.key, EncodeStored(m.record));
        staged[m.key] = m.record;
        effects[i] = Effect::kData;
        break;
      }
      case MutationKind::kHint: {
        if (dead_ != nullptr && dead_->IsDead(m.key)) break;  // a dropped keyspace's: not kept
        const Hint hint{m.target, m.key, m.record, absl::ToUnixNanos(wall)};
        auto it = staged_hints.find({m.target, m.key});
        if (it != staged_hints.end() && !Supersedes(m.record, it->second)) {
          effects[i] = Effect::kAfterHint;
          break;
        }
        const HintAddResult check = hints_.Check(hint);
        if (check == HintAddResult::kStale) break;
        if (check == HintAddResult::kFull) {
          ++stats_.hints_refused;
          statuses[i] = ReplicaStatus::kFull;
          break;
        }
        hint_map_->Put(HintSet::StorageKey(m.target, m.key), HintSet::Encode(hint));
        if (observer_ != nullptr) observer_->HintStamped(env_.self, hint);
        staged_hints[{m.target, m.key}] = m.record;
        effects[i] = Effect::kHint;
        break;
      }
      case MutationKind::kErase: {
        const Record* current = store_.Find(m.key);
        if (current == nullptr || current->version != m.record.version || staged.contains(m.key)) {
          break;  // changed since it was confirmed elsewhere: keep it
        }
        data_map_->Erase(m.key);
        effects[i] = Effect::kData;
        break;
      }
      case MutationKind::kRemoveHint: {
        const Hint* hint = hints_.Find(m.target, m.key);
        if (hint == nullptr || hint->record.version != m.record.version ||
            staged_hints.contains({m.target, m.key}) ||
            !removed_hints.insert({m.target, m.key}).second) {
          break;
        }
        hint_map_->Erase(HintSet::StorageKey(m.target, m.key));
        if (observer_ != nullptr) observer_->HintRemovalStaged(env_.self, *hint, m.outcome);
        effects[i] = Effect::kHint;
        break;
      }
      case MutationKind::kPurge: {
        purged[i] = store_.TakePurgeable(wall, 1024);
        for (const std::string& key : purged[i]) data_map_->Erase(key);
        stats_.purged += purged[i].size();
        // Records of dropped keyspaces (DeadKeys): a scan whenever the dead set may have grown,
        // and again while the last one was cut at its bound. Erased from memory first, like the
        // purgeable ones: were the commit to fail, a restart meets them again in a later scan.
        if (dead_ != nullptr && (dead_->version() != dead_scanned_version_ || !dead_scan_complete_)) {
          const uint64_t version = dead_->version();
          std::vector<std::string> dead;
          store_.ForEach([&](const std::string& key, const Record&) {
            if (dead.size() < kMaxDeadKeysPerPass && dead_->IsDead(key)) dead.push_back(key);
          });
          for (const std::string& key : dead) {
            store_.Erase(key);
            data_map_->Erase(key);
          }
          stats_.purged += dead.size();
          dead_scanned_version_ = version;
          dead_scan_complete_ = dead.size() < kMaxDeadKeysPerPass;
        }
        break;  // dropping them from memory first is harmless: recovery drops them too
      }
    }
  }
  absl::Status data_status, hint_status;
  if (data_map_->has_pending()) data_status = data_map_->Commit();
  if (hint_map_->has_pending()) hint_status = hint_map_->Commit();
  for (const absl::Status& s : {data_status, hint_status}) {
    if (s.ok()) continue;
    ++stats_.commit_failures;
    env_.tracer->Record("eventual.commit_failed", s.ToString());
  }
  ++stats_.commits;
  for (size_t i = 0; i < batch.size(); ++i) {
    Mutation& m = batch[i];
    const bool data = effects[i] == Effect::kData || effects[i] == Effect::kAfterData;
    const bool hint = effects[i] == Effect::kHint || effects[i] == Effect::kAfterHint;
    const bool failed = (data && !data_status.ok()) || (hint && !hint_status.ok());
    if (failed) {
      statuses[i] = ReplicaStatus::kUnavailable;
    } else if (effects[i] == Effect::kData || effects[i] == Effect::kHint) {
      switch (m.kind) {
        case MutationKind::kStore:
          store_.Apply(m.key, m.record, wall);
          break;
        case MutationKind::kErase:
          store_.Erase(m.key);
          ++stats_.handoff_keys_dropped;
          break;
        case MutationKind::kHint: {
          Hint hint{m.target, m.key, m.record, absl::ToUnixNanos(wall)};
          Hint superseded;
          const HintAddResult added = hints_.Add(hint, &superseded);
          ++stats_.hints_stored;
          if (observer_ != nullptr) observer_->HintStored(env_.self, hint);
          if (added == HintAddResult::kReplaced) {
            ++stats_.hints_superseded;
            if (observer_ != nullptr) observer_->HintEnded(env_.self, superseded, HintOutcome::kSuperseded);
          }
          break;
        }
        case MutationKind::kRemoveHint: {
          const Hint* found = hints_.Find(m.target, m.key);
          assert(found != nullptr);  // staged once per batch (removed_hints)
          if (found == nullptr) break;
          const Hint removed = *found;
          hints_.Remove(m.target, m.key, m.record.version);
          switch (m.outcome) {
            case HintOutcome::kDelivered: ++stats_.hints_delivered; break;
            case HintOutcome::kExpired: ++stats_.hints_expired; break;
            case HintOutcome::kOrphaned: ++stats_.hints_orphaned; break;
            case HintOutcome::kSuperseded: ++stats_.hints_superseded; break;
            case HintOutcome::kRetired: ++stats_.hints_retired; break;
          }
          if (observer_ != nullptr) observer_->HintEnded(env_.self, removed, m.outcome);
          break;
        }
        case MutationKind::kPurge:
          break;
      }
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].done) batch[i].done(statuses[i]);
  }
  // Compaction between batches: the maps' committed contents equal store_ and hints_ now.
  if (data_map_->NeedsCompaction() && data_map_->failure().ok()) {
    (void)data_map_->Compact([this](const DurableMap::Emit& emit) {
      store_.ForEach([&](const std::string& key, const Record& record) { emit(key, EncodeStored(record)); });
    });
  }
  if (hint_map_->NeedsCompaction() && hint_map_->failure().ok()) {
    (void)hint_map_->Compact([this](const DurableMap::Emit& emit) {
      for (const Hint& hint : hints_.All()) emit(HintSet::StorageKey(hint.target, hint.key), HintSet::Encode(hint));
    });
  }
}

void EventualNode::ForwardWhileLeaving(NodeId from, ReplicaWrite message) {
  if (inflight_ >= config_.max_inflight_requests) {
    ++stats_.busy_refusals;
    Send(from, ReplicaWriteAck{message.op, ReplicaStatus::kBusy, hlc_.last()});
    return;
  }
  ++inflight_;
  env_.executor->Spawn("eventual.forward", [this, from, message = std::move(message)]() mutable {
    // Every write this leaving node acknowledges also reaches the shard's owners in the ring
    // without it, so nothing it acknowledged stays only here once it is gone.
    const ShardId shard = store_.PlaceOf(message.key).shard;
    const EventualRing future = Ring().Without(env_.self);
    std::vector<NodeId> targets;
    for (NodeId owner : future.Owners(shard)) {
      if (!Ring().IsOwner(shard, owner)) targets.push_back(owner);
    }
    const absl::Time deadline = Now() + config_.request_timeout;
    const int forwarded = Repair(message.key, message.record, targets, deadline);
    Mutation mutation;
    mutation.kind = MutationKind::kStore;
    mutation.key = message.key;
    mutation.record = message.record;
    ReplicaStatus status = ApplyAndWait(std::move(mutation));
    if (status == ReplicaStatus::kOk && forwarded < static_cast<int>(targets.size())) {
      status = ReplicaStatus::kNotOwner;
    }
    --inflight_;
    if (!stopped_) Send(from, ReplicaWriteAck{message.op, status, hlc_.last()});
  });
}

}  // namespace crema::eventual
