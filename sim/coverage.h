// Coverage: named counters a simulation run reports about itself — which faults fired and
// mattered, which BUGGIFY sites fired, which oracles were exercised, and which "sometimes"
// properties occurred — so that a sweep of many seeds (//tools:farm) can flag what never happened.
// An inert fault or an oracle that never checks anything is a bug in the test, not a pass.
//
// A counter is a name and a count. A name that is *declared* (present, even with count 0) says
// "this could have happened in this run"; the farm reports, over a sweep, in how many seeds each
// name was declared and in how many its count was > 0, and flags names declared somewhere but
// never > 0. Names by prefix (the farm's report groups by them):
//   fault.<kind>    a fault injected (crash, pause, partition, clog, drop, disk.torn, ...);
//                   declared when the kind is enabled in the run. Filled by the simulator itself
//                   (sim/simulator.h) and by the nemesis runners.
//   effect.<kind>   the fault had an observable effect ("it mattered": a partition dropped a
//                   message, a clog held one, a paused node had events held, a crash discarded
//                   deliveries or unsynced writes, a stepped wall clock was read afterwards).
//   buggify.<site>  firings of an active BUGGIFY site (declared once the site is reached active).
//   app.<kind>      node code's own trace records (Tracer), counted by kind, e.g.
//                   app.raft.snapshot_installed — handy raw material for sometimes properties.
//   oracle.<name>   checks an oracle performed (declared when the oracle is in play).
//   sometimes.<name> occurrences of a condition that must happen in at least one seed of a sweep
//                   ("a leader changed during a partition"); declared by the scenario every run.
//   stat.<name>     informational (operations done, ...); never flagged.
//
// In a scenario (see sim/scenario.h, "Reporting coverage"):
//   sim.coverage().Sometimes("leader_changed_during_partition", changed && partitioned);
//   sim.coverage().Oracle("linearizability", history.size());
// FinishResult copies the simulator's coverage (plus disk, network and BUGGIFY counts) into
// ScenarioResult::coverage.
//
// Thread safety: none (the simulator's thread). Names are deterministic; counts are per run.
#ifndef CREMA_SIM_COVERAGE_H_
#define CREMA_SIM_COVERAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"

namespace crema::sim {

class Coverage {
 public:
  using Counters = absl::btree_map<std::string, uint64_t, std::less<>>;
  // A bound on distinct names (a runaway name generator is a bug; extra names are dropped).
  static constexpr size_t kMaxNames = 4096;

  // Adds `count` to `name` (declaring it).
  void Add(std::string_view name, uint64_t count = 1);
  // Declares `name` with count 0 if absent ("could have happened here").
  void Declare(std::string_view name) { Add(name, 0); }
  // "sometimes.<name>": declared, and counted when `happened`.
  void Sometimes(std::string_view name, bool happened);
  // "oracle.<name>": declared, plus `checks` performed.
  void Oracle(std::string_view name, uint64_t checks);
  // Adds every counter of `other` (declaring its names).
  void Merge(const Coverage& other);

  uint64_t Get(std::string_view name) const;
  bool Declared(std::string_view name) const { return counters_.contains(name); }
  const Counters& counters() const { return counters_; }
  bool empty() const { return counters_.empty(); }

 private:
  Counters counters_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_COVERAGE_H_
