#include "chaos/real/real_schedule.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "chaos/nemesis_json.h"
#include "sim/json_fields.h"
#include "nlohmann/json.hpp"

namespace crema::chaos {
namespace {

using nlohmann::json;

json Param(int64_t value) { return {{"value", value}, {"simplest", value}}; }

// An integer field within int64_t (sim/json_fields.h: no silent conversion, no throw).
bool IsInt(const json& j, const char* field) { return sim::JsonInt64(j, field).has_value(); }

absl::StatusOr<int64_t> GetParam(const json& params, const char* name, int64_t lo, int64_t hi) {
  if (!params.contains(name) || !IsInt(params[name], "value")) {
    return absl::InvalidArgumentError(absl::StrCat("schedule: param '", name, "' missing"));
  }
  const int64_t v = *sim::JsonInt64(params[name], "value");
  if (v < lo || v > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("schedule: param '", name, "' = ", v, " is outside [", lo, ", ", hi, "]"));
  }
  return v;
}

// The list `name` (an array of objects with at_ns), or an empty one if the file has none.
absl::StatusOr<json> GetList(const json& lists, const char* name) {
  if (!lists.contains(name)) return json::array();
  const json& list = lists[name];
  if (!list.is_array()) return absl::InvalidArgumentError(absl::StrCat(name, ": not an array"));
  for (size_t i = 0; i < list.size(); ++i) {
    if (!IsInt(list[i], "at_ns") || *sim::JsonInt64(list[i], "at_ns") < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " #", i, ": no at_ns >= 0"));
    }
  }
  return list;
}

}  // namespace

RealSchedule GenerateRealSchedule(const RealScheduleOptions& o, uint64_t seed) {
  Random root(seed);
  Random pick = root.Fork("real.kinds");
  RealSchedule s;
  s.seed = seed;
  s.nodes = o.nodes;
  s.shards = o.shards;
  s.clients = o.clients;
  s.duration = o.duration;
  s.max_clock_skew = o.max_clock_skew;
  s.max_clock_offset = o.max_clock_offset;
  NemesisOptions n;
  auto on = [&] { return o.all_kinds || pick.Uniform(4) != 0; };
  n.partitions = on();
  n.clogging = on();
  n.crashes = on();
  n.pauses = on();
  n.clock_steps = on();
  n.disk_full = on();
  if (o.only_partitions) n = NemesisOptions{.partitions = true};
  if (o.only_clocks) n = NemesisOptions{.clock_steps = true};
  if (!n.any()) n.partitions = true;
  n.mean_interval = o.mean_interval;
  n.max_fault_duration = o.max_fault_duration;
  n.max_clock_step = o.max_clock_step > absl::ZeroDuration()
                         ? o.max_clock_step
                         : std::max(absl::Milliseconds(1), o.max_clock_skew / 4);
  std::vector<NodeId> servers;
  for (int i = 1; i <= o.nodes; ++i) servers.push_back(static_cast<NodeId>(i));
  s.nemesis = GenerateNemesis(n, servers, {}, o.duration, root.Fork("nemesis"));
  Random plan = root.Fork("real.plan");
  if (o.membership && o.nodes >= 4 && !o.only_partitions && !o.only_clocks) {
    const NodeId wiped = static_cast<NodeId>(2 + plan.Uniform(static_cast<uint64_t>(o.nodes - 1)));
    s.membership.push_back({.at = o.duration / 4 + plan.DurationBetween(absl::ZeroDuration(),
                                                                         o.duration / 8),
                            .kind = "wipe-readmit",
                            .node = wiped,
                            .new_id = static_cast<NodeId>(o.nodes + 1)});
    NodeId restarted = wiped;
    while (restarted == wiped) {
      restarted = static_cast<NodeId>(1 + plan.Uniform(static_cast<uint64_t>(o.nodes)));
    }
    s.membership.push_back({.at = o.duration * 5 / 8 + plan.DurationBetween(absl::ZeroDuration(),
                                                                             o.duration / 8),
                            .kind = "graceful-restart",
                            .node = restarted});
  }
  if (o.net && !o.only_partitions && !o.only_clocks) {
    Random net = root.Fork("real.net");
    for (absl::Duration at = net.DurationBetween(absl::ZeroDuration(), 4 * o.mean_interval);
         at < o.duration; at += net.DurationBetween(o.mean_interval, 6 * o.mean_interval)) {
      RealNetFault f;
      f.at = at;
      f.end = std::min(o.duration, at + net.DurationBetween(absl::Seconds(1), o.max_fault_duration));
      f.node = static_cast<NodeId>(1 + net.Uniform(static_cast<uint64_t>(o.nodes)));
      if (net.OneIn(2)) {
        f.kind = "loss";
        f.percent = static_cast<int>(5 + net.Uniform(26));
      } else {
        f.kind = "delay";
        f.delay_ms = static_cast<int>(5 + net.Uniform(196));
        f.jitter_ms = static_cast<int>(net.Uniform(static_cast<uint64_t>(f.delay_ms) + 1));
      }
      s.net.push_back(f);
      at = f.end;
    }
  }
  return s;
}

std::string RealScheduleToJson(const RealSchedule& s) {
  json params = {
      {"nodes", Param(s.nodes)},
      {"shards", Param(s.shards)},
      {"clients", Param(s.clients)},
      {"safety_duration_ns", Param(absl::ToInt64Nanoseconds(s.duration))},
      {"max_clock_skew_ns", Param(absl::ToInt64Nanoseconds(s.max_clock_skew))},
  };
  if (s.max_clock_offset > absl::ZeroDuration()) {
    params["real.max_clock_offset_ns"] = Param(absl::ToInt64Nanoseconds(s.max_clock_offset));
  }
  json membership = json::array();
  for (const RealMembershipAction& m : s.membership) {
    json e = {{"kind", m.kind}, {"node", m.node}, {"at_ns", absl::ToInt64Nanoseconds(m.at)}};
    if (m.new_id != kNoNode) e["new_id"] = m.new_id;
    membership.push_back(std::move(e));
  }
  json net = json::array();
  for (const RealNetFault& f : s.net) {
    json e = {{"kind", f.kind},
              {"node", f.node},
              {"at_ns", absl::ToInt64Nanoseconds(f.at)},
              {"end_ns", absl::ToInt64Nanoseconds(f.end)}};
    if (f.kind == "loss") e["percent"] = f.percent;
    if (f.kind == "delay") {
      e["delay_ms"] = f.delay_ms;
      e["jitter_ms"] = f.jitter_ms;
    }
    net.push_back(std::move(e));
  }
  const json lists = {
      {"nemesis", NemesisToJson(s.nemesis)}, {"real.membership", membership}, {"real.net", net}};
  // Written by hand so each list entry is one line (diffable, and what sim/schedule.h writes).
  std::string out = absl::StrCat("{\n  \"format\": \"crema-schedule/1\",\n  \"scenario\": \"cache\",\n",
                                 "  \"seed\": ", s.seed, ",\n  \"params\": ", params.dump(), ",\n",
                                 "  \"lists\": {");
  bool first_list = true;
  for (const auto& [name, list] : lists.items()) {
    absl::StrAppend(&out, first_list ? "\n" : ",\n", "    ", json(name).dump(), ": [");
    first_list = false;
    for (size_t i = 0; i < list.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "      ", list[i].dump());
    }
    absl::StrAppend(&out, list.empty() ? "]" : "\n    ]");
  }
  absl::StrAppend(&out, "\n  }\n}\n");
  return out;
}

absl::StatusOr<RealSchedule> RealScheduleFromJson(std::string_view text) {
  if (text.size() > kMaxRealScheduleBytes) {
    return absl::InvalidArgumentError("schedule: file too large");
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("schedule: not a JSON object");
  }
  if (sim::JsonString(j, "format") != "crema-schedule/1") {
    return absl::InvalidArgumentError("schedule: format is not crema-schedule/1");
  }
  if (sim::JsonString(j, "scenario") != "cache") {
    return absl::InvalidArgumentError("schedule: not a schedule of the cache scenario");
  }
  RealSchedule s;
  if (!j.contains("seed") || !j["seed"].is_number_unsigned()) {
    return absl::InvalidArgumentError("schedule: no seed");
  }
  s.seed = j["seed"].get<uint64_t>();
  if (!j.contains("params") || !j["params"].is_object()) {
    return absl::InvalidArgumentError("schedule: no params");
  }
  const json& params = j["params"];
  auto nodes = GetParam(params, "nodes", 1, kMaxRealNodes);
  if (!nodes.ok()) return nodes.status();
  s.nodes = static_cast<int>(*nodes);
  auto duration = GetParam(params, "safety_duration_ns", 0, int64_t{86'400} * 1'000'000'000);
  if (!duration.ok()) return duration.status();
  s.duration = absl::Nanoseconds(*duration);
  // Optional params (a plain simulator schedule may lack them): keep the defaults.
  if (params.contains("shards")) {
    auto v = GetParam(params, "shards", 1, 4096);
    if (!v.ok()) return v.status();
    s.shards = static_cast<int>(*v);
  }
  if (params.contains("clients")) {
    auto v = GetParam(params, "clients", 1, 256);
    if (!v.ok()) return v.status();
    s.clients = static_cast<int>(*v);
  }
  if (params.contains("max_clock_skew_ns")) {
    auto v = GetParam(params, "max_clock_skew_ns", 0, int64_t{3600} * 1'000'000'000);
    if (!v.ok()) return v.status();
    s.max_clock_skew = absl::Nanoseconds(*v);
  }
  if (params.contains("real.max_clock_offset_ns")) {
    auto v = GetParam(params, "real.max_clock_offset_ns", 0, int64_t{3600} * 1'000'000'000);
    if (!v.ok()) return v.status();
    s.max_clock_offset = absl::Nanoseconds(*v);
  }
  const json lists = j.contains("lists") ? j["lists"] : json::object();
  if (!lists.is_object()) return absl::InvalidArgumentError("schedule: lists is not an object");
  absl::StatusOr<json> nemesis = GetList(lists, "nemesis");
  if (!nemesis.ok()) return nemesis.status();
  absl::StatusOr<NemesisSchedule> parsed = NemesisFromJson(*nemesis);
  if (!parsed.ok()) return parsed.status();
  s.nemesis = *std::move(parsed);
  absl::StatusOr<json> membership = GetList(lists, "real.membership");
  if (!membership.ok()) return membership.status();
  for (const json& e : *membership) {
    RealMembershipAction m;
    m.at = absl::Nanoseconds(*sim::JsonInt64(e, "at_ns"));
    m.kind = sim::JsonString(e, "kind").value_or("");
    if (m.kind != "wipe-readmit" && m.kind != "graceful-restart") {
      return absl::InvalidArgumentError(absl::StrCat("real.membership: unknown kind '", m.kind, "'"));
    }
    if (!sim::JsonNodeId(e, "node")) return absl::InvalidArgumentError("real.membership: no node");
    m.node = *sim::JsonNodeId(e, "node");
    if (m.kind == "wipe-readmit") {
      if (!sim::JsonNodeId(e, "new_id")) {
        return absl::InvalidArgumentError("real.membership: no new_id");
      }
      m.new_id = *sim::JsonNodeId(e, "new_id");
    }
    s.membership.push_back(m);
  }
  absl::StatusOr<json> net = GetList(lists, "real.net");
  if (!net.ok()) return net.status();
  for (const json& e : *net) {
    RealNetFault f;
    f.at = absl::Nanoseconds(*sim::JsonInt64(e, "at_ns"));
    f.kind = sim::JsonString(e, "kind").value_or("");
    if (!IsInt(e, "end_ns") || !sim::JsonNodeId(e, "node")) {
      return absl::InvalidArgumentError("real.net: needs end_ns and node");
    }
    f.end = absl::Nanoseconds(*sim::JsonInt64(e, "end_ns"));
    f.node = *sim::JsonNodeId(e, "node");
    if (f.end < f.at) return absl::InvalidArgumentError("real.net: end_ns < at_ns");
    if (f.kind == "loss") {
      if (!IsInt(e, "percent")) return absl::InvalidArgumentError("real.net: loss needs percent");
      const int64_t percent = *sim::JsonInt64(e, "percent");
      if (percent < 1 || percent > 100) {
        return absl::InvalidArgumentError("real.net: percent not in 1..100");
      }
      f.percent = static_cast<int>(percent);
    } else if (f.kind == "delay") {
      if (!IsInt(e, "delay_ms") || !IsInt(e, "jitter_ms")) {
        return absl::InvalidArgumentError("real.net: delay needs delay_ms and jitter_ms");
      }
      const int64_t delay = *sim::JsonInt64(e, "delay_ms");
      const int64_t jitter = *sim::JsonInt64(e, "jitter_ms");
      if (delay < 1 || delay > 10'000 || jitter < 0 || jitter > delay) {
        return absl::InvalidArgumentError("real.net: delay_ms not in 1..10000 or jitter_ms > delay_ms");
      }
      f.delay_ms = static_cast<int>(delay);
      f.jitter_ms = static_cast<int>(jitter);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("real.net: unknown kind '", f.kind, "'"));
    }
    s.net.push_back(f);
  }
  return s;
}

}  // namespace crema::chaos
