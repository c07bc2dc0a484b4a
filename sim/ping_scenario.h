// The "ping" scenario: 3-5 PingService nodes under faults, checked for no lost and no invented
// increments.
//
//   1. Setup: N servers (options.nodes, or 3-5 from the seed), two PingClients, swarm faults
//      (sim/fault_config.h) for the seed. Amnesia is always off here: ping keeps one durable copy
//      of each acknowledged add (its own disk), so wiping that disk may legitimately lose it.
//   2. Safety phase (`safety_duration`): the FaultScheduler injects faults while clients add and
//      get. Every reported total must be <= adds sent (checked on every reply).
//   3. Heal: clients stop issuing, every fault is healed, crashed nodes restart.
//   4. Liveness phase: within `liveness_bound` every server must be up, recovered, and hold the
//      same G-Counter C, stable for `stable_for`; and for every server n,
//      acked(n) <= C[n] <= acked(n) + indeterminate(n) — hence, summed, acked <= V <= acked +
//      indeterminate for the converged total V: no acknowledged add lost, none invented.
//
// Thread safety: none.
#ifndef CREMA_SIM_PING_SCENARIO_H_
#define CREMA_SIM_PING_SCENARIO_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "node/ping/g_counter.h"
#include "sim/ping_client.h"
#include "sim/scenario.h"

namespace crema::sim {

struct PingScenarioParams {
  absl::Duration safety_duration = absl::Seconds(20);
  absl::Duration liveness_bound = absl::Seconds(30);
  absl::Duration stable_for = absl::Seconds(2);
  absl::Duration request_timeout = absl::Milliseconds(500);
  int clients = 2;
};

// TEST ONLY planted bug (PingConfig::planted_bug_rename_without_sync_for_test).
inline constexpr char kPingPlantedRenameWithoutSync[] = "rename-without-sync";

ScenarioResult RunPingScenario(const ScenarioOptions& options,
                               const PingScenarioParams& params = {});

// The final oracle: "" if for every server n, acked(n) <= counter[n] <= acked(n) +
// indeterminate(n); otherwise a message starting "LOST" or "INVENTED".
std::string CheckPingCounter(const ping::GCounter& counter, const std::vector<NodeId>& servers,
                             const PingLedger& ledger);

// Registers "ping".
void RegisterPingScenario(ScenarioRegistry& registry);

}  // namespace crema::sim

#endif  // CREMA_SIM_PING_SCENARIO_H_
