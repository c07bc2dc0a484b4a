// Mutation testing's measuring half: sweep one mutant's scenario with fresh seeds until the first
// failing seed (or a cap), and record after how many seeds it was caught and by which signature;
// then, over all mutants, write the catch table (Markdown + JSON). `tools/mutants/run.sh` builds
// each mutant's //tools:sim in a scratch copy of the tree and calls this once per mutant.
//
//   mutant_sweep --sim=/tmp/m/sim --scenario=raft-kv --seeds=200 --name=commit-prev-term
//       --area=commit --description="..." --unit=caught --unit_failed=//consensus:raft_test
//       --out=results.jsonl [--extra=--faults=heavy,--nodes=3] [--first_seed=K]
//   mutant_sweep --aggregate=results.jsonl --report=/tmp/mutants   # -> .md and .json
//
// "Seeds to catch" is the 1-based position, in the sweep's own seed order, of the first failing
// seed (farm::SweepOptions::stop_after_failures = 1 makes it independent of --jobs); 0 means the
// mutant survived all --seeds seeds. With --baseline_sim (the unmutated simulator), a failing seed
// is re-run there first: if it fails there too it is a bug of the tree (listed, not counted) and
// the sweep goes on. A mutant whose build failed (--build=failed) is recorded
// without a sweep: that is a rotten patch, not a surviving mutant.
//
// Exit: 0 when the record or report was written, 2 on bad usage or if the simulator could not run.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tools/seed_farm/report.h"
#include "tools/seed_farm/sweep.h"

ABSL_FLAG(std::string, sim, "", "the mutant's //tools:sim binary");
ABSL_FLAG(std::string, scenario, "", "the scenario to sweep");
ABSL_FLAG(std::string, baseline_sim, "",
          "the unmutated //tools:sim: a seed failing there too is not a catch");
ABSL_FLAG(uint64_t, seeds, 200, "the cap: seeds to try before calling the mutant a survivor");
ABSL_FLAG(uint64_t, first_seed, 0, "0: fresh random seeds; else first_seed, first_seed + 1, ...");
ABSL_FLAG(int, jobs, 1, "child processes at once");
ABSL_FLAG(int, seed_timeout_s, 180, "a seed running longer is a failure (signature timeout)");
ABSL_FLAG(std::string, extra, "", "more simulator flags, comma-separated");
ABSL_FLAG(std::string, name, "", "the mutant's name (its patch file's stem)");
ABSL_FLAG(std::string, area, "", "election | replication | commit | reads | membership | ...");
ABSL_FLAG(std::string, description, "", "one line: what the planted bug does");
ABSL_FLAG(std::string, build, "ok", "ok | failed: did the mutant build?");
ABSL_FLAG(std::string, unit, "skipped", "caught | passed | skipped | build-failed: its unit tests");
ABSL_FLAG(std::string, unit_failed, "", "the unit test targets that failed, space-separated");
ABSL_FLAG(std::string, out, "", "append the mutant's JSON record (one line) to this file");
ABSL_FLAG(std::string, aggregate, "", "read records (JSON lines) from this file and write a report");
ABSL_FLAG(std::string, report, "mutants", "with --aggregate: write <report>.md and <report>.json");

namespace {

using nlohmann::json;

// Runs `seeds` on `sim` until the first failing seed in seed order; its index, or seeds.size().
size_t FirstFailure(const crema::farm::SweepOptions& base, const std::string& sim,
                    const std::vector<uint64_t>& seeds, crema::farm::SeedOutcome* failing,
                    std::string* error) {
  crema::farm::SweepOptions o = base;
  o.sim_binary = sim;
  o.seeds = seeds;
  o.stop_after_failures = 1;
  const crema::farm::SweepResult r = crema::farm::RunSweep(o);
  *error = r.error;
  size_t first = seeds.size();
  for (const crema::farm::SeedOutcome& out : r.outcomes) {
    if (out.pass) continue;
    for (size_t i = 0; i < first; ++i) {
      if (seeds[i] == out.seed) {
        first = i;
        *failing = out;
      }
    }
  }
  return first;
}

// Sweeps the mutant; fills the catch fields of `record`. A failing seed that fails on the
// baseline simulator (--baseline_sim) too is a bug of the tree, not a catch: it is listed under
// "baseline_failures" and the sweep goes on after it. False if a simulator could not run.
bool Sweep(json& record) {
  crema::farm::SweepOptions o;
  o.scenario = absl::GetFlag(FLAGS_scenario);
  const uint64_t cap = absl::GetFlag(FLAGS_seeds);
  const uint64_t first = absl::GetFlag(FLAGS_first_seed);
  const std::vector<uint64_t> seeds =
      first > 0 ? crema::farm::ConsecutiveSeeds(first, cap) : crema::farm::FreshSeeds(cap);
  for (absl::string_view a : absl::StrSplit(absl::GetFlag(FLAGS_extra), ',', absl::SkipEmpty())) {
    o.extra_args.emplace_back(a);
  }
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.seed_timeout = absl::Seconds(absl::GetFlag(FLAGS_seed_timeout_s));
  const absl::Time started = absl::Now();
  json baseline_failures = json::array();
  size_t pos = 0;  // seeds [0, pos) are done
  std::optional<crema::farm::SeedOutcome> caught;
  while (pos < seeds.size() && !caught) {
    const std::vector<uint64_t> rest(seeds.begin() + pos, seeds.end());
    crema::farm::SeedOutcome failing;
    std::string error;
    const size_t f = FirstFailure(o, absl::GetFlag(FLAGS_sim), rest, &failing, &error);
    if (!error.empty()) {
      std::cerr << "mutant_sweep: " << error << "\n";
      return false;
    }
    if (f == rest.size()) {
      pos = seeds.size();
      break;
    }
    pos += f + 1;
    const std::string baseline = absl::GetFlag(FLAGS_baseline_sim);
    crema::farm::SeedOutcome base_failing;
    if (!baseline.empty() &&
        FirstFailure(o, baseline, {failing.seed}, &base_failing, &error) == 0) {
      baseline_failures.push_back({{"seed", failing.seed}, {"signature", base_failing.signature}});
      continue;
    }
    if (!error.empty()) {
      std::cerr << "mutant_sweep: baseline: " << error << "\n";
      return false;
    }
    caught = failing;
  }
  record["seeds_cap"] = cap;
  record["seeds_run"] = pos;
  record["extra_args"] = o.extra_args;
  record["wall_s"] = absl::ToDoubleSeconds(absl::Now() - started);
  record["caught_at"] = caught ? pos : 0;
  record["baseline_failures"] = baseline_failures;
  if (caught) {
    record["seed"] = caught->seed;
    record["signature"] = caught->signature;
    record["message"] = caught->message.substr(0, 400);
    record["repro"] = crema::farm::ReproCommand(o.scenario, caught->seed, o.extra_args);
  }
  return true;
}

std::string Cell(const std::string& s) { return absl::StrReplaceAll(s, {{"|", "\\|"}}); }

std::string Verdict(const json& m) {
  if (m.value("build", "ok") != "ok") return "build failed";
  const uint64_t at = m.value("caught_at", uint64_t{0});
  if (at > 0) return absl::StrCat(at);
  return absl::StrCat("survived ", m.value("seeds_run", uint64_t{0}));
}

int Aggregate() {
  std::ifstream in(absl::GetFlag(FLAGS_aggregate));
  if (!in) {
    std::cerr << "mutant_sweep: cannot read " << absl::GetFlag(FLAGS_aggregate) << "\n";
    return 2;
  }
  json all = json::array();
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) all.push_back(json::parse(line));
  }
  size_t by_sweep = 0, by_unit = 0, by_either = 0, built = 0;
  std::ostringstream md;
  md << "| mutant | area | scenario | seeds to catch | signature | unit tests |\n"
     << "|---|---|---|---:|---|---|\n";
  for (const json& m : all) {
    const bool ok = m.value("build", "ok") == "ok";
    const bool sweep = ok && m.value("caught_at", uint64_t{0}) > 0;
    const bool unit = m.value("unit", "skipped") == "caught";
    built += ok;
    by_sweep += sweep;
    by_unit += unit;
    by_either += sweep || unit;
    md << "| `" << m.value("name", "?") << "` | " << m.value("area", "") << " | "
       << m.value("scenario", "") << " | " << Verdict(m) << " | "
       << Cell(m.value("signature", "")) << " | " << m.value("unit", "skipped") << " |\n";
  }
  std::ostringstream head;
  head << "# Mutation testing: " << all.size() << " mutants\n\n"
       << "Caught by the scenario sweep: " << by_sweep << " of " << built << " built; by a unit "
       << "test: " << by_unit << "; by either: " << by_either << ".\n\n";
  std::ostringstream details;
  details << "\n## Mutants\n\n";
  for (const json& m : all) {
    details << "- `" << m.value("name", "?") << "` (" << m.value("area", "") << "): "
            << m.value("description", "") << "\n";
    if (m.contains("repro")) details << "  - repro: `" << m.value("repro", "") << "`\n";
    for (const json& b : m.value("baseline_failures", json::array())) {
      details << "  - also fails unmutated (not counted): seed " << b.value("seed", uint64_t{0})
              << ", `" << b.value("signature", "") << "`\n";
    }
    if (!m.value("unit_failed", "").empty()) {
      details << "  - unit tests failing: " << m.value("unit_failed", "") << "\n";
    }
  }
  const std::string prefix = absl::GetFlag(FLAGS_report);
  std::ofstream(prefix + ".md") << head.str() << md.str() << details.str();
  json report = {{"mutants", all},
                 {"built", built},
                 {"caught_by_sweep", by_sweep},
                 {"caught_by_unit_test", by_unit},
                 {"caught_by_either", by_either}};
  std::ofstream(prefix + ".json") << report.dump(1) << "\n";
  std::cout << head.str() << md.str();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_aggregate).empty()) return Aggregate();
  if (absl::GetFlag(FLAGS_name).empty() || absl::GetFlag(FLAGS_out).empty() ||
      absl::GetFlag(FLAGS_scenario).empty()) {
    std::cerr << "mutant_sweep: need --name, --scenario and --out (or --aggregate)\n";
    return 2;
  }
  json record = {{"name", absl::GetFlag(FLAGS_name)},
                 {"area", absl::GetFlag(FLAGS_area)},
                 {"scenario", absl::GetFlag(FLAGS_scenario)},
                 {"description", absl::GetFlag(FLAGS_description)},
                 {"build", absl::GetFlag(FLAGS_build)},
                 {"unit", absl::GetFlag(FLAGS_unit)},
                 {"unit_failed", absl::GetFlag(FLAGS_unit_failed)}};
  if (absl::GetFlag(FLAGS_build) == "ok" && !Sweep(record)) return 2;
  std::ofstream out(absl::GetFlag(FLAGS_out), std::ios::app);
  out << record.dump() << "\n";
  std::cout << absl::GetFlag(FLAGS_name) << ": " << Verdict(record) << " "
            << record.value("signature", "") << "\n";
  return out ? 0 : 2;
}
