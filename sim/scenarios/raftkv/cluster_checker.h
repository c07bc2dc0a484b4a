// ClusterChecker: the raft-kv simulation's cross-replica oracles, run from the simulator thread.
//
//   * Raft invariants after every event (`AfterEvent`): for every server whose Raft core is
//     running (up or paused, started, not stopped by a storage error) it computes a cheap
//     signature (incarnation, reopens, role, term, last index and term, commit, applied) — after
//     one event of one server, only that server's (no other core can have changed). When any
//     signature changed since the last event, every running core is viewed and passed to
//     consensus/invariants.h's InvariantChecker (election safety, leader append-only, log
//     matching, leader completeness, state machine safety). Comparing (last index, last term)
//     catches every log change that matters: by log matching, equal (index, term) at the end
//     means equal logs — and a log-matching violation changes the last term when it happens.
//     Cost: views are *windowed*. A replica's view normally holds only its entries from
//     (the commit index it had at its previous check, or its current one if lower) - kWindowMargin
//     to its last entry: every uncommitted entry, and every entry at the moment it becomes
//     committed there, so state machine safety sees every committed entry of every replica.
//     A replica's view is *full* (its whole log) the first time after each (re)start and the
//     first time it is seen leading a term, so leader completeness is checked over the whole
//     log when leadership begins (committed entries never change after that: append-only).
//   * Convergence (`Converged`): every server is up and running, all cores have applied the same
//     index, which is at least every server's commit index, and the KV machines have identical
//     digests (KvStateMachine::Digest: data, sessions and the index of the last KV command).
//
// Crashed servers are simply absent from the views; a restarted one reports its recovered state.
// Thread safety: none. `sim` must outlive the checker.
#ifndef CREMA_SIM_SCENARIOS_RAFTKV_CLUSTER_CHECKER_H_
#define CREMA_SIM_SCENARIOS_RAFTKV_CLUSTER_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "consensus/invariants.h"
#include "consensus/kv/kv_replica.h"
#include "consensus/kv/kv_server.h"
#include "sim/simulator.h"

namespace crema::kvsim {

// What a server node runs: the replica (RaftNode + KV machine) and the client-facing server.
class KvServerProgram final : public sim::NodeProgram {
 public:
  KvServerProgram(Env env, raft::RaftNodeOptions options, kv::ReadPath read_path,
                  bool planted_leader_local_reads = false)
      : replica(env, std::move(options), read_path), server(env, &replica) {
    if (planted_leader_local_reads) replica.PlantLeaderLocalReadsBugForTest();
  }
  kv::KvReplica replica;
  kv::KvServer server;
};

class ClusterChecker {
 public:
  ClusterChecker(sim::Simulator* sim, std::vector<NodeId> servers)
      : sim_(sim), servers_(std::move(servers)) {}

  // Checks the invariants if any core changed; returns false (and keeps the first violation)
  // once one is found.
  bool AfterEvent();
  // With a voter set that never changes (no membership changes in the run), also check after
  // every change that no replica lacking a committed entry could win an election
  // (InvariantChecker::CheckCommittedEntriesElectable): a commit-rule bug (Raft's Figure 8) is
  // then caught when the bad commit happens, not only if an overwrite follows.
  void SetFixedVoters(std::vector<raft::ReplicaId> voters) { fixed_voters_ = std::move(voters); }
  const absl::Status& violation() const { return violation_; }
  uint64_t checks() const { return checks_; }
  // Coverage: leaders first seen leading a term while a partition was in force.
  uint64_t leader_changes_in_partition() const { return leader_changes_in_partition_; }

  // See the file comment. On success, `digest` and `applied` describe the common state.
  // Over `members` (the current configuration; removed replicas may lag forever).
  bool Converged(const std::vector<NodeId>& members, uint64_t* digest = nullptr,
                 raft::Index* applied = nullptr);
  // The sum of the running `members`' applied indices: grows while a lagging replica catches up.
  raft::Index AppliedSum(const std::vector<NodeId>& members);
  // A one-line description of every server (role, term, commit, applied) for failure reports.
  std::string Describe();
  // Every running server's Raft status line (raft.h StatusLine: role, term, commit, and a
  // leader's view of each follower's progress), one per line: what a failure report needs.
  std::string RaftStatus();

  // The running replica of `id`, or nullptr.
  kv::KvReplica* Replica(NodeId id);

 private:
  using Signature = std::tuple<uint64_t, uint64_t, int, raft::Term, raft::Index, raft::Term,
                               raft::Index, raft::Index>;
  static constexpr raft::Index kWindowMargin = 4;

  const raft::RaftNode* RunningNode(NodeId id);
  raft::ReplicaView View(NodeId id, const raft::Raft& core);

  sim::Simulator* sim_;
  std::vector<NodeId> servers_;
  std::vector<raft::ReplicaId> fixed_voters_;  // empty: membership may change
  raft::InvariantChecker invariants_;
  absl::btree_map<NodeId, Signature> signatures_;
  absl::btree_map<NodeId, raft::Index> checked_commit_;  // absent: next view is full
  absl::btree_map<NodeId, raft::Term> led_term_;          // last term seen leading (full view)
  absl::Status violation_;
  uint64_t checks_ = 0;
  uint64_t leader_changes_in_partition_ = 0;
  uint64_t events_seen_ = 0;  // sim_->events_run() at the last AfterEvent
};

}  // namespace crema::kvsim

#endif  // CREMA_SIM_SCENARIOS_RAFTKV_CLUSTER_CHECKER_H_
