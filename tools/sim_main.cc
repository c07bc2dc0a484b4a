// crema simulator command line: runs one named scenario from one seed and prints one summary line.
//
//   bazel run //tools:sim -- --seed=42 --scenario=ping [--nodes=5] [--faults=none|default|heavy]
//       [--no_partitions] [--drop=1/100] [--trace_out=/tmp/trace.jsonl] [--check_determinism]
//
// Everything it prints comes before the last line, which is exactly
//   seed=<N> events=<count> virtual_ms=<ms> trace_hash=<16 hex digits> result=PASS|FAIL
// Same binary + same flags => the same line. Exit code: 0 PASS, 1 FAIL, 2 bad usage.
//
// Adding a scenario: append one call to RegisterAllScenarios() below (see sim/scenario.h).
//
// For tools (//tools:farm, //tools:shrink; see the section "Farm, schedules, planted bugs"):
//   --seed_list=1,2,3 --json   runs several seeds in this process, each announced by a line
//                              "sim: start seed=<N>" and ended by a JSON result line
//                              (sim/result_json.h) before its summary line; exit 1 if any failed.
//   --schedule=FILE            replays a schedule file (sim/schedule.h) instead of drawing inputs;
//   --schedule_out=FILE        writes the inputs the run used as a schedule file.
//   --planted_bug=NAME         TEST ONLY: switches on one of the scenario's planted bugs.
//   --hash_every=N             prints "checkpoint events=<n> hash=<16 hex>" every N events.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/scenarios/raftkv/raft_kv_scenario.h"
#include "sim/scenarios/membership/membership_scenario.h"
#include "sim/ping_scenario.h"
#include "sim/result_json.h"
#include "sim/scenarios/cache/cache_scenario.h"
#include "sim/scenarios/dynamo/dynamo_scenario.h"
#include "sim/scenario.h"
#include "sim/schedule.h"

ABSL_FLAG(uint64_t, seed, 1, "the run's seed: every random choice derives from it");
ABSL_FLAG(std::string, scenario, "ping", "which scenario to run (--list shows them)");
ABSL_FLAG(bool, list, false, "list the registered scenarios and exit");
ABSL_FLAG(int, nodes, 0, "cluster size (0: the scenario picks one from the seed)");
ABSL_FLAG(std::string, faults, "default", "fault level: none | default | heavy (swarm-randomised)");
ABSL_FLAG(std::string, trace_out, "", "write every event as a JSON line to this file");
ABSL_FLAG(bool, no_crashes, false, "disable crash/restart faults");
ABSL_FLAG(bool, no_pauses, false, "disable pause (GC stall) faults");
ABSL_FLAG(bool, no_partitions, false, "disable partitions");
ABSL_FLAG(bool, no_clogging, false, "disable link clogging and swizzle-clogging");
ABSL_FLAG(bool, no_clock_faults, false, "disable clock offset, drift and steps");
ABSL_FLAG(bool, no_disk_faults, false, "disable disk faults (torn/lost writes, corruption, full)");
ABSL_FLAG(bool, no_buggify, false, "disable BUGGIFY fault points");
ABSL_FLAG(std::string, drop, "", "message drop probability as N/D (overrides the swarm's)");
ABSL_FLAG(std::string, duplicate, "", "message duplication probability as N/D");
ABSL_FLAG(bool, quiet, false, "print only the summary line");
ABSL_FLAG(std::string, history_out, "",
          "raft-kv, cache, dynamo: write the client history as JSON lines to this file "
          "(chaos/history_json.h)");
ABSL_FLAG(bool, check_determinism, false,
          "run the scenario twice in this process and report the first differing event, if any");
ABSL_FLAG(bool, plant_nondeterminism, false,
          "TEST ONLY (sim/determinism_test): enable the scenario's planted non-determinism");
// --- Farm, schedules, planted bugs (tools/seed_farm, tools/shrinking, tools/trace_viewer) ---
ABSL_FLAG(std::string, seed_list, "", "comma-separated seeds to run one after another (tools)");
ABSL_FLAG(bool, json, false, "print one JSON result line per seed (sim/result_json.h)");
ABSL_FLAG(std::string, schedule, "", "replay this schedule file (sim/schedule.h)");
ABSL_FLAG(std::string, schedule_out, "", "write the run's inputs as a schedule file");
ABSL_FLAG(std::string, planted_bug, "", "TEST ONLY: switch on a planted bug of the scenario");
ABSL_FLAG(uint64_t, hash_every, 0, "print the trace hash every N events (determinism checks)");
ABSL_FLAG(bool, perturb_inputs_for_test, false,
          "TEST ONLY: draw every scenario input from another stream (as if its code had changed)");

namespace {

// The --history_out file, opened on first use (after flag parsing); nullptr without the flag.
std::ostream* HistoryOut() {
  static std::ofstream* const file = []() -> std::ofstream* {
    if (absl::GetFlag(FLAGS_history_out).empty()) return nullptr;
    auto* f = new std::ofstream(absl::GetFlag(FLAGS_history_out), std::ios::out | std::ios::trunc);
    if (!*f) std::cerr << "cannot write " << absl::GetFlag(FLAGS_history_out) << "\n";
    return f;
  }();
  return file;
}

// The scenario table. Other packages append their registration call here.
void RegisterAllScenarios(crema::sim::ScenarioRegistry& registry) {
  crema::sim::RegisterPingScenario(registry);
  crema::membership::RegisterMembershipScenario(registry);
  crema::kvsim::RegisterRaftKvScenario(registry, HistoryOut());
  crema::sim::RegisterCacheScenario(registry, HistoryOut());
  crema::dynamo::RegisterDynamoScenario(registry, HistoryOut());
}

std::string ReproLine() {
  std::string line = absl::StrCat("bazel run //tools:sim -- --seed=", absl::GetFlag(FLAGS_seed),
                                  " --scenario=", absl::GetFlag(FLAGS_scenario));
  if (absl::GetFlag(FLAGS_nodes) != 0) absl::StrAppend(&line, " --nodes=", absl::GetFlag(FLAGS_nodes));
  if (absl::GetFlag(FLAGS_faults) != "default") {
    absl::StrAppend(&line, " --faults=", absl::GetFlag(FLAGS_faults));
  }
  const std::pair<bool, const char*> switches[] = {
      {absl::GetFlag(FLAGS_no_crashes), "--no_crashes"},
      {absl::GetFlag(FLAGS_no_pauses), "--no_pauses"},
      {absl::GetFlag(FLAGS_no_partitions), "--no_partitions"},
      {absl::GetFlag(FLAGS_no_clogging), "--no_clogging"},
      {absl::GetFlag(FLAGS_no_clock_faults), "--no_clock_faults"},
      {absl::GetFlag(FLAGS_no_disk_faults), "--no_disk_faults"},
      {absl::GetFlag(FLAGS_no_buggify), "--no_buggify"},
      {absl::GetFlag(FLAGS_plant_nondeterminism), "--plant_nondeterminism"}};
  for (const auto& [on, flag] : switches) {
    if (on) absl::StrAppend(&line, " ", flag);
  }
  if (!absl::GetFlag(FLAGS_drop).empty()) absl::StrAppend(&line, " --drop=", absl::GetFlag(FLAGS_drop));
  if (!absl::GetFlag(FLAGS_duplicate).empty()) {
    absl::StrAppend(&line, " --duplicate=", absl::GetFlag(FLAGS_duplicate));
  }
  if (!absl::GetFlag(FLAGS_schedule).empty()) {
    absl::StrAppend(&line, " --schedule=", absl::GetFlag(FLAGS_schedule));
  }
  if (!absl::GetFlag(FLAGS_planted_bug).empty()) {
    absl::StrAppend(&line, " --planted_bug=", absl::GetFlag(FLAGS_planted_bug));
  }
  return line;
}

// The --schedule file, parsed; nullopt after printing why it is unusable.
std::optional<crema::sim::Schedule> LoadSchedule() {
  std::ifstream in(absl::GetFlag(FLAGS_schedule), std::ios::binary);
  if (!in) {
    std::cerr << "cannot read --schedule=" << absl::GetFlag(FLAGS_schedule) << "\n";
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<crema::sim::Schedule> schedule = crema::sim::ParseSchedule(text);
  if (!schedule.ok()) {
    std::cerr << absl::GetFlag(FLAGS_schedule) << ": " << schedule.status().message() << "\n";
    return std::nullopt;
  }
  if (schedule->scenario != absl::GetFlag(FLAGS_scenario)) {
    std::cerr << "the schedule is for scenario '" << schedule->scenario << "', not '"
              << absl::GetFlag(FLAGS_scenario) << "'\n";
    return std::nullopt;
  }
  return *std::move(schedule);
}

// The seeds to run: --seed_list, else --seed (or the schedule's seed when --seed is not given).
std::optional<std::vector<uint64_t>> SeedsFromFlags(const crema::sim::Schedule* schedule,
                                                    bool seed_given) {
  std::vector<uint64_t> seeds;
  const std::string list = absl::GetFlag(FLAGS_seed_list);
  if (list.empty()) {
    seeds.push_back(schedule != nullptr && !seed_given ? schedule->seed : absl::GetFlag(FLAGS_seed));
    return seeds;
  }
  const std::vector<std::string> parts = absl::StrSplit(list, ',');
  for (const std::string& part : parts) {
    uint64_t seed = 0;
    if (!absl::SimpleAtoi(part, &seed)) {
      std::cerr << "bad --seed_list entry '" << part << "'\n";
      return std::nullopt;
    }
    seeds.push_back(seed);
  }
  return seeds;
}

// Builds the scenario options from the flags; nullopt (after printing why) on bad usage.
std::optional<crema::sim::ScenarioOptions> OptionsFromFlags() {
  using crema::sim::ParseRatio;
  crema::sim::ScenarioOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.nodes = absl::GetFlag(FLAGS_nodes);
  std::optional<crema::sim::FaultLevel> level =
      crema::sim::ParseFaultLevel(absl::GetFlag(FLAGS_faults));
  if (!level || options.nodes < 0) {
    std::cerr << "bad --faults (none|default|heavy) or --nodes\n";
    return std::nullopt;
  }
  options.faults = *level;
  crema::sim::FaultOverrides& o = options.overrides;
  if (absl::GetFlag(FLAGS_no_crashes)) o.crashes = o.amnesia = false;
  if (absl::GetFlag(FLAGS_no_pauses)) o.pauses = false;
  if (absl::GetFlag(FLAGS_no_partitions)) o.partitions = false;
  if (absl::GetFlag(FLAGS_no_clogging)) o.clogging = o.swizzle = false;
  if (absl::GetFlag(FLAGS_no_clock_faults)) o.clock_faults = false;
  if (absl::GetFlag(FLAGS_no_disk_faults)) o.disk_faults = false;
  if (absl::GetFlag(FLAGS_no_buggify)) o.buggify = false;
  for (auto [flag, target] : {std::pair{absl::GetFlag(FLAGS_drop), &o.drop},
                              std::pair{absl::GetFlag(FLAGS_duplicate), &o.duplicate}}) {
    if (flag.empty()) continue;
    *target = ParseRatio(flag);
    if (!*target) {
      std::cerr << "bad probability '" << flag << "': want N/D with 0 <= N <= D, D > 0\n";
      return std::nullopt;
    }
  }
  options.plant_nondeterminism = absl::GetFlag(FLAGS_plant_nondeterminism);
  return options;
}

// Runs one seed as the flags say (the historical single-run behaviour, per seed).
crema::sim::ScenarioResult RunOneSeed(const crema::sim::ScenarioFn& run,
                                      crema::sim::ScenarioOptions options, std::ostream* trace) {
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  if (!quiet) options.log = &std::cout;
  options.trace_json = trace;
  if (absl::GetFlag(FLAGS_hash_every) > 0) {
    options.hash_checkpoint_every = absl::GetFlag(FLAGS_hash_every);
    options.hash_checkpoints = &std::cout;
  }
  // The seed goes out before the run starts, so a hung or killed run still leaves it.
  if (!quiet || absl::GetFlag(FLAGS_json)) {
    std::cout << "sim: start seed=" << options.seed << " scenario=" << absl::GetFlag(FLAGS_scenario)
              << std::endl;
  }
  if (absl::GetFlag(FLAGS_check_determinism)) options.keep_trace_records = true;
  crema::sim::ScenarioResult result = run(options);
  if (absl::GetFlag(FLAGS_check_determinism)) {
    crema::sim::ScenarioOptions again = options;
    again.trace_json = nullptr;
    again.log = nullptr;
    again.hash_checkpoints = nullptr;
    const crema::sim::ScenarioResult second = run(again);
    const std::optional<std::string> diff =
        crema::sim::FirstDifference(result.records, second.records);
    std::cout << (diff ? "NON-DETERMINISTIC: " + *diff : std::string("deterministic: two runs, identical traces"))
              << "\n";
    if (diff) {
      result.pass = false;
      result.message = "the two runs differ (first differing event above)";
      result.oracle = "determinism";
    }
  }
  if (!result.pass && !quiet) {
    std::cout << "FAILED: " << result.message << "\nreproduce with: " << ReproLine() << "\n";
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << crema::sim::ResultJsonLine(absl::GetFlag(FLAGS_scenario), options.seed, result)
              << "\n";
  }
  std::cout << crema::sim::SummaryLine(options.seed, result) << std::endl;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Runs one deterministic simulation scenario from a seed.");
  // Whether --seed was given (a schedule file's own seed is used otherwise).
  bool seed_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seed" || arg.substr(0, 7) == "--seed=") seed_given = true;
  }
  absl::ParseCommandLine(argc, argv);
  crema::sim::ScenarioRegistry registry;
  RegisterAllScenarios(registry);
  if (absl::GetFlag(FLAGS_list)) {
    for (const std::string& line : registry.Describe()) std::cout << line << "\n";
    return 0;
  }
  const crema::sim::ScenarioFn* run = registry.Find(absl::GetFlag(FLAGS_scenario));
  std::optional<crema::sim::ScenarioOptions> options = OptionsFromFlags();
  if (run == nullptr || !options) {
    if (run == nullptr) std::cerr << "unknown --scenario; try --list\n";
    return 2;
  }
  options->planted_bug = absl::GetFlag(FLAGS_planted_bug);
  options->perturb_inputs_for_test = absl::GetFlag(FLAGS_perturb_inputs_for_test);
  if (!options->planted_bug.empty()) {
    const std::vector<std::string> known = registry.PlantedBugs(absl::GetFlag(FLAGS_scenario));
    if (std::find(known.begin(), known.end(), options->planted_bug) == known.end()) {
      std::cerr << "unknown --planted_bug for this scenario; it has: " << absl::StrJoin(known, ", ")
                << "\n";
      return 2;
    }
  }
  std::optional<crema::sim::Schedule> schedule;
  if (!absl::GetFlag(FLAGS_schedule).empty()) {
    schedule = LoadSchedule();
    if (!schedule) return 2;
    options->schedule = &*schedule;
  }
  const std::optional<std::vector<uint64_t>> seeds = SeedsFromFlags(options->schedule, seed_given);
  if (!seeds) return 2;
  std::ofstream trace_file;
  if (!absl::GetFlag(FLAGS_trace_out).empty()) {
    trace_file.open(absl::GetFlag(FLAGS_trace_out), std::ios::out | std::ios::trunc);
    if (!trace_file) {
      std::cerr << "cannot write " << absl::GetFlag(FLAGS_trace_out) << "\n";
      return 2;
    }
  }
  bool all_passed = true;
  crema::sim::ScenarioResult last;
  for (uint64_t seed : *seeds) {
    options->seed = seed;
    last = RunOneSeed(*run, *options, trace_file.is_open() ? &trace_file : nullptr);
    all_passed = all_passed && last.pass;
  }
  trace_file.close();
  if (!absl::GetFlag(FLAGS_schedule_out).empty()) {
    std::ofstream out(absl::GetFlag(FLAGS_schedule_out), std::ios::out | std::ios::trunc);
    out << last.schedule.ToJson();
    if (!out) {
      std::cerr << "cannot write " << absl::GetFlag(FLAGS_schedule_out) << "\n";
      return 2;
    }
  }
  return all_passed ? 0 : 1;
}
