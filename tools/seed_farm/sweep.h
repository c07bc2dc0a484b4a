// The seed farm's core: run one scenario of //tools:sim over many seeds in parallel child
// processes, and collect every seed's outcome (pass/fail, failure signature, coverage counters).
// Built to be called by other tools — //tools:farm (sweeps and reports), //tools:shrink, and a
// mutation-testing tool that sweeps a scenario with a planted bug switched on and wants to know
// after how many seeds it was caught:
//
//   farm::SweepOptions o;
//   o.sim_binary = farm::FindSimBinary(argv[0]);          // //tools:sim, from runfiles
//   o.scenario = "raft-kv";
//   o.seeds = farm::ConsecutiveSeeds(1, 200);              // or farm::FreshSeeds(200)
//   o.extra_args = {"--faults=heavy", "--planted_bug=..."};  // passed to every child
//   o.stop_after_failures = 1;                             // stop at the first failing seed
//   farm::SweepResult r = farm::RunSweep(o);
//   // r.outcomes: one per finished seed, in completion order; r.stopped_early, r.wall
//   farm::SweepReport report = farm::Summarise(o, r);     // groups + coverage (report.h)
//
// How it runs: `jobs` children at a time (default: the machine's cores), each running a batch of
// up to `seeds_per_process` seeds (`sim --quiet --json --seed_list=a,b,c`: one process start per
// batch, since starting the simulator costs about as much as a short `ping` run). Each child
// announces every seed ("sim: start seed=N") and ends it with a JSON result line
// (sim/result_json.h). A child that dies (assertion, signal) or exceeds `seed_timeout` on one
// seed — it is then killed — makes that seed a failure of its own ("crash | assertion `x` |
// file:line" from the stderr tail, or "crash | signal N (SIGSEGV)", or "timeout | ..."), and the
// rest of its batch goes back to the queue. Nothing goes through Bazel: children are plain
// processes of the built binary.
//
// `deadline` (wall time) stops handing out new batches; batches already running finish.
// `on_progress` is called from the sweep's thread after every finished seed and every second.
//
// Thread safety: RunSweep is synchronous and single-threaded (it multiplexes children with
// poll(2)); callbacks run on the calling thread.
#ifndef CREMA_TOOLS_SEED_FARM_SWEEP_H_
#define CREMA_TOOLS_SEED_FARM_SWEEP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sim/coverage.h"

namespace crema::farm {

struct SeedOutcome {
  uint64_t seed = 0;
  bool pass = false;
  std::string signature;  // "" when passed
  std::string message;
  uint64_t events = 0;
  int64_t virtual_ms = 0;
  std::string trace_hash;
  uint64_t schedule_size = 0;
  absl::Duration wall;    // this seed's share of its process's time
  bool crashed = false;   // no result line: the process died or was killed
  std::string stderr_tail;  // crashed seeds only
  sim::Coverage coverage;
};

struct Progress {
  uint64_t done = 0, total = 0, failed = 0;
  size_t groups = 0;  // distinct failure signatures so far
  absl::Duration elapsed;
};

struct SweepOptions {
  std::string sim_binary;
  std::string scenario;
  std::vector<uint64_t> seeds;
  std::vector<std::string> extra_args;
  int jobs = 0;               // 0: std::thread::hardware_concurrency()
  int seeds_per_process = 8;  // batch size (1 for full isolation)
  absl::Duration seed_timeout = absl::Minutes(10);
  absl::Duration deadline = absl::InfiniteDuration();
  int stop_after_failures = 0;  // 0: never stop early
  std::function<void(const Progress&)> on_progress;
};

struct SweepResult {
  std::vector<SeedOutcome> outcomes;  // finished seeds, in completion order
  absl::Duration wall;
  bool stopped_early = false;  // deadline or stop_after_failures
  std::string error;           // non-empty if the simulator could not be run at all
};

SweepResult RunSweep(const SweepOptions& options);

// Seeds first, first + 1, ..., first + count - 1.
std::vector<uint64_t> ConsecutiveSeeds(uint64_t first, uint64_t count);
// `count` distinct fresh random 64-bit seeds (from the OS).
std::vector<uint64_t> FreshSeeds(uint64_t count);

// The //tools:sim binary: `flag` if set; else next to this program in its runfiles
// (argv0.runfiles/crema/tools/sim, $RUNFILES_DIR, ./tools/sim), else ./bazel-bin/tools/sim.
// "" if none exists.
std::string FindSimBinary(const std::string& argv0, const std::string& flag = "");

// The failure signature of a seed whose process died: from an assertion message in the stderr
// tail ("crash | assertion `cond` | file.cc:#"), else "crash | <DescribeExit> | -".
std::string CrashSignature(const std::string& stderr_tail, const std::string& exit_description);

}  // namespace crema::farm

#endif  // CREMA_TOOLS_SEED_FARM_SWEEP_H_
