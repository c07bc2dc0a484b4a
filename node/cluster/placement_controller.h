// PlacementController: turns the cluster map into Raft membership changes. It runs on the node
// that leads the metadata group (one at a time; a new leader simply continues from the map).
//
// Each pass (`Step`):
//   1. Node states: an active node unavailable (SWIM + phi) for longer than replace_dead_after
//      (if enabled) becomes removed; a draining node that holds no replica becomes removed.
//   2. For each group (the metadata group first, then shards in order) compares the recorded
//      replicas with the targets (cluster_map.h, TargetPlacement): a target node without a
//      replica gets an intent (a new replica id with a fresh generation; its node creates it);
//      then, for at most `max_moves_in_flight` groups at a time, a reconciliation runs: it asks
//      the group's leader for ONE membership step toward the desired replicas (ReconcileStep
//      below) and records the resulting configuration in the map, until the leader says done.
// Desired replicas = the replicas on target nodes, minus replicas reported corrupt: a corrupt
// replica is removed, its node wipes it, and the node gets a new replica under a new id, caught
// up by snapshot ("repair from peers").
//
// Order of a move (one change per group at a time): add learner -> it catches up (snapshot) ->
// promote -> remove the replaced voter (a leader to be removed first hands leadership to a
// desired voter). So a group grows before it shrinks, and never loses quorum to a move.
//
// Thread safety: none; the node's event loop. `Step` is fiber-only (it spawns fibers).
#ifndef CREMA_NODE_CLUSTER_PLACEMENT_CONTROLLER_H_
#define CREMA_NODE_CLUSTER_PLACEMENT_CONTROLLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "consensus/raft.h"
#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_command.h"
#include "node/env.h"

namespace crema::cluster {

// What a group's leader answers to a reconciliation request.
struct ReconcileResult {
  std::vector<ReplicaId> voters;
  std::vector<ReplicaId> learners;
  raft::Index conf_index = 0;
  bool done = false;          // the configuration is the desired one
  std::string step;           // what was done ("add-learner 16777218", "wait catch-up", ...)
};
std::string EncodeReconcileResult(const ReconcileResult& r);
absl::StatusOr<ReconcileResult> DecodeReconcileResult(std::string_view bytes);
std::string EncodeReplicaList(const std::vector<ReplicaId>& replicas);
absl::StatusOr<std::vector<ReplicaId>> DecodeReplicaList(std::string_view bytes);

// The one membership step a group's leader takes toward `desired` (pure; the caller proposes
// it). nullopt when nothing is to be proposed now (done, or waiting for a learner to catch up /
// a leadership transfer): `*why` says which, `*done` whether the configuration is the desired
// one. `transfer_to` is set when the leader itself must go first.
struct StepDecision {
  std::optional<raft::ConfChange> change;
  ReplicaId transfer_to = raft::kNoReplica;
  bool done = false;
  std::string why;
};
StepDecision DecideStep(const raft::Raft& leader, const std::vector<ReplicaId>& desired);

class PlacementController {
 public:
  class Context {
   public:
    virtual ~Context() = default;
    virtual const ClusterMap& map() const = 0;
    virtual const TargetPlacement& targets() const = 0;
    virtual bool IsAvailable(NodeId node) const = 0;
    virtual absl::Time Now() const = 0;  // monotonic
    // Proposes at the metadata group (this node leads it); fiber-only.
    virtual absl::Status ProposeMeta(const MetaCommand& command) = 0;
    // One reconciliation step at the group's leader; fiber-only.
    virtual absl::StatusOr<ReconcileResult> Reconcile(raft::GroupId group,
                                                      const std::vector<ReplicaId>& desired,
                                                      absl::Duration timeout) = 0;
    virtual bool IsCorrupt(raft::GroupId group, ReplicaId replica) const = 0;
  };

  struct Options {
    absl::Duration replace_dead_after = absl::ZeroDuration();  // zero: never
    int max_moves_in_flight = 4;
    absl::Duration step_timeout = absl::Seconds(2);
    absl::Duration retry_after = absl::Milliseconds(500);  // a group's next step after a failure
  };

  struct Stats {
    uint64_t passes = 0;
    uint64_t intents = 0;
    uint64_t steps = 0;
    uint64_t step_failures = 0;
    uint64_t nodes_removed = 0;
    size_t in_flight = 0;
    size_t unsettled_groups = 0;  // groups not at their targets, as of the last pass
  };

  // Starts inactive.
  PlacementController(Env env, std::unique_ptr<Context> context, Options options);
  ~PlacementController();
  // One pass (see the file comment). Fiber-only; returns without waiting for moves. Does
  // nothing while inactive.
  void Step();
  // The node gained or lost the metadata group's leadership. Inactive: no new passes or moves;
  // running moves end at their next step.
  void SetActive(bool active) { stopped_ = !active; }
  bool active() const { return !stopped_; }
  // For good (the node stops). Idempotent.
  void Stop() { stopped_ = true; }
  // Something besides the map changed (e.g. a corrupt-replica report): examine every group on
  // the next pass.
  void Invalidate() { examined_version_ = 0; }
  const Stats& stats() const { return stats_; }

  // The replicas a group should consist of, given the map and corrupt reports.
  static std::vector<ReplicaId> Desired(const ShardInfo& group,
                                        const std::vector<NodeId>& targets,
                                        const Context& context, raft::GroupId id);

 private:
  void UpdateNodeStates();
  // Returns whether the group is settled (nothing to do).
  bool Examine(raft::GroupId group);
  void StartMove(raft::GroupId group);
  void RunMove(raft::GroupId group);

  Env env_;
  std::unique_ptr<Context> context_;
  Options options_;
  bool stopped_ = true;
  absl::btree_set<raft::GroupId> moving_;
  absl::btree_map<raft::GroupId, absl::Time> retry_at_;
  absl::btree_map<NodeId, absl::Time> unavailable_since_;
  uint64_t examined_version_ = 0;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace crema::cluster

#endif  // CREMA_NODE_CLUSTER_PLACEMENT_CONTROLLER_H_
