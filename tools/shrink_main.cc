// Shrinks a failing seed of a simulation scenario to a minimal schedule file (tools/shrinking/shrink.h).
//
//   bazel run //tools:shrink -- --scenario=ping --seed=8765 [--extra=--planted_bug=rename-without-sync]
//       [--jobs=2] [--out=shrunk.schedule.json]
//
// Prints each accepted step, then the sizes before and after, and the command that replays the
// shrunk failure:
//   bazel run //tools:sim -- --scenario=ping --seed=8765 --schedule=shrunk.schedule.json ...
// Exit: 0 shrunk, 1 nothing to shrink (the seed passes, or it does not reproduce from its own
// schedule), 2 bad usage.
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/seed_farm/report.h"
#include "tools/seed_farm/sweep.h"
#include "tools/shrinking/shrink.h"

ABSL_FLAG(std::string, scenario, "", "the scenario (see //tools:sim --list)");
ABSL_FLAG(uint64_t, seed, 0, "the failing seed");
ABSL_FLAG(std::string, extra, "", "more simulator flags, comma-separated");
ABSL_FLAG(int, jobs, 2, "candidate runs at once");
ABSL_FLAG(int, max_runs, 3000, "a budget of simulator runs");
ABSL_FLAG(double, minutes, 120, "a budget of wall time");
ABSL_FLAG(std::string, out, "", "the schedule file (default shrunk-<scenario>-<seed>.schedule.json)");
ABSL_FLAG(std::string, sim, "", "the simulator binary (default: //tools:sim from the runfiles)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Shrinks a failing simulation seed to a minimal schedule file.");
  absl::ParseCommandLine(argc, argv);
  crema::shrink::ShrinkOptions o;
  o.sim_binary = crema::farm::FindSimBinary(argv[0], absl::GetFlag(FLAGS_sim));
  o.scenario = absl::GetFlag(FLAGS_scenario);
  o.seed = absl::GetFlag(FLAGS_seed);
  const std::vector<std::string> extra =
      absl::StrSplit(absl::GetFlag(FLAGS_extra), ',', absl::SkipEmpty());
  for (const std::string& a : extra) {
    o.extra_args.push_back(a);
  }
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.max_runs = absl::GetFlag(FLAGS_max_runs);
  o.deadline = absl::Minutes(absl::GetFlag(FLAGS_minutes));
  o.log = &std::cerr;
  if (o.scenario.empty() || o.sim_binary.empty()) {
    std::cerr << "need --scenario, --seed and a simulator binary (bazel build //tools:sim)\n";
    return 2;
  }
  const crema::shrink::ShrinkResult r = crema::shrink::Shrink(o);
  if (!r.error.empty()) {
    std::cerr << "shrink: " << r.error << "\n";
    return 1;
  }
  std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) out = absl::StrCat("shrunk-", o.scenario, "-", o.seed, ".schedule.json");
  if (out[0] != '/' && std::getenv("BUILD_WORKING_DIRECTORY") != nullptr) {
    out = absl::StrCat(std::getenv("BUILD_WORKING_DIRECTORY"), "/", out);
  }
  std::ofstream(out, std::ios::out | std::ios::trunc) << r.shrunk.ToJson();
  std::cout << "failure: " << r.signature << "\n"
            << "shrunk: " << crema::shrink::DescribeShrink(r) << "\n"
            << "schedule: " << out << "\n"
            << "replay: "
            << crema::farm::ReproCommand(o.scenario, o.seed, o.extra_args) << " --schedule=" << out
            << "\n";
  return 0;
}
