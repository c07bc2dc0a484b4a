// Shrinking a failing simulation run to a minimal schedule (sim/schedule.h): the run's inputs as
// data, reduced by re-running //tools:sim on smaller and smaller versions of them, keeping only
// changes after which the run still fails with the SAME failure signature (oracle | property |
// where), until no single change helps.
//
//   shrink::ShrinkOptions o;
//   o.sim_binary = farm::FindSimBinary(argv[0]);
//   o.scenario = "ping"; o.seed = 8765; o.extra_args = {"--planted_bug=rename-without-sync"};
//   shrink::ShrinkResult r = shrink::Shrink(o);
//   // r.shrunk: write r.shrunk.ToJson() to FILE; replay with
//   //   bazel run //tools:sim -- --scenario=ping --seed=8765 --schedule=FILE [extra args]
//
// Steps, repeated until a whole round changes nothing (each candidate is one run):
//   1. Lists: delta debugging (Zeller's ddmin) over each list's entries — remove halves, then
//      quarters, ..., then single entries.
//   2. Windows: for every entry with end_ns > at_ns, try end_ns = at_ns, else halve the window
//      while the failure persists.
//   3. Params: for every param not at its simplest value, try the simplest value, else bisect
//      between the two (counts, durations, rates). Sizes (nodes, clients, keys) go first.
// `jobs` candidates run at once (each a child process); the first reproducing candidate in order
// is taken, so the result does not depend on `jobs`. Budgets: `max_runs`, `deadline`.
//
// The start is the seed's own schedule (`--schedule_out` of a run of `seed`); it must itself
// reproduce the failure (else the scenario does not take all its inputs from its schedule, and
// the error says so).
//
// Thread safety: Shrink is synchronous; it runs child processes from helper threads.
#ifndef CREMA_TOOLS_SHRINKING_SHRINK_H_
#define CREMA_TOOLS_SHRINKING_SHRINK_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sim/schedule.h"

namespace crema::shrink {

struct ShrinkOptions {
  std::string sim_binary;
  std::string scenario;
  uint64_t seed = 0;
  std::vector<std::string> extra_args;  // passed to every run (e.g. --planted_bug=...)
  int jobs = 1;
  int max_runs = 3000;
  absl::Duration run_timeout = absl::Minutes(5);
  absl::Duration deadline = absl::Hours(2);
  std::ostream* log = nullptr;  // one line per accepted step
};

struct RunSummary {
  bool pass = false;
  std::string signature;
  uint64_t events = 0;
  int64_t virtual_ms = 0;
  std::string message;
};

struct ShrinkResult {
  std::string error;      // non-empty: nothing was shrunk (why)
  std::string signature;  // the failure kept
  sim::Schedule original;
  sim::Schedule shrunk;
  RunSummary original_run, shrunk_run;
  int runs = 0;           // simulator runs spent
  absl::Duration wall;
  bool budget_exhausted = false;
};

ShrinkResult Shrink(const ShrinkOptions& options);

// One line: "size 143 -> 4 (entries 97 -> 2, params 46 -> 2), events 18298 -> 3120, 212 runs, 41 s".
std::string DescribeShrink(const ShrinkResult& result);

}  // namespace crema::shrink

#endif  // CREMA_TOOLS_SHRINKING_SHRINK_H_
