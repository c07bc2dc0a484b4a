// The "raft-kv" scenario: a 3- or 5-node replicated KV store (consensus/kv over RaftNode) under
// the full fault model, checked by every oracle of DESIGN.md. This is the simulation that proves
// Crema's Raft. See docs/raft-kv.md.
//
//   1. Setup from the seed: N servers (options.nodes, else 3 or 5), `clients` KV clients;
//      per-message/disk/clock faults from sim::MakeFaultConfig (swarm): latency, loss,
//      duplication, reordering, lost + torn unsynced writes at crashes, clock offset + drift,
//      BUGGIFY; the nemesis (chaos/nemesis.h) from the same swarm switches: partitions of every
//      shape, clogging, crashes + restarts, pauses, clock steps, disk full, windows of disk I/O
//      errors and read corruption; in half the seeds membership changes during the faults
//      (replace a voter: remove it, add a spare as learner, promote it; membership_driver.h).
//      Amnesia is never applied to voters (see chaos/nemesis.h). The swarm also varies Raft's
//      configuration (pre-vote, check-quorum, batch and pipeline sizes), contention, leader-
//      targeted partitions, lease-bound clock drift and (in a third of default seeds) heavy
//      faults: see RaftSwarm in the .cc and docs/farm.md "Mutation testing".
//   2. Safety phase (`safety_duration`): the schedule runs while clients put/get/cas/delete.
//      After EVERY simulator event, the five Raft invariants are checked over all running cores
//      (cluster_checker.h), and with a fixed voter set that no replica lacking a committed entry
//      could win an election.
//   3. Heal everything: the nemesis' faults, and random message loss and long-tail delays (the
//      network still reorders and duplicates). Liveness phase: within `liveness_bound`, the
//      healed cluster must acknowledge `liveness_writes` client writes invoked after the heal.
//   4. Clients stop; one reads every key (recorded). All servers must converge within
//      `convergence_bound`: same applied index >= every commit index, identical KV digests
//      (while a lagging member is still catching up — the members' applied indices grew during
//      the last bound — up to three more bounds; a bound without progress fails).
//   5. The whole client history must be linearizable (chaos/linearizability.h); "unknown" (the
//      checker's budget ran out) is reported, not failed.
//
// `history_out`, if set, receives the history as JSON lines (chaos/history_json.h).
// Thread safety: none.
#ifndef CREMA_SIM_SCENARIOS_RAFTKV_RAFT_KV_SCENARIO_H_
#define CREMA_SIM_SCENARIOS_RAFTKV_RAFT_KV_SCENARIO_H_

#include <ostream>

#include "absl/time/time.h"
#include "sim/scenario.h"

namespace crema::kvsim {

struct RaftKvParams {
  absl::Duration safety_duration = absl::Seconds(10);
  absl::Duration liveness_bound = absl::Seconds(10);
  absl::Duration drain_bound = absl::Seconds(30);  // clients finish their calls + final reads
  absl::Duration convergence_bound = absl::Seconds(10);
  int clients = 4;
  int keys = 12;
  int liveness_writes = 5;
  int spares = 2;  // node ids n+1.. that membership changes may add (seeds with membership on)
  absl::Duration tick_interval = absl::Milliseconds(50);
  int election_tick = 10;
  std::ostream* history_out = nullptr;  // JSON lines
  // true (default): faults start at once, so crashes can hit a founding member while it writes
  // its bootstrap state (docs/raft-kv.md "Findings" #1, now fixed). false: the nemesis waits
  // until every founding member has persisted its bootstrap state.
  bool faults_during_bootstrap = true;
};

// TEST ONLY planted bug (kv::KvReplica::PlantLeaderLocalReadsBugForTest).
inline constexpr char kRaftKvPlantedLeaderLocalReads[] = "leader-local-reads";

sim::ScenarioResult RunRaftKvScenario(const sim::ScenarioOptions& options,
                                      const RaftKvParams& params = {});

// Registers "raft-kv". `history_out` (may be null) gets every run's history as JSON lines.
void RegisterRaftKvScenario(sim::ScenarioRegistry& registry, std::ostream* history_out);

}  // namespace crema::kvsim

#endif  // CREMA_SIM_SCENARIOS_RAFTKV_RAFT_KV_SCENARIO_H_
