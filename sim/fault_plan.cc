#include "sim/fault_plan.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/json_fields.h"

namespace crema::sim {
namespace {

using nlohmann::json;
using Kind = FaultAction::Kind;

constexpr std::array<std::pair<Kind, const char*>, 9> kNames = {{
    {Kind::kCrash, "crash"}, {Kind::kAmnesia, "amnesia"}, {Kind::kPause, "pause"},
    {Kind::kPartition, "partition"}, {Kind::kClog, "clog"}, {Kind::kSwizzle, "swizzle"},
    {Kind::kClockStep, "clock-step"}, {Kind::kDiskFull, "disk-full"}, {Kind::kIdle, "idle"},
}};

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

}  // namespace

const char* FaultKindName(Kind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<Kind> ParseFaultKind(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (name == n) return k;
  }
  return std::nullopt;
}

json FaultActionsToJson(const std::vector<FaultAction>& actions) {
  json list = json::array();
  for (const FaultAction& a : actions) {
    json j = {{"kind", FaultKindName(a.kind)}, {"at_ns", Ns(a.at)}, {"end_ns", Ns(a.end)}};
    if (a.node != kNoNode) j["node"] = a.node;
    if (a.peer != kNoNode) j["peer"] = a.peer;
    if (a.kind == Kind::kPartition) {
      j["shape"] = a.shape;
      json blocked = json::array();
      for (const auto& [from, to] : a.blocked) blocked.push_back({from, to});
      j["blocked"] = std::move(blocked);
    }
    if (a.kind == Kind::kClockStep) j["delta_ns"] = Ns(a.delta);
    if (a.kind == Kind::kSwizzle) {
      json steps = json::array();
      for (const auto& s : a.steps) steps.push_back({Ns(s.offset), s.node, s.clog ? 1 : 0});
      j["steps"] = std::move(steps);
    }
    list.push_back(std::move(j));
  }
  return list;
}

absl::StatusOr<std::vector<FaultAction>> FaultActionsFromJson(const json& list) {
  auto bad = [](size_t i, std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("fault action #", i, ": ", std::string(why)));
  };
  if (!list.is_array()) return absl::InvalidArgumentError("fault actions: not an array");
  std::vector<FaultAction> actions;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& j = list[i];
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) return bad(i, "no kind");
    const std::optional<Kind> kind = ParseFaultKind(j["kind"].get<std::string>());
    if (!kind) return bad(i, "unknown kind");
    const std::optional<int64_t> at = JsonInt64(j, "at_ns");
    if (!at) return bad(i, "no at_ns");
    FaultAction a;
    a.kind = *kind;
    a.at = absl::Nanoseconds(*at);
    int64_t end_ns = *at;
    if (!ReadOptional(j, "end_ns", &end_ns)) return bad(i, "end_ns is not an integer");
    a.end = absl::Nanoseconds(end_ns);
    if (a.end < a.at || a.at < absl::ZeroDuration()) return bad(i, "needs 0 <= at_ns <= end_ns");
    if (!ReadOptional(j, "node", &a.node) || !ReadOptional(j, "peer", &a.peer)) {
      return bad(i, "node and peer must be node ids");
    }
    const bool needs_node =
        a.kind != Kind::kPartition && a.kind != Kind::kSwizzle && a.kind != Kind::kIdle;
    if (needs_node && a.node == kNoNode) return bad(i, "no node");
    if (a.kind == Kind::kClog && a.peer == kNoNode) return bad(i, "clog needs a peer");
    if (a.kind == Kind::kPartition) {
      if (!j.contains("blocked") || !j["blocked"].is_array()) return bad(i, "no blocked links");
      a.shape = "partition";
      if (!ReadOptional(j, "shape", &a.shape)) return bad(i, "shape is not a string");
      for (const json& link : j["blocked"]) {
        if (!link.is_array() || link.size() != 2 || !JsonIsNodeId(link[0]) ||
            !JsonIsNodeId(link[1])) {
          return bad(i, "a blocked link is [from, to]");
        }
        a.blocked.emplace_back(*JsonAsNodeId(link[0]), *JsonAsNodeId(link[1]));
      }
    }
    if (a.kind == Kind::kClockStep) {
      const std::optional<int64_t> delta = JsonInt64(j, "delta_ns");
      if (!delta) return bad(i, "clock-step needs delta_ns");
      a.delta = absl::Nanoseconds(*delta);
    }
    if (a.kind == Kind::kSwizzle) {
      if (!j.contains("steps") || !j["steps"].is_array()) return bad(i, "swizzle needs steps");
      for (const json& s : j["steps"]) {
        if (!s.is_array() || s.size() != 3 || !JsonIsInt64(s[0]) || !JsonIsNodeId(s[1]) ||
            !JsonIsInt64(s[2]) || *JsonAsInt64(s[0]) < 0) {
          return bad(i, "a swizzle step is [offset_ns, node, clog]");
        }
        a.steps.push_back({absl::Nanoseconds(*JsonAsInt64(s[0])), *JsonAsNodeId(s[1]),
                           *JsonAsInt64(s[2]) != 0});
      }
    }
    actions.push_back(std::move(a));
  }
  return actions;
}

}  // namespace crema::sim
