// The Raft core: the Ready/Advance cycle, applying configuration changes, compaction.
#include <algorithm>
#include <cassert>

#include "consensus/raft.h"

namespace crema::raft {
namespace {
// Committed entries handed out in one Ready, in bytes (at least one entry).
constexpr uint64_t kMaxApplyBytesPerReady = uint64_t{64} << 20;
}  // namespace

bool Raft::HasReady() const {
  if (ready_outstanding_) return false;
  if (hard_state() != last_ready_hard_state_) return true;
  if (log_.pending_snapshot().has_value() || log_.last_index() > log_.stable_index()) return true;
  if (!outbox_.empty() || !read_states_.empty() || !rejected_reads_.empty() ||
      log_.HasNextCommittedEntries()) {
    return true;
  }
  return role_ == Role::kLeader &&
         (broadcast_pending_ || commit_changed_ || read_only_.NeedsRound());
}

Ready Raft::GetReady() {
  assert(!ready_outstanding_);
  FlushAppends();
  Ready rd;
  const HardState hs = hard_state();
  if (hs != last_ready_hard_state_) {
    rd.must_sync = hs.term != last_ready_hard_state_.term || hs.vote != last_ready_hard_state_.vote;
    rd.hard_state = hs;
    last_ready_hard_state_ = hs;
  }
  ready_term_ = last_ready_hard_state_.term;
  rd.snapshot = log_.pending_snapshot();
  ready_snapshot_ = rd.snapshot;
  rd.entries = log_.UnstableEntries();
  ready_last_entry_ = rd.entries.empty() ? 0 : rd.entries.back().index;
  ready_last_term_ = rd.entries.empty() ? 0 : rd.entries.back().term;
  rd.messages = std::move(outbox_);
  outbox_.clear();
  rd.committed_entries = log_.NextCommittedEntries(kMaxApplyBytesPerReady);
  ready_applied_to_ =
      rd.committed_entries.empty() ? log_.applied() : rd.committed_entries.back().index;
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  rd.rejected_reads = std::move(rejected_reads_);
  rejected_reads_.clear();
  rd.must_sync = rd.must_sync || rd.snapshot.has_value() || !rd.entries.empty();
  ready_outstanding_ = true;
  return rd;
}

void Raft::Advance() {
  assert(ready_outstanding_);
  ready_outstanding_ = false;
  durable_term_ = std::max(durable_term_, ready_term_);
  if (ready_snapshot_.has_value()) log_.SnapshotStable();
  ready_snapshot_.reset();
  if (ready_last_entry_ > 0) log_.StableTo(ready_last_entry_, ready_last_term_);
  ready_last_entry_ = 0;
  for (Index i = log_.applied() + 1; i <= ready_applied_to_; ++i) {
    const Entry& e = log_.At(i);
    log_.AppliedTo(i);
    if (e.type == EntryType::kConfChange) ApplyConfEntry(e);
  }
  if (role_ == Role::kLeader && self_removal_pending_ && log_.applied() >= pending_conf_index_) {
    self_removal_pending_ = false;  // every pending change is applied and we still lead
  }
  if (role_ == Role::kLeader) {
    // Our own log counts towards the quorum only once it is durable.
    Progress& self = progress_.at(config_.id);
    self.MaybeUpdate(log_.stable_index());
    if (MaybeCommit()) commit_changed_ = true;
  }
}

ConfState Raft::ConfAt(Index index) const {
  auto it = conf_history_.upper_bound(index);
  assert(it != conf_history_.begin());
  return std::prev(it)->second;
}

void Raft::ApplyConfEntry(const Entry& entry) {
  absl::StatusOr<ConfChange> change = DecodeConfChange(entry.data);
  if (!change.ok()) return;  // never appended by a correct leader; ignore rather than crash
  absl::StatusOr<ConfState> next = ApplyConfChange(conf_, *change);
  if (!next.ok()) return;  // a no-op change (e.g. re-adding a member): nothing to do
  conf_ = *std::move(next);
  conf_history_[entry.index] = conf_;
  OnConfChanged();
}

void Raft::OnConfChanged() {
  if (role_ != Role::kLeader) {
    // A candidate's tally may have a different quorum now; a fresh election sorts it out.
    return;
  }
  if (!IsVoter(conf_, config_.id)) {
    StepDownAfterRemoval();
    return;
  }
  // Keep progress of remaining members; add new ones; drop removed ones.
  absl::btree_map<ReplicaId, Progress> old = std::move(progress_);
  progress_.clear();
  auto keep = [&](ReplicaId id, bool learner) {
    auto it = old.find(id);
    Progress pr = it != old.end() ? std::move(it->second)
                                  : Progress(log_.last_index() + 1, config_.max_inflight_msgs,
                                             config_.max_inflight_bytes);
    if (it == old.end()) pr.recent_active = true;
    pr.is_learner = learner;
    progress_.emplace(id, std::move(pr));
  };
  for (ReplicaId id : conf_.voters) keep(id, false);
  for (ReplicaId id : conf_.learners) keep(id, true);
  if (transfer_target_ != kNoReplica && !IsVoter(conf_, transfer_target_)) {
    transfer_target_ = kNoReplica;
  }
  broadcast_pending_ = true;
  if (MaybeCommit()) commit_changed_ = true;
}

void Raft::StepDownAfterRemoval() {
  // Hand over to the most up-to-date remaining voter if it is caught up, so the group does not
  // wait for an election timeout; then stop leading.
  ReplicaId best = kNoReplica;
  Index best_match = 0;
  for (ReplicaId id : conf_.voters) {
    auto it = progress_.find(id);
    if (it != progress_.end() && it->second.match > best_match) {
      best = id;
      best_match = it->second.match;
    }
  }
  if (best != kNoReplica && best_match == log_.last_index()) SendTimeoutNow(best);
  BecomeFollower(term_, kNoReplica);
}

absl::Status Raft::Compact(Index snapshot_index) {
  assert(!ready_outstanding_);
  if (snapshot_index > log_.applied()) {
    return absl::FailedPreconditionError("cannot compact beyond the applied index");
  }
  if (log_.pending_snapshot().has_value() || ready_snapshot_.has_value()) {
    // The state machine has not installed the received snapshot yet: its own snapshot would
    // not hold what `applied` claims.
    return absl::FailedPreconditionError("a received snapshot is not installed yet");
  }
  if (snapshot_index <= log_.snapshot().index || snapshot_index < log_.offset()) {
    return absl::OkStatus();  // already covered by a newer snapshot
  }
  std::optional<Term> term = log_.TermAt(snapshot_index);
  assert(term.has_value());
  const SnapshotMeta snap{snapshot_index, *term, ConfAt(snapshot_index)};
  const uint64_t keep = config_.compaction_keep_entries;
  Index compact_to = snapshot_index > keep ? snapshot_index - keep : 0;
  compact_to = KeepWhatFollowersNeed(std::max(compact_to, log_.offset()));
  log_.Compact(snap, std::max(compact_to, log_.offset()));
  // Forget configurations that no snapshot or log position can need any more.
  auto in_effect = std::prev(conf_history_.upper_bound(snapshot_index));
  conf_history_.erase(conf_history_.begin(), in_effect);
  return absl::OkStatus();
}

Index Raft::KeepWhatFollowersNeed(Index compact_to) const {
  if (role_ != Role::kLeader || config_.compaction_follower_keep_entries == 0) return compact_to;
  Index needed = compact_to;  // entries after a follower's match are what it needs next
  for (const auto& [id, pr] : progress_) {
    if (id == config_.id || !pr.recent_active || pr.reported_down ||
        pr.state == ProgressState::kSnapshot) {
      continue;
    }
    needed = std::min(needed, pr.match);
  }
  // Keep at most the configured entries and bytes beyond compact_to, newest first.
  const Index floor = compact_to > config_.compaction_follower_keep_entries
                          ? compact_to - config_.compaction_follower_keep_entries
                          : 0;
  uint64_t bytes = 0;
  Index keep_after = compact_to;
  while (keep_after > std::max({needed, floor, log_.offset()})) {
    bytes += EntryBytes(log_.At(keep_after));
    if (bytes > config_.compaction_follower_keep_bytes) break;
    --keep_after;
  }
  return keep_after;
}

}  // namespace crema::raft
