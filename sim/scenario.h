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
// Building the simulator: start from `BaseSimOptions(options)` (seed, trace outputs, hash
// checkpoints), then apply the run's faults. End with `FinishResult(sim, result)`.
//
// Reporting failures (what //tools:farm groups by): on failure set `pass = false`, `message`
// (human-readable, may name nodes, terms, times) and, via `SetFailure`, a signature that stays
// the same across seeds that hit the same bug: `oracle` (which checker: "raft-invariant",
// "linearizability", "liveness", ...), `property` (which invariant or rule, no numbers: "leader
// append-only") and `where` (the phase or component it was detected in: "safety", "liveness").
// Trace the failure at the moment it is detected with kind "scenario.violation" (the run viewer,
// //tools:trace_view, highlights it); FinishResult traces the verdict ("scenario.fail").
//
// Reporting coverage (sim/coverage.h; the farm flags what never happened over a sweep): the
// simulator and the nemesis runners count faults and their effects themselves. A scenario adds
//   sim.coverage().Oracle("linearizability", operations_checked);   // every run, even if 0
//   sim.coverage().Sometimes("leader_changed_during_partition", happened);  // every run
// Declare every sometimes-property in every run (with `false` when it did not happen), so a sweep
// can report the ones that never occurred. Node trace records are counted as "app.<kind>", which
// often makes a sometimes-property a one-liner: `Sometimes("snapshot_installed",
// sim.coverage().Get("app.raft.snapshot_installed") > 0)`.
//
// Schedules (sim/schedule.h; what --schedule replays and //tools:shrink shrinks): take every
// drawn input through a `RunInputs in(options.schedule)` — sizes, swarm switches, fault rates
// (`InputFaultConfig`), workload shape, and the nemesis' actions as a list of timed JSON objects —
// and end with `result.schedule = in.Take(name, seed)`. A scenario that does this replays a
// schedule file exactly; one that does not still runs with --schedule (its inputs come from the
// seed) but cannot be shrunk below its seed.
//
// Planted bugs (TEST ONLY): a scenario may register names of deliberately planted bugs
// (`Register(..., {"rename-without-sync"})`) that `options.planted_bug` switches on; tests use them to
// show that the farm, the shrinker and the viewer find and explain a real failure.
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
#include "sim/coverage.h"
#include "sim/fault_config.h"
#include "sim/schedule.h"
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
  // TEST ONLY: the name of one of the scenario's registered planted bugs to switch on ("": none).
  std::string planted_bug;
  // Replay these inputs instead of drawing them (sim/schedule.h); not owned, may be null.
  const Schedule* schedule = nullptr;
  // TEST ONLY: every input the scenario draws comes out different (ScenarioRoot forks a different
  // stream) while the simulator's own streams stay — as if the code that draws the inputs had
  // changed. A schedule replays the same run anyway; a bare seed does not (tools/shrinking tests).
  bool perturb_inputs_for_test = false;
  bool keep_trace_records = false;     // fill ScenarioResult::records
  std::ostream* trace_json = nullptr;  // every event as a JSON line
  std::ostream* log = nullptr;         // human-readable notes (printed before the summary)
  // Every `hash_checkpoint_every` trace events, write "checkpoint events=<n> hash=<16 hex>" to
  // `hash_checkpoints` (long-run determinism checks localise a divergence with these).
  uint64_t hash_checkpoint_every = 0;
  std::ostream* hash_checkpoints = nullptr;
};

struct ScenarioResult {
  bool pass = false;
  std::string message;  // why it failed, or a short summary of what passed
  // On failure, the signature (see the file comment); empty fields are derived from `message`.
  std::string oracle;
  std::string property;
  std::string where;
  uint64_t events = 0;  // events recorded in the trace
  absl::Duration virtual_time;
  uint64_t trace_hash = 0;
  Coverage coverage;    // filled by FinishResult from the simulator (plus the scenario's own)
  Schedule schedule;    // the inputs this run used (empty for scenarios without schedules)
  std::vector<TraceEvent> records;  // only with keep_trace_records
};

// Marks `result` failed with a signature and a message.
void SetFailure(ScenarioResult& result, std::string oracle, std::string property,
                std::string where, std::string message);

// "oracle | property | where", normalised so that seeds hitting the same bug agree: digit runs
// become '#', whitespace is collapsed, each part is cut at 80 bytes. Fields left empty are
// derived from the message: oracle = text before the first ':', property = the next clause (up to
// ':', ';', '(' or ',').
std::string FailureSignature(const ScenarioResult& result);
std::string NormaliseSignaturePart(std::string_view text);

// The Random a scenario draws its inputs from (sizes, swarm, nemesis, workload shape): the seed's,
// or with perturb_inputs_for_test another one. The simulator's streams derive from the seed.
Random ScenarioRoot(const ScenarioOptions& options);

// The SimOptions every scenario starts from: seed, trace records/JSON, hash checkpoints.
SimOptions BaseSimOptions(const ScenarioOptions& options);

using ScenarioFn = std::function<ScenarioResult(const ScenarioOptions&)>;

class ScenarioRegistry {
 public:
  // INVALID_ARGUMENT for an empty name, ALREADY_EXISTS for a duplicate.
  // `planted_bugs`: names accepted in ScenarioOptions::planted_bug (TEST ONLY).
  [[nodiscard]] absl::Status Register(std::string name, std::string description, ScenarioFn run,
                                      std::vector<std::string> planted_bugs = {});
  // nullptr if unknown.
  const ScenarioFn* Find(std::string_view name) const;
  // The planted bugs `name` registered (empty if unknown).
  std::vector<std::string> PlantedBugs(std::string_view name) const;
  // "name — description" lines, sorted by name.
  std::vector<std::string> Describe() const;

 private:
  struct Entry {
    std::string description;
    ScenarioFn run;
    std::vector<std::string> planted_bugs;
  };
  absl::btree_map<std::string, Entry, std::less<>> scenarios_;
};

// Fills events, virtual time, trace hash (and records if kept) from a finished simulation.
void FinishResult(Simulator& sim, ScenarioResult& result);

// `seed=<N> events=<count> virtual_ms=<ms> trace_hash=<16 hex> result=PASS|FAIL`
std::string SummaryLine(uint64_t seed, const ScenarioResult& result);

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIO_H_
