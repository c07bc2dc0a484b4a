#include "sim/scenarios/membership/membership_scenario.h"

#include <algorithm>
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
#include "sim/partitions.h"

namespace crema::membership {
namespace {

constexpr int kMinNodes = 3;
constexpr int kMinRandomNodes = 5;
constexpr int kRandomNodeChoices = 16;  // 5..20 nodes when the seed picks

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
  }

  absl::Duration tombstone_ttl_;
  absl::btree_map<Key, Seen> last_;
  std::string violation_;
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
};

}  // namespace

sim::ScenarioResult RunMembershipScenario(const sim::ScenarioOptions& options,
                                          const MembershipScenarioParams& params) {
  Random root(options.seed);
  const int n = options.nodes > 0
                    ? std::max(kMinNodes, options.nodes)
                    : kMinRandomNodes + static_cast<int>(
                                            root.Fork("size").Uniform(kRandomNodeChoices));
  sim::FaultConfig faults = sim::MakeFaultConfig(options.faults, root.Fork("swarm"));
  sim::ApplyOverrides(options.overrides, faults);
  const sim::FaultOverrides& o = options.overrides;
  const bool crashes = o.crashes.value_or(true);
  const bool pauses = o.pauses.value_or(true);
  const bool partitions = o.partitions.value_or(true);
  Random script = root.Fork("membership-script");

  MembershipSimOptions sim_options;
  sim_options.sim.seed = options.seed;
  sim_options.sim.keep_trace_records = options.keep_trace_records;
  sim_options.sim.trace_json = options.trace_json;
  faults.ApplyTo(sim_options.sim);
  sim_options.sim.buggify = false;  // membership has no BUGGIFY sites
  sim_options.nodes = n;
  const int64_t drift_ppm = sim_options.sim.clock.max_drift_ppm;
  const MembershipNodeConfig& config = sim_options.node;
  EventRuleChecker checker(config.swim.tombstone_ttl);
  sim::Simulator* simulator = nullptr;
  MembershipSim cluster(sim_options, [&](NodeId at, const MembershipEvent& e, absl::Duration t) {
    checker.Check(at, simulator->incarnation(at), e, t);
  });
  simulator = &cluster.sim();
  sim::Simulator& sim = cluster.sim();
  std::ostream* log = options.log;
  if (log) *log << "membership: " << n << " nodes; faults: " << faults.Describe() << "\n";

  Run run;
  const absl::Duration heal_bound = HealBound(n, config, drift_ppm);
  const absl::Duration detection_bound = DetectionBound(n, config.swim, drift_ppm);
  auto views_agree = [&] { return cluster.ViewsAgree(); };

  // Join.
  sim.Trace(kNoNode, "scenario.phase", "join");
  sim.StartAll();
  const absl::Duration join_start = sim.elapsed();
  if (!cluster.RunUntil(views_agree, heal_bound)) {
    run.failure = absl::StrCat("LIVENESS: no single view ", Seconds(heal_bound), " after start");
  }
  absl::StrAppend(&run.summary, "joined=", Seconds(sim.elapsed() - join_start));

  // Crash some nodes (and stall another one meanwhile); all must be detected within the bound.
  std::vector<NodeId> victims;
  if (run.failure.empty() && crashes) {
    sim.Trace(kNoNode, "scenario.phase", "crash");
    const size_t count = 1 + script.Uniform(std::max(1, (n - 1) / 4));
    victims = PickDistinct(cluster.ids(), count, script);
    for (NodeId victim : victims) sim.Crash(victim);
    absl::Duration stall = absl::ZeroDuration();
    absl::Duration stall_end = absl::ZeroDuration();  // after the crash
    if (pauses) {
      std::vector<NodeId> others = cluster.UpNodes();
      const NodeId stalled = PickDistinct(others, 1, script).front();
      stall = script.DurationBetween(params.min_stall, params.max_stall);
      const absl::Duration stall_at = script.DurationBetween(absl::ZeroDuration(), absl::Seconds(5));
      sim.After(stall_at, "scenario.pause", [&sim, stalled] { sim.Pause(stalled); });
      sim.After(stall_at + stall, "scenario.resume", [&sim, stalled] { sim.Resume(stalled); });
      stall_end = stall_at + stall;
      if (log) *log << "membership: node " << stalled << " stalls for " << stall << "\n";
    }
    if (faults.clogging) {
      // A few clogged links: their messages are held, then released late and out of order.
      const std::vector<NodeId> up = cluster.UpNodes();
      const size_t links = 1 + script.Uniform(3);
      for (size_t i = 0; i < links && up.size() >= 2; ++i) {
        const std::vector<NodeId> pair = PickDistinct(up, 2, script);
        const absl::Duration clog_for = script.DurationBetween(absl::ZeroDuration(),
                                                               faults.max_fault_duration);
        sim.network().Clog(pair[0], pair[1]);
        sim.After(clog_for, "scenario.unclog",
                  [&sim, a = pair[0], b = pair[1]] { sim.network().Unclog(a, b); });
        stall_end = std::max(stall_end, clog_for);
      }
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
      run.failure = absl::StrCat("DETECTION: crashed nodes [", absl::StrJoin(victims, ","),
                                 "] not seen as dead by every live node within ", Seconds(limit));
    }
    absl::StrAppend(&run.summary, " crashed=[", absl::StrJoin(victims, ","), "] detected=",
                    Seconds(sim.elapsed() - crashed_at), " bound=", Seconds(detection_bound));
  }

  // Partition (restarting the crashed nodes halfway), then heal.
  if (run.failure.empty() && partitions) {
    sim.Trace(kNoNode, "scenario.phase", "partition");
    Random shape = script.Fork("partition");
    // Over all nodes, the crashed ones included, so that they restart on one side (not as
    // bridges between the sides).
    const sim::Partition partition = sim::RandomPartition(cluster.ids(), shape);
    const absl::Duration length =
        script.DurationBetween(params.min_partition, params.max_partition);
    sim.network().SetPartition(partition.blocked, partition.kind);
    sim.RunFor(length / 2);
    for (NodeId victim : victims) sim.Restart(victim);
    sim.RunFor(length - length / 2);
    sim.network().HealPartition();
    absl::StrAppend(&run.summary, " partition=", partition.kind, "/", Seconds(length));
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
      run.failure = absl::StrCat("LIVENESS: no single view of all ", n, " nodes within ",
                                 Seconds(heal_bound), " after healing");
    }
    absl::StrAppend(&run.summary, " one_view=", Seconds(sim.elapsed() - healed_at),
                    " heal_bound=", Seconds(heal_bound));
  }
  if (!checker.violation().empty()) run.failure = "SAFETY: " + checker.violation();

  sim::ScenarioResult result;
  result.pass = run.failure.empty();
  result.message = result.pass ? run.summary : run.failure;
  if (log) {
    *log << "membership: " << run.summary << "\n"
         << "membership: " << (result.pass ? "PASS: " : "FAIL: ") << result.message << "\n";
  }
  sim.Trace(kNoNode, "scenario.result", result.message);
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
