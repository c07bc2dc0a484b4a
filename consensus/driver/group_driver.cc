// GroupDriver: opening and reopening, the persist/apply half of the cycle, checkpoints, errors.
#include "consensus/driver/group_driver.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"

namespace crema::raft {
namespace {
constexpr size_t kProposalHeaderBytes = 12;  // u32 origin node + u64 proposal id
}  // namespace

GroupDriver::GroupDriver(Env env, const GroupOptions& options, StateMachine* sm, HostHooks hooks)
    : env_(env),
      options_(options),
      state_machine_(sm),
      hooks_(std::move(hooks)),
      reopen_backoff_(options.reopen_backoff) {
  if (options_.storage_prefix.empty()) {
    options_.storage_prefix = absl::StrCat("raft/", options_.raft.group, "/");
  }
  // Ids start at a random point per incarnation, so an entry proposed by an earlier incarnation
  // of this node (same origin) is not mistaken for one of ours.
  next_id_ = (env.random->Next() >> 1) + 1;
}

GroupDriver::~GroupDriver() {
  if (executor_gone_) return;
  CancelStreams();
  FailAll(absl::CancelledError("raft group closed"));
}

void GroupDriver::Abandon() {
  executor_gone_ = true;
  CancelStreams();
  // Every fiber that waited on these promises was unwound with the executor, and an unwound wait
  // leaves its promise's wait list (node/executor.h), so dropping them wakes nobody.
  proposals_.clear();
  reads_.clear();
  confs_.clear();
  transfers_.clear();
  requests_.clear();
}

absl::StatusOr<std::unique_ptr<GroupDriver>> GroupDriver::Open(Env env,
                                                               const GroupOptions& options,
                                                               StateMachine* state_machine,
                                                               HostHooks hooks) {
  assert(NodeOfReplica(options.raft.id) == env.self);
  std::unique_ptr<GroupDriver> g(new GroupDriver(env, options, state_machine, std::move(hooks)));
  if (absl::Status s = g->OpenWithRetries(); !s.ok()) return s;
  return g;
}

absl::Status GroupDriver::OpenWithRetries() {
  absl::Status s;
  for (int attempt = 0; attempt < std::max(1, options_.open_attempts); ++attempt) {
    s = OpenOnce();
    if (!absl::IsDataLoss(s)) break;
    // Storage already re-read what failed (verified_read.h); one more look costs little.
    env_.tracer->Record("raft.open_retry", absl::StrCat(group(), " ", s.message()));
  }
  corrupt_ = absl::IsDataLoss(s);
  if (corrupt_) env_.tracer->Record("raft.corrupt", absl::StrCat(group(), " ", s.message()));
  return s;
}

absl::Status GroupDriver::OpenOnce() {
  storage_.reset();  // close the old WAL first (it may be failed); the old core stays readable
  storage::RecoveredState rec;
  absl::StatusOr<std::unique_ptr<storage::RaftStorage>> st =
      hooks_.shared_log != nullptr
          ? storage::RaftStorage::OpenShared(env_.disk, options_.storage_prefix,
                                             hooks_.shared_log, group(), &rec)
          : storage::RaftStorage::Open(env_.disk, options_.storage_prefix, options_.storage,
                                       &rec);
  if (!st.ok()) return st.status();
  std::unique_ptr<storage::RaftStorage> disk = *std::move(st);
  if (!rec.snapshot && rec.entries.empty() && !options_.bootstrap.voters.empty()) {
    // A founding member's first start: persist InitialState::Bootstrap with an empty machine.
    const InitialState boot = InitialState::Bootstrap(options_.bootstrap);
    if (absl::Status s = state_machine_->Restore(""); !s.ok()) return s;
    if (absl::Status s = disk->SaveSnapshot(boot.snapshot, state_machine_->Checkpoint());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = disk->ApplySnapshot(boot.snapshot); !s.ok()) return s;
    if (absl::Status s = disk->SetHardState(boot.hard_state); !s.ok()) return s;
    if (absl::Status s = disk->Sync(); !s.ok()) return s;
    rec.snapshot = boot.snapshot;
    rec.hard_state = boot.hard_state;
  }
  InitialState init;
  init.hard_state = rec.hard_state;
  init.snapshot = rec.snapshot.value_or(SnapshotMeta{});
  init.entries = std::move(rec.entries);
  if (init.RepairUnsyncedTail()) {
    env_.tracer->Record("raft.recovered_unsynced_tail",
                        absl::StrCat(group(), " term=", init.hard_state.term,
                                     " commit=", init.hard_state.commit));
  }
  if (rec.snapshot) {
    absl::StatusOr<storage::Snapshot> snap = disk->snapshots().LoadLatest();
    if (!snap.ok()) return snap.status();
    if (snap->meta != *rec.snapshot) return absl::DataLossError("snapshot metadata mismatch");
    if (absl::Status s = state_machine_->Restore(snap->data); !s.ok()) return s;
  } else if (absl::Status s = state_machine_->Restore(""); !s.ok()) {
    return s;
  }
  Config config = options_.raft;
  config.random_seed = env_.random->Next();
  absl::StatusOr<std::unique_ptr<Raft>> raft = Raft::Create(config, init);
  if (!raft.ok()) return raft.status();
  storage_ = std::move(disk);
  raft_ = *std::move(raft);
  applied_ = raft_->applied();
  last_checkpoint_ = init.snapshot.index;
  bytes_since_checkpoint_ = 0;
  failure_ = absl::OkStatus();
  return absl::OkStatus();
}

void GroupDriver::MaybeReopen(absl::Time now) {
  if (failure_.ok() || closed_ || now < failed_at_ + reopen_backoff_) return;
  failed_at_ = now;  // next attempt after another backoff if this one fails
  absl::Status s = OpenWithRetries();
  if (closed_) {
    failure_ = absl::CancelledError("raft group closed");
    return;
  }
  if (!s.ok()) {
    failure_ = s;
    storage_.reset();
    // Real corruption does not heal by itself: look again ever less often, but never give up.
    reopen_backoff_ = corrupt_ ? std::min(2 * reopen_backoff_, options_.max_reopen_backoff)
                               : options_.reopen_backoff;
    env_.tracer->Record("raft.reopen_failed", absl::StrCat(group(), " ", s.message()));
    return;
  }
  reopen_backoff_ = options_.reopen_backoff;
  ++reopens_;
  env_.tracer->Record("raft.reopened", absl::StrCat(group()));
}

void GroupDriver::Fail(absl::Status status) {
  assert(!status.ok());
  if (!failure_.ok()) return;
  failure_ = status;
  failed_at_ = Now();
  env_.tracer->Record("raft.stopped", absl::StrCat(group(), " ", status.message()));
  // The in-memory core may believe unsynced state is durable: it is never stepped again (only
  // read for status); reopening rebuilds it from what is really on disk.
  ready_.reset();
  snapshot_requests_.clear();
  receive_.reset();
  CancelStreams();
  FailAll(status);
}

void GroupDriver::Stop(absl::Status status) {
  // Callable from outside the host fiber, which may be parked inside a storage call of this
  // group: only flags and futures here; nothing the host fiber may be using is destroyed.
  closed_ = true;
  if (failure_.ok()) {
    failure_ = status;
    // Closed on purpose (destroyed, shutting down): not a failure (that is "raft.stopped").
    env_.tracer->Record("raft.closed", absl::StrCat(group(), " ", status.message()));
  }
  CancelStreams();
  FailAll(status);
}

void GroupDriver::TraceRole() {
  if (raft_ == nullptr) return;
  if (raft_->leader() != traced_leader_) {
    traced_leader_ = raft_->leader();
    if (traced_leader_ != kNoReplica && hooks_.counters) ++hooks_.counters->leader_changes;
  }
  // A leader campaigned in its term too (a single voter goes follower -> leader in one step).
  const bool campaigning = raft_->role() == Role::kCandidate || raft_->role() == Role::kLeader;
  if (campaigning && raft_->term() > counted_campaign_term_) {
    counted_campaign_term_ = raft_->term();
    if (hooks_.counters) ++hooks_.counters->elections;
  }
  if (raft_->role() == traced_role_ && raft_->term() == traced_term_) return;
  traced_role_ = raft_->role();
  traced_term_ = raft_->term();
  env_.tracer->Record("raft.role", absl::StrCat(group(), " ", RoleName(traced_role_),
                                                " term=", traced_term_));
}

absl::Status GroupDriver::NotLeader(absl::string_view why) const {
  const ReplicaId hint = raft_ ? raft_->leader() : kNoReplica;
  return absl::UnavailableError(absl::StrCat("not leader (", why, "); leader hint: ", hint));
}

// --- inputs -------------------------------------------------------------------------------------

void GroupDriver::OnMessage(Message m) {
  if (stopped()) return;
  assert(!ready_.has_value());
  switch (m.type) {
    case MessageType::kSnap:
      OnSnapshotChunk(m);
      return;
    case MessageType::kSnapResp:
      OnSnapshotAck(m);
      return;
    default:
      break;
  }
  (void)raft_->Step(m);  // malformed or misaddressed: dropped (the core said why)
  TraceRole();
}

void GroupDriver::Tick(absl::Time now) {
  now_ = now;
  if (stopped()) return;
  assert(!ready_.has_value());
  raft_->Tick(now);
  TraceRole();
  ExpireRequests(now);
}

bool GroupDriver::Dormant() const {
  if (stopped()) return closed_;
  return raft_->quiesced() && !ready_.has_value() && requests_.empty() && proposals_.empty() &&
         reads_.empty() && confs_.empty() && transfers_.empty() && streams_.empty() &&
         stream_reports_.empty() && snapshot_requests_.empty() && receive_ == nullptr &&
         !raft_->HasReady();
}

// --- the cycle ----------------------------------------------------------------------------------

bool GroupDriver::HasReady() const { return !stopped() && raft_->HasReady(); }

void GroupDriver::Persist() {
  if (!BufferReady()) return FinishPersist(absl::OkStatus());
  FinishPersist(storage_->Sync());
}

bool GroupDriver::BufferReady() {
  assert(!ready_.has_value() && !stopped());
  Ready rd = raft_->GetReady();
  absl::Status s = BufferReadyRecords(rd);
  if (!s.ok()) {
    Fail(s);  // nothing of this Ready is sent, applied or acknowledged
    return false;
  }
  if (stopped()) return false;  // stopped from outside while we waited for the disk
  ready_needs_sync_ = rd.must_sync;
  ready_ = std::move(rd);
  return ready_needs_sync_;
}

void GroupDriver::FinishPersist(const absl::Status& synced) {
  const bool needed = ready_needs_sync_;
  ready_needs_sync_ = false;
  if (!ready_.has_value() || stopped()) return;
  // A commit-only hard state need not be durable, so a failed Sync does not stop such a Ready
  // (the failed log stops the group at its next write anyway).
  if (!synced.ok() && needed) Fail(synced);
}

absl::Status GroupDriver::BufferReadyRecords(const Ready& rd) {
  if (rd.snapshot) {
    if (absl::Status s = storage_->ApplySnapshot(*rd.snapshot); !s.ok()) return s;
  }
  if (!rd.entries.empty()) {
    if (absl::Status s = storage_->Append(rd.entries); !s.ok()) return s;
  }
  if (rd.hard_state) {
    if (absl::Status s = storage_->SetHardState(*rd.hard_state); !s.ok()) return s;
  }
  // A commit-only hard state change need not be synced for safety, but syncing it with the rest
  // costs nothing extra when there is anything else to sync (rd.must_sync says which).
  return absl::OkStatus();
}

std::vector<Message> GroupDriver::TakeMessages() {
  std::vector<Message> out;
  if (!ready_.has_value()) return out;
  for (Message& m : ready_->messages) {
    if (m.type == MessageType::kSnap) {
      snapshot_requests_.push_back(m.to);  // a request to stream, not a wire message
      continue;
    }
    out.push_back(std::move(m));
  }
  ready_->messages.clear();
  return out;
}

void GroupDriver::ApplyAndAdvance() {
  if (!ready_.has_value()) return;
  Ready rd = std::move(*ready_);
  ready_.reset();
  if (rd.snapshot) {
    absl::Status s = InstallReceivedSnapshot(*rd.snapshot);
    if (!s.ok()) return Fail(s);
    if (stopped()) return;
  }
  for (const Entry& e : rd.committed_entries) ApplyEntry(e);
  if (hooks_.counters) hooks_.counters->committed += rd.committed_entries.size();
  OnReadStates(rd.read_states);
  OnRejectedReads(rd.rejected_reads);
  raft_->Advance();
  for (ReplicaId to : snapshot_requests_) StartSnapshotStream(to);
  snapshot_requests_.clear();
  ResolveReads();
  ResolveConfsAndTransfers();
  if (absl::Status s = MaybeCheckpoint(); !s.ok()) Fail(s);
}

absl::Status GroupDriver::InstallReceivedSnapshot(const SnapshotMeta& meta) {
  absl::StatusOr<storage::Snapshot> snap = storage_->snapshots().LoadLatest();
  if (!snap.ok()) return snap.status();
  if (snap->meta != meta) return absl::InternalError("installed snapshot is not the latest");
  if (absl::Status s = state_machine_->Restore(snap->data); !s.ok()) return s;
  applied_ = meta.index;
  last_checkpoint_ = meta.index;
  bytes_since_checkpoint_ = 0;
  ++snapshots_installed_;
  if (hooks_.counters) ++hooks_.counters->snapshots_received;
  env_.tracer->Record("raft.snapshot_installed", absl::StrCat(group(), " @", meta.index));
  return absl::OkStatus();
}

void GroupDriver::ApplyEntry(const Entry& entry) {
  assert(entry.index == applied_ + 1);
  applied_ = entry.index;
  bytes_since_checkpoint_ += EntryBytes(entry);
  auto conf = confs_.find(entry.index);
  if (conf != confs_.end() && (entry.term != conf->second.term ||
                               entry.type != EntryType::kConfChange)) {
    conf->second.promise.Set(absl::AbortedError("configuration change lost its log position"));
    confs_.erase(conf);
  }
  if (entry.type != EntryType::kNormal || entry.data.size() < kProposalHeaderBytes) return;
  const NodeId origin = storage::LoadU32(entry.data.data());
  const uint64_t id = storage::LoadU64(entry.data.data() + 4);
  std::string result = state_machine_->ApplyWithResult(
      entry.index, std::string_view(entry.data).substr(kProposalHeaderBytes));
  if (origin != env_.self) return;
  auto it = proposals_.find(id);
  if (it == proposals_.end()) return;
  it->second.promise.Set(Applied{entry.index, std::move(result)});
  proposals_.erase(it);
}

absl::Status GroupDriver::MaybeCheckpoint() {
  const CheckpointPolicy& policy = options_.checkpoint;
  const uint64_t entries = applied_ - last_checkpoint_;
  // BUGGIFY: checkpoint (and compact) early, so lagging followers need snapshots more often.
  const bool early = entries > 0 && env_.buggify != nullptr &&
                     env_.buggify->Fire("raft.early_checkpoint");
  const bool due = early || (policy.every_entries > 0 && entries >= policy.every_entries) ||
                   (policy.every_log_bytes > 0 && bytes_since_checkpoint_ >= policy.every_log_bytes);
  if (!due || applied_ != raft_->applied()) return absl::OkStatus();
  const std::optional<SnapshotMeta>& latest = storage_->snapshots().latest();
  if (latest && latest->index >= applied_) {
    // A streamed snapshot at or beyond our applied index is already stored (installed by the
    // core without a restore because our log covered it): nothing newer to save yet.
    last_checkpoint_ = applied_;
    bytes_since_checkpoint_ = 0;
    return absl::OkStatus();
  }
  const std::optional<Term> term = raft_->log().TermAt(applied_);
  if (!term.has_value()) return absl::InternalError("applied entry has no term");
  // Right after Advance the core's configuration is the one in effect at the applied index.
  const SnapshotMeta meta{applied_, *term, raft_->conf()};
  if (absl::Status s = storage_->SaveSnapshot(meta, state_machine_->Checkpoint()); !s.ok()) {
    return s;
  }
  if (absl::Status s = raft_->Compact(applied_); !s.ok()) return s;
  assert(raft_->log().snapshot() == meta);
  // The core keeps compaction_keep_entries before the snapshot; the WAL keeps the same tail.
  if (absl::Status s = storage_->Compact(raft_->log().offset() + 1); !s.ok()) return s;
  last_checkpoint_ = applied_;
  bytes_since_checkpoint_ = 0;
  ++checkpoints_taken_;
  env_.tracer->Record("raft.checkpoint", absl::StrCat(group(), " @", applied_));
  return absl::OkStatus();
}

}  // namespace crema::raft
