#include "sim/scenarios/raftkv/raft_kv_scenario.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chaos/history_json.h"
#include "chaos/linearizability.h"
#include "chaos/nemesis.h"
#include "chaos/nemesis_json.h"
#include "chaos/nemesis_runner.h"
#include "sim/scenarios/raftkv/cluster_checker.h"
#include "sim/scenarios/raftkv/kv_sim_client.h"
#include "sim/scenarios/raftkv/membership_driver.h"
#include "sim/fault_config.h"
#include "sim/fault_inputs.h"

namespace crema::kvsim {
namespace {

constexpr NodeId kFirstClientId = 101;
constexpr raft::GroupId kGroup = 1;
// Bounds on schedule-file inputs (sim/schedule.h).
constexpr int kMaxServers = 9;
constexpr int kMaxClients = 64;
constexpr int kMaxKeys = 10'000;
constexpr absl::Duration kMaxSafety = absl::Hours(24);
// Extra convergence bounds granted while a lagging replica is still catching up (see step 4).
constexpr int kCatchUpBounds = 3;


// Simulated clock drift bound for seeds that test leases near their bound: with the lease's
// margin of 50 ms (ServerOptions) over a lease of 9 ticks of 50 ms, a leader slow by p and a
// follower fast by p stay safe while 450 ms * 2p / (1 + p) <= 50 ms, i.e. p <= 5.88%.
constexpr int64_t kLeaseDriftPpm = 55'000;

// Raft and KV features switched on per seed (swarm), so every path gets exercised — including
// Raft's own configuration (pre-vote, check-quorum, batch and pipeline sizes), heavy contention,
// and clock drift close to what the leases' margin allows (issue 11, mutation testing: without
// these, classic bugs in the commit rule, log matching and leases were never reached).
struct RaftSwarm {
  kv::ReadPath read_path = kv::ReadPath::kLog;
  bool leases = false;
  uint64_t checkpoint_every_entries = 0;  // 0: never compact
  bool membership = false;                // replace voters by spares during the faults
  bool no_pre_vote = false;
  bool no_check_quorum = false;
  uint64_t max_entries_per_msg = 0;  // 0: Raft's default
  uint64_t max_inflight_msgs = 0;    // 0: Raft's default
  bool contention = false;           // many clients on very few keys
  bool leader_partitions = false;    // half the partitions cut off the leader's minority
  int64_t lease_drift_ppm = 0;       // > 0: every node's clock drifts up to this
  // Clients 1..n each read through one founding voter only, never following leader hints
  // elsewhere: a deposed leader cut off from its peers keeps being asked for reads all through
  // its isolation (whatever it answers from a lease or a ReadIndex is checked against the writes
  // the new leader acknowledged meanwhile), and followers keep forwarding them. Readers only: a
  // write through an isolated leader would hold the client until its call times out.
  bool pinned_clients = false;

  std::string Describe() const {
    const char* paths[] = {"log", "read-index", "mixed"};
    return absl::StrCat("reads=", paths[static_cast<int>(read_path)],
                        leases ? " leases" : "", " checkpoint_every=", checkpoint_every_entries,
                        membership ? " membership" : "", no_pre_vote ? " no-pre-vote" : "",
                        no_check_quorum ? " no-check-quorum" : "",
                        max_entries_per_msg ? absl::StrCat(" batch=", max_entries_per_msg) : "",
                        max_inflight_msgs ? absl::StrCat(" inflight=", max_inflight_msgs) : "",
                        contention ? " contention" : "",
                        leader_partitions ? " leader-partitions" : "",
                        lease_drift_ppm ? absl::StrCat(" drift_ppm=", lease_drift_ppm) : "",
                        pinned_clients ? " pinned-clients" : "");
  }
};

RaftSwarm DrawRaftSwarm(Random random) {
  RaftSwarm s;
  s.read_path = static_cast<kv::ReadPath>(random.Uniform(3));
  s.leases = random.OneIn(3);
  if (random.OneIn(2)) s.checkpoint_every_entries = 1 + random.Uniform(200);
  s.membership = random.OneIn(2);
  // Drawn after the fields above, so those keep their values per seed.
  s.no_pre_vote = random.OneIn(3);
  s.no_check_quorum = !s.leases && random.OneIn(3);  // leases need check-quorum
  if (random.OneIn(3)) s.max_entries_per_msg = 1 + random.Uniform(4);
  if (random.OneIn(3)) s.max_inflight_msgs = 1 + random.Uniform(3);
  s.contention = random.OneIn(3);
  if (s.leases && random.OneIn(2)) s.lease_drift_ppm = kLeaseDriftPpm;
  s.leader_partitions = random.OneIn(2);
  s.pinned_clients = random.Fork("pinned-clients").OneIn(2);  // its own stream: the rest stay
  return s;
}

// The swarm as schedule params (sim/schedule.h): replayed from a schedule file, shrunk towards
// log reads, no leases, no compaction, no membership changes.
void InputRaftSwarm(sim::RunInputs& in, RaftSwarm& s) {
  s.read_path = static_cast<kv::ReadPath>(
      std::clamp<int64_t>(in.Int("raft.read_path", static_cast<int64_t>(s.read_path), 0), 0, 2));
  s.leases = in.Flag("raft.leases", s.leases);
  s.checkpoint_every_entries = static_cast<uint64_t>(std::max<int64_t>(
      0, in.Int("raft.checkpoint_every", static_cast<int64_t>(s.checkpoint_every_entries), 0)));
  s.membership = in.Flag("raft.membership", s.membership);
  s.no_pre_vote = in.Flag("raft.no_pre_vote", s.no_pre_vote);
  s.no_check_quorum = in.Flag("raft.no_check_quorum", s.no_check_quorum);
  s.max_entries_per_msg = static_cast<uint64_t>(std::clamp<int64_t>(
      in.Int("raft.max_entries_per_msg", static_cast<int64_t>(s.max_entries_per_msg), 0), 0,
      raft::kMaxEntriesPerMessage));
  s.max_inflight_msgs = static_cast<uint64_t>(std::clamp<int64_t>(
      in.Int("raft.max_inflight_msgs", static_cast<int64_t>(s.max_inflight_msgs), 0), 0, 1024));
  s.contention = in.Flag("raft.contention", s.contention);
  s.leader_partitions = in.Flag("raft.leader_partitions", s.leader_partitions);
  s.lease_drift_ppm = std::clamp<int64_t>(in.Int("raft.lease_drift_ppm", s.lease_drift_ppm, 0), 0,
                                          kLeaseDriftPpm);
  s.pinned_clients = in.Flag("raft.pinned_clients", s.pinned_clients);
}

// The failure's signature for //tools:farm (sim/scenario.h), from the message's prefix.
void SignFailure(sim::ScenarioResult& r) {
  const std::string_view m = r.message;
  auto starts = [m](std::string_view prefix) { return m.substr(0, prefix.size()) == prefix; };
  if (starts("RAFT INVARIANT: ")) {
    r.oracle = "raft-invariant";
    const std::string_view rest = m.substr(16);
    r.property = std::string(rest.substr(0, rest.find(':')));
    r.where = "after an event";
  } else if (starts("NOT LINEARIZABLE")) {
    r.oracle = "linearizability";
    r.property = "history not linearizable";
    r.where = "history";
  } else if (starts("LIVENESS: fewer")) {
    r.oracle = "liveness";
    r.property = "writes acknowledged after healing";
    r.where = "liveness";
  } else if (starts("LIVENESS: clients")) {
    r.oracle = "liveness";
    r.property = "clients finish after stopping";
    r.where = "drain";
  } else if (starts("CONVERGENCE")) {
    r.oracle = "convergence";
    r.property = "replicas identical after the clients stopped";
    r.where = "convergence";
  }
}

// Oracles exercised and sometimes-properties (sim/coverage.h).
void AddRaftKvCoverage(sim::Coverage& c, const ClusterChecker& checker, const KvSimLedger& ledger,
                       uint64_t checked_ops, uint64_t membership_applied) {
  c.Oracle("raft_invariants", checker.checks());
  c.Oracle("linearizability", checked_ops);
  c.Oracle("liveness_after_heal", 1);
  c.Oracle("convergence", 1);
  c.Add("stat.ops_done", ledger.done);
  c.Add("stat.ops_indeterminate", ledger.indeterminate);
  c.Sometimes("leader_changed_during_partition", checker.leader_changes_in_partition() > 0);
  c.Sometimes("snapshot_installed_on_follower", c.Get("app.raft.snapshot_installed") > 0);
  c.Sometimes("linearizable_read_refused", c.Get("app.kv.read_refused") > 0);
  c.Sometimes("membership_change_applied", membership_applied > 0);
  c.Sometimes("client_op_indeterminate", ledger.indeterminate > 0);
  c.Sometimes("storage_reopened_after_error", c.Get("app.raft.reopened") > 0);
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
  o.raft.pre_vote = !swarm.no_pre_vote;
  o.raft.check_quorum = !swarm.no_check_quorum;
  if (swarm.max_entries_per_msg > 0) o.raft.max_entries_per_msg = swarm.max_entries_per_msg;
  if (swarm.max_inflight_msgs > 0) o.raft.max_inflight_msgs = swarm.max_inflight_msgs;
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
  Random root = sim::ScenarioRoot(options);
  sim::RunInputs in(options.schedule);  // sim/schedule.h: every drawn input, replayable
  const int n = static_cast<int>(std::clamp<int64_t>(
      in.Int("nodes", options.nodes > 0 ? options.nodes : (root.Fork("size").OneIn(2) ? 3 : 5), 3),
      1, kMaxServers));
  RaftSwarm swarm = DrawRaftSwarm(root.Fork("raft"));
  InputRaftSwarm(in, swarm);
  RaftKvParams p = params;  // the workload shape, as schedule params
  if (swarm.contention) {
    p.clients = std::max(p.clients, 12);
    p.keys = std::min(p.keys, 3);
  }
  p.clients = static_cast<int>(std::clamp<int64_t>(in.Int("clients", p.clients, 1), 1, kMaxClients));
  p.keys = static_cast<int>(std::clamp<int64_t>(in.Int("keys", p.keys, 1), 1, kMaxKeys));
  p.safety_duration = std::clamp(in.Duration("safety", p.safety_duration, absl::Seconds(1)),
                                 absl::ZeroDuration(), kMaxSafety);
  // A third of the default-level seeds run heavy faults (every family on, higher rates), on 3 as
  // on 5 nodes: several classic bugs are reached only there (issue 11, mutation testing).
  const bool heavy = options.faults == sim::FaultLevel::kDefault &&
                     in.Flag("faults.heavy", root.Fork("level").OneIn(3));
  sim::FaultConfig faults =
      sim::MakeFaultConfig(heavy ? sim::FaultLevel::kHeavy : options.faults, root.Fork("swarm"));
  sim::ApplyOverrides(options.overrides, faults);
  chaos::NemesisOptions nemesis_options = chaos::NemesisFromFaults(faults);
  faults.amnesia = false;  // never for voters: see chaos/nemesis.h
  // Persist-before-send windows on purpose, not by a crash landing there by chance (nemesis.h).
  nemesis_options.crash_at_send =
      nemesis_options.crashes && in.Flag("nemesis.crash_at_send", chaos::DrawCrashAtSend(root));
  nemesis_options.disk_io_error = in.Rate("nemesis.disk_io_error", nemesis_options.disk_io_error);
  nemesis_options.disk_read_corruption =
      in.Rate("nemesis.disk_read_corruption", nemesis_options.disk_read_corruption);
  const bool clock_faults_off =
      options.overrides.clock_faults.has_value() && !*options.overrides.clock_faults;
  if (swarm.lease_drift_ppm > 0 && options.faults != sim::FaultLevel::kNone && !clock_faults_off) {
    faults.clock.max_drift_ppm = swarm.lease_drift_ppm;
  }
  sim::InputFaultConfig(in, faults);
  nemesis_options.membership = swarm.membership && options.faults != sim::FaultLevel::kNone;
  nemesis_options.leader_partitions = swarm.leader_partitions;
  sim::SimOptions sim_options = sim::BaseSimOptions(options);
  faults.ApplyTo(sim_options);
  // Declared before the simulator: clients reference the ledger until the simulator is gone.
  KvSimLedger ledger;
  sim::Simulator sim(sim_options);

  std::vector<NodeId> servers;  // the founding voters
  for (int i = 1; i <= n; ++i) servers.push_back(static_cast<NodeId>(i));
  std::vector<NodeId> spares;
  if (nemesis_options.membership) {
    for (int i = 1; i <= p.spares; ++i) spares.push_back(static_cast<NodeId>(n + i));
  }
  std::vector<NodeId> all_nodes = servers;
  all_nodes.insert(all_nodes.end(), spares.begin(), spares.end());
  for (NodeId id : all_nodes) {
    const raft::RaftNodeOptions server_options = ServerOptions(id, servers, params, swarm);
    const bool planted = options.planted_bug == kRaftKvPlantedLeaderLocalReads;
    sim.AddNode(id, [server_options, read_path = swarm.read_path, planted](Env env) {
      return std::make_unique<KvServerProgram>(env, server_options, read_path, planted);
    });
  }
  for (int c = 0; c < p.clients; ++c) {
    KvSimClientOptions client_options;
    client_options.servers = all_nodes;
    if (swarm.pinned_clients && c >= 1 && c <= n) {
      client_options.servers = {servers[c - 1]};
      client_options.reads_only = true;
    }
    client_options.keys = p.keys;
    client_options.final_reads = c == 0;
    client_options.client.attempt_timeout = absl::Milliseconds(500);
    sim.AddNode(kFirstClientId + c, [&sim, &ledger, client_options](Env env) {
      return std::make_unique<KvSimClient>(env, &sim, &ledger, client_options);
    });
  }
  absl::StatusOr<chaos::NemesisSchedule> replayed =
      chaos::NemesisFromJson(in.List("nemesis", chaos::NemesisToJson(chaos::GenerateNemesis(
                                                    nemesis_options, servers, spares,
                                                    p.safety_duration, root.Fork("nemesis")))));
  if (!replayed.ok()) {
    sim::ScenarioResult bad;
    sim::SetFailure(bad, "usage", "bad schedule", "setup", std::string(replayed.status().message()));
    sim::FinishResult(sim, bad);
    return bad;
  }
  const chaos::NemesisSchedule& schedule = *replayed;
  if (options.log) {
    *options.log << "raft-kv: " << n << " servers, " << p.clients << " clients, "
                 << p.keys << " keys; faults: " << faults.Describe() << "\n"
                 << "raft-kv: raft: " << swarm.Describe() << "\n"
                 << "raft-kv: nemesis: " << nemesis_options.Describe() << "; "
                 << schedule.actions.size() << " actions:\n"
                 << schedule.ToString();
  }
  sim.StartAll();
  ClusterChecker checker(&sim, all_nodes);
  if (!nemesis_options.membership) {
    checker.SetFixedVoters(std::vector<raft::ReplicaId>(servers.begin(), servers.end()));
  }
  MembershipDriver membership(&sim, &checker, all_nodes);
  chaos::NemesisRunner nemesis(&sim, all_nodes, nemesis_options,
                               [&](const chaos::NemesisAction& a) {
                                 if (sim.HasNode(a.node)) membership.Submit(a);  // shrunk lists
                               });
  nemesis.SetCheckHook([&](NodeId id) -> std::optional<absl::Duration> {
    kv::KvReplica* r = checker.Replica(id);
    if (r == nullptr || r->node() == nullptr) return std::nullopt;
    const raft::Raft& core = r->node()->core();
    if (core.role() != raft::Role::kLeader) return std::nullopt;
    return core.config().tick_interval * (core.config().election_tick - core.election_elapsed());
  });
  nemesis.SetLeaderHook([&]() {  // the leader of the highest term among running replicas
    NodeId leader = kNoNode;
    raft::Term term = 0;
    for (NodeId id : all_nodes) {
      kv::KvReplica* r = checker.Replica(id);
      if (r == nullptr || r->node() == nullptr) continue;
      const raft::Raft& core = r->node()->core();
      if (core.role() == raft::Role::kLeader && core.term() >= term) {
        leader = id;
        term = core.term();
      }
    }
    return leader;
  });
  if (!p.faults_during_bootstrap) {
    // Provisioning: every founding member has persisted its bootstrap state (see the header).
    sim.RunUntil([&] {
      for (NodeId id : servers) {
        if (checker.Replica(id) == nullptr || checker.Replica(id)->node() == nullptr) return false;
      }
      return true;
    }, absl::Seconds(5));
  }
  nemesis.Start(schedule);
  bool violation_traced = false;
  // Runs until `done` or `limit`, checking the invariants after every event; false on timeout
  // or violation.
  auto run_checked = [&](const std::function<bool()>& done, absl::Duration limit) {
    const bool reached = sim.RunUntil([&] { return !checker.AfterEvent() || done(); }, limit);
    if (!checker.violation().ok() && !violation_traced) {
      sim.Trace(kNoNode, "scenario.violation", std::string(checker.violation().message()));  // the viewer
      violation_traced = true;
    }
    return reached && checker.violation().ok();
  };

  // 2. Safety phase.
  sim.Trace(kNoNode, "scenario.phase", "safety");
  run_checked([] { return false; }, p.safety_duration);
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
                             static_cast<uint64_t>(p.liveness_writes);
                    }, p.liveness_bound);
  const absl::Duration liveness_took = absl::Nanoseconds(sim.now_ns() - heal_ns);
  // 4. Drain the clients (with the final reads), then convergence.
  ledger.stop = true;
  const bool drained = checker.violation().ok() &&
                       run_checked([&] { return ledger.busy_clients == 0; }, p.drain_bound);
  uint64_t digest = 0;
  raft::Index applied = 0;
  auto converged_now = [&] { return checker.Converged(membership.Members(), &digest, &applied); };
  bool converged = checker.violation().ok() && run_checked(converged_now, p.convergence_bound);
  // Slow is not stuck: with the swarm's starved replication (one entry per append, one or two
  // appends in flight) a replica that fell ~1,000 entries behind catches up at ~100 entries a
  // second and may need more than the bound (raft-kv seed 16172838589924015974). While the
  // members' applied indices keep growing, give it another bound, up to kCatchUpBounds in all; a
  // bound without progress (stuck, or replicas that differ) fails as before.
  int catch_up_bounds = 0;
  while (!converged && checker.violation().ok() && catch_up_bounds < kCatchUpBounds) {
    const raft::Index before = checker.AppliedSum(membership.Members());
    ++catch_up_bounds;
    converged = run_checked(converged_now, p.convergence_bound);
    if (!converged && checker.AppliedSum(membership.Members()) == before) break;
  }

  // 5. Linearizability.
  const chaos::History history = std::move(ledger.history).Finish();
  if (p.history_out) *p.history_out << chaos::HistoryToJsonLines(history);
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
    failure = absl::StrCat("LIVENESS: fewer than ", p.liveness_writes,
                           " writes acknowledged within ",
                           absl::FormatDuration(p.liveness_bound), " after healing (",
                           ledger.acked_writes_after_heal, "); ", checker.Describe());
  } else if (!drained) {
    failure = absl::StrCat("LIVENESS: clients still busy ",
                           absl::FormatDuration(p.drain_bound), " after stopping");
  } else if (!converged) {
    failure = absl::StrCat("CONVERGENCE: replicas differ ",
                           absl::FormatDuration(p.convergence_bound * (1 + catch_up_bounds)),
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
    if (!result.pass) *options.log << "raft-kv: raft status at the end:\n" << checker.RaftStatus();
  }
  if (lin.ok() && lin->violation.has_value()) {
    sim.Trace(kNoNode, "scenario.violation",
              absl::StrCat("op=", lin->violation->blocked_operation, " not linearizable"));
  }
  if (!result.pass) SignFailure(result);
  AddRaftKvCoverage(sim.coverage(), checker, ledger, lin.ok() ? lin->operations_checked : 0,
                    membership.applied());
  sim.Trace(kNoNode, "scenario.result", result.message);
  result.schedule = in.Take("raft-kv", options.seed);
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
      },
      {kRaftKvPlantedLeaderLocalReads});
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::kvsim
