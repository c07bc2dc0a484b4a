#include "sim/scenarios/membership/membership_scenario.h"

#include <algorithm>
#include <iterator>
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/scenarios/membership/membership_sim.h"
#include "sim/fault_config.h"
#include "sim/fault_inputs.h"
#include "sim/json_fields.h"
#include "sim/partitions.h"

namespace crema::membership {
namespace {

constexpr int kMinNodes = 3;
constexpr int kMinRandomNodes = 5;
constexpr int kRandomNodeChoices = 16;  // 5..20 nodes when the seed picks
constexpr int kMaxNodes = 1000;         // a bound on schedule-file inputs

// Checks every delivered event against what the same node (process incarnation) last reported
// about the member: SWIM's precedence rules seen from outside the core.
class EventRuleChecker {
 public:
  explicit EventRuleChecker(absl::Duration tombstone_ttl) : tombstone_ttl_(tombstone_ttl) {}

  void Check(NodeId observer, uint64_t process, const MembershipEvent& event, absl::Duration at) {
    if (!violation_.empty()) return;
    const NodeId id = event.member.id;
    const Incarnation inc = event.member.incarnation;
    if (id == observer) return Fail(observer, event, "an event about the node itself");
    auto [it, fresh] = last_.try_emplace({observer, process, id});
    Seen& seen = it->second;
    // A tombstone may have expired (silently forgotten); allow a 10% margin for clock drift.
    const bool forgotten = !fresh && !IsLive(seen.state) && at - seen.at >= tombstone_ttl_ * 0.9;
    const bool unknown = fresh || forgotten;
    const bool live = !unknown && IsLive(seen.state);
    bool ok = false;
    switch (event.kind) {
      case MembershipEventKind::kJoined:
        ok = unknown || (!live && inc > seen.incarnation);
        break;
      case MembershipEventKind::kSuspected:
        ok = live && seen.state == MemberState::kAlive && inc >= seen.incarnation;
        break;
      case MembershipEventKind::kAliveAgain:
        ok = live && seen.state == MemberState::kSuspect && inc > seen.incarnation;
        break;
      case MembershipEventKind::kDead:
      case MembershipEventKind::kLeft:
      case MembershipEventKind::kUpdated:
        ok = live && inc >= seen.incarnation;
        break;
    }
    if (!ok) {
      return Fail(observer, event,
                  unknown ? std::string("about an unknown member")
                          : absl::StrCat("after ", std::string(MemberStateName(seen.state)), "@",
                                         seen.incarnation));
    }
    seen.state = event.member.state;
    seen.incarnation = inc;
    seen.at = at;
  }

  const std::string& violation() const { return violation_; }
  const std::string& property() const { return property_; }

 private:
  struct Seen {
    MemberState state = MemberState::kAlive;
    Incarnation incarnation = 0;
    absl::Duration at;
  };
  struct Key {
    NodeId observer;
    uint64_t process;
    NodeId member;
    bool operator<(const Key& o) const {
      return std::tie(observer, process, member) < std::tie(o.observer, o.process, o.member);
    }
  };

  void Fail(NodeId observer, const MembershipEvent& event, std::string why) {
    violation_ = absl::StrCat("node ", observer, " reported ",
                              std::string(MembershipEventKindName(event.kind)), " ",
                              event.member.id, "@", event.member.incarnation, " ", why);
    property_ = absl::StrCat(std::string(MembershipEventKindName(event.kind)), " ", why);
  }

  absl::Duration tombstone_ttl_;
  absl::btree_map<Key, Seen> last_;
  std::string violation_;
  std::string property_;  // the broken rule, without ids (the failure's signature)
};

std::vector<NodeId> PickDistinct(std::vector<NodeId> from, size_t count, Random& random) {
  for (size_t i = 0; i < count && i < from.size(); ++i) {
    std::swap(from[i], from[i + random.Uniform(from.size() - i)]);
  }
  from.resize(std::min(count, from.size()));
  std::sort(from.begin(), from.end());
  return from;
}

std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToDoubleSeconds(d), "s"); }

struct Run {
  std::string failure;
  std::string summary;
  std::string oracle, property, where;  // the failure's signature (sim/scenario.h)
};

void SetRunFailure(Run& run, std::string oracle, std::string property, std::string where,
                   std::string failure) {
  run.failure = std::move(failure);
  run.oracle = std::move(oracle);
  run.property = std::move(property);
  run.where = std::move(where);
}

// The scenario's script (which nodes crash, the stall, the clogged links, the partition), drawn
// from the seed in the same order as ever, as a schedule list (sim/schedule.h). Times are since
// the start of the script's phase: crash entries at the crash phase (no window: victims restart
// halfway through the partition, or at the end), "stall" [at, end) and "clog" [at, end) there too,
// "partition" [0, end) from the partition phase's start.
nlohmann::json DrawScript(int n, bool crashes, bool pauses, bool clogging, bool partitions,
                          absl::Duration max_clog, const MembershipScenarioParams& params,
                          Random script) {
  using nlohmann::json;
  json list = json::array();
  std::vector<NodeId> ids;
  for (int i = 1; i <= n; ++i) ids.push_back(static_cast<NodeId>(i));
  if (crashes) {
    const size_t count = 1 + script.Uniform(std::max(1, (n - 1) / 4));
    const std::vector<NodeId> victims = PickDistinct(ids, count, script);
    for (NodeId victim : victims) list.push_back({{"kind", "crash"}, {"node", victim}, {"at_ns", 0}});
    std::vector<NodeId> up;
    std::set_difference(ids.begin(), ids.end(), victims.begin(), victims.end(),
                        std::back_inserter(up));
    if (pauses) {
      const NodeId stalled = PickDistinct(up, 1, script).front();
      const absl::Duration stall = script.DurationBetween(params.min_stall, params.max_stall);
      const absl::Duration at = script.DurationBetween(absl::ZeroDuration(), absl::Seconds(5));
      list.push_back({{"kind", "stall"}, {"node", stalled}, {"at_ns", absl::ToInt64Nanoseconds(at)},
                      {"end_ns", absl::ToInt64Nanoseconds(at + stall)}});
    }
    if (clogging) {
      const size_t links = 1 + script.Uniform(3);
      for (size_t i = 0; i < links && up.size() >= 2; ++i) {
        const std::vector<NodeId> pair = PickDistinct(up, 2, script);
        const absl::Duration clog_for = script.DurationBetween(absl::ZeroDuration(), max_clog);
        list.push_back({{"kind", "clog"}, {"node", pair[0]}, {"peer", pair[1]}, {"at_ns", 0},
                        {"end_ns", absl::ToInt64Nanoseconds(clog_for)}});
      }
    }
  }
  if (partitions) {
    Random shape = script.Fork("partition");
    // Over all nodes, the crashed ones included, so that they restart on one side (not as
    // bridges between the sides).
    const sim::Partition partition = sim::RandomPartition(ids, shape);
    const absl::Duration length =
        script.DurationBetween(params.min_partition, params.max_partition);
    json blocked = json::array();
    for (const auto& [from, to] : partition.blocked) blocked.push_back({from, to});
    list.push_back({{"kind", "partition"}, {"shape", partition.kind}, {"blocked", blocked},
                    {"at_ns", 0}, {"end_ns", absl::ToInt64Nanoseconds(length)}});
  }
  return list;
}

absl::Duration At(const nlohmann::json& entry, const char* field) {
  return absl::Nanoseconds(sim::JsonInt64(entry, field).value_or(0));
}

}  // namespace

sim::ScenarioResult RunMembershipScenario(const sim::ScenarioOptions& options,
                                          const MembershipScenarioParams& params) {
  Random root = sim::ScenarioRoot(options);
  sim::RunInputs in(options.schedule);  // sim/schedule.h: every drawn input, replayable
  const int n = static_cast<int>(std::clamp<int64_t>(
      in.Int("nodes",
             options.nodes > 0 ? std::max(kMinNodes, options.nodes)
                               : kMinRandomNodes + static_cast<int>(
                                                       root.Fork("size").Uniform(kRandomNodeChoices)),
             kMinNodes),
      kMinNodes, kMaxNodes));
  sim::FaultConfig faults = sim::MakeFaultConfig(options.faults, root.Fork("swarm"));
  sim::ApplyOverrides(options.overrides, faults);
  sim::FaultOverrides no_disk;  // membership keeps nothing on disk: disk faults would be inert
  no_disk.disk_faults = false;
  sim::ApplyOverrides(no_disk, faults);
  const sim::FaultOverrides& o = options.overrides;
  const nlohmann::json script = in.List(
      "script", DrawScript(n, o.crashes.value_or(true), o.pauses.value_or(true), faults.clogging,
                           o.partitions.value_or(true), faults.max_fault_duration, params,
                           root.Fork("membership-script")));
  sim::InputFaultConfig(in, faults);

  MembershipSimOptions sim_options;
  sim_options.sim = sim::BaseSimOptions(options);
  faults.ApplyTo(sim_options.sim);
  sim_options.sim.buggify = false;  // membership has no BUGGIFY sites
  sim_options.nodes = n;
  const int64_t drift_ppm = sim_options.sim.clock.max_drift_ppm;
  const MembershipNodeConfig& config = sim_options.node;
  EventRuleChecker checker(config.swim.tombstone_ttl);
  sim::Simulator* simulator = nullptr;
  uint64_t refutations = 0, events_checked = 0;
  MembershipSim cluster(sim_options, [&](NodeId at, const MembershipEvent& e, absl::Duration t) {
    ++events_checked;
    if (e.kind == MembershipEventKind::kAliveAgain) ++refutations;
    checker.Check(at, simulator->incarnation(at), e, t);
  });
  simulator = &cluster.sim();
  sim::Simulator& sim = cluster.sim();
  std::ostream* log = options.log;
  if (log) *log << "membership: " << n << " nodes; faults: " << faults.Describe() << "\n";
  // The script's entries, by kind, for nodes that exist (a shrunk schedule may name others).
  auto entries = [&](std::string_view kind) {
    std::vector<nlohmann::json> out;
    for (const nlohmann::json& e : script) {
      if (sim::JsonString(e, "kind") != kind) continue;
      // Absent ids mean node 1; present ones must be node ids (sim/json_fields.h: never a throw).
      NodeId node = 1, peer = 1;
      if (!sim::ReadOptional(e, "node", &node) || !sim::ReadOptional(e, "peer", &peer)) continue;
      if (node >= 1 && node <= static_cast<NodeId>(n) && peer >= 1 && peer <= static_cast<NodeId>(n)) {
        out.push_back(e);
      }
    }
    return out;
  };

  Run run;
  const absl::Duration heal_bound = HealBound(n, config, drift_ppm);
  const absl::Duration detection_bound = DetectionBound(n, config.swim, drift_ppm);
  auto views_agree = [&] { return cluster.ViewsAgree(); };

  // Join.
  sim.Trace(kNoNode, "scenario.phase", "join");
  sim.StartAll();
  const absl::Duration join_start = sim.elapsed();
  if (!cluster.RunUntil(views_agree, heal_bound)) {
    SetRunFailure(run, "liveness", "one view after start", "join",
                  absl::StrCat("LIVENESS: no single view ", Seconds(heal_bound), " after start"));
    if (options.log != nullptr) *options.log << "membership: views:\n" << cluster.DescribeViews();
  }
  absl::StrAppend(&run.summary, "joined=", Seconds(sim.elapsed() - join_start));

  // Crash some nodes (and stall another one meanwhile); all must be detected within the bound.
  std::vector<NodeId> victims;
  for (const nlohmann::json& e : entries("crash")) victims.push_back(sim::JsonNodeId(e, "node").value_or(1));
  std::sort(victims.begin(), victims.end());
  victims.erase(std::unique(victims.begin(), victims.end()), victims.end());
  if (victims.size() >= static_cast<size_t>(n)) victims.resize(n - 1);  // someone must watch
  if (run.failure.empty() && !victims.empty()) {
    sim.Trace(kNoNode, "scenario.phase", "crash");
    for (NodeId victim : victims) sim.Crash(victim);
    absl::Duration stall_end = absl::ZeroDuration();  // after the crash
    for (const nlohmann::json& e : entries("stall")) {
      const NodeId stalled = sim::JsonNodeId(e, "node").value_or(1);
      if (std::binary_search(victims.begin(), victims.end(), stalled)) continue;
      sim.After(At(e, "at_ns"), "scenario.pause", [&sim, stalled] { sim.Pause(stalled); });
      sim.After(At(e, "end_ns"), "scenario.resume", [&sim, stalled] { sim.Resume(stalled); });
      stall_end = std::max(stall_end, At(e, "end_ns"));
      if (log) *log << "membership: node " << stalled << " stalls for " << At(e, "end_ns") - At(e, "at_ns") << "\n";
    }
    for (const nlohmann::json& e : entries("clog")) {
      // A clogged link: its messages are held, then released late and out of order.
      const NodeId a = sim::JsonNodeId(e, "node").value_or(1);
      const NodeId b = sim::JsonNodeId(e, "peer").value_or(1);
      if (a == b) continue;
      if (At(e, "at_ns") == absl::ZeroDuration()) {
        sim.network().Clog(a, b);
      } else {
        sim.After(At(e, "at_ns"), "scenario.clog", [&sim, a, b] { sim.network().Clog(a, b); });
      }
      sim.After(At(e, "end_ns"), "scenario.unclog", [&sim, a, b] { sim.network().Unclog(a, b); });
      stall_end = std::max(stall_end, At(e, "end_ns"));
    }
    const absl::Duration crashed_at = sim.elapsed();
    const absl::Duration limit = detection_bound + stall_end;
    // A stalled node counts too: it must also see the victims dead once it has resumed.
    const bool detected = cluster.RunUntil(
        [&] {
          if (sim.elapsed() - crashed_at < stall_end) return false;
          for (NodeId victim : victims) {
            if (!cluster.AllConsiderGone(victim)) return false;
          }
          return true;
        },
        limit);
    if (!detected) {
      SetRunFailure(run, "detection", "crashed nodes seen dead within the bound", "crash",
                    absl::StrCat("DETECTION: crashed nodes [", absl::StrJoin(victims, ","),
                                 "] not seen as dead by every live node within ", Seconds(limit)));
    }
    absl::StrAppend(&run.summary, " crashed=[", absl::StrJoin(victims, ","), "] detected=",
                    Seconds(sim.elapsed() - crashed_at), " bound=", Seconds(detection_bound));
  }

  // Partition (restarting the crashed nodes halfway), then heal.
  const std::vector<nlohmann::json> partitions = entries("partition");
  if (run.failure.empty() && !partitions.empty()) {
    const nlohmann::json& e = partitions.front();
    sim.Trace(kNoNode, "scenario.phase", "partition");
    std::vector<sim::Link> blocked;
    const nlohmann::json links =
        sim::JsonHas(e, "blocked") && e.at("blocked").is_array() ? e.at("blocked") : nlohmann::json::array();
    for (const nlohmann::json& link : links) {
      if (link.is_array() && link.size() == 2 && sim::JsonIsNodeId(link[0]) &&
          sim::JsonIsNodeId(link[1])) {
        blocked.emplace_back(*sim::JsonAsNodeId(link[0]), *sim::JsonAsNodeId(link[1]));
      }
    }
    const std::string shape = sim::JsonString(e, "shape").value_or("partition");
    const absl::Duration length = At(e, "end_ns");
    sim.network().SetPartition(blocked, shape);
    sim.RunFor(length / 2);
    for (NodeId victim : victims) sim.Restart(victim);
    sim.RunFor(length - length / 2);
    sim.network().HealPartition();
    absl::StrAppend(&run.summary, " partition=", shape, "/", Seconds(length));
  }
  for (NodeId victim : victims) {
    if (sim.state(victim) == sim::NodeState::kDown) sim.Restart(victim);
  }

  // Liveness: one view of all N nodes.
  if (run.failure.empty()) {
    sim.Trace(kNoNode, "scenario.phase", "liveness");
    const absl::Duration healed_at = sim.elapsed();
    if (!cluster.RunUntil(views_agree, heal_bound) ||
        cluster.node(1)->LiveCount() != static_cast<size_t>(n)) {
      SetRunFailure(run, "liveness", "one view after healing", "liveness",
                    absl::StrCat("LIVENESS: no single view of all ", n, " nodes within ",
                                 Seconds(heal_bound), " after healing"));
    }
    absl::StrAppend(&run.summary, " one_view=", Seconds(sim.elapsed() - healed_at),
                    " heal_bound=", Seconds(heal_bound));
  }
  if (!checker.violation().empty()) {
    sim.Trace(kNoNode, "scenario.violation", checker.violation());
    SetRunFailure(run, "event-rules", checker.property(), "events",
                  "SAFETY: " + checker.violation());
  }

  sim::ScenarioResult result;
  result.pass = run.failure.empty();
  result.message = result.pass ? run.summary : run.failure;
  result.oracle = run.oracle;
  result.property = run.property;
  result.where = run.where;
  sim::Coverage& c = sim.coverage();
  c.Oracle("detection_bound", victims.size());
  c.Oracle("event_rules", events_checked);
  c.Oracle("one_view", run.failure.empty() ? 1 : 0);
  c.Sometimes("suspected_member_refuted", refutations > 0);
  c.Sometimes("crashed_member_detected", !victims.empty() && result.pass);
  c.Sometimes("member_rejoined_after_restart", !victims.empty() && result.pass);
  c.Sometimes("view_healed_after_partition", !partitions.empty() && result.pass);
  if (log) {
    *log << "membership: " << run.summary << "\n"
         << "membership: " << (result.pass ? "PASS: " : "FAIL: ") << result.message << "\n";
  }
  sim.Trace(kNoNode, "scenario.result", result.message);
  result.schedule = in.Take("membership", options.seed);
  sim::FinishResult(sim, result);
  return result;
}

void RegisterMembershipScenario(sim::ScenarioRegistry& registry) {
  const absl::Status registered = registry.Register(
      "membership",
      "SWIM cluster (5-20 nodes): join, crash some (detection bound), partition and heal (one "
      "view), event precedence rules",
      [](const sim::ScenarioOptions& options) { return RunMembershipScenario(options); });
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::membership
