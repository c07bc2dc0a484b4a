// The seed farm: sweeps one scenario of //tools:sim over many fresh seeds on every core, groups
// the failures by signature, and reports fault/oracle coverage and sometimes-properties that never
// occurred (tools/seed_farm/sweep.h, tools/seed_farm/report.h).
//
//   bazel run //tools:farm -- --scenario=raft-kv --seeds=2000 [--jobs=2] [--faults=heavy]
//       [--minutes=30] [--first_seed=1] [--report=/tmp/farm-raft-kv] [--shrink]
//
// Prints a progress line (seeds done, rate, failures, ETA) on stderr, then the Markdown report on
// stdout, and writes <report>.md and <report>.json (relative paths are taken from the directory
// `bazel run` was started in). With --shrink, each failure group's smallest seed is shrunk to a
// schedule file <report>.group<N>.schedule.json (tools/shrinking/shrink.h).
// Exit: 0 all seeds passed (and, with --fail_on_flags, nothing flagged), 1 otherwise, 2 bad usage.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/seed_farm/report.h"
#include "tools/seed_farm/sweep.h"
#include "tools/shrinking/shrink.h"

ABSL_FLAG(std::string, scenario, "", "the scenario to sweep (see //tools:sim --list)");
ABSL_FLAG(uint64_t, seeds, 100, "how many seeds");
ABSL_FLAG(uint64_t, first_seed, 0, "0: fresh random seeds; else first_seed, first_seed + 1, ...");
ABSL_FLAG(int, jobs, 0, "child processes at once (0: one per core)");
ABSL_FLAG(std::string, faults, "", "passed on: none | default | heavy");
ABSL_FLAG(double, minutes, 0, "stop starting new seeds after this many minutes (0: no limit)");
ABSL_FLAG(int, seeds_per_process, 8, "seeds per child process (1: one process per seed)");
ABSL_FLAG(int, seed_timeout_s, 600, "a seed running longer is killed and reported as a timeout");
ABSL_FLAG(int, stop_after_failures, 0, "stop after this many failing seeds, in seed order (0: never)");
ABSL_FLAG(std::string, planted_bug, "", "TEST ONLY: passed on to the simulator");
ABSL_FLAG(std::string, extra, "", "more simulator flags, comma-separated (e.g. --nodes=3,--no_buggify)");
ABSL_FLAG(std::string, report, "", "write <report>.md and <report>.json (default: farm-<scenario>)");
ABSL_FLAG(std::string, sim, "", "the simulator binary (default: //tools:sim from the runfiles)");
ABSL_FLAG(bool, shrink, false, "shrink each failure group's smallest seed to a schedule file");
ABSL_FLAG(bool, fail_on_flags, false, "exit 1 if anything never fired, mattered, ran or occurred");
ABSL_FLAG(bool, quiet, false, "no progress line, no Markdown on stdout");

namespace {

// Relative paths are relative to where `bazel run` was started, not to the runfiles.
std::string UserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  return dir ? absl::StrCat(dir, "/", path) : path;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Sweeps a simulation scenario over many seeds; see tools/farm_main.cc.");
  absl::ParseCommandLine(argc, argv);
  using namespace crema::farm;
  SweepOptions o;
  o.scenario = absl::GetFlag(FLAGS_scenario);
  o.sim_binary = FindSimBinary(argv[0], absl::GetFlag(FLAGS_sim));
  if (o.scenario.empty() || o.sim_binary.empty() || absl::GetFlag(FLAGS_seeds) == 0) {
    std::cerr << "need --scenario, --seeds > 0 and a simulator binary (bazel build //tools:sim, "
                 "or --sim=PATH)\n";
    return 2;
  }
  o.seeds = absl::GetFlag(FLAGS_first_seed) == 0
                ? FreshSeeds(absl::GetFlag(FLAGS_seeds))
                : ConsecutiveSeeds(absl::GetFlag(FLAGS_first_seed), absl::GetFlag(FLAGS_seeds));
  if (!absl::GetFlag(FLAGS_faults).empty()) {
    o.extra_args.push_back("--faults=" + absl::GetFlag(FLAGS_faults));
  }
  if (!absl::GetFlag(FLAGS_planted_bug).empty()) {
    o.extra_args.push_back("--planted_bug=" + absl::GetFlag(FLAGS_planted_bug));
  }
  const std::vector<std::string> extra =
      absl::StrSplit(absl::GetFlag(FLAGS_extra), ',', absl::SkipEmpty());
  for (const std::string& a : extra) {
    o.extra_args.push_back(a);
  }
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.seeds_per_process = absl::GetFlag(FLAGS_seeds_per_process);
  o.seed_timeout = absl::Seconds(absl::GetFlag(FLAGS_seed_timeout_s));
  if (absl::GetFlag(FLAGS_minutes) > 0) o.deadline = absl::Minutes(absl::GetFlag(FLAGS_minutes));
  o.stop_after_failures = absl::GetFlag(FLAGS_stop_after_failures);
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  const bool tty = isatty(STDERR_FILENO);
  absl::Time last_line = absl::InfinitePast();
  if (!quiet) {
    o.on_progress = [&](const Progress& p) {
      // A live line on a terminal; otherwise a line every 10 s (CI logs stay short).
      if (tty) {
        std::cerr << "\r" << ProgressLine(p) << "   " << std::flush;
      } else if (absl::Now() - last_line >= absl::Seconds(10) || p.done == p.total) {
        std::cerr << ProgressLine(p) << "\n";
        last_line = absl::Now();
      }
    };
  }
  const SweepResult result = RunSweep(o);
  if (!quiet && tty) std::cerr << "\n";
  SweepReport report = Summarise(o, result);
  const std::string prefix =
      UserPath(absl::GetFlag(FLAGS_report).empty() ? "farm-" + o.scenario : absl::GetFlag(FLAGS_report));
  if (absl::GetFlag(FLAGS_shrink)) {
    for (size_t i = 0; i < report.groups.size(); ++i) {
      FailureGroup& g = report.groups[i];
      if (g.signature.rfind("crash", 0) == 0 || g.signature.rfind("timeout", 0) == 0) continue;
      crema::shrink::ShrinkOptions s;
      s.sim_binary = o.sim_binary;
      s.scenario = o.scenario;
      s.seed = g.smallest_seed;
      s.extra_args = o.extra_args;
      s.jobs = o.jobs;
      s.log = quiet ? nullptr : &std::cerr;
      const crema::shrink::ShrinkResult shrunk = crema::shrink::Shrink(s);
      if (!shrunk.error.empty()) {
        std::cerr << "shrink of seed " << g.smallest_seed << ": " << shrunk.error << "\n";
        continue;
      }
      g.schedule_file = absl::StrCat(prefix, ".group", i + 1, ".schedule.json");
      if (!WriteFile(g.schedule_file, shrunk.shrunk.ToJson())) g.schedule_file.clear();
    }
  }
  const std::string markdown = ReportMarkdown(report);
  if (!WriteFile(prefix + ".md", markdown) || !WriteFile(prefix + ".json", ReportJson(report))) {
    std::cerr << "cannot write the report to " << prefix << ".md/.json\n";
  }
  if (!quiet) std::cout << markdown << "\nreport: " << prefix << ".md, " << prefix << ".json\n";
  if (!report.error.empty()) {
    std::cerr << "farm: " << report.error << "\n";
    return 2;
  }
  const bool ok = report.seeds_failed == 0 && (!absl::GetFlag(FLAGS_fail_on_flags) || report.flags.empty());
  return ok ? 0 : 1;
}
