#include "sim/result_json.h"

#include <optional>
#include <stdexcept>

#include "nlohmann/json.hpp"
#include "sim/json_fields.h"

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
  // Integers only (a float converted to an integer is undefined behaviour: sim/json_fields.h).
  const auto u64 = [](const json& v) {
    if (!v.is_number_unsigned()) throw std::invalid_argument("a count is not an unsigned integer");
    return v.get<uint64_t>();
  };
  const auto i64 = [](const json& v) {
    const std::optional<int64_t> n = JsonAsInt64(v);
    if (!n) throw std::invalid_argument("a time is not an integer");
    return *n;
  };
  try {
    r.scenario = j.at("scenario").get<std::string>();
    r.seed = u64(j.at("seed"));
    r.pass = j.at("pass").get<bool>();
    r.signature = j.at("signature").get<std::string>();
    r.oracle = j.value("oracle", "");
    r.property = j.value("property", "");
    r.where = j.value("where", "");
    r.message = j.value("message", "");
    r.events = u64(j.at("events"));
    r.virtual_ms = i64(j.at("virtual_ms"));
    r.trace_hash = j.at("trace_hash").get<std::string>();
    r.schedule_size = j.contains("schedule_size") ? u64(j.at("schedule_size")) : 0;
    for (const auto& [name, count] : j.at("coverage").items()) {
      r.coverage.Add(name, u64(count));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(std::string("result line: ") + e.what());
  }
  return r;
}

}  // namespace crema::sim
