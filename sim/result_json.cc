#include "sim/result_json.h"

#include "nlohmann/json.hpp"

namespace crema::sim {

using nlohmann::json;

std::string ResultJsonLine(std::string_view scenario, uint64_t seed, const ScenarioResult& r) {
  json coverage = json::object();
  for (const auto& [name, count] : r.coverage.counters()) coverage[name] = count;
  const json line = {{"scenario", std::string(scenario)},
                     {"seed", seed},
                     {"pass", r.pass},
                     {"signature", FailureSignature(r)},
                     {"oracle", r.oracle},
                     {"property", r.property},
                     {"where", r.where},
                     {"message", r.message},
                     {"events", r.events},
                     {"virtual_ms", absl::ToInt64Milliseconds(r.virtual_time)},
                     {"trace_hash", Hex64(r.trace_hash)},
                     {"schedule_size", r.schedule.Size()},
                     {"coverage", std::move(coverage)}};
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<RunRecord> ParseResultJsonLine(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("result line: not a JSON object");
  }
  RunRecord r;
  try {
    r.scenario = j.at("scenario").get<std::string>();
    r.seed = j.at("seed").get<uint64_t>();
    r.pass = j.at("pass").get<bool>();
    r.signature = j.at("signature").get<std::string>();
    r.oracle = j.value("oracle", "");
    r.property = j.value("property", "");
    r.where = j.value("where", "");
    r.message = j.value("message", "");
    r.events = j.at("events").get<uint64_t>();
    r.virtual_ms = j.at("virtual_ms").get<int64_t>();
    r.trace_hash = j.at("trace_hash").get<std::string>();
    r.schedule_size = j.value("schedule_size", uint64_t{0});
    for (const auto& [name, count] : j.at("coverage").items()) {
      r.coverage.Add(name, count.get<uint64_t>());
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(std::string("result line: ") + e.what());
  }
  return r;
}

}  // namespace crema::sim
