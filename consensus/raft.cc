// The Raft core: construction, roles and terms, elections, ticks and message dispatch.
// Replication and reads are in raft_leader.cc, follower handling in raft_follower.cc, the
// Ready/Advance cycle and configuration changes in raft_ready.cc.
#include "consensus/raft.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"
#include "consensus/message_codec.h"

namespace crema::raft {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

absl::Status Config::Validate() const {
  if (id == kNoReplica) return absl::InvalidArgumentError("config: id must be non-zero");
  if (election_tick < 2) return absl::InvalidArgumentError("config: election_tick < 2");
  if (heartbeat_tick < 1 || heartbeat_tick >= election_tick) {
    return absl::InvalidArgumentError("config: need 1 <= heartbeat_tick < election_tick");
  }
  if (max_inflight_msgs == 0 || max_inflight_bytes == 0 || max_entries_per_msg == 0 ||
      max_bytes_per_msg == 0 || max_uncommitted_bytes == 0 || max_pending_reads == 0) {
    return absl::InvalidArgumentError("config: every bound must be positive");
  }
  if (max_bytes_per_msg > kMaxMessageBytes / 2 || max_entries_per_msg > kMaxEntriesPerMessage) {
    return absl::InvalidArgumentError("config: per-message batch limits exceed the codec's");
  }
  if (tick_interval <= absl::ZeroDuration() || max_clock_drift < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("config: bad tick_interval or max_clock_drift");
  }
  return absl::OkStatus();
}

InitialState InitialState::Bootstrap(const ConfState& conf) {
  InitialState s;
  s.hard_state.term = 1;
  s.hard_state.commit = 1;
  s.snapshot = SnapshotMeta{1, 1, conf};
  return s;
}

bool InitialState::RepairUnsyncedTail() {
  Term highest = std::max(hard_state.term, snapshot.term);
  Index last = snapshot.index;
  for (const Entry& e : entries) {
    highest = std::max(highest, e.term);
    last = std::max(last, e.index);
  }
  bool changed = false;
  if (highest > hard_state.term) {
    hard_state.term = highest;
    hard_state.vote = kNoReplica;
    changed = true;
  }
  if (hard_state.commit > last) {
    hard_state.commit = last;
    changed = true;
  }
  return changed;
}

namespace {

absl::Status ValidateInitialState(const InitialState& s) {
  const SnapshotMeta& snap = s.snapshot;
  if (snap.index == 0 && (snap.term != 0 || !snap.conf.voters.empty())) {
    return absl::InvalidArgumentError("initial state: snapshot at index 0 must be empty");
  }
  for (size_t i = 0; i < s.entries.size(); ++i) {
    const Entry& e = s.entries[i];
    if (i > 0 && (e.index != s.entries[i - 1].index + 1 || e.term < s.entries[i - 1].term)) {
      return absl::InvalidArgumentError("initial state: entries not consecutive");
    }
    if (e.index == snap.index && e.term != snap.term) {
      return absl::InvalidArgumentError("initial state: entry disagrees with snapshot");
    }
    if (e.term > s.hard_state.term || e.index == 0) {
      return absl::InvalidArgumentError("initial state: entry term beyond hard state term");
    }
  }
  if (!s.entries.empty() && s.entries.front().index > snap.index + 1) {
    return absl::InvalidArgumentError("initial state: gap between snapshot and entries");
  }
  if (snap.term > s.hard_state.term) {
    return absl::InvalidArgumentError("initial state: snapshot term beyond hard state term");
  }
  const Index last = s.entries.empty() ? snap.index : std::max(snap.index, s.entries.back().index);
  if (s.hard_state.commit > last) {
    return absl::InvalidArgumentError("initial state: commit index beyond the log");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Raft>> Raft::Create(const Config& config,
                                                   const InitialState& state) {
  if (absl::Status st = config.Validate(); !st.ok()) return st;
  if (absl::Status st = ValidateInitialState(state); !st.ok()) return st;
  std::vector<Entry> entries = state.entries;
  if (!entries.empty() && entries.back().index <= state.snapshot.index) entries.clear();
  RaftLog log(state.snapshot, std::move(entries));
  return std::unique_ptr<Raft>(new Raft(config, std::move(log), state.hard_state));
}

Raft::Raft(const Config& config, RaftLog log, const HardState& hs)
    : config_(config), random_(config.random_seed), log_(std::move(log)) {
  term_ = hs.term;
  vote_ = hs.vote;
  log_.CommitTo(hs.commit);
  conf_ = log_.snapshot().conf;
  conf_history_[log_.snapshot().index] = conf_;
  last_ready_hard_state_ = hard_state();
  durable_term_ = hs.term;
  restart_quarantine_ = LeaseReadsEnabled();
  ResetRandomizedElectionTimeout();
}

bool Raft::LeaseReadsEnabled() const {
  return config_.lease_based_reads && config_.check_quorum &&
         config_.max_clock_drift > absl::ZeroDuration();
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(random_.Uniform(config_.election_tick));
}

size_t Raft::QuorumSize() const { return conf_.voters.size() / 2 + 1; }

bool Raft::PromotableVoter() const { return IsVoter(conf_, config_.id); }

bool Raft::InLease() const {
  if (restart_quarantine_) return true;
  return config_.check_quorum && leader_ != kNoReplica &&
         election_elapsed_ < config_.election_tick;
}

void Raft::Send(Message m) {
  m.group = config_.group;
  m.from = config_.id;
  const bool local_forward = m.type == MessageType::kProp || m.type == MessageType::kReadIndex ||
                             m.type == MessageType::kTransferLeader;
  const bool explicit_term = m.type == MessageType::kPreVote ||
                             m.type == MessageType::kPreVoteResp || m.type == MessageType::kVoteResp;
  if (!local_forward && !explicit_term) m.term = term_;
  outbox_.push_back(std::move(m));
}

void Raft::ResetTerm(Term term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoReplica;
  }
  if (role_ == Role::kLeader) {
    // Reads waiting for confirmation or for our first commit cannot be served any more: fail them
    // now, locally and on the followers that forwarded them.
    std::vector<ReadRequest> dropped = read_only_.Reset();
    for (ReadRequest& r : reads_awaiting_commit_) dropped.push_back(std::move(r));
    for (ReadRequest& r : dropped) RejectRead(r.from, std::move(r.context));
  }
  reads_awaiting_commit_.clear();
  quiesced_ = false;
  self_removal_pending_ = false;
  read_only_ = ReadOnly();
  leader_ = kNoReplica;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  transfer_target_ = kNoReplica;
  transfer_elapsed_ = 0;
  votes_.clear();
  progress_.clear();
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  broadcast_pending_ = false;
  commit_changed_ = false;
}

void Raft::BecomeFollower(Term term, ReplicaId leader) {
  ResetTerm(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Raft::BecomePreCandidate() {
  assert(role_ != Role::kLeader);
  // Pre-vote changes neither the term nor the vote (thesis §9.6).
  role_ = Role::kPreCandidate;
  votes_.clear();
  leader_ = kNoReplica;
}

void Raft::BecomeCandidate() {
  assert(role_ != Role::kLeader);
  ResetTerm(term_ + 1);
  vote_ = config_.id;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  assert(role_ == Role::kCandidate);
  role_ = Role::kLeader;
  leader_ = config_.id;
  ResetProgress();
  // No conf change until everything from earlier terms has been applied.
  pending_conf_index_ = log_.last_index();
  // An unapplied change from an earlier term may remove or demote us: take no proposals then
  // (see self_removal_pending_). Bounded by the unapplied suffix of the log.
  for (Index i = log_.applied() + 1; i <= log_.last_index(); ++i) {
    const Entry& e = log_.At(i);
    if (e.type != EntryType::kConfChange) continue;
    absl::StatusOr<ConfChange> cc = DecodeConfChange(e.data);
    if (cc.ok() && RemovesOrDemotes(*cc, config_.id)) self_removal_pending_ = true;
  }
  // Raft §5.4.2: commit a no-op of our own term so earlier entries commit with it.
  absl::Status st = AppendAsLeader({Entry{}});
  assert(st.ok());
  (void)st;
}

void Raft::Campaign() {
  assert(!ready_outstanding_);
  Wake();
  if (role_ == Role::kLeader || !PromotableVoter()) return;
  StartElection(config_.pre_vote, /*leader_transfer=*/false);
}

void Raft::StartElection(bool pre_vote, bool leader_transfer) {
  Term vote_term;
  if (pre_vote) {
    BecomePreCandidate();
    vote_term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_term = term_;
  }
  election_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  votes_[config_.id] = true;
  if (QuorumSize() == 1) {  // a single voter wins at once
    if (pre_vote) {
      StartElection(false, leader_transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (ReplicaId voter : conf_.voters) {
    if (voter == config_.id) continue;
    Message m{.type = pre_vote ? MessageType::kPreVote : MessageType::kVote, .to = voter};
    m.term = vote_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.leader_transfer = leader_transfer;
    Send(std::move(m));
  }
}

void Raft::Tick(absl::Time now) {
  assert(!ready_outstanding_);
  assert(now >= now_ || now_ == absl::InfinitePast());
  now_ = std::max(now_, now);
  if (quiesced_) return;  // a quiet group has no timers
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (restart_quarantine_ && election_elapsed_ >= config_.election_tick) {
    restart_quarantine_ = false;
  }
  if (PromotableVoter() && election_elapsed_ >= randomized_election_timeout_) {
    StartElection(config_.pre_vote, /*leader_transfer=*/false);
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (transfer_target_ != kNoReplica && ++transfer_elapsed_ >= config_.election_tick) {
    transfer_target_ = kNoReplica;  // the target did not take over in time: abort
    transfer_elapsed_ = 0;
  }
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      size_t active = 0;
      for (auto& [id, pr] : progress_) {
        if (IsVoter(conf_, id) && (id == config_.id || pr.recent_active)) ++active;
        if (id != config_.id) pr.recent_active = false;
      }
      if (active < QuorumSize()) {
        BecomeFollower(term_, kNoReplica);  // lost touch with a quorum: step down
        return;
      }
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    const bool quiesce = ShouldQuiesce();
    BroadcastHeartbeat(quiesce);
    quiesced_ = quiesce;
  }
}

absl::Status Raft::StepTerm(const Message& m, bool* drop) {
  *drop = false;
  const bool vote_request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
  if (m.term == 0) return absl::OkStatus();  // a forwarded proposal/read/transfer: no term
  if (m.term > term_) {
    if (vote_request && !m.leader_transfer && InLease()) {
      *drop = true;  // we heard from a live leader recently: ignore the disruptive candidate
      return absl::OkStatus();
    }
    if (m.type == MessageType::kPreVote) return absl::OkStatus();
    if (m.type == MessageType::kPreVoteResp && !m.reject) return absl::OkStatus();
    const bool from_leader = m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
                             m.type == MessageType::kSnap;
    BecomeFollower(m.term, from_leader ? m.from : kNoReplica);
    return absl::OkStatus();
  }
  if (m.term < term_) {
    *drop = true;
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A stale leader (e.g. after a partition): our higher term makes it step down.
      Send(Message{.type = MessageType::kAppResp, .to = m.from});
    } else if (m.type == MessageType::kPreVote) {
      Message r{.type = MessageType::kPreVoteResp, .to = m.from, .term = term_, .reject = true};
      Send(std::move(r));
    } else if (m.type == MessageType::kVote) {
      // Refuse it at our term (Raft §5.1: a stale request is rejected and the reply carries the
      // current term), so the candidate catches up instead of campaigning below us for ever.
      // Dropping it (as etcd does) can livelock: a voter with a higher term whose own config is
      // stale (the last conf changes committed but not applied here) campaigns where it cannot
      // win, never asks the candidate, and ignores every vote the candidate's quorum needs from
      // it (raft-kv seed 3066261050719662566: voters {2, 4}, node 2 at term 97 with config
      // {2, 3}, node 4 a candidate at term 92 for 60 s).
      Send(Message{.type = MessageType::kVoteResp, .to = m.from, .term = term_, .reject = true});
    }
  }
  return absl::OkStatus();
}

absl::Status Raft::Step(const Message& m) {
  assert(!ready_outstanding_);
  if (m.group != config_.group) return absl::InvalidArgumentError("message for another group");
  if (m.to != config_.id) return absl::InvalidArgumentError("message for another replica");
  if (m.from == kNoReplica || m.from == config_.id) {
    return absl::InvalidArgumentError("message from an invalid sender");
  }
  if (m.type == MessageType::kSnapResp) {
    return absl::InvalidArgumentError("MsgSnapResp is handled by the driver, not the core");
  }
  if (m.type == MessageType::kSnap && !m.snapshot.has_value()) {
    return absl::InvalidArgumentError("MsgSnap without snapshot metadata");
  }
  // Any message wakes a quiet group, except what a quiet group itself exchanges: the quiesce
  // heartbeat and the answers to it.
  const bool quiet_traffic = (m.type == MessageType::kHeartbeat && m.quiesce) ||
                             (m.type == MessageType::kHeartbeatResp && role_ == Role::kLeader);
  if (!quiet_traffic) Wake();
  bool drop;
  if (absl::Status st = StepTerm(m, &drop); !st.ok() || drop) return st;
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    HandleVoteRequest(m);
    return absl::OkStatus();
  }
  switch (role_) {
    case Role::kLeader: return StepLeader(m);
    case Role::kCandidate:
    case Role::kPreCandidate: return StepCandidate(m);
    case Role::kFollower: return StepFollower(m);
  }
  return absl::OkStatus();
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote = vote_ == m.from || (vote_ == kNoReplica && leader_ == kNoReplica) ||
                        (pre && m.term > term_);
  Message r{.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp, .to = m.from};
  // Two pre-candidates at once (their timers fired within a message delay, as the followers of
  // a dead leader often do): granting each other, both would campaign in the same term and split
  // the vote, costing another election timeout. With equal logs the lower id refuses the higher
  // one's pre-vote and asks it again for its own (below); the higher grants the lower's, so one
  // campaigns. Pre-vote changes no term and no vote, and lease refusals were decided before
  // (StepTerm), so this choice touches only liveness. With unequal logs the usual rule already
  // lets only the more up-to-date one win.
  const bool tie_refused = pre && role_ == Role::kPreCandidate && config_.id < m.from &&
                         m.log_term == log_.last_term() && m.index == log_.last_index();
  if (can_vote && !tie_refused && log_.IsUpToDate(m.index, m.log_term)) {
    r.term = m.term;  // for pre-vote: the future term, so the pre-candidate counts it
    if (!pre) {
      vote_ = m.from;
      election_elapsed_ = 0;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  Send(std::move(r));
  if (tie_refused) {
    // Our own request may have reached it while its lease was fresh and been ignored; it is
    // campaigning now, so out of its lease: ask again (its earlier answer, if any, is void).
    votes_.erase(m.from);
    Message again{.type = MessageType::kPreVote, .to = m.from};
    again.term = term_ + 1;
    again.index = log_.last_index();
    again.log_term = log_.last_term();
    Send(std::move(again));
  }
}

void Raft::HandleVoteResponse(const Message& m) {
  if (!votes_.contains(m.from)) votes_[m.from] = !m.reject;
  size_t granted = 0, rejected = 0;
  for (ReplicaId voter : conf_.voters) {
    auto it = votes_.find(voter);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  if (granted >= QuorumSize()) {
    if (role_ == Role::kPreCandidate) {
      StartElection(/*pre_vote=*/false, /*leader_transfer=*/false);
    } else {
      BecomeLeader();
    }
  } else if (rejected > conf_.voters.size() - QuorumSize()) {
    BecomeFollower(term_, kNoReplica);  // cannot win any more
  }
}

absl::Status Raft::StepCandidate(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      BecomeFollower(m.term, m.from);
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      break;
    case MessageType::kSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      break;
    case MessageType::kVoteResp:
      if (role_ == Role::kCandidate) HandleVoteResponse(m);
      break;
    case MessageType::kPreVoteResp:
      if (role_ == Role::kPreCandidate) HandleVoteResponse(m);
      break;
    case MessageType::kReadIndex:
      RejectRead(m.from, m.context);  // no leader: the asker fails fast and retries
      break;
    default:
      break;  // proposals, transfers: no leader to serve them
  }
  return absl::OkStatus();
}

void Raft::Wake() {
  if (!quiesced_) return;
  quiesced_ = false;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  if (role_ == Role::kLeader) {
    // A fresh check-quorum window: nobody was expected to talk to a quiet leader.
    for (auto& [id, pr] : progress_) pr.recent_active = true;
  }
}

std::string Raft::StatusLine() const {
  std::string s = absl::StrCat(RoleName(role_), " term=", term_, " leader=", leader_,
                               " commit=", log_.committed(), " applied=", log_.applied(),
                               " last=", log_.last_index());
  if (quiesced_) absl::StrAppend(&s, " quiet");
  if (restart_quarantine_) absl::StrAppend(&s, " quarantine");
  if (transfer_target_ != kNoReplica) absl::StrAppend(&s, " transfer_to=", transfer_target_);
  for (const auto& [id, pr] : progress_) {
    if (id != config_.id) absl::StrAppend(&s, "; ", id, ": ", pr.DebugString());
  }
  return s;
}

void Raft::Unquiesce() {
  assert(!ready_outstanding_);
  // The host learned something (e.g. a node is back): forget earlier down reports too, so a
  // lagging follower is caught up before the group goes quiet again.
  for (auto& [id, pr] : progress_) pr.reported_down = false;
  Wake();
}

void Raft::ReportPeerDown(ReplicaId id) {
  assert(!ready_outstanding_);
  if (role_ == Role::kLeader) {
    Wake();
    auto it = progress_.find(id);
    if (it == progress_.end() || id == config_.id) return;
    it->second.reported_down = true;
    if (it->second.state == ProgressState::kReplicate) it->second.BecomeProbe();
  } else if (id == leader_ && id != kNoReplica) {
    Wake();  // the election timer runs again: we campaign if the leader stays silent
  }
}

}  // namespace crema::raft
