// Scenarios: named, seeded simulation runs with a PASS/FAIL verdict — what `//tools:sim` runs.
//
// A scenario is a function from ScenarioOptions to a ScenarioResult. It builds a Simulator from
// `options.seed` (every random choice must derive from it), runs a safety phase with faults and a
// liveness phase after healing, checks its oracles, and reports. The same options must give the
// same result, event count and trace hash on every run of the same binary.
//
// Registering a scenario (other packages add theirs, e.g. `raft-kv`, `membership`):
//   1. In your package, write `void RegisterRaftKvScenario(sim::ScenarioRegistry& registry)` that
//      calls `registry.Register("raft-kv", "one line of what it checks", &RunRaftKvScenario)`.
//   2. Append one line calling it to `RegisterAllScenarios()` in tools/sim_main.cc, and add your
//      library to the deps of //tools:sim. (Explicit calls, not static initialisers: nothing is
//      silently dropped by the linker, and the order of registration is fixed.)
// The ping scenario (sim/ping_scenario.h) is the worked example.
//
// Thread safety: none; register before running.
#ifndef CREMA_SIM_SCENARIO_H_
#define CREMA_SIM_SCENARIO_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/fault_config.h"
#include "sim/simulator.h"
#include "sim/trace_log.h"

namespace crema::sim {

struct ScenarioOptions {
  uint64_t seed = 1;
  int nodes = 0;  // 0: the scenario picks a size from the seed
  FaultLevel faults = FaultLevel::kDefault;
  FaultOverrides overrides;
  // TEST ONLY: turn on the scenario's deliberately planted non-determinism (sim/determinism_test).
  bool plant_nondeterminism = false;
  bool keep_trace_records = false;     // fill ScenarioResult::records
  std::ostream* trace_json = nullptr;  // every event as a JSON line
  std::ostream* log = nullptr;         // human-readable notes (printed before the summary)
};

struct ScenarioResult {
  bool pass = false;
  std::string message;  // why it failed, or a short summary of what passed
  uint64_t events = 0;  // events recorded in the trace
  absl::Duration virtual_time;
  uint64_t trace_hash = 0;
  std::vector<TraceEvent> records;  // only with keep_trace_records
};

using ScenarioFn = std::function<ScenarioResult(const ScenarioOptions&)>;

class ScenarioRegistry {
 public:
  // INVALID_ARGUMENT for an empty name, ALREADY_EXISTS for a duplicate.
  [[nodiscard]] absl::Status Register(std::string name, std::string description, ScenarioFn run);
  // nullptr if unknown.
  const ScenarioFn* Find(std::string_view name) const;
  // "name — description" lines, sorted by name.
  std::vector<std::string> Describe() const;

 private:
  struct Entry {
    std::string description;
    ScenarioFn run;
  };
  absl::btree_map<std::string, Entry, std::less<>> scenarios_;
};

// Fills events, virtual time, trace hash (and records if kept) from a finished simulation.
void FinishResult(Simulator& sim, ScenarioResult& result);

// `seed=<N> events=<count> virtual_ms=<ms> trace_hash=<16 hex> result=PASS|FAIL`
std::string SummaryLine(uint64_t seed, const ScenarioResult& result);

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIO_H_
