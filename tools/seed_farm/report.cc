#include "tools/seed_farm/report.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace crema::farm {
namespace {

std::string Prefix(const std::string& name) { return name.substr(0, name.find('.')); }
std::string Rest(const std::string& name) {
  const size_t dot = name.find('.');
  return dot == std::string::npos ? "" : name.substr(dot + 1);
}

std::string Rate(uint64_t n, absl::Duration d) {
  const double s = absl::ToDoubleSeconds(d);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", s > 0 ? static_cast<double>(n) / s : 0.0);
  return buffer;
}

std::string Flag(const std::string& name, const CoverageRow& row,
                 const absl::btree_map<std::string, CoverageRow>& rows) {
  const std::string kind = Prefix(name);
  if (kind == "fault") {
    if (row.seeds_hit == 0) return "never fired";
    auto effect = rows.find("effect." + Rest(name));
    if (effect != rows.end() && effect->second.seeds_hit == 0) {
      return absl::StrCat("fired in ", row.seeds_hit, " seeds but never mattered");
    }
    return "";
  }
  if (kind == "buggify" && row.seeds_hit == 0) return "reached while active but never fired";
  if (kind == "oracle" && row.seeds_hit == 0) return "never exercised";
  if (kind == "sometimes" && row.seeds_hit == 0) return "never occurred";
  return "";
}

std::string FlagLine(const CoverageRow& row) {
  return absl::StrCat(row.name, ": ", row.flag, " (declared in ", row.seeds_declared, " seeds)");
}

}  // namespace

std::string ReproCommand(const std::string& scenario, uint64_t seed,
                         const std::vector<std::string>& extra_args) {
  std::string line = absl::StrCat("bazel run //tools:sim -- --scenario=", scenario, " --seed=", seed);
  for (const std::string& a : extra_args) absl::StrAppend(&line, " ", a);
  return line;
}

SweepReport Summarise(const SweepOptions& options, const SweepResult& result) {
  SweepReport r;
  r.scenario = options.scenario;
  r.extra_args = options.extra_args;
  r.seeds_requested = options.seeds.size();
  r.seeds_run = result.outcomes.size();
  r.wall = result.wall;
  r.jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  r.stopped_early = result.stopped_early;
  r.error = result.error;
  absl::btree_map<std::string, FailureGroup> groups;
  absl::btree_map<std::string, CoverageRow> rows;
  for (const SeedOutcome& o : result.outcomes) {
    r.events += o.events;
    r.virtual_ms += o.virtual_ms;
    r.seed_wall_sum += o.wall;
    for (const auto& [name, count] : o.coverage.counters()) {
      CoverageRow& row = rows[name];
      row.name = name;
      ++row.seeds_declared;
      row.seeds_hit += count > 0 ? 1 : 0;
      row.total += count;
    }
    if (o.pass) continue;
    ++r.seeds_failed;
    FailureGroup& g = groups[o.signature];
    g.signature = o.signature;
    g.seeds.push_back(o.seed);
    const bool smaller = g.seeds.size() == 1 || (!o.crashed && o.events < g.smallest_events);
    if (smaller) {
      g.smallest_seed = o.seed;
      g.smallest_events = o.events;
      g.example_message = o.message;
    }
  }
  for (auto& [signature, g] : groups) {
    std::sort(g.seeds.begin(), g.seeds.end());
    g.repro = ReproCommand(r.scenario, g.smallest_seed, r.extra_args);
    r.groups.push_back(std::move(g));
  }
  std::stable_sort(r.groups.begin(), r.groups.end(), [](const FailureGroup& a, const FailureGroup& b) {
    return a.seeds.size() > b.seeds.size();
  });
  for (auto& [name, row] : rows) {
    row.flag = Flag(name, row, rows);
    if (!row.flag.empty()) r.flags.push_back(FlagLine(row));
    r.coverage.push_back(row);
  }
  return r;
}

std::string ProgressLine(const Progress& p) {
  std::string line = absl::StrCat("farm: ", p.done, "/", p.total, " seeds  ",
                                  Rate(p.done, p.elapsed), "/s  ", p.failed, " failed (",
                                  p.groups, p.groups == 1 ? " group)" : " groups)");
  if (p.done > 0 && p.done < p.total) {
    const absl::Duration eta = p.elapsed * (static_cast<double>(p.total - p.done) / p.done);
    absl::StrAppend(&line, "  ETA ", absl::FormatDuration(absl::Trunc(eta, absl::Seconds(1))));
  }
  return line;
}

std::string ReportMarkdown(const SweepReport& r) {
  std::string out = absl::StrCat("# Farm report: `", r.scenario, "`\n\n");
  absl::StrAppend(&out, "| | |\n|---|---|\n",
                  "| seeds run | ", r.seeds_run, " of ", r.seeds_requested,
                  r.stopped_early ? " (stopped early)" : "", " |\n",
                  "| failed | ", r.seeds_failed, " in ", r.groups.size(), " group(s) |\n",
                  "| arguments | `", r.extra_args.empty() ? "(defaults)" : absl::StrJoin(r.extra_args, " "),
                  "` |\n", "| wall time | ", absl::FormatDuration(absl::Trunc(r.wall, absl::Seconds(1))),
                  " on ", r.jobs, " jobs (", Rate(r.seeds_run, r.wall), " seeds/s) |\n",
                  "| simulated | ", r.events, " events, ", r.virtual_ms / 1000, " s virtual time |\n");
  if (!r.error.empty()) absl::StrAppend(&out, "\n**Error:** ", r.error, "\n");
  absl::StrAppend(&out, "\n## Failures by signature\n\n");
  if (r.groups.empty()) absl::StrAppend(&out, "None.\n");
  for (const FailureGroup& g : r.groups) {
    absl::StrAppend(&out, "### `", g.signature, "` — ", g.seeds.size(), " seed(s)\n\n",
                    "- smallest: seed ", g.smallest_seed, " (", g.smallest_events, " events): ",
                    g.example_message.substr(0, 300), "\n", "- reproduce: `", g.repro, "`\n");
    if (!g.schedule_file.empty()) {
      absl::StrAppend(&out, "- shrunk schedule: `", g.schedule_file, "` (replay: `", g.repro,
                      " --schedule=", g.schedule_file, "`)\n");
    }
    std::vector<uint64_t> first(g.seeds.begin(), g.seeds.begin() + std::min<size_t>(g.seeds.size(), 10));
    absl::StrAppend(&out, "- seeds: ", absl::StrJoin(first, ", "), g.seeds.size() > 10 ? ", ..." : "",
                    "\n\n");
  }
  absl::StrAppend(&out, "\n## Flags (never fired, never mattered, never exercised, never occurred)\n\n");
  if (r.flags.empty()) absl::StrAppend(&out, "None.\n");
  for (const std::string& f : r.flags) absl::StrAppend(&out, "- ", f, "\n");
  const std::pair<const char*, const char*> sections[] = {
      {"fault", "Faults injected"}, {"effect", "Faults that mattered"},
      {"buggify", "BUGGIFY sites"}, {"oracle", "Oracles exercised"},
      {"sometimes", "Sometimes properties"}, {"app", "Node trace records"},
      {"stat", "Statistics"}};
  for (const auto& [prefix, title] : sections) {
    std::string table;
    for (const CoverageRow& row : r.coverage) {
      if (Prefix(row.name) != prefix) continue;
      absl::StrAppend(&table, "| `", Rest(row.name), "` | ", row.seeds_declared, " | ",
                      row.seeds_hit, " | ", row.total, " | ", row.flag, " |\n");
    }
    if (table.empty()) continue;
    absl::StrAppend(&out, "\n## ", title, "\n\n| name | seeds declared | seeds > 0 | total | flag |\n",
                    "|---|---:|---:|---:|---|\n", table);
  }
  return out;
}

std::string ReportJson(const SweepReport& r) {
  using nlohmann::json;
  json groups = json::array();
  for (const FailureGroup& g : r.groups) {
    groups.push_back({{"signature", g.signature}, {"seeds", g.seeds}, {"count", g.seeds.size()},
                      {"smallest_seed", g.smallest_seed}, {"smallest_events", g.smallest_events},
                      {"message", g.example_message}, {"repro", g.repro},
                      {"schedule_file", g.schedule_file}});
  }
  json coverage = json::object();
  for (const CoverageRow& row : r.coverage) {
    coverage[row.name] = {{"seeds_declared", row.seeds_declared}, {"seeds_hit", row.seeds_hit},
                          {"total", row.total}, {"flag", row.flag}};
  }
  const json j = {{"scenario", r.scenario},
                  {"extra_args", r.extra_args},
                  {"seeds_requested", r.seeds_requested},
                  {"seeds_run", r.seeds_run},
                  {"seeds_failed", r.seeds_failed},
                  {"events", r.events},
                  {"virtual_ms", r.virtual_ms},
                  {"wall_s", absl::ToDoubleSeconds(r.wall)},
                  {"jobs", r.jobs},
                  {"stopped_early", r.stopped_early},
                  {"error", r.error},
                  {"groups", groups},
                  {"flags", r.flags},
                  {"coverage", coverage}};
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace crema::farm
