#include "sim/scenario.h"

#include "absl/strings/str_cat.h"

namespace crema::sim {

absl::Status ScenarioRegistry::Register(std::string name, std::string description,
                                        ScenarioFn run, std::vector<std::string> planted_bugs) {
  if (name.empty() || !run) return absl::InvalidArgumentError("scenario needs a name and a body");
  if (scenarios_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("scenario ", name, " registered twice"));
  }
  scenarios_.emplace(std::move(name),
                     Entry{std::move(description), std::move(run), std::move(planted_bugs)});
  return absl::OkStatus();
}

const ScenarioFn* ScenarioRegistry::Find(std::string_view name) const {
  auto it = scenarios_.find(name);
  return it == scenarios_.end() ? nullptr : &it->second.run;
}

std::vector<std::string> ScenarioRegistry::PlantedBugs(std::string_view name) const {
  auto it = scenarios_.find(name);
  return it == scenarios_.end() ? std::vector<std::string>{} : it->second.planted_bugs;
}

std::vector<std::string> ScenarioRegistry::Describe() const {
  std::vector<std::string> lines;
  for (const auto& [name, entry] : scenarios_) {
    lines.push_back(absl::StrCat(name, " — ", entry.description));
  }
  return lines;
}

void SetFailure(ScenarioResult& result, std::string oracle, std::string property,
                std::string where, std::string message) {
  result.pass = false;
  result.oracle = std::move(oracle);
  result.property = std::move(property);
  result.where = std::move(where);
  result.message = std::move(message);
}

std::string NormaliseSignaturePart(std::string_view text) {
  constexpr size_t kMaxPartBytes = 80;
  std::string out;
  bool in_digits = false, in_space = false;
  for (char c : text) {
    if (out.size() >= kMaxPartBytes) break;
    const bool digit = c >= '0' && c <= '9';
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (digit) {
      if (!in_digits) out += '#';
    } else if (space) {
      if (!in_space && !out.empty()) out += ' ';
    } else {
      out += c;
    }
    in_digits = digit;
    in_space = space;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string FailureSignature(const ScenarioResult& result) {
  if (result.pass) return "";
  std::string_view message = result.message;
  std::string_view oracle = result.oracle, property = result.property;
  const size_t colon = message.find(':');
  if (oracle.empty()) oracle = message.substr(0, colon);
  if (property.empty() && colon != std::string_view::npos) {
    std::string_view rest = message.substr(colon + 1);
    property = rest.substr(0, rest.find_first_of(":;(,"));
  }
  return absl::StrCat(NormaliseSignaturePart(oracle), " | ", NormaliseSignaturePart(property),
                      " | ", NormaliseSignaturePart(result.where));
}

Random ScenarioRoot(const ScenarioOptions& options) {
  Random root(options.seed);
  return options.perturb_inputs_for_test ? root.Fork("perturbed-inputs") : root;
}

SimOptions BaseSimOptions(const ScenarioOptions& options) {
  SimOptions sim;
  sim.seed = options.seed;
  sim.keep_trace_records = options.keep_trace_records;
  sim.trace_json = options.trace_json;
  sim.hash_checkpoint_every = options.hash_checkpoint_every;
  sim.hash_checkpoints = options.hash_checkpoints;
  return sim;
}

void FinishResult(Simulator& sim, ScenarioResult& result) {
  if (!result.pass) {
    sim.Trace(kNoNode, "scenario.fail",
              absl::StrCat(FailureSignature(result), " :: ", result.message));
  }
  result.coverage.Merge(sim.CollectCoverage());
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
