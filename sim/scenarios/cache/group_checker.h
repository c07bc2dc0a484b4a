// GroupChecker: the cache scenario's cross-replica oracles over every Raft group of a CacheNode
// cluster (every shard and the metadata group), run from the simulator thread.
//
//   * Raft invariants after every event (`AfterEvent`): a node whose Raft host ran no Ready cycle
//     since the last check (and did not restart) changed no core, so it is skipped; for the
//     others each hosted replica's signature (incarnation, reopens, role, term, last index and
//     term, commit, applied) is compared, and every group with a changed replica is checked with
//     its own consensus/invariants.h InvariantChecker over all its running replicas (views
//     windowed as in sim/scenarios/raftkv/cluster_checker.h: whole logs after a (re)start and when
//     a term's leadership begins, else from just below the last checked commit).
//   * Convergence (`Converged`): by the map of the metadata leader — every node in the map that
//     is not removed is up and has that map version; every group's recorded replicas are exactly
//     its placement targets' (settled: no learners, nothing being added); every replica of every
//     group is up, running, has applied the same index (at least every replica's commit) and
//     holds the same state digest.
//
// Thread safety: none. `sim` must outlive the checker.
#ifndef CREMA_SIM_SCENARIOS_CACHE_GROUP_CHECKER_H_
#define CREMA_SIM_SCENARIOS_CACHE_GROUP_CHECKER_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "consensus/invariants.h"
#include "node/cache_node/cache_node.h"
#include "sim/simulator.h"

namespace crema::sim {

class GroupChecker {
 public:
  static constexpr raft::Index kWindowMargin = 2;

  GroupChecker(Simulator* sim, std::vector<NodeId> nodes) : sim_(sim), nodes_(std::move(nodes)) {}

  // Checks the invariants of every group that changed; false once a violation is found (kept).
  bool AfterEvent();
  const absl::Status& violation() const { return violation_; }
  uint64_t checks() const { return checks_; }

  // See the file comment; `why` says what is not converged yet.
  bool Converged(std::string* why);
  // The running CacheNode of `id`, or nullptr (down, paused or not started).
  CacheNode* Node(NodeId id);
  // The map of the node that leads the metadata group, if any is known.
  const cluster::ClusterMap* LeaderMap();
  std::string Describe();
  // One group's Raft state on every node (role, term, leader, last/commit/applied, quiesced).
  std::string DescribeGroup(raft::GroupId group);

 private:
  using Signature = std::tuple<uint64_t, uint64_t, int, raft::Term, raft::Index, raft::Term,
                               raft::Index, raft::Index>;
  struct ReplicaKey {
    NodeId node;
    raft::GroupId group;
    auto operator<=>(const ReplicaKey&) const = default;
  };
  raft::ReplicaView View(const ReplicaKey& key, const raft::Raft& core);

  Simulator* sim_;
  std::vector<NodeId> nodes_;
  absl::btree_map<NodeId, std::pair<uint64_t, uint64_t>> node_marks_;  // incarnation, cycles
  absl::btree_map<ReplicaKey, Signature> signatures_;
  absl::btree_map<ReplicaKey, raft::Index> checked_commit_;
  absl::btree_map<ReplicaKey, raft::Term> led_term_;
  absl::btree_map<raft::GroupId, raft::InvariantChecker> invariants_;
  absl::Status violation_;
  uint64_t checks_ = 0;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIOS_CACHE_GROUP_CHECKER_H_
