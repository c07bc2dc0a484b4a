#include "sim/scenarios/raftkv/cluster_checker.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace crema::kvsim {

kv::KvReplica* ClusterChecker::Replica(NodeId id) {
  if (!sim_->HasNode(id) || sim_->state(id) == sim::NodeState::kDown) return nullptr;
  auto* program = static_cast<KvServerProgram*>(sim_->program(id));
  return program == nullptr ? nullptr : &program->replica;
}

const raft::RaftNode* ClusterChecker::RunningNode(NodeId id) {
  kv::KvReplica* replica = Replica(id);
  if (replica == nullptr) return nullptr;
  const raft::RaftNode* node = replica->node();
  return node == nullptr || node->stopped() || !node->group().has_core() ? nullptr : node;
}

bool ClusterChecker::AfterEvent() {
  if (!violation_.ok()) return false;
  // After exactly one event of one node, only that node's core can have changed: its program runs
  // only in its own events (crashes, restarts and proposals come from simulator-level events).
  const uint64_t run = sim_->events_run();
  const NodeId only = run == events_seen_ + 1 ? sim_->last_event_node() : kNoNode;
  events_seen_ = run;
  bool changed = false;
  for (NodeId id : servers_) {
    if (only != kNoNode && id != only) continue;
    const raft::RaftNode* node = RunningNode(id);
    if (node == nullptr) {
      changed = signatures_.erase(id) > 0 || changed;
      checked_commit_.erase(id);  // after a restart the next view is full
      continue;
    }
    const raft::Raft& core = node->core();
    const Signature sig{sim_->incarnation(id),
                        node->group().reopens(),
                        static_cast<int>(core.role()),
                        core.term(),
                        core.log().last_index(),
                        core.log().last_term(),
                        core.commit(),
                        core.applied()};
    auto [it, inserted] = signatures_.emplace(id, sig);
    if (!inserted && std::get<0>(it->second) != std::get<0>(sig)) checked_commit_.erase(id);
    if (!inserted && std::get<1>(it->second) != std::get<1>(sig)) checked_commit_.erase(id);
    if (inserted || it->second != sig) {
      it->second = sig;
      changed = true;
    }
  }
  if (!changed) return true;
  std::vector<raft::ReplicaView> views;
  for (NodeId id : servers_) {
    if (const raft::RaftNode* node = RunningNode(id)) views.push_back(View(id, node->core()));
  }
  ++checks_;
  violation_ = invariants_.Check(views);
  if (violation_.ok() && !fixed_voters_.empty()) {
    violation_ = invariants_.CheckCommittedEntriesElectable(views, fixed_voters_);
  }
  return violation_.ok();
}

raft::ReplicaView ClusterChecker::View(NodeId id, const raft::Raft& core) {
  const raft::RaftLog& log = core.log();
  raft::Index from = log.first_index();
  auto checked = checked_commit_.find(id);
  const bool new_leader = core.role() == raft::Role::kLeader && led_term_[id] != core.term();
  if (checked != checked_commit_.end() && !new_leader) {
    const raft::Index low = std::min(checked->second, core.commit());
    from = std::max(from, low > kWindowMargin ? low - kWindowMargin : raft::Index{0});
  }
  if (new_leader && !sim_->network().blocked_links().empty()) ++leader_changes_in_partition_;
  if (core.role() == raft::Role::kLeader) led_term_[id] = core.term();
  checked_commit_[id] = core.commit();
  raft::ReplicaView v;
  v.id = core.id();
  v.is_leader = raft::LeadsDurably(core);
  v.term = core.term();
  v.commit = core.commit();
  v.log_offset = from - 1;
  v.log_offset_term = log.TermAt(from - 1).value_or(0);  // for an empty window: its last term
  if (log.last_index() >= from) v.entries.reserve(log.last_index() - from + 1);
  for (raft::Index i = from; i <= log.last_index(); ++i) v.entries.push_back(log.At(i));
  return v;
}

bool ClusterChecker::Converged(const std::vector<NodeId>& members, uint64_t* digest,
                               raft::Index* applied) {
  std::optional<uint64_t> common_digest;
  std::optional<raft::Index> common_applied;
  raft::Index max_commit = 0;
  if (members.empty()) return false;
  for (NodeId id : members) {
    if (!sim_->HasNode(id) || sim_->state(id) != sim::NodeState::kUp) return false;
    const raft::RaftNode* node = RunningNode(id);
    if (node == nullptr) return false;
    kv::KvStateMachine* machine = Replica(id)->machine();
    const raft::Raft& core = node->core();
    max_commit = std::max(max_commit, core.commit());
    const uint64_t d = machine->Digest();
    if (common_applied && (*common_applied != core.applied() || *common_digest != d)) {
      return false;
    }
    common_applied = core.applied();
    common_digest = d;
  }
  if (!common_applied || *common_applied < max_commit) return false;
  if (digest != nullptr) *digest = *common_digest;
  if (applied != nullptr) *applied = *common_applied;
  return true;
}

raft::Index ClusterChecker::AppliedSum(const std::vector<NodeId>& members) {
  raft::Index sum = 0;
  for (NodeId id : members) {
    if (const raft::RaftNode* node = RunningNode(id)) sum += node->core().applied();
  }
  return sum;
}

std::string ClusterChecker::Describe() {
  std::string out;
  for (NodeId id : servers_) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", "n", id, ":");
    const raft::RaftNode* node = RunningNode(id);
    if (node == nullptr) {
      const sim::NodeState state = sim_->HasNode(id) ? sim_->state(id) : sim::NodeState::kDown;
      kv::KvReplica* replica = Replica(id);
      absl::StrAppend(&out, state == sim::NodeState::kDown ? "down" : "not-running",
                      replica != nullptr && !replica->last_error().ok()
                          ? absl::StrCat(" (", replica->last_error().ToString(), ")")
                          : "");
      continue;
    }
    const raft::Raft& core = node->core();
    absl::StrAppend(&out, raft::RoleName(core.role()), " t", core.term(), " last",
                    core.log().last_index(), " commit", core.commit(), " applied",
                    Replica(id)->machine()->last_applied());
  }
  return out;
}

std::string ClusterChecker::RaftStatus() {
  std::string out;
  for (NodeId id : servers_) {
    const raft::RaftNode* node = RunningNode(id);
    if (node == nullptr) {
      absl::StrAppend(&out, "  n", id, ": not running\n");
      continue;
    }
    const raft::ConfState& conf = node->core().conf();
    absl::StrAppend(&out, "  n", id, ": ", node->core().StatusLine(), " voters=[",
                    absl::StrJoin(conf.voters, " "), "] learners=[", absl::StrJoin(conf.learners, " "),
                    "]\n");
  }
  return out;
}

}  // namespace crema::kvsim
