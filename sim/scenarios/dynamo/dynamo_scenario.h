// The "dynamo" scenario: eventual-mode keyspaces (node/eventual) on 3–6 simulated servers under
// the whole fault model, checked by the oracles of dynamo_checker.h. See docs/dynamo.md.
//
//   1. Setup from the seed: servers, clients, and a swarm draw of the eventual-mode knobs — the
//      consistency pair (always R + W > N: QUORUM/QUORUM, W=ONE/R=ALL, W=ALL/R=ONE, W=2/R=2),
//      strict or sloppy quorums, shard count and Merkle depth, hint window, read-repair chance,
//      and whether a node joins and another decommissions after the faults. Per-message, disk and
//      clock faults come from sim::MakeFaultConfig; the nemesis (chaos/nemesis.h) from the same
//      swarm switches: partitions of every shape, clogging, crashes and restarts, pauses, clock
//      steps, disk full, disk-error windows; plus disks wiped for good (amnesia) within the
//      durability budget min(N − W, W − 1); BUGGIFY sites in the driver.
//   2. Safety phase (`safety_duration`) with faults while clients put/get/delete; with partitions
//      on, a last random partition for `final_partition` that lasts until the heal.
//   3. Clients stop and drain while the faults go on; once in-flight requests have ended, the
//      divergence snapshot is taken (dynamo_checker.h), then everything heals. The replicas must
//      converge, and every hint end, within the convergence bound (measured: convergence_time).
//   4. Liveness: clients resume; `liveness_writes` writes acknowledged within `liveness_bound`;
//      in swarm-chosen seeds a spare joins and a server decommissions meanwhile. Clients stop;
//      the replicas converge again.
//   5. Final reads of every key; then the read, durability, hint and anti-entropy oracles.
//
// Thread safety: none.
#ifndef CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_SCENARIO_H_
#define CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_SCENARIO_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "node/eventual/driver/config.h"
#include "sim/scenario.h"

namespace crema::dynamo {

struct DynamoParams {
  std::ostream* history_out = nullptr;  // the client history as JSON lines (not owned)
  absl::Duration safety_duration = absl::Seconds(10);
  absl::Duration final_partition = absl::Seconds(2);  // with partitions on (see the phases)
  absl::Duration liveness_bound = absl::Seconds(15);
  absl::Duration drain_bound = absl::Seconds(15);
  // Convergence after the clients stopped: membership heal (5 s) + one anti-entropy round with
  // every peer ((servers + 1) periods of 1 s) + hint replay, with margin; docs/dynamo.md.
  absl::Duration convergence_base = absl::Seconds(8);
  int clients = 4;
  int liveness_writes = 5;
  eventual::PlantedBugs bugs;  // TEST ONLY (dynamo_oracles_test)
  // TEST ONLY: force swarm choices (dynamo_oracles_test, benchmarks).
  std::optional<bool> sloppy;
  // 0: QUORUM/QUORUM, 1: W=ONE R=ALL, 2: W=ALL R=ONE, 3: W=2 R=2.
  std::optional<int> consistency_pair;
  std::optional<bool> membership_change;
  std::optional<int> keys;
  std::optional<int> tree_depth;
  std::optional<uint32_t> shards;
  std::optional<absl::Duration> anti_entropy_interval;
};

struct DynamoRunStats {
  int servers = 0;
  uint64_t acked_writes = 0, ok_reads = 0;
  absl::Duration convergence_time;
  size_t divergent_keys = 0;
  uint64_t transfers_checked = 0;
  uint64_t exchange_bytes = 0, exchange_keys = 0;
  uint64_t hints_stored = 0;
  int amnesia = 0;
  std::vector<std::string> failures;  // every oracle that failed, in check order
};

sim::ScenarioResult RunDynamoScenario(const sim::ScenarioOptions& options,
                                      const DynamoParams& params = {},
                                      DynamoRunStats* stats = nullptr);

// Registers "dynamo". `history_out` (may be null) receives each run's client history as JSON
// lines (WriteHistoryJson in dynamo_client.h).
void RegisterDynamoScenario(sim::ScenarioRegistry& registry, std::ostream* history_out = nullptr);

}  // namespace crema::dynamo

#endif  // CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_SCENARIO_H_
