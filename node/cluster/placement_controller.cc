#include "node/cluster/placement_controller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/wire.h"

namespace crema::cluster {
namespace {

bool Contains(const std::vector<ReplicaId>& v, ReplicaId r) {
  return std::find(v.begin(), v.end(), r) != v.end();
}

void PutList(WireWriter& w, const std::vector<ReplicaId>& v) {
  w.PutVarint(v.size());
  for (ReplicaId r : v) w.PutVarint(r);
}

bool GetList(WireReader& r, std::vector<ReplicaId>* v) {
  uint64_t n;
  if (!r.GetVarint(&n, kMaxReplicasPerShard)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!r.GetVarint(&id, UINT32_MAX) || id == raft::kNoReplica) return false;
    v->push_back(static_cast<ReplicaId>(id));
  }
  return true;
}

std::vector<ReplicaId> Sorted(std::vector<ReplicaId> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

std::string EncodeReconcileResult(const ReconcileResult& r) {
  WireWriter w;
  PutList(w, r.voters);
  PutList(w, r.learners);
  w.PutVarint(r.conf_index);
  w.PutBool(r.done);
  w.PutBytes(r.step.substr(0, 256));
  return std::move(w).Finish();
}

absl::StatusOr<ReconcileResult> DecodeReconcileResult(std::string_view bytes) {
  WireReader r(bytes);
  ReconcileResult out;
  if (!GetList(r, &out.voters) || !GetList(r, &out.learners) || !r.GetVarint(&out.conf_index) ||
      !r.GetBool(&out.done) || !r.GetBytes(&out.step, 256) || !r.done()) {
    return absl::InvalidArgumentError("reconcile result: malformed");
  }
  out.voters = Sorted(std::move(out.voters));
  out.learners = Sorted(std::move(out.learners));
  return out;
}

std::string EncodeReplicaList(const std::vector<ReplicaId>& replicas) {
  WireWriter w;
  PutList(w, replicas);
  return std::move(w).Finish();
}

absl::StatusOr<std::vector<ReplicaId>> DecodeReplicaList(std::string_view bytes) {
  WireReader r(bytes);
  std::vector<ReplicaId> out;
  if (!GetList(r, &out) || !r.done()) return absl::InvalidArgumentError("replica list: malformed");
  return out;
}

StepDecision DecideStep(const raft::Raft& leader, const std::vector<ReplicaId>& desired) {
  StepDecision d;
  const raft::ConfState& conf = leader.conf();
  const auto& progress = leader.progress();
  auto caught_up = [&](ReplicaId r) {
    auto it = progress.find(r);
    return it != progress.end() && it->second.match >= leader.commit();
  };
  if (!conf.voters_outgoing.empty()) {
    d.why = "joint configuration in progress";
    return d;
  }
  // 1. Add what is missing, as a learner first.
  for (ReplicaId r : desired) {
    if (!raft::IsVoter(conf, r) && !raft::IsLearner(conf, r)) {
      d.change = raft::ConfChange{raft::ConfChangeType::kAddLearner, r};
      d.why = absl::StrCat("add-learner ", r);
      return d;
    }
  }
  // 2. Promote desired learners that caught up.
  bool waiting = false;
  for (ReplicaId r : desired) {
    if (!raft::IsLearner(conf, r)) continue;
    if (caught_up(r)) {
      d.change = raft::ConfChange{raft::ConfChangeType::kAddVoter, r};
      d.why = absl::StrCat("promote ", r);
      return d;
    }
    waiting = true;
  }
  if (waiting) {
    d.why = "wait for a learner to catch up";
    return d;
  }
  // 3. Remove voters that are not desired; the leader itself hands leadership over first.
  for (ReplicaId r : conf.voters) {
    if (Contains(desired, r)) continue;
    if (r == leader.id()) {
      for (ReplicaId to : desired) {
        if (raft::IsVoter(conf, to) && caught_up(to)) {
          d.transfer_to = to;
          d.why = absl::StrCat("transfer leadership to ", to, " before removing ", r);
          return d;
        }
      }
      d.why = "no caught-up voter to hand leadership to";
      return d;
    }
    d.change = raft::ConfChange{raft::ConfChangeType::kRemove, r};
    d.why = absl::StrCat("remove voter ", r);
    return d;
  }
  // 4. Remove learners that are not desired.
  for (ReplicaId r : conf.learners) {
    if (!Contains(desired, r)) {
      d.change = raft::ConfChange{raft::ConfChangeType::kRemove, r};
      d.why = absl::StrCat("remove learner ", r);
      return d;
    }
  }
  d.done = true;
  d.why = "done";
  return d;
}

PlacementController::PlacementController(Env env, std::unique_ptr<Context> context,
                                         Options options)
    : env_(env), context_(std::move(context)), options_(options) {}

PlacementController::~PlacementController() { *alive_ = false; }

std::vector<ReplicaId> PlacementController::Desired(const ShardInfo& group,
                                                    const std::vector<NodeId>& targets,
                                                    const Context& context, raft::GroupId id) {
  std::vector<ReplicaId> desired;
  for (NodeId node : targets) {
    const ReplicaId r = group.ReplicaOn(node);
    if (r != raft::kNoReplica && !context.IsCorrupt(id, r)) desired.push_back(r);
  }
  std::sort(desired.begin(), desired.end());
  return desired;
}

void PlacementController::Step() {
  if (stopped_) return;
  ++stats_.passes;
  UpdateNodeStates();
  const ClusterMap& map = context_->map();
  if (!map.bootstrapped()) return;
  // An idle cluster costs nothing: look at every group only when something could have changed.
  if (map.version == examined_version_ && moving_.empty() && retry_at_.empty() &&
      stats_.unsettled_groups == 0) {
    return;
  }
  examined_version_ = map.version;
  size_t unsettled = 0;
  std::vector<raft::GroupId> groups = {kMetaGroup};
  for (ShardId s = 0; s < map.params.num_shards; ++s) groups.push_back(GroupOfShard(s));
  for (raft::GroupId g : groups) {
    if (stopped_) return;
    if (!Examine(g)) ++unsettled;
  }
  stats_.unsettled_groups = unsettled;
}

void PlacementController::UpdateNodeStates() {
  const ClusterMap& map = context_->map();
  const absl::Time now = context_->Now();
  std::vector<MetaCommand> changes;
  for (const auto& [id, info] : map.nodes) {
    if (info.state == NodeState::kActive && options_.replace_dead_after > absl::ZeroDuration()) {
      if (context_->IsAvailable(id)) {
        unavailable_since_.erase(id);
      } else {
        auto [it, inserted] = unavailable_since_.try_emplace(id, now);
        if (now - it->second >= options_.replace_dead_after && map.ActiveNodes().size() > 1) {
          changes.push_back(MetaCommand{.kind = MetaCommandKind::kSetState, .node = id,
                                        .state = NodeState::kRemoved});
          unavailable_since_.erase(id);
        }
      }
    }
    if (info.state == NodeState::kDraining) {
      bool holds = map.meta.ReplicaOn(id) != raft::kNoReplica;
      for (const ShardInfo& s : map.shards) holds = holds || s.ReplicaOn(id) != raft::kNoReplica;
      if (!holds) {
        changes.push_back(MetaCommand{.kind = MetaCommandKind::kSetState, .node = id,
                                      .state = NodeState::kRemoved});
      }
    }
  }
  for (const MetaCommand& c : changes) {
    if (context_->ProposeMeta(c).ok()) ++stats_.nodes_removed;
    if (stopped_) return;
  }
}

bool PlacementController::Examine(raft::GroupId group) {
  const ClusterMap& map = context_->map();
  const ShardInfo* info = map.Group(group);
  if (info == nullptr) return true;
  const std::vector<NodeId>& targets = context_->targets().Targets(group);
  if (targets.empty()) return true;  // no active node at all: nothing to place on
  // Intents for target nodes without a replica.
  for (NodeId node : targets) {
    if (info->ReplicaOn(node) != raft::kNoReplica) continue;
    MetaCommand intent{.kind = MetaCommandKind::kAddIntent, .node = node, .group = group};
    if (context_->ProposeMeta(intent).ok()) ++stats_.intents;
    return false;  // the map changed under us: look again next pass
  }
  const std::vector<ReplicaId> desired = Desired(*info, targets, *context_, group);
  const bool settled = info->adding.empty() && info->learners.empty() && info->voters == desired;
  if (settled) return true;
  if (!moving_.contains(group) && moving_.size() < static_cast<size_t>(options_.max_moves_in_flight)) {
    auto retry = retry_at_.find(group);
    if (retry == retry_at_.end() || context_->Now() >= retry->second) StartMove(group);
  }
  return false;
}

void PlacementController::StartMove(raft::GroupId group) {
  moving_.insert(group);
  stats_.in_flight = moving_.size();
  env_.executor->Spawn(absl::StrCat("placement-move-", group),
                       [this, alive = alive_, group] {
                         RunMove(group);
                         if (!*alive) return;
                         moving_.erase(group);
                         stats_.in_flight = moving_.size();
                       });
}

void PlacementController::RunMove(raft::GroupId group) {
  // A bounded number of steps per move; the next pass continues if more are needed.
  for (int step = 0; step < 8 && !stopped_; ++step) {
    const ShardInfo* info = context_->map().Group(group);
    if (info == nullptr) return;
    const std::vector<ReplicaId> desired =
        Desired(*info, context_->targets().Targets(group), *context_, group);
    if (desired.empty()) return;
    absl::StatusOr<ReconcileResult> result =
        context_->Reconcile(group, desired, options_.step_timeout);
    if (stopped_) return;
    if (!result.ok()) {
      ++stats_.step_failures;
      env_.tracer->Record("placement.step_failed",
                          absl::StrCat(group, " ", result.status().ToString()));
      retry_at_[group] = context_->Now() + options_.retry_after;
      return;
    }
    ++stats_.steps;
    env_.tracer->Record("placement.step",
                        absl::StrCat(group, " ", result->step, " voters=",
                                     absl::StrJoin(result->voters, ","), " learners=",
                                     absl::StrJoin(result->learners, ","), " at ",
                                     result->conf_index));
    info = context_->map().Group(group);
    if (info == nullptr) return;
    // Record the leader's configuration when it differs from the map's (or settles intents).
    bool intent_settled = false;
    const std::vector<ReplicaId> recorded_voters = info->voters;
    const std::vector<ReplicaId> recorded_learners = info->learners;
    for (ReplicaId r : std::vector<ReplicaId>(info->adding)) {
      intent_settled = intent_settled || Contains(result->voters, r) || Contains(result->learners, r);
    }
    if (result->voters != recorded_voters || result->learners != recorded_learners ||
        intent_settled) {
      MetaCommand record{.kind = MetaCommandKind::kRecordConf, .group = group,
                         .voters = result->voters, .learners = result->learners,
                         .conf_index = result->conf_index};
      if (absl::Status s = context_->ProposeMeta(record); !s.ok()) {
        env_.tracer->Record("placement.record_failed", absl::StrCat(group, " ", s.ToString()));
        retry_at_[group] = context_->Now() + options_.retry_after;
        return;
      }
    }
    // Intents whose node stopped being a target before Raft added them: the leader just showed
    // they are not members, so they can go (cluster_map.h: a replica id is never reused).
    // (Every ProposeMeta waits, and the map it changes may be replaced: copy, then look again.)
    info = context_->map().Group(group);
    if (info == nullptr) return;
    const std::vector<ReplicaId> adding = info->adding;
    for (ReplicaId r : adding) {
      if (Contains(desired, r) || Contains(result->voters, r) || Contains(result->learners, r)) {
        continue;
      }
      MetaCommand cancel{.kind = MetaCommandKind::kCancelIntent, .group = group, .replica = r};
      (void)context_->ProposeMeta(cancel);
      info = context_->map().Group(group);
      if (info == nullptr) return;
      break;  // the map changed: look again at the next step
    }
    if (result->done) {
      retry_at_.erase(group);
      return;
    }
    if (result->step.rfind("wait", 0) == 0 || result->step.rfind("transfer", 0) == 0 ||
        result->step.rfind("no ", 0) == 0) {
      // Nothing was proposed: give the learner (or the new leader) time.
      retry_at_[group] = context_->Now() + options_.retry_after;
      return;
    }
  }
}

}  // namespace crema::cluster
