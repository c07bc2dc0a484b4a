// MembershipDriver: applies the nemesis' membership actions (chaos/nemesis.h) to the raft-kv
// cluster through Raft itself: remove voter -> ConfChange kRemove, add learner -> kAddLearner,
// promote -> kAddVoter, proposed on the current leader. A change that finds no leader, or that
// the leader refuses or times out, is retried every kRetryInterval up to kMaxAttempts times;
// then it is given up (a legitimate outcome under faults — the scenario's oracles do not depend
// on it). Called from simulator-level code only.
//
// Thread safety: none (the simulator's thread). `sim` and `checker` outlive the driver.
#ifndef CREMA_SIM_SCENARIOS_RAFTKV_MEMBERSHIP_DRIVER_H_
#define CREMA_SIM_SCENARIOS_RAFTKV_MEMBERSHIP_DRIVER_H_

#include <cstdint>
#include <vector>

#include "chaos/nemesis.h"
#include "consensus/conf_change.h"
#include "sim/scenarios/raftkv/cluster_checker.h"
#include "sim/simulator.h"

namespace crema::kvsim {

class MembershipDriver {
 public:
  static constexpr absl::Duration kRetryInterval = absl::Milliseconds(300);
  static constexpr int kMaxAttempts = 20;

  MembershipDriver(sim::Simulator* sim, ClusterChecker* checker, std::vector<NodeId> nodes)
      : sim_(sim), checker_(checker), nodes_(std::move(nodes)) {}

  void Submit(const chaos::NemesisAction& action);
  // Stops retrying (the liveness phase starts: pending changes are left as they are).
  void Stop() { ++epoch_; }

  uint64_t applied() const { return applied_; }
  uint64_t given_up() const { return given_up_; }

  // The current leader's configuration (voters + learners), or empty if no leader is running.
  std::vector<NodeId> Members();

 private:
  void Attempt(raft::ConfChange change, int attempt, uint64_t epoch);
  const raft::RaftNode* Leader(NodeId* id);

  sim::Simulator* sim_;
  ClusterChecker* checker_;
  std::vector<NodeId> nodes_;
  uint64_t epoch_ = 0;
  uint64_t applied_ = 0;
  uint64_t given_up_ = 0;
};

}  // namespace crema::kvsim

#endif  // CREMA_SIM_SCENARIOS_RAFTKV_MEMBERSHIP_DRIVER_H_
