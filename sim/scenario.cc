#include "sim/scenario.h"

#include "absl/strings/str_cat.h"

namespace crema::sim {

absl::Status ScenarioRegistry::Register(std::string name, std::string description,
                                        ScenarioFn run) {
  if (name.empty() || !run) return absl::InvalidArgumentError("scenario needs a name and a body");
  if (scenarios_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("scenario ", name, " registered twice"));
  }
  scenarios_.emplace(std::move(name), Entry{std::move(description), std::move(run)});
  return absl::OkStatus();
}

const ScenarioFn* ScenarioRegistry::Find(std::string_view name) const {
  auto it = scenarios_.find(name);
  return it == scenarios_.end() ? nullptr : &it->second.run;
}

std::vector<std::string> ScenarioRegistry::Describe() const {
  std::vector<std::string> lines;
  for (const auto& [name, entry] : scenarios_) {
    lines.push_back(absl::StrCat(name, " — ", entry.description));
  }
  return lines;
}

void FinishResult(Simulator& sim, ScenarioResult& result) {
  result.events = sim.trace().count();
  result.virtual_time = sim.elapsed();
  result.trace_hash = sim.trace().hash();
  if (sim.options().keep_trace_records) result.records = sim.trace().TakeRecords();
}

std::string SummaryLine(uint64_t seed, const ScenarioResult& result) {
  return absl::StrCat("seed=", seed, " events=", result.events,
                      " virtual_ms=", absl::ToInt64Milliseconds(result.virtual_time),
                      " trace_hash=", Hex64(result.trace_hash),
                      " result=", result.pass ? "PASS" : "FAIL");
}

}  // namespace crema::sim
