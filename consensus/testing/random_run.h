// Randomised runs of an in-memory Raft cluster (cluster.h) for property tests and seed sweeps.
//
// One seed drives everything: the cluster's shape and configuration (swarm testing: pre-vote,
// check-quorum, leases, quiescence, batch and flow-control limits are drawn per seed) and every
// step of the schedule. A run has a safety phase of `steps` random actions, then a liveness
// phase: the network heals, the host wakes every quiet replica, and a leader must commit a fresh
// entry that every member applies with identical state, and serve a read.
//
// Oracles, checked after every step:
//   * the five Raft invariants (invariants.h) and in-order apply (cluster.h);
//   * linearizable reads: every read served (ReadIndex, or a lease read) returns an index >= the
//     highest commit index any replica had reached when the read was issued, i.e. >= the index
//     of every write that could have been acknowledged before it (thesis §6.4).
//
// Schedules:
//   kMixed        everything at once: membership changes, compaction, snapshots, transfers,
//                 partitions, restarts, clock stalls, reads, quiescence.
//   kLeaderChurn  aimed at the commit rules (Raft §5.4.2, "Figure 8"): 3 or 5 voters, one entry
//                 per MsgApp, frequent campaigns, the leader isolated right after it sends part
//                 of its appends, short partitions and restarts.
//
// Time: without leases, every replica ticks at random (timers are free to misbehave: only
// liveness depends on them). With lease reads on, a global clock advances and each replica
// ticks at its own constant rate within +-kMaxClockRatePpm of nominal, so any two clocks drift
// apart by less than Config::max_clock_drift over a lease; stalls only delay ticks.
//
// Thread safety: none.
#ifndef CREMA_CONSENSUS_TESTING_RANDOM_RUN_H_
#define CREMA_CONSENSUS_TESTING_RANDOM_RUN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "consensus/testing/cluster.h"
#include "node/random.h"

namespace crema::raft::testing {

enum class Schedule { kMixed, kLeaderChurn };

// Per-replica clock rate error bound (parts per million) in lease runs: 2% over a 0.9 s lease is
// 18 ms per clock, 36 ms between two, under the 50 ms max_clock_drift the runs configure.
inline constexpr int64_t kMaxClockRatePpm = 20'000;
// Rounds of an election driven by ChurnEpoch.
inline constexpr int kMaxEpochRounds = 20;
// Liveness phase bound, in rounds of (one tick interval, then stabilize).
inline constexpr int kLivenessRounds = 200;

class RandomRun {
 public:
  RandomRun(uint64_t seed, Schedule schedule);

  // Runs `steps` random steps checking every oracle, then the liveness phase.
  [[nodiscard]] absl::Status Run(int steps);

  // One line describing the drawn configuration (for failure messages).
  const std::string& description() const { return description_; }

 private:
  ReplicaId AnyNode() { return ids_[rng_.Uniform(ids_.size())]; }
  ReplicaId Leader();  // the leader of the highest term, or kNoReplica
  void StepMixed();
  void StepLeaderChurn();
  void Deliver(uint64_t dice_drop_pct);
  void AdvanceTime(absl::Duration d);
  void TickOrAdvance();
  void Stall(ReplicaId id, absl::Duration d);
  void IsolateLeaderMidBroadcast();
  void ChurnEpoch();
  bool DriveElection(ReplicaId candidate);
  void ReplicatePartially(ReplicaId leader);
  void Read(ReplicaId id);
  void Propose(ReplicaId id);
  absl::Status CheckStep();
  absl::Status CheckReads();
  absl::Status Liveness();
  bool Converged(Index target);
  std::string Dump();

  Random rng_;
  Schedule schedule_;
  Cluster cluster_;
  std::vector<ReplicaId> ids_;
  std::string description_;
  bool lockstep_clock_ = false;
  absl::Duration tick_interval_;
  absl::Duration global_time_;
  absl::btree_map<ReplicaId, absl::Duration> next_tick_at_;
  absl::btree_map<ReplicaId, int64_t> rate_ppm_;
  int proposals_ = 0;
  int reads_ = 0;
  // Linearizable-read oracle state.
  Index max_commit_seen_ = 0;
  absl::btree_map<std::string, Index> read_floor_;  // read context -> floor when issued
  absl::btree_map<ReplicaId, size_t> reads_checked_;
  size_t reads_served_ = 0;
};

}  // namespace crema::raft::testing

#endif  // CREMA_CONSENSUS_TESTING_RANDOM_RUN_H_
