#include "sim/scenarios/raftkv/membership_driver.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace crema::kvsim {

const raft::RaftNode* MembershipDriver::Leader(NodeId* id) {
  const raft::RaftNode* best = nullptr;
  for (NodeId n : nodes_) {
    kv::KvReplica* replica = checker_->Replica(n);
    if (replica == nullptr || sim_->state(n) != sim::NodeState::kUp) continue;
    const raft::RaftNode* node = replica->node();
    if (node == nullptr || node->stopped() || !node->group().has_core()) continue;
    const raft::Raft& core = node->core();
    if (core.role() != raft::Role::kLeader) continue;
    if (best == nullptr || core.term() > best->core().term()) {
      best = node;
      *id = n;
    }
  }
  return best;
}

std::vector<NodeId> MembershipDriver::Members() {
  NodeId id = kNoNode;
  const raft::RaftNode* leader = Leader(&id);
  if (leader == nullptr) return {};
  const raft::ConfState& conf = leader->core().conf();
  std::vector<NodeId> members(conf.voters.begin(), conf.voters.end());
  members.insert(members.end(), conf.learners.begin(), conf.learners.end());
  std::sort(members.begin(), members.end());
  return members;
}

void MembershipDriver::Submit(const chaos::NemesisAction& action) {
  raft::ConfChange change;
  change.replica = action.node;
  switch (action.kind) {
    case chaos::NemesisKind::kRemoveVoter: change.type = raft::ConfChangeType::kRemove; break;
    case chaos::NemesisKind::kAddLearner: change.type = raft::ConfChangeType::kAddLearner; break;
    case chaos::NemesisKind::kPromote: change.type = raft::ConfChangeType::kAddVoter; break;
    default: return;
  }
  Attempt(change, 1, epoch_);
}

void MembershipDriver::Attempt(raft::ConfChange change, int attempt, uint64_t epoch) {
  if (epoch != epoch_) return;
  NodeId leader_id = kNoNode;
  const raft::RaftNode* leader = Leader(&leader_id);
  std::shared_ptr<Future<raft::Index>> future;
  if (leader != nullptr) {
    const raft::ConfState& conf = leader->core().conf();
    const bool done = change.type == raft::ConfChangeType::kRemove
                          ? !raft::IsVoter(conf, change.replica) &&
                                !raft::IsLearner(conf, change.replica)
                          : change.type == raft::ConfChangeType::kAddVoter
                                ? raft::IsVoter(conf, change.replica)
                                : raft::IsLearner(conf, change.replica) ||
                                      raft::IsVoter(conf, change.replica);
    if (done) {
      ++applied_;
      sim_->Trace(leader_id, "kvsim.conf_applied", raft::FormatConfChange(change));
      return;
    }
    // Fire and forget: the next attempt checks the leader's configuration.
    (void)checker_->Replica(leader_id)->mutable_node()->group().ProposeConfChange(change);
    sim_->Trace(leader_id, "kvsim.conf_propose",
                absl::StrCat(raft::FormatConfChange(change), " attempt ", attempt));
  }
  if (attempt >= kMaxAttempts) {
    ++given_up_;
    sim_->Trace(kNoNode, "kvsim.conf_given_up", raft::FormatConfChange(change));
    return;
  }
  sim_->After(kRetryInterval, "kvsim.conf_retry",
              [this, change, attempt, epoch] { Attempt(change, attempt + 1, epoch); });
}

}  // namespace crema::kvsim
