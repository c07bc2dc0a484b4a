// The "cache" scenario: a CacheNode cluster (3-9 nodes, 8-32 shards, replication 3) under the
// full fault model, with every oracle of docs/cache-node.md on every seed.
//
//   1. Setup from the seed (swarm): node count, shards, clients (8-12), whether capacity is small
//      enough to evict, whether TTLs are used, checkpoint frequency, leases; per-message, disk
//      and clock faults (sim::MakeFaultConfig; clock offsets, drift and steps kept within the
//      cluster's max_clock_skew, which the TTL oracle relies on); the nemesis (chaos/nemesis.h):
//      partitions of every shape, clogging, crashes and restarts, pauses, clock steps, disk full,
//      windows of disk errors and read corruption; and membership work while faults run: a node
//      admitted (it joined by gossip), a node drained, a node killed long enough to be replaced.
//   2. Safety phase: clients send every operation to random nodes; after EVERY event the Raft
//      invariants of every group (shards and the metadata group) are checked (group_checker.h).
//   3. Heal; liveness: within `liveness_bound`, a write to every shard is acknowledged.
//   4. Clients stop; the final reader reads every key linearizably; convergence within
//      `convergence_bound`: one map everywhere, every group on its targets, every replica of every
//      group at the same applied index with the same state digest.
//   5. The history: linearizable under the cache model (chaos/cache_model.h; with eviction only
//      when capacity is small — otherwise no acknowledged write may be lost); local reads never
//      invented and read-your-writes through one node; no read after a deadline plus the skew
//      bound (chaos/cache_oracles.h). An `unknown` verdict fails the run.
//
// `history_out`, if set, receives the history as JSON lines (chaos/history_json.h).
//
// Schedules (sim/schedule.h; `//tools:sim --scenario=cache --schedule=FILE`, //tools:shrink):
// every drawn input is a schedule param — "nodes", "shards", "clients", "safety_duration_ns",
// "max_clock_skew_ns", the swarm switches "cache.*", the fault rates "faults.*"
// (sim/fault_inputs.h) and "nemesis.disk_*" — and the nemesis is the list "nemesis"
// (chaos/nemesis_json.h). A real-process chaos run's schedule file (chaos/real/real_schedule.h,
// same format; it carries "real." lists the simulator does not apply) replays too: what it does
// not name takes crema_server's defaults (no eviction, TTLs and leases on, no admit / drain /
// replace) instead of the seed's draw; clock steps are clamped to +-max_clock_skew/4 as the real
// planner clamps them (a no-op for the simulator's own files, already within skew/8).
// Failures carry a farm signature; coverage: oracles (raft_invariants, linearizability,
// local_read_bounds, ttl_expiry, liveness_after_heal, convergence) and sometimes-properties
// (docs/farm.md). Planted bugs (TEST ONLY, `--planted_bug=`): the three below.
// Thread safety: none.
#ifndef CREMA_SIM_SCENARIOS_CACHE_CACHE_SCENARIO_H_
#define CREMA_SIM_SCENARIOS_CACHE_CACHE_SCENARIO_H_

#include <ostream>

#include "absl/time/time.h"
#include "sim/scenario.h"

namespace crema::sim {

// Planted-bug names (ScenarioOptions::planted_bug), each switching on the CacheScenarioParams
// flag of the same meaning.
inline constexpr char kCachePlantedReplicaSelfEviction[] = "replica-self-eviction";
inline constexpr char kCachePlantedRetryNewSeq[] = "retry-new-seq";
inline constexpr char kCachePlantedLocalReadNoFloor[] = "local-read-no-floor";
inline constexpr char kCachePlantedInlineReadWithoutLease[] = "inline-read-without-lease";

struct CacheScenarioParams {
  absl::Duration safety_duration = absl::Seconds(15);
  absl::Duration bootstrap_bound = absl::Seconds(15);
  absl::Duration liveness_bound = absl::Seconds(30);
  absl::Duration drain_bound = absl::Seconds(30);
  absl::Duration convergence_bound = absl::Seconds(60);
  absl::Duration max_clock_skew = absl::Milliseconds(400);
  std::ostream* history_out = nullptr;
  // TEST ONLY planted bugs (CacheNodeOptions): the scenario must catch each.
  bool plant_replica_self_eviction = false;
  bool plant_retry_new_seq = false;
  bool plant_local_read_no_floor = false;
  bool plant_inline_read_without_lease = false;
};

ScenarioResult RunCacheScenario(const ScenarioOptions& options,
                                const CacheScenarioParams& params = {});

// Registers "cache". `history_out` (may be null) gets every run's history as JSON lines.
void RegisterCacheScenario(ScenarioRegistry& registry, std::ostream* history_out);

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIOS_CACHE_CACHE_SCENARIO_H_
