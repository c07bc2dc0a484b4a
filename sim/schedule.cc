#include "sim/schedule.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::sim {
namespace {

using nlohmann::json;

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("schedule: ", std::string(what)));
}

bool IsInteger(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

absl::Status CheckList(const std::string& name, const json& list) {
  if (!list.is_array()) return Invalid(absl::StrCat("list '", name, "' is not an array"));
  if (list.size() > Schedule::kMaxListEntries) return Invalid("list too long");
  for (const json& entry : list) {
    if (!entry.is_object() || !entry.contains("kind") || !entry["kind"].is_string() ||
        !entry.contains("at_ns") || !IsInteger(entry["at_ns"]) ||
        entry["at_ns"].get<int64_t>() < 0) {
      return Invalid(absl::StrCat("list '", name, "': every entry needs a string kind and at_ns >= 0"));
    }
    if (entry.contains("end_ns") &&
        (!IsInteger(entry["end_ns"]) ||
         entry["end_ns"].get<int64_t>() < entry["at_ns"].get<int64_t>())) {
      return Invalid(absl::StrCat("list '", name, "': end_ns must be an integer >= at_ns"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

size_t Schedule::ListEntries() const {
  size_t n = 0;
  for (const auto& [name, list] : lists) {
    for (const nlohmann::json& entry : list) {
      if (entry.is_object() && entry.value("kind", "") != "idle") ++n;
    }
  }
  return n;
}

size_t Schedule::Size() const {
  size_t n = ListEntries();
  for (const auto& [name, p] : params) n += p.value != p.simplest ? 1 : 0;
  return n;
}

std::string Schedule::ToJson() const {
  // Hand-laid so that a schedule reads (and diffs) one param / one action per line.
  std::string out = absl::StrCat("{\"format\": \"", kFormat, "\",\n \"scenario\": ",
                                 json(scenario).dump(), ",\n \"seed\": ", seed,
                                 ",\n \"params\": {");
  bool first = true;
  for (const auto& [name, p] : params) {
    absl::StrAppend(&out, first ? "\n" : ",\n", "  ", json(name).dump(), ": {\"value\": ", p.value,
                    ", \"simplest\": ", p.simplest, "}");
    first = false;
  }
  absl::StrAppend(&out, first ? "" : "\n ", "},\n \"lists\": {");
  first = true;
  for (const auto& [name, list] : lists) {
    absl::StrAppend(&out, first ? "\n" : ",\n", "  ", json(name).dump(), ": [");
    for (size_t i = 0; i < list.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "   ",
                      list[i].dump(-1, ' ', false, json::error_handler_t::replace));
    }
    absl::StrAppend(&out, list.empty() ? "]" : "\n  ]");
    first = false;
  }
  absl::StrAppend(&out, first ? "" : "\n ", "}\n}\n");
  return out;
}

absl::StatusOr<Schedule> ParseSchedule(std::string_view text) {
  if (text.size() > Schedule::kMaxFileBytes) return Invalid("file too large");
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Invalid("not a JSON object");
  if (!doc.contains("format") || doc["format"] != Schedule::kFormat) {
    return Invalid(absl::StrCat("format must be \"", Schedule::kFormat, "\""));
  }
  Schedule s;
  if (!doc.contains("scenario") || !doc["scenario"].is_string()) return Invalid("no scenario");
  s.scenario = doc["scenario"].get<std::string>();
  if (!doc.contains("seed") || !doc["seed"].is_number_unsigned()) return Invalid("no seed");
  s.seed = doc["seed"].get<uint64_t>();
  if (doc.contains("params")) {
    const json& params = doc["params"];
    if (!params.is_object() || params.size() > Schedule::kMaxParams) return Invalid("bad params");
    for (const auto& [name, p] : params.items()) {
      if (!p.is_object() || !p.contains("value") || !IsInteger(p["value"]) ||
          !p.contains("simplest") || !IsInteger(p["simplest"])) {
        return Invalid(absl::StrCat("param '", name, "' needs integer value and simplest"));
      }
      s.params[name] = ScheduleParam{p["value"].get<int64_t>(), p["simplest"].get<int64_t>()};
    }
  }
  if (doc.contains("lists")) {
    const json& lists = doc["lists"];
    if (!lists.is_object()) return Invalid("lists must be an object");
    for (const auto& [name, list] : lists.items()) {
      if (absl::Status ok = CheckList(name, list); !ok.ok()) return ok;
      s.lists[name] = list;
    }
  }
  return s;
}

int64_t RunInputs::Int(std::string_view name, int64_t drawn, int64_t simplest) {
  int64_t value = drawn;
  if (replay_ != nullptr) {
    auto it = replay_->params.find(name);
    if (it != replay_->params.end()) value = it->second.value;
  }
  used_.params[std::string(name)] = ScheduleParam{value, simplest};
  return value;
}

absl::Duration RunInputs::Duration(std::string_view name, absl::Duration drawn,
                                   absl::Duration simplest) {
  return absl::Nanoseconds(Int(absl::StrCat(std::string(name), "_ns"), absl::ToInt64Nanoseconds(drawn),
                               absl::ToInt64Nanoseconds(simplest)));
}

Ratio RunInputs::Rate(std::string_view name, Ratio drawn) {
  const int64_t num = Int(absl::StrCat(std::string(name), ".num"), static_cast<int64_t>(drawn.numerator), 0);
  const int64_t den = Int(absl::StrCat(std::string(name), ".den"), static_cast<int64_t>(drawn.denominator),
                          static_cast<int64_t>(drawn.denominator));
  if (den <= 0 || num < 0 || num > den) return Ratio{0, 1};
  return Ratio{static_cast<uint64_t>(num), static_cast<uint64_t>(den)};
}

nlohmann::json RunInputs::List(std::string_view name, nlohmann::json drawn) {
  nlohmann::json value = std::move(drawn);
  if (replay_ != nullptr) {
    auto it = replay_->lists.find(name);
    if (it != replay_->lists.end()) value = it->second;
  }
  if (!value.is_array()) value = nlohmann::json::array();
  used_.lists[std::string(name)] = value;
  return value;
}

const nlohmann::json* RunInputs::Replayed(std::string_view name) const {
  if (replay_ == nullptr) return nullptr;
  auto it = replay_->lists.find(name);
  return it == replay_->lists.end() ? nullptr : &it->second;
}

Schedule RunInputs::Take(std::string scenario, uint64_t seed) {
  used_.scenario = std::move(scenario);
  used_.seed = seed;
  return std::move(used_);
}

}  // namespace crema::sim
