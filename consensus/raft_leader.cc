// The Raft core, leader side: proposals, replication with flow control, commit, ReadIndex and
// leases, leadership transfer.
#include <algorithm>
#include <cassert>

#include "consensus/message_codec.h"
#include "consensus/raft.h"

namespace crema::raft {

void Raft::ResetProgress() {
  progress_.clear();
  auto add = [&](ReplicaId id, bool learner) {
    Progress pr(log_.last_index() + 1, config_.max_inflight_msgs, config_.max_inflight_bytes);
    pr.is_learner = learner;
    pr.recent_active = true;
    if (id == config_.id) {
      pr.match = log_.stable_index();
      pr.BecomeReplicate();
      pr.next = log_.last_index() + 1;
    }
    progress_.emplace(id, std::move(pr));
  };
  for (ReplicaId id : conf_.voters) add(id, false);
  for (ReplicaId id : conf_.learners) add(id, true);
}

bool Raft::CommittedInCurrentTerm() const { return log_.TermAt(log_.committed()) == term_; }

absl::Status Raft::AppendAsLeader(std::vector<Entry> entries) {
  uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += EntryBytes(e);
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + bytes > config_.max_uncommitted_bytes) {
    return absl::ResourceExhaustedError("too many uncommitted bytes; retry later");
  }
  Index index = log_.last_index();
  for (Entry& e : entries) {
    e.term = term_;
    e.index = ++index;
    if (e.type == EntryType::kConfChange) pending_conf_index_ = e.index;
  }
  uncommitted_bytes_ += bytes;
  log_.Append(std::move(entries));
  broadcast_pending_ = true;
  return absl::OkStatus();
}

absl::Status Raft::Propose(std::string data) {
  assert(!ready_outstanding_);
  if (data.size() > kMaxEntryBytes) return absl::InvalidArgumentError("proposal too large");
  Wake();
  Entry e{.data = std::move(data)};
  if (role_ == Role::kLeader) {
    if (transfer_target_ != kNoReplica) {
      return absl::FailedPreconditionError("leadership transfer in progress");
    }
    if (self_removal_pending_) {
      return absl::FailedPreconditionError("the leader is removing itself from the group");
    }
    return AppendAsLeader({std::move(e)});
  }
  if (leader_ == kNoReplica) return absl::UnavailableError("no known leader");
  Message m{.type = MessageType::kProp, .to = leader_};
  m.entries.push_back(std::move(e));
  Send(std::move(m));
  return absl::OkStatus();
}

absl::Status Raft::CheckConfChangeAllowed(const ConfChange& change) const {
  if (role_ != Role::kLeader) return absl::FailedPreconditionError("not the leader");
  if (transfer_target_ != kNoReplica) {
    return absl::FailedPreconditionError("leadership transfer in progress");
  }
  if (!CommittedInCurrentTerm()) {
    return absl::FailedPreconditionError("leader has not committed an entry of its term yet");
  }
  if (pending_conf_index_ > log_.applied()) {
    return absl::FailedPreconditionError("another configuration change is pending");
  }
  absl::StatusOr<ConfState> next = ApplyConfChange(conf_, change);
  if (!next.ok()) return next.status();
  if (change.type == ConfChangeType::kAddVoter && IsLearner(conf_, change.replica)) {
    auto it = progress_.find(change.replica);
    if (it == progress_.end() || it->second.match < log_.committed()) {
      return absl::FailedPreconditionError("learner has not caught up yet");
    }
  }
  return absl::OkStatus();
}

absl::Status Raft::ProposeConfChange(const ConfChange& change) {
  assert(!ready_outstanding_);
  Wake();
  if (absl::Status st = CheckConfChangeAllowed(change); !st.ok()) return st;
  absl::Status st =
      AppendAsLeader({Entry{.type = EntryType::kConfChange, .data = EncodeConfChange(change)}});
  if (st.ok() && RemovesOrDemotes(change, config_.id)) self_removal_pending_ = true;
  return st;
}

absl::Status Raft::StepLeader(const Message& m) {
  if (m.type == MessageType::kProp) {
    if (transfer_target_ != kNoReplica || self_removal_pending_ || m.entries.empty()) {
      return absl::OkStatus();
    }
    std::vector<Entry> entries;
    for (const Entry& e : m.entries) {
      if (e.type == EntryType::kConfChange) return absl::OkStatus();  // not forwarded
      entries.push_back(Entry{.data = e.data});
    }
    return AppendAsLeader(std::move(entries));
  }
  if (m.type == MessageType::kReadIndex) {
    HandleReadIndexAsLeader(m.context, m.from);
    return absl::OkStatus();
  }
  if (m.type == MessageType::kTransferLeader) {
    if (m.index > UINT32_MAX) return absl::InvalidArgumentError("bad transfer target");
    (void)StartTransfer(static_cast<ReplicaId>(m.index));
    return absl::OkStatus();
  }
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return absl::OkStatus();  // not (or no longer) a member
  Progress& pr = it->second;
  if (m.type == MessageType::kAppResp || m.type == MessageType::kHeartbeatResp) {
    pr.reported_down = false;  // it answers: alive after all
  }
  if (m.type == MessageType::kAppResp) {
    pr.recent_active = true;
    HandleAppendResponse(m, pr);
  } else if (m.type == MessageType::kHeartbeatResp) {
    pr.recent_active = true;
    HandleHeartbeatResponse(m, pr);
  }
  return absl::OkStatus();
}

void Raft::HandleAppendResponse(const Message& m, Progress& pr) {
  if (m.reject) {
    if (pr.state == ProgressState::kSnapshot) return;
    // Fast backtracking: skip every entry of ours whose term is above the follower's hint term.
    Index hint = m.reject_hint;
    if (m.log_term > 0) hint = log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
    if (pr.state == ProgressState::kReplicate) {
      if (m.index <= pr.match) return;  // stale
      const Index next = std::max(pr.match + 1, std::min(m.index, hint + 1));
      pr.BecomeProbe();
      pr.next = next;
    } else if (!pr.MaybeDecrTo(m.index, hint)) {
      return;  // stale
    }
    broadcast_pending_ = true;
    return;
  }
  if (!pr.MaybeUpdate(m.index)) return;
  switch (pr.state) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match >= pr.pending_snapshot) pr.BecomeReplicate();
      break;
    case ProgressState::kReplicate:
      pr.inflights.FreeUpTo(m.index);
      break;
  }
  broadcast_pending_ = true;
  if (MaybeCommit()) commit_changed_ = true;
  if (m.from == transfer_target_ && pr.match == log_.last_index()) SendTimeoutNow(m.from);
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress& pr) {
  pr.probe_sent = false;  // the follower is reachable: probing may continue
  // Only the answer to the latest round nudges, so a burst of delayed responses sends one append.
  if (pr.match < log_.last_index() && m.round == read_only_.current_round()) {
    NudgeFollower(m.from, pr);
  }
  if (m.round <= read_only_.current_round()) pr.acked_round = std::max(pr.acked_round, m.round);
  if (!pr.is_learner) ReleaseConfirmedReads();
}

void Raft::NudgeFollower(ReplicaId id, Progress& pr) {
  // It is behind and some MsgApp may have been lost. Make room for one more message and send
  // (even an empty append: a rejection then moves it back to probing).
  if (pr.state == ProgressState::kReplicate && pr.inflights.Full()) pr.inflights.FreeFirst();
  SendAppend(id, pr, /*allow_empty=*/true);
}

bool Raft::MaybeCommit() {
  std::vector<Index> matches;
  for (ReplicaId voter : conf_.voters) {
    auto it = progress_.find(voter);
    matches.push_back(it == progress_.end() ? 0 : it->second.match);
  }
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  const Index quorum_match = matches[QuorumSize() - 1];
  // Raft §5.4.2: only entries of the current term are committed by counting replicas.
  if (quorum_match <= log_.committed() || log_.TermAt(quorum_match) != term_) return false;
  for (Index i = log_.committed() + 1; i <= quorum_match; ++i) {
    const Entry& e = log_.At(i);
    if (e.term == term_) uncommitted_bytes_ -= std::min(uncommitted_bytes_, EntryBytes(e));
  }
  log_.CommitTo(quorum_match);
  ServeReadsAwaitingCommit();
  return true;
}

void Raft::FlushAppends() {
  if (role_ != Role::kLeader) return;
  if (read_only_.NeedsRound()) BroadcastHeartbeat();
  if (!broadcast_pending_ && !commit_changed_) return;
  for (auto& [id, pr] : progress_) {
    if (id == config_.id) continue;
    bool sent = false;
    // Bounded: each send either pauses the progress or consumes up to the last index.
    for (size_t i = 0; i <= config_.max_inflight_msgs && pr.next <= log_.last_index(); ++i) {
      if (!SendAppend(id, pr, /*allow_empty=*/false)) break;
      sent = true;
    }
    // Nothing new to send: still tell it about a new commit index, and probe a follower whose
    // match is unknown (e.g. a newly added replica) without waiting for the next heartbeat.
    if (!sent && (commit_changed_ || pr.state == ProgressState::kProbe)) {
      SendAppend(id, pr, /*allow_empty=*/true);
    }
  }
  broadcast_pending_ = false;
  commit_changed_ = false;
}

bool Raft::SendAppend(ReplicaId to, Progress& pr, bool allow_empty) {
  if (pr.IsPaused()) return false;
  const Index prev = pr.next - 1;
  std::optional<Term> prev_term = log_.TermAt(prev);
  if (!prev_term.has_value()) {  // compacted away: only a snapshot can help
    SendSnapshotRequest(to, pr);
    return true;
  }
  std::vector<Entry> entries;
  if (pr.next <= log_.last_index()) {
    entries = log_.Slice(pr.next, log_.last_index(), config_.max_bytes_per_msg,
                         config_.max_entries_per_msg);
  }
  if (entries.empty() && !allow_empty) return false;
  uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += EntryBytes(e);
  const Index last = entries.empty() ? prev : entries.back().index;
  Message m{.type = MessageType::kApp, .to = to, .log_term = *prev_term, .index = prev};
  m.entries = std::move(entries);
  m.commit = log_.committed();
  Send(std::move(m));
  if (pr.state == ProgressState::kReplicate && last > prev) {
    pr.next = last + 1;  // pipelining: optimistic
    pr.inflights.Add(last, bytes);
  } else if (pr.state == ProgressState::kProbe) {
    pr.probe_sent = true;
  }
  return true;
}

void Raft::SendSnapshotRequest(ReplicaId to, Progress& pr) {
  const SnapshotMeta& snap = log_.snapshot();
  assert(snap.index >= log_.offset());
  pr.BecomeSnapshot(snap.index);
  Message m{.type = MessageType::kSnap, .to = to};
  m.snapshot = snap;
  Send(std::move(m));
}

void Raft::ReportSnapshot(ReplicaId to, bool success) {
  assert(!ready_outstanding_);
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(to);
  if (it == progress_.end() || it->second.state != ProgressState::kSnapshot) return;
  Progress& pr = it->second;
  if (!success) pr.pending_snapshot = 0;
  pr.BecomeProbe();
  pr.probe_sent = true;  // wait for the follower's answer (or a heartbeat response)
}

void Raft::ReportUnreachable(ReplicaId to) {
  assert(!ready_outstanding_);
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(to);
  if (it != progress_.end() && it->second.state == ProgressState::kReplicate) {
    it->second.BecomeProbe();
  }
}

void Raft::SendHeartbeat(ReplicaId to, const Progress& pr, uint64_t round, bool quiesce) {
  Message m{.type = MessageType::kHeartbeat, .to = to};
  m.commit = std::min(pr.match, log_.committed());  // never beyond what the follower matches
  m.round = round;
  m.quiesce = quiesce;
  Send(std::move(m));
}

void Raft::BroadcastHeartbeat(bool quiesce) {
  const uint64_t round = read_only_.StartRound(now_);
  for (auto& [id, pr] : progress_) {
    if (id == config_.id) {
      pr.acked_round = round;
    } else {
      SendHeartbeat(id, pr, round, quiesce);
    }
  }
  ReleaseConfirmedReads();  // a single voter confirms its own rounds
}

bool Raft::ShouldQuiesce() const {
  if (!config_.quiesce || role_ != Role::kLeader || transfer_target_ != kNoReplica ||
      self_removal_pending_ || !conf_.voters_outgoing.empty()) {
    return false;
  }
  const Index last = log_.last_index();
  if (log_.committed() != last || log_.applied() != last || !CommittedInCurrentTerm() ||
      pending_conf_index_ > log_.applied()) {
    return false;  // proposals or a conf change in flight, or entries still to apply
  }
  if (read_only_.pending() > 0 || read_only_.NeedsRound() || !reads_awaiting_commit_.empty() ||
      broadcast_pending_ || commit_changed_) {
    return false;
  }
  size_t live_voters = 0;
  for (const auto& [id, pr] : progress_) {
    if (pr.reported_down) continue;  // lagging is expected: it wakes us when it comes back
    if (pr.match != last || (id != config_.id && pr.state != ProgressState::kReplicate)) {
      return false;
    }
    if (IsVoter(conf_, id)) ++live_voters;
  }
  return live_voters >= QuorumSize();  // else check-quorum must get its chance to step down
}

uint64_t Raft::QuorumAckedRound() const {
  std::vector<uint64_t> rounds;
  for (ReplicaId voter : conf_.voters) {
    auto it = progress_.find(voter);
    rounds.push_back(it == progress_.end() ? 0 : it->second.acked_round);
  }
  std::sort(rounds.begin(), rounds.end(), std::greater<uint64_t>());
  return rounds[QuorumSize() - 1];
}

void Raft::ReleaseConfirmedReads() {
  for (ReadRequest& r : read_only_.Confirm(QuorumAckedRound())) {
    RespondRead(r.from, r.index, std::move(r.context));
  }
}

void Raft::RespondRead(ReplicaId to, Index index, std::string context) {
  if (to == config_.id) {
    read_states_.push_back(ReadState{index, std::move(context)});
    return;
  }
  Message m{.type = MessageType::kReadIndexResp, .to = to, .index = index};
  m.context = std::move(context);
  Send(std::move(m));
}

bool Raft::LeaseValid(absl::Time now) const {
  if (role_ != Role::kLeader || !LeaseReadsEnabled() || transfer_target_ != kNoReplica ||
      !CommittedInCurrentTerm()) {
    return false;
  }
  const absl::Duration lease =
      (config_.election_tick - 1) * config_.tick_interval - config_.max_clock_drift;
  return lease > absl::ZeroDuration() && now < read_only_.lease_start() + lease;
}

absl::Status Raft::ReadIndex(std::string context, absl::Time now) {
  assert(!ready_outstanding_);
  if (context.size() > kMaxContextBytes) return absl::InvalidArgumentError("context too large");
  Wake();
  now_ = std::max(now_, now);
  if (role_ == Role::kLeader) {
    HandleReadIndexAsLeader(std::move(context), config_.id);
    return absl::OkStatus();
  }
  if (leader_ == kNoReplica) return absl::UnavailableError("no known leader");
  Message m{.type = MessageType::kReadIndex, .to = leader_};
  m.context = std::move(context);
  Send(std::move(m));
  return absl::OkStatus();
}

void Raft::HandleReadIndexAsLeader(std::string context, ReplicaId from) {
  if (read_only_.pending() + reads_awaiting_commit_.size() >= config_.max_pending_reads) {
    RejectRead(from, std::move(context));
    return;
  }
  if (!CommittedInCurrentTerm()) {
    // Until our no-op commits, our commit index may be behind the previous leader's (§6.4):
    // queue the read; MaybeCommit serves it once an entry of our term is committed.
    reads_awaiting_commit_.push_back(ReadRequest{.context = std::move(context), .from = from});
    return;
  }
  ServeReadAsLeader(std::move(context), from);
}

void Raft::ServeReadAsLeader(std::string context, ReplicaId from) {
  assert(role_ == Role::kLeader && CommittedInCurrentTerm());
  if (QuorumSize() == 1 && IsVoter(conf_, config_.id)) {
    RespondRead(from, log_.committed(), std::move(context));
  } else if (LeaseValid(now_)) {
    RespondRead(from, log_.committed(), std::move(context));
  } else {
    // Confirmed by a heartbeat round sent after now, so after the read arrived.
    read_only_.Add(std::move(context), from, log_.committed());
  }
}

void Raft::ServeReadsAwaitingCommit() {
  if (reads_awaiting_commit_.empty() || !CommittedInCurrentTerm()) return;
  std::deque<ReadRequest> reads = std::move(reads_awaiting_commit_);
  reads_awaiting_commit_.clear();
  for (ReadRequest& r : reads) ServeReadAsLeader(std::move(r.context), r.from);
}

void Raft::RejectRead(ReplicaId from, std::string context) {
  if (from == config_.id) {
    rejected_reads_.push_back(std::move(context));
    return;
  }
  Message m{.type = MessageType::kReadIndexResp, .to = from, .reject = true};
  m.context = std::move(context);
  Send(std::move(m));
}

absl::Status Raft::TransferLeadership(ReplicaId to) {
  assert(!ready_outstanding_);
  Wake();
  if (role_ == Role::kLeader) return StartTransfer(to);
  if (leader_ == kNoReplica) return absl::UnavailableError("no known leader");
  Send(Message{.type = MessageType::kTransferLeader, .to = leader_, .index = to});
  return absl::OkStatus();
}

absl::Status Raft::StartTransfer(ReplicaId to) {
  if (to == config_.id) return absl::OkStatus();
  if (!IsVoter(conf_, to)) return absl::InvalidArgumentError("transfer target is not a voter");
  if (transfer_target_ == to) return absl::OkStatus();
  transfer_target_ = to;
  transfer_elapsed_ = 0;
  read_only_.InvalidateLease();  // the target may win without waiting for our lease
  Progress& pr = progress_.at(to);
  if (pr.match == log_.last_index()) {
    SendTimeoutNow(to);
  } else {
    NudgeFollower(to, pr);  // catch it up first; TimeoutNow follows its ack
  }
  return absl::OkStatus();
}

void Raft::SendTimeoutNow(ReplicaId to) {
  // The target campaigns with leader_transfer set, which followers grant despite their
  // check-quorum lease; the message may arrive late (after the transfer was aborted), so no
  // heartbeat round of this term may renew our lease any more.
  read_only_.RevokeLease();
  Send(Message{.type = MessageType::kTimeoutNow, .to = to});
}

}  // namespace crema::raft
