// The seed farm's report: failures grouped by signature, fault and oracle coverage, and the
// sometimes-properties that never occurred — as data (`SweepReport`), Markdown and JSON.
//
//   farm::SweepReport report = farm::Summarise(options, result);
//   std::cout << farm::ReportMarkdown(report);
//   if (!report.flags.empty()) ...   // something never fired, mattered, ran or occurred
//
// Groups: seeds with equal failure signature (sim/scenario.h FailureSignature: oracle | property |
// where), largest first; each names its smallest repro — the failing seed with the fewest events
// — as a `bazel run //tools:sim` command with the sweep's extra arguments.
//
// Coverage (sim/coverage.h): for every counter name, in how many seeds it was declared (could
// happen), in how many it was > 0, and its total. Flags, each a line of the report:
//   fault.X  declared somewhere, never > 0                    "never fired"
//   fault.X  fired, but effect.X (declared) never > 0          "fired but never mattered"
//   buggify.X / oracle.X declared, never > 0                  "never fired" / "never exercised"
//   sometimes.X never > 0                                     "never occurred"
// app.* and stat.* counters are listed but never flagged.
//
// Thread safety: pure functions.
#ifndef CREMA_TOOLS_SEED_FARM_REPORT_H_
#define CREMA_TOOLS_SEED_FARM_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/seed_farm/sweep.h"

namespace crema::farm {

struct FailureGroup {
  std::string signature;
  std::vector<uint64_t> seeds;  // ascending
  uint64_t smallest_seed = 0;   // fewest events (crashed seeds: first)
  uint64_t smallest_events = 0;
  std::string example_message;  // the smallest seed's
  std::string repro;            // bazel run //tools:sim -- ...
  std::string schedule_file;    // set by a shrinker, if it ran
};

struct CoverageRow {
  std::string name;
  uint64_t seeds_declared = 0;
  uint64_t seeds_hit = 0;
  uint64_t total = 0;
  std::string flag;  // "" or why it is flagged
};

struct SweepReport {
  std::string scenario;
  std::vector<std::string> extra_args;
  uint64_t seeds_requested = 0;
  uint64_t seeds_run = 0;
  uint64_t seeds_failed = 0;
  uint64_t events = 0;
  int64_t virtual_ms = 0;
  absl::Duration wall;
  absl::Duration seed_wall_sum;  // CPU-ish: summed per-seed wall time
  int jobs = 0;
  bool stopped_early = false;
  std::string error;
  std::vector<FailureGroup> groups;
  std::vector<CoverageRow> coverage;  // sorted by name
  std::vector<std::string> flags;     // one line each
};

SweepReport Summarise(const SweepOptions& options, const SweepResult& result);
std::string ReproCommand(const std::string& scenario, uint64_t seed,
                         const std::vector<std::string>& extra_args);
std::string ReportMarkdown(const SweepReport& report);
std::string ReportJson(const SweepReport& report);
// "farm: 1200/10000 seeds  38.5/s  2 failed (1 group)  ETA 3m48s"
std::string ProgressLine(const Progress& progress);

}  // namespace crema::farm

#endif  // CREMA_TOOLS_SEED_FARM_REPORT_H_
