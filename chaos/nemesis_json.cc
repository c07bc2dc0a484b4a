#include "chaos/nemesis_json.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "sim/json_fields.h"

namespace crema::chaos {
namespace {

using nlohmann::json;

constexpr NemesisKind kLastKind = NemesisKind::kCrashAtSend;

// The undo that ends a fault of `kind`, if it has one.
std::optional<NemesisKind> UndoOf(NemesisKind kind) {
  switch (kind) {
    case NemesisKind::kPartition: return NemesisKind::kHeal;
    case NemesisKind::kClog: return NemesisKind::kUnclog;
    case NemesisKind::kCrash: return NemesisKind::kRestart;
    case NemesisKind::kCrashAtSend: return NemesisKind::kRestart;
    case NemesisKind::kPause: return NemesisKind::kResume;
    case NemesisKind::kDiskFull: return NemesisKind::kDiskSpace;
    case NemesisKind::kDiskErrors: return NemesisKind::kDiskHealthy;
    default: return std::nullopt;
  }
}

std::optional<NemesisKind> ParseKind(const std::string& name) {
  for (int k = 0; k <= static_cast<int>(kLastKind); ++k) {
    if (name == NemesisKindName(static_cast<NemesisKind>(k))) return static_cast<NemesisKind>(k);
  }
  return std::nullopt;
}

json Entry(const NemesisAction& a) {
  json j = {{"kind", NemesisKindName(a.kind)}, {"at_ns", absl::ToInt64Nanoseconds(a.at)}};
  if (a.node != kNoNode) j["node"] = a.node;
  if (a.peer != kNoNode) j["peer"] = a.peer;
  if (a.kind == NemesisKind::kPartition) {
    j["shape"] = a.shape;
    json blocked = json::array();
    for (const auto& [from, to] : a.blocked) blocked.push_back({from, to});
    j["blocked"] = std::move(blocked);
  }
  if (a.kind == NemesisKind::kClockStep) j["delta_ns"] = absl::ToInt64Nanoseconds(a.delta);
  return j;
}

}  // namespace

json NemesisToJson(const NemesisSchedule& schedule) {
  const std::vector<NemesisAction>& actions = schedule.actions;
  std::vector<bool> paired(actions.size(), false);
  // An undo written as its fault's end_ns is read back right after its fault's entry, so among
  // actions at the same instant it could move (the simulator applies simultaneous actions in list
  // order). An undo that shares its instant with another action is written as an entry of its
  // own, in place: reading the list back gives exactly these actions in exactly this order.
  absl::flat_hash_map<int64_t, int> at_same_instant;
  for (const NemesisAction& a : actions) ++at_same_instant[absl::ToInt64Nanoseconds(a.at)];
  json list = json::array();
  for (size_t i = 0; i < actions.size(); ++i) {
    if (paired[i]) continue;
    const NemesisAction& a = actions[i];
    json entry = Entry(a);
    if (const std::optional<NemesisKind> undo = UndoOf(a.kind)) {
      for (size_t k = i + 1; k < actions.size(); ++k) {
        const NemesisAction& u = actions[k];
        if (paired[k] || u.kind != *undo) continue;
        // Only an undo exactly as NemesisFromJson rebuilds it from end_ns folds into the window
        // (a heal carrying a node, say, is written as it is).
        const NodeId node = a.kind == NemesisKind::kPartition ? kNoNode : a.node;
        const NodeId peer = a.kind == NemesisKind::kPartition ? kNoNode : a.peer;
        if (u.node != node || u.peer != peer || !u.shape.empty() || !u.blocked.empty() ||
            u.delta != absl::ZeroDuration()) {
          continue;
        }
        if (at_same_instant[absl::ToInt64Nanoseconds(u.at)] > 1) break;  // written on its own
        paired[k] = true;
        entry["end_ns"] = absl::ToInt64Nanoseconds(u.at);
        break;
      }
    }
    list.push_back(std::move(entry));
  }
  return list;
}

absl::StatusOr<NemesisSchedule> NemesisFromJson(const json& list) {
  auto bad = [](size_t i, const char* why) {
    return absl::InvalidArgumentError(absl::StrCat("nemesis action #", i, ": ", why));
  };
  if (!list.is_array()) return absl::InvalidArgumentError("nemesis actions: not an array");
  NemesisSchedule schedule;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& j = list[i];
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) return bad(i, "no kind");
    const std::optional<NemesisKind> kind = ParseKind(j["kind"].get<std::string>());
    if (!kind) return bad(i, "unknown kind");
    const std::optional<int64_t> at = sim::JsonInt64(j, "at_ns");
    if (!at || *at < 0) return bad(i, "no at_ns >= 0");
    NemesisAction a;
    a.kind = *kind;
    a.at = absl::Nanoseconds(*at);
    if (!sim::ReadOptional(j, "node", &a.node) || !sim::ReadOptional(j, "peer", &a.peer)) {
      return bad(i, "node and peer must be node ids");
    }
    if (a.kind == NemesisKind::kPartition) {
      if (!j.contains("blocked") || !j["blocked"].is_array()) return bad(i, "no blocked links");
      a.shape = "partition";
      if (!sim::ReadOptional(j, "shape", &a.shape)) return bad(i, "shape is not a string");
      for (const json& link : j["blocked"]) {
        if (!link.is_array() || link.size() != 2 || !sim::JsonIsNodeId(link[0]) ||
            !sim::JsonIsNodeId(link[1])) {
          return bad(i, "a blocked link is [from, to]");
        }
        a.blocked.emplace_back(*sim::JsonAsNodeId(link[0]), *sim::JsonAsNodeId(link[1]));
      }
    }
    if (a.kind == NemesisKind::kClockStep) {
      const std::optional<int64_t> delta = sim::JsonInt64(j, "delta_ns");
      if (!delta) return bad(i, "clock-step needs delta_ns");
      a.delta = absl::Nanoseconds(*delta);
    }
    schedule.actions.push_back(a);
    if (sim::JsonHas(j, "end_ns")) {
      const std::optional<int64_t> end_ns = sim::JsonInt64(j, "end_ns");
      if (!end_ns) return bad(i, "end_ns is not an integer");
      const std::optional<NemesisKind> undo = UndoOf(a.kind);
      if (!undo) return bad(i, "this kind has no undo (end_ns)");
      const absl::Duration end = absl::Nanoseconds(*end_ns);
      if (end < a.at) return bad(i, "end_ns < at_ns");
      NemesisAction u{.at = end, .kind = *undo, .node = a.node, .peer = a.peer};
      if (a.kind == NemesisKind::kPartition) u.node = u.peer = kNoNode;  // a heal names no node
      schedule.actions.push_back(u);
    }
  }
  std::stable_sort(schedule.actions.begin(), schedule.actions.end(),
                   [](const NemesisAction& x, const NemesisAction& y) { return x.at < y.at; });
  return schedule;
}

}  // namespace crema::chaos
