// The Raft core, follower side: appends, heartbeats, snapshots, forwarded requests.
#include <algorithm>
#include <cassert>

#include "consensus/raft.h"

namespace crema::raft {

absl::Status Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::kSnap:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // The leader hands over: campaign at once, skipping pre-vote and the lease check.
      if (PromotableVoter()) StartElection(/*pre_vote=*/false, /*leader_transfer=*/true);
      break;
    case MessageType::kTransferLeader:
      if (leader_ != kNoReplica) {
        Message fwd = m;
        fwd.to = leader_;
        Send(std::move(fwd));
      }
      break;
    case MessageType::kReadIndexResp:
      if (m.reject) {
        rejected_reads_.push_back(m.context);
      } else {
        read_states_.push_back(ReadState{m.index, m.context});
      }
      break;
    case MessageType::kReadIndex:
      RejectRead(m.from, m.context);  // we are not the leader (any more): fail fast
      break;
    default:
      break;  // proposals are only served by (and forwarded to) the leader
  }
  return absl::OkStatus();
}

void Raft::HandleAppend(const Message& m) {
  if (m.index < log_.committed()) {
    // Everything up to our commit index matches the leader already.
    Send(Message{.type = MessageType::kAppResp, .to = m.from, .index = log_.committed()});
    return;
  }
  std::optional<Index> last_new = log_.MaybeAppend(m.index, m.log_term, m.entries);
  if (last_new.has_value()) {
    log_.CommitTo(std::min(m.commit, *last_new));
    Send(Message{.type = MessageType::kAppResp, .to = m.from, .index = *last_new});
    return;
  }
  // Reject with a hint: the last index <= m.index whose term is <= m.log_term. All our entries
  // between it and m.index have terms above m.log_term, so none of them can match the leader.
  auto [hint_index, hint_term] =
      log_.FindConflictByTerm(std::min(m.index, log_.last_index()), m.log_term);
  Message r{.type = MessageType::kAppResp, .to = m.from, .log_term = hint_term, .index = m.index};
  r.reject = true;
  r.reject_hint = hint_index;
  Send(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader never sends a commit beyond our match; guard anyway against reordering.
  log_.CommitTo(std::min(m.commit, log_.last_index()));
  quiesced_ = m.quiesce;  // the leader goes quiet: so do we (any other message wakes us)
  Send(Message{.type = MessageType::kHeartbeatResp, .to = m.from, .round = m.round});
}

void Raft::HandleSnapshot(const Message& m) {
  const SnapshotMeta& snap = *m.snapshot;
  if (snap.index <= log_.committed()) {
    // Nothing new for us: tell the leader where we are so it resumes replication.
    Send(Message{.type = MessageType::kAppResp, .to = m.from, .index = log_.committed()});
    return;
  }
  if (log_.MatchTerm(snap.index, snap.term)) {
    // We hold the snapshot's last entry: our log covers it; just commit up to it.
    log_.CommitTo(snap.index);
    Send(Message{.type = MessageType::kAppResp, .to = m.from, .index = log_.committed()});
    return;
  }
  log_.Restore(snap);
  conf_ = snap.conf;
  conf_history_.clear();
  conf_history_[snap.index] = conf_;
  Send(Message{.type = MessageType::kAppResp, .to = m.from, .index = snap.index});
}

}  // namespace crema::raft
