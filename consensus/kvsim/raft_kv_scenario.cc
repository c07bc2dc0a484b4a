#include "consensus/kvsim/raft_kv_scenario.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chaos/history_json.h"
#include "chaos/linearizability.h"
#include "chaos/nemesis.h"
#include "chaos/nemesis_runner.h"
#include "consensus/kvsim/cluster_checker.h"
#include "consensus/kvsim/kv_sim_client.h"
#include "consensus/kvsim/membership_driver.h"
#include "sim/fault_config.h"

namespace crema::kvsim {
namespace {

constexpr NodeId kFirstClientId = 101;
constexpr raft::GroupId kGroup = 1;

// The nemesis switches follow the simulator's swarm draw (and the command-line overrides), so
// `--no_partitions` etc. mean the same for every scenario. Disk I/O errors and read corruption
// become nemesis *windows* rather than whole-run rates: the liveness phase needs healthy disks.
chaos::NemesisOptions NemesisFromFaults(sim::FaultConfig& faults) {
  chaos::NemesisOptions n;
  n.partitions = faults.partitions;
  n.clogging = faults.clogging || faults.swizzle;
  n.crashes = faults.crashes;
  n.pauses = faults.pauses;
  n.clock_steps = faults.clock_steps;
  n.disk_full = faults.disk_full;
  n.disk_errors = !faults.disk.io_error.never() || !faults.disk.read_corruption.never();
  if (!faults.disk.io_error.never()) n.disk_io_error = faults.disk.io_error;
  if (!faults.disk.read_corruption.never()) n.disk_read_corruption = faults.disk.read_corruption;
  n.mean_interval = faults.mean_fault_interval;
  n.max_fault_duration = faults.max_fault_duration;
  n.max_clock_step = faults.max_clock_step;
  faults.disk.io_error = sim::Ratio{0, 1};
  faults.disk.read_corruption = sim::Ratio{0, 1};
  faults.amnesia = false;  // never for voters: see chaos/nemesis.h
  return n;
}

// Raft and KV features switched on per seed (swarm), so every path gets exercised.
struct RaftSwarm {
  kv::ReadPath read_path = kv::ReadPath::kLog;
  bool leases = false;
  uint64_t checkpoint_every_entries = 0;  // 0: never compact
  bool membership = false;                // replace voters by spares during the faults

  std::string Describe() const {
    const char* paths[] = {"log", "read-index", "mixed"};
    return absl::StrCat("reads=", paths[static_cast<int>(read_path)],
                        leases ? " leases" : "", " checkpoint_every=", checkpoint_every_entries,
                        membership ? " membership" : "");
  }
};

RaftSwarm DrawRaftSwarm(Random random) {
  RaftSwarm s;
  s.read_path = static_cast<kv::ReadPath>(random.Uniform(3));
  s.leases = random.OneIn(3);
  if (random.OneIn(2)) s.checkpoint_every_entries = 1 + random.Uniform(200);
  s.membership = random.OneIn(2);
  return s;
}

raft::RaftNodeOptions ServerOptions(NodeId id, const std::vector<NodeId>& servers,
                                    const RaftKvParams& params, const RaftSwarm& swarm) {
  raft::RaftNodeOptions o;
  o.raft.id = id;
  o.raft.group = kGroup;
  o.raft.election_tick = params.election_tick;
  o.raft.heartbeat_tick = 1;
  o.raft.tick_interval = params.tick_interval;
  // Founders bootstrap the group; spares (ids beyond the founders) start empty and join later.
  if (std::find(servers.begin(), servers.end(), id) != servers.end()) {
    o.bootstrap.voters.assign(servers.begin(), servers.end());
  }
  o.proposal_timeout = absl::Seconds(1);
  o.read_timeout = absl::Seconds(1);
  o.raft.lease_based_reads = swarm.leases;
  // Far above the simulator's worst drift (1000 ppm over a lease is < 1 ms).
  o.raft.max_clock_drift = absl::Milliseconds(50);
  o.checkpoint.every_entries = swarm.checkpoint_every_entries;
  return o;
}

std::string HistoryStats(const KvSimLedger& ledger) {
  return absl::StrCat("ops_done=", ledger.done, " indeterminate=", ledger.indeterminate,
                      " errors=", ledger.errors);
}

}  // namespace

sim::ScenarioResult RunRaftKvScenario(const sim::ScenarioOptions& options,
                                      const RaftKvParams& params) {
  Random root(options.seed);
  const int n = options.nodes > 0 ? options.nodes : (root.Fork("size").OneIn(2) ? 3 : 5);
  sim::FaultConfig faults = sim::MakeFaultConfig(options.faults, root.Fork("swarm"));
  sim::ApplyOverrides(options.overrides, faults);
  chaos::NemesisOptions nemesis_options = NemesisFromFaults(faults);
  const RaftSwarm swarm = DrawRaftSwarm(root.Fork("raft"));
  nemesis_options.membership = swarm.membership && options.faults != sim::FaultLevel::kNone;
  sim::SimOptions sim_options;
  sim_options.seed = options.seed;
  sim_options.keep_trace_records = options.keep_trace_records;
  sim_options.trace_json = options.trace_json;
  faults.ApplyTo(sim_options);
  // Declared before the simulator: clients reference the ledger until the simulator is gone.
  KvSimLedger ledger;
  sim::Simulator sim(sim_options);

  std::vector<NodeId> servers;  // the founding voters
  for (int i = 1; i <= n; ++i) servers.push_back(static_cast<NodeId>(i));
  std::vector<NodeId> spares;
  if (nemesis_options.membership) {
    for (int i = 1; i <= params.spares; ++i) spares.push_back(static_cast<NodeId>(n + i));
  }
  std::vector<NodeId> all_nodes = servers;
  all_nodes.insert(all_nodes.end(), spares.begin(), spares.end());
  for (NodeId id : all_nodes) {
    const raft::RaftNodeOptions server_options = ServerOptions(id, servers, params, swarm);
    sim.AddNode(id, [server_options, read_path = swarm.read_path](Env env) {
      return std::make_unique<KvServerProgram>(env, server_options, read_path);
    });
  }
  for (int c = 0; c < params.clients; ++c) {
    KvSimClientOptions client_options;
    client_options.servers = all_nodes;
    client_options.keys = params.keys;
    client_options.final_reads = c == 0;
    client_options.client.attempt_timeout = absl::Milliseconds(500);
    sim.AddNode(kFirstClientId + c, [&sim, &ledger, client_options](Env env) {
      return std::make_unique<KvSimClient>(env, &sim, &ledger, client_options);
    });
  }
  const chaos::NemesisSchedule schedule = chaos::GenerateNemesis(
      nemesis_options, servers, spares, params.safety_duration, root.Fork("nemesis"));
  if (options.log) {
    *options.log << "raft-kv: " << n << " servers, " << params.clients << " clients, "
                 << params.keys << " keys; faults: " << faults.Describe() << "\n"
                 << "raft-kv: raft: " << swarm.Describe() << "\n"
                 << "raft-kv: nemesis: " << nemesis_options.Describe() << "; "
                 << schedule.actions.size() << " actions:\n"
                 << schedule.ToString();
  }
  sim.StartAll();
  ClusterChecker checker(&sim, all_nodes);
  MembershipDriver membership(&sim, &checker, all_nodes);
  chaos::NemesisRunner nemesis(&sim, all_nodes, nemesis_options,
                               [&membership](const chaos::NemesisAction& a) { membership.Submit(a); });
  if (!params.faults_during_bootstrap) {
    // Provisioning: every founding member has persisted its bootstrap state (see the header).
    sim.RunUntil([&] {
      for (NodeId id : servers) {
        if (checker.Replica(id) == nullptr || checker.Replica(id)->node() == nullptr) return false;
      }
      return true;
    }, absl::Seconds(5));
  }
  nemesis.Start(schedule);
  // Runs until `done` or `limit`, checking the invariants after every event; false on timeout
  // or violation.
  auto run_checked = [&](const std::function<bool()>& done, absl::Duration limit) {
    const bool reached = sim.RunUntil([&] { return !checker.AfterEvent() || done(); }, limit);
    return reached && checker.violation().ok();
  };

  // 2. Safety phase.
  sim.Trace(kNoNode, "scenario.phase", "safety");
  run_checked([] { return false; }, params.safety_duration);
  // 3. Heal (the nemesis' faults, and random message loss and long-tail delays: a healed network
  // still reorders and duplicates); liveness.
  nemesis.HealAll();
  membership.Stop();
  sim.network().config().drop = sim::Ratio{0, 1};
  sim.network().config().latency.tail = sim::Ratio{0, 1};
  sim.Trace(kNoNode, "scenario.phase", "liveness");
  ledger.liveness_start_ns = sim.now_ns();
  const int64_t heal_ns = sim.now_ns();
  const bool live = checker.violation().ok() &&
                    run_checked([&] {
                      return ledger.acked_writes_after_heal >=
                             static_cast<uint64_t>(params.liveness_writes);
                    }, params.liveness_bound);
  const absl::Duration liveness_took = absl::Nanoseconds(sim.now_ns() - heal_ns);
  // 4. Drain the clients (with the final reads), then convergence.
  ledger.stop = true;
  const bool drained = checker.violation().ok() &&
                       run_checked([&] { return ledger.busy_clients == 0; }, params.drain_bound);
  uint64_t digest = 0;
  raft::Index applied = 0;
  const bool converged =
      checker.violation().ok() &&
      run_checked([&] { return checker.Converged(membership.Members(), &digest, &applied); },
                  params.convergence_bound);

  // 5. Linearizability.
  const chaos::History history = std::move(ledger.history).Finish();
  if (params.history_out) *params.history_out << chaos::HistoryToJsonLines(history);
  absl::StatusOr<chaos::LinearizabilityResult> lin = chaos::CheckLinearizability(history);

  sim::ScenarioResult result;
  std::string failure;
  if (!checker.violation().ok()) {
    failure = absl::StrCat("RAFT INVARIANT: ", checker.violation().message());
  } else if (!ledger.violations.empty()) {
    failure = absl::StrCat("PROTOCOL: ", ledger.violations.front());
  } else if (!lin.ok()) {
    failure = absl::StrCat("HISTORY malformed: ", lin.status().message());
  } else if (lin->verdict == chaos::Verdict::kNotLinearizable) {
    failure = absl::StrCat("NOT LINEARIZABLE: ", chaos::LinearizabilitySummary(*lin));
  } else if (!live) {
    failure = absl::StrCat("LIVENESS: fewer than ", params.liveness_writes,
                           " writes acknowledged within ",
                           absl::FormatDuration(params.liveness_bound), " after healing (",
                           ledger.acked_writes_after_heal, "); ", checker.Describe());
  } else if (!drained) {
    failure = absl::StrCat("LIVENESS: clients still busy ",
                           absl::FormatDuration(params.drain_bound), " after stopping");
  } else if (!converged) {
    failure = absl::StrCat("CONVERGENCE: replicas differ ",
                           absl::FormatDuration(params.convergence_bound),
                           " after the clients stopped: ", checker.Describe());
  }
  result.pass = failure.empty();
  result.message =
      result.pass ? absl::StrCat("n=", n, " ", HistoryStats(ledger), " lin=",
                                 chaos::VerdictName(lin->verdict), " applied=", applied,
                                 " invariant_checks=", checker.checks(), " liveness_ms=",
                                 absl::ToInt64Milliseconds(liveness_took))
                  : failure;
  if (options.log) {
    if (lin.ok()) *options.log << "raft-kv: " << chaos::LinearizabilitySummary(*lin) << "\n";
    if (lin.ok() && lin->verdict == chaos::Verdict::kNotLinearizable) {
      *options.log << chaos::ExplainViolation(history, *lin);
    }
    *options.log << "raft-kv: nemesis applied=" << nemesis.applied()
                 << " skipped=" << nemesis.skipped() << "; membership changes applied="
                 << membership.applied() << " given up=" << membership.given_up() << "; " << HistoryStats(ledger)
                 << "; invariant checks=" << checker.checks() << "; final: " << checker.Describe()
                 << "\nraft-kv: " << (result.pass ? "PASS: " : "FAIL: ") << result.message
                 << "\n";
  }
  sim.Trace(kNoNode, "scenario.result", result.message);
  sim::FinishResult(sim, result);
  return result;
}

void RegisterRaftKvScenario(sim::ScenarioRegistry& registry, std::ostream* history_out) {
  const absl::Status registered = registry.Register(
      "raft-kv",
      "3 or 5 Raft KV replicas under the full fault model; Raft invariants after every event, "
      "linearizable history, convergence, liveness after healing",
      [history_out](const sim::ScenarioOptions& options) {
        RaftKvParams params;
        params.history_out = history_out;
        return RunRaftKvScenario(options, params);
      });
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::kvsim
