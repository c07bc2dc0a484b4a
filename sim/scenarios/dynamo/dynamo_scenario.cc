#include "sim/scenarios/dynamo/dynamo_scenario.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chaos/nemesis.h"
#include "chaos/nemesis_runner.h"
#include "sim/fault_config.h"
#include "sim/partitions.h"
#include "sim/scenarios/dynamo/dynamo_checker.h"
#include "sim/scenarios/dynamo/dynamo_client.h"
#include "sim/scenarios/dynamo/dynamo_cluster.h"

namespace crema::dynamo {
namespace {

constexpr NodeId kFirstClientId = 101;
constexpr NodeId kFinalReader = 100;  // client id recorded for the final reads


struct Swarm {
  eventual::Consistency read, write;
  bool sloppy = false;
  uint32_t shards = 64;
  int tree_depth = 2;
  int keys = 12;
  absl::Duration hint_window = absl::Seconds(30);
  int read_repair_one_in = 10;
  bool membership_change = false;

  std::string Describe() const {
    return absl::StrCat("W=", write.ToString(), " R=", read.ToString(), sloppy ? " sloppy" : " strict",
                        " shards=", shards, " depth=", tree_depth, " keys=", keys,
                        " hint_window=", absl::FormatDuration(hint_window), " read_repair=1/",
                        read_repair_one_in, membership_change ? " join+leave" : "");
  }
};

Swarm DrawSwarm(Random random, const DynamoParams& params) {
  Swarm s;
  const uint64_t pair = random.Uniform(4);
  switch (params.consistency_pair.value_or(static_cast<int>(pair))) {
    case 0: s.write = eventual::Consistency::Quorum(); s.read = eventual::Consistency::Quorum(); break;
    case 1: s.write = eventual::Consistency::One(); s.read = eventual::Consistency::All(); break;
    case 2: s.write = eventual::Consistency::All(); s.read = eventual::Consistency::One(); break;
    default: s.write = eventual::Consistency::Count(2); s.read = eventual::Consistency::Count(2); break;
  }
  s.sloppy = params.sloppy.value_or(random.OneIn(3));
  s.write.sloppy = s.read.sloppy = s.sloppy;
  s.shards = params.shards.value_or(random.OneIn(2) ? 16 : 64);
  s.tree_depth = params.tree_depth.value_or(random.OneIn(2) ? 1 : 2);
  s.keys = params.keys.value_or(8 + static_cast<int>(random.Uniform(25)));
  s.hint_window = random.OneIn(3) ? absl::Seconds(3) : absl::Seconds(30);
  s.read_repair_one_in = 2 + static_cast<int>(random.Uniform(9));
  s.membership_change = params.membership_change.value_or(random.OneIn(3));
  return s;
}

int WriteCount(const eventual::Consistency& c, int n) {
  absl::StatusOr<int> w = eventual::RequiredAnswers(c, n);
  assert(w.ok());
  return *w;
}

}  // namespace

sim::ScenarioResult RunDynamoScenario(const sim::ScenarioOptions& options,
                                      const DynamoParams& params, DynamoRunStats* stats) {
  Random root(options.seed);
  const int n = options.nodes > 0 ? std::max(3, options.nodes)
                                  : 3 + static_cast<int>(root.Fork("size").Uniform(4));
  sim::FaultConfig faults = sim::MakeFaultConfig(options.faults, root.Fork("swarm"));
  sim::ApplyOverrides(options.overrides, faults);
  // Amnesia stays on: the scenario applies it itself, within the durability budget.
  chaos::NemesisOptions nemesis_options = chaos::NemesisFromFaults(faults);
  const Swarm swarm = DrawSwarm(root.Fork("dynamo"), params);
  const int replication = 3;
  const int w = WriteCount(swarm.write, replication);
  // Replicas a key may lose for good without losing an acknowledged write (dynamo_checker.h).
  const int amnesia_budget = faults.amnesia ? std::min(replication - w, w - 1) : 0;

  std::vector<NodeId> servers;
  for (int i = 1; i <= n; ++i) servers.push_back(static_cast<NodeId>(i));
  const NodeId spare = static_cast<NodeId>(n + 1);
  const chaos::NemesisSchedule schedule =
      chaos::GenerateNemesis(nemesis_options, servers, {}, params.safety_duration, root.Fork("nemesis"));
  // How far each node's wall clock may run ahead of virtual time (hint expiry check).
  absl::btree_map<NodeId, absl::Duration> clock_slack;
  const absl::Duration run_length = params.safety_duration + params.liveness_bound +
                                    params.drain_bound + params.convergence_base * 3;
  for (NodeId id : servers) {
    clock_slack[id] = absl::Milliseconds(100) +
                      run_length * (static_cast<double>(faults.clock.max_drift_ppm) / 1e6);
  }
  for (const chaos::NemesisAction& a : schedule.actions) {
    if (a.kind == chaos::NemesisKind::kClockStep && a.delta > absl::ZeroDuration()) clock_slack[a.node] += a.delta;
  }
  DynamoChecker checker(swarm.hint_window, clock_slack);
  DynamoLedger ledger;

  DynamoClusterOptions cluster_options;
  cluster_options.sim.seed = options.seed;
  cluster_options.sim.keep_trace_records = options.keep_trace_records;
  cluster_options.sim.trace_json = options.trace_json;
  faults.ApplyTo(cluster_options.sim);
  cluster_options.servers = n;
  if (swarm.membership_change) cluster_options.spares = {spare};
  eventual::EventualConfig& ev = cluster_options.eventual;
  ev.store.num_shards = swarm.shards;
  ev.store.tree_depth = swarm.tree_depth;
  ev.hints.window = swarm.hint_window;
  ev.read_repair_one_in = swarm.read_repair_one_in;
  ev.bugs = params.bugs;
  if (params.anti_entropy_interval) ev.anti_entropy_interval = *params.anti_entropy_interval;
  cluster_options.observer = &checker;
  DynamoCluster cluster(cluster_options);
  checker.set_cluster(&cluster);
  sim::Simulator& sim = cluster.sim();

  std::vector<NodeId> client_targets = servers;
  if (swarm.membership_change) client_targets.push_back(spare);
  for (int c = 0; c < params.clients; ++c) {
    DynamoClientOptions client_options;
    client_options.servers = client_targets;
    client_options.keys = swarm.keys;
    client_options.read = swarm.read;
    client_options.write = swarm.write;
    const NodeId id = kFirstClientId + c;
    sim.AddNode(id, [&sim, &ledger, client_options](Env env) {
      return std::make_unique<DynamoClient>(env, &sim, &ledger, client_options);
    });
    sim.Start(id);
  }
  std::ostream* log = options.log;
  if (log) {
    *log << "dynamo: " << n << " servers, " << params.clients << " clients; " << swarm.Describe()
         << "\ndynamo: faults: " << faults.Describe() << "\ndynamo: nemesis: "
         << nemesis_options.Describe() << "; " << schedule.actions.size() << " actions; amnesia budget "
         << amnesia_budget << "\n" << schedule.ToString();
  }
  chaos::NemesisRunner nemesis(&sim, servers, nemesis_options);
  nemesis.Start(schedule);
  // Disks wiped for good, within the budget.
  int amnesia_done = 0;
  Random amnesia_random = root.Fork("amnesia");
  for (int k = 0; k < amnesia_budget; ++k) {
    const NodeId victim = servers[amnesia_random.Uniform(servers.size())];
    const absl::Duration at = amnesia_random.DurationBetween(absl::Seconds(1), params.safety_duration - absl::Seconds(2));
    const absl::Duration down = amnesia_random.DurationBetween(absl::Milliseconds(100), absl::Seconds(2));
    sim.After(at, "dynamo.amnesia", [&, victim, down] {
      if (sim.state(victim) != sim::NodeState::kUp) return;
      ++amnesia_done;
      checker.DiskWiped(victim);
      sim.Amnesia(victim);
      sim.After(down, "dynamo.amnesia_restart", [&sim, victim] {
        if (sim.state(victim) == sim::NodeState::kDown) sim.Restart(victim);
      });
    });
  }

  std::vector<NodeId> client_ids;
  for (int c = 0; c < params.clients; ++c) client_ids.push_back(kFirstClientId + c);
  const absl::Duration convergence_bound =
      params.convergence_base + cluster_options.eventual.anti_entropy_interval * (n + 2);
  auto drain = [&] {
    ledger.stop = true;
    const bool drained = cluster.RunUntil([&] { return ledger.busy_clients == 0; }, params.drain_bound);
    sim.RunFor(cluster_options.eventual.request_timeout * 2);  // coordinators' requests end
    return drained;
  };
  std::string difference;
  auto converge = [&] {
    return cluster.RunUntil([&] {
      if (!cluster.MembershipAgrees() || !cluster.AllTrusted() || !cluster.Converged(&difference)) return false;
      for (NodeId id : cluster.UpNodes()) {
        if (cluster.node(id)->hints().size() > 0) {
          difference = absl::StrCat("node ", id, " still holds ", cluster.node(id)->hints().size(), " hints");
          return false;
        }
      }
      return true;
    }, convergence_bound);
  };

  // 2. Safety phase; with partitions on, it ends with one more partition that stays until the
  // heal, so the replicas diverge and anti-entropy has real work afterwards.
  sim.Trace(kNoNode, "scenario.phase", "safety");
  sim.RunFor(params.safety_duration);
  if (nemesis_options.partitions) {
    Random shape = root.Fork("final-partition");
    sim::Partition p = sim::RandomPartition(servers, shape);
    sim.network().SetPartition(p.blocked, absl::StrCat("final ", p.kind));
    sim.RunFor(params.final_partition);
  }
  // 3. Drain under faults, snapshot the divergence, heal, converge.
  bool drained = drain();
  // Messages held on clogged links or by paused nodes are writes in flight: deliver them before
  // the snapshot (partitions and crashes stay until the heal).
  sim.network().UnclogAll();
  for (NodeId id : servers) {
    if (sim.state(id) == sim::NodeState::kPaused) sim.Resume(id);
  }
  sim.RunFor(cluster_options.eventual.request_timeout);
  checker.SnapshotDivergence();
  nemesis.HealAll();
  sim.network().config().drop = sim::Ratio{0, 1};
  sim.network().config().latency.tail = sim::Ratio{0, 1};
  for (NodeId id : servers) {
    if (sim.state(id) == sim::NodeState::kDown) sim.Restart(id);
  }
  sim.Trace(kNoNode, "scenario.phase", "heal");
  const int64_t converge_start = sim.now_ns();
  const bool converged_after_faults = converge();
  const absl::Duration convergence_time = absl::Nanoseconds(sim.now_ns() - converge_start);
  const std::string difference_after_faults = difference;
  checker.StopCheckingTransfers();
  // 4. Liveness, with a join and a decommission in some seeds; then converge again.
  sim.Trace(kNoNode, "scenario.phase", "liveness");
  ledger.stop = false;
  ledger.acked_writes_since_mark = 0;
  for (NodeId id : client_ids) static_cast<DynamoClient*>(sim.program(id))->Resume();
  NodeId leaver = kNoNode;
  absl::Status decommissioned = absl::UnknownError("not started");
  if (swarm.membership_change) {
    sim.Start(spare);
    leaver = servers[root.Fork("leaver").Uniform(servers.size())];
    sim.After(absl::Seconds(2), "dynamo.decommission", [&] {
      DynamoServer* s = cluster.server(leaver);
      if (s == nullptr) return;
      s->env.executor->Spawn("decommission", [&decommissioned, node = s->node.get()] {
        decommissioned = node->Decommission(absl::Seconds(20));
      });
    });
  }
  const int64_t liveness_start = sim.now_ns();
  const bool live = cluster.RunUntil([&] {
    return ledger.acked_writes_since_mark >= static_cast<uint64_t>(params.liveness_writes);
  }, params.liveness_bound);
  const int64_t heal_ns = liveness_start;
  if (swarm.membership_change) {
    cluster.RunUntil([&] { return decommissioned.code() != absl::StatusCode::kUnknown; }, absl::Seconds(30));
    if (cluster.node(leaver) != nullptr) cluster.node(leaver)->Stop();
    sim.Crash(leaver);
  }
  drained = drain() && drained;
  const bool converged = converge();
  const bool converged_both = converged_after_faults && converged;
  if (!converged_after_faults) difference = difference_after_faults;
  // 5. Final reads of every key, through random servers.
  Random reader = root.Fork("final-reads");
  if (converged_both) {
    const std::vector<NodeId> up = cluster.UpNodes();
    for (int k = 0; k < swarm.keys; ++k) {
      DynamoOp op;
      op.client = kFinalReader;
      op.seq = static_cast<uint64_t>(k + 1);
      op.key = KeyName(k);
      op.invoke_ns = sim.now_ns();
      absl::StatusOr<eventual::ReadResult> r = cluster.Get(up[reader.Uniform(up.size())], op.key, {swarm.read});
      op.complete_ns = sim.now_ns();
      op.outcome = r.ok() ? OpOutcome::kOk : OpOutcome::kUnknown;
      if (r.ok()) {
        op.found = r->found;
        op.value = r->value;
        op.version = r->version;
      }
      ledger.ops.push_back(std::move(op));
    }
  }
  std::vector<std::string> failures;
  auto check = [&failures](std::string failure) {
    if (!failure.empty()) failures.push_back(std::move(failure));
  };
  check(checker.violation());
  // Sloppy quorums give up the read guarantee while failures last: check the reads invoked once
  // the healed cluster had converged.
  check(checker.CheckReads(ledger, swarm.sloppy ? liveness_start : 0));
  if (!live) {
    check(absl::StrCat("LIVENESS: ", ledger.acked_writes_since_mark, " of ", params.liveness_writes,
                       " writes acknowledged within ", absl::FormatDuration(params.liveness_bound),
                       " after the heal"));
  }
  if (!drained) check("LIVENESS: clients still busy after stopping");
  if (!converged_both) {
    check(absl::StrCat("CONVERGENCE: not converged ", absl::FormatDuration(convergence_bound),
                       converged_after_faults ? " after the liveness phase: " : " after the heal: ",
                       difference));
  }
  check(checker.CheckDurability(ledger));
  if (checker.violation().empty()) check(checker.CheckHintsSettled());
  for (const DynamoOp& op : ledger.ops) {
    if (op.client == kFinalReader && op.outcome != OpOutcome::kOk) {
      check(absl::StrCat("LIVENESS: final read of ", op.key, " failed after convergence"));
      break;
    }
  }
  if (swarm.membership_change && !decommissioned.ok()) {
    check(absl::StrCat("LIVENESS: decommission of node ", leaver, ": ", decommissioned.ToString()));
  }
  const std::string failure = failures.empty() ? std::string() : failures.front();
  sim::ScenarioResult result;
  result.pass = failure.empty();
  result.message = result.pass
                       ? absl::StrCat("n=", n, " acked_writes=", ledger.acked_writes, " reads=", ledger.ok_reads,
                                      " converged_ms=", absl::ToInt64Milliseconds(convergence_time),
                                      " divergent=", checker.divergent_keys(), " ae_keys=",
                                      checker.exchange_keys(), " hints=", checker.hints_stored(),
                                      " amnesia=", amnesia_done)
                       : failure;
  if (stats != nullptr) {
    stats->servers = n;
    stats->acked_writes = ledger.acked_writes;
    stats->ok_reads = ledger.ok_reads;
    stats->convergence_time = convergence_time;
    stats->divergent_keys = checker.divergent_keys();
    stats->transfers_checked = checker.transfers_checked();
    stats->exchange_bytes = checker.exchange_bytes();
    stats->exchange_keys = checker.exchange_keys();
    stats->hints_stored = checker.hints_stored();
    stats->amnesia = amnesia_done;
    stats->failures = failures;
  }
  if (log) {
    absl::btree_map<std::string, int> errors;
    for (const DynamoOp& op : ledger.ops) {
      if (op.outcome != OpOutcome::kOk) ++errors[op.error.substr(0, 40)];
    }
    for (const auto& [error, count] : errors) *log << "dynamo: " << count << " x " << error << "\n";
    *log << "dynamo: nemesis applied=" << nemesis.applied() << " skipped=" << nemesis.skipped()
         << "; liveness_ms=" << (sim.now_ns() - heal_ns) / 1000000 << "; ops=" << ledger.ops.size()
         << "\ndynamo: " << (result.pass ? "PASS: " : "FAIL: ") << result.message << "\n";
  }
  if (params.history_out != nullptr) WriteHistoryJson(ledger, *params.history_out);
  sim.Trace(kNoNode, "scenario.result", result.message);
  sim::FinishResult(sim, result);
  return result;
}

void RegisterDynamoScenario(sim::ScenarioRegistry& registry, std::ostream* history_out) {
  const absl::Status registered = registry.Register(
      "dynamo",
      "eventual-mode keyspaces (N=3, R+W>N, strict or sloppy) on 3-6 servers under the full fault "
      "model; reads see the latest acknowledged write, replicas converge, no acknowledged write "
      "lost, every hint ends, anti-entropy moves only divergent keys",
      [history_out](const sim::ScenarioOptions& options) {
        DynamoParams params;
        params.history_out = history_out;
        return RunDynamoScenario(options, params);
      });
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::dynamo
