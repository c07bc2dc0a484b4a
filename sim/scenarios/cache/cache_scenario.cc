#include "sim/scenarios/cache/cache_scenario.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chaos/cache_oracles.h"
#include "chaos/history_json.h"
#include "chaos/linearizability.h"
#include "chaos/nemesis.h"
#include "chaos/nemesis_json.h"
#include "chaos/nemesis_runner.h"
#include "node/cluster/cluster_map.h"
#include "node/membership/placement.h"
#include "sim/fault_config.h"
#include "sim/fault_inputs.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/scenarios/cache/cache_workload.h"
#include "sim/scenarios/cache/group_checker.h"

namespace crema::sim {
namespace {

// Bounds on schedule-file inputs (sim/schedule.h).
constexpr int kMaxNodes = 16;
constexpr int64_t kMaxShards = 256;
constexpr int kMaxClients = 64;
constexpr absl::Duration kMaxSafety = absl::Hours(24);

// What the seed decides about the cluster and the workload (swarm testing).
struct CacheSwarm {
  int nodes = 3;
  uint32_t shards = 16;
  int clients = 8;
  bool evicting = false;      // capacity small enough to evict
  bool ttls = true;
  bool leases = true;
  uint64_t checkpoint_every = 200;
  bool admit = false;         // a node joins by gossip and is admitted during the faults
  bool drain = false;         // a node is drained during the faults
  bool replace = false;       // a node is killed long enough to be replaced

  std::string Describe() const {
    return absl::StrCat("nodes=", nodes, " shards=", shards, " clients=", clients,
                        evicting ? " evicting" : "", ttls ? " ttls" : "", leases ? " leases" : "",
                        " checkpoint_every=", checkpoint_every, admit ? " admit" : "",
                        drain ? " drain" : "", replace ? " replace" : "");
  }
};

CacheSwarm DrawSwarm(const ScenarioOptions& options, Random random) {
  CacheSwarm s;
  static constexpr int kSizes[] = {3, 3, 4, 5, 5, 7, 9};
  s.nodes = options.nodes > 0 ? options.nodes : kSizes[random.Uniform(7)];
  s.shards = 8 + static_cast<uint32_t>(random.Uniform(25));
  s.clients = 8 + static_cast<int>(random.Uniform(5));
  s.evicting = random.OneIn(3);
  s.ttls = !random.OneIn(4);
  s.leases = random.OneIn(2);
  s.checkpoint_every = 20 + random.Uniform(400);
  if (options.faults != FaultLevel::kNone) {
    s.admit = random.OneIn(2);
    s.drain = random.OneIn(3) && s.nodes + (s.admit ? 1 : 0) >= 4;
    s.replace = random.OneIn(3) && s.nodes >= 4;
  }
  return s;
}

// Whether `schedule` was written by a real-process chaos run (chaos/real/real_schedule.h: it has
// "real." lists). Such a file names only the cluster's size, the fault phase, the skew bound and the
// nemesis; the rest takes crema_server's defaults rather than the seed's draw (see the header).
bool FromRealRun(const Schedule* schedule) {
  return schedule != nullptr &&
         (schedule->lists.contains("real.membership") || schedule->lists.contains("real.net"));
}

// The swarm as schedule params (sim/schedule.h): replayed from a file, shrunk towards few nodes
// and shards, no eviction, TTLs, leases or membership work.
void InputCacheSwarm(RunInputs& in, CacheSwarm& s) {
  s.nodes = static_cast<int>(std::clamp<int64_t>(in.Int("nodes", s.nodes, 3), 1, kMaxNodes));
  s.shards = static_cast<uint32_t>(std::clamp<int64_t>(in.Int("shards", s.shards, 1), 1, kMaxShards));
  s.clients = static_cast<int>(std::clamp<int64_t>(in.Int("clients", s.clients, 1), 1, kMaxClients));
  s.evicting = in.Flag("cache.evicting", s.evicting);
  s.ttls = in.Flag("cache.ttls", s.ttls);
  s.leases = in.Flag("cache.leases", s.leases);
  s.checkpoint_every = static_cast<uint64_t>(std::max<int64_t>(
      1, in.Int("cache.checkpoint_every", static_cast<int64_t>(s.checkpoint_every),
                static_cast<int64_t>(s.checkpoint_every))));
  s.admit = in.Flag("cache.admit", s.admit);
  s.drain = in.Flag("cache.drain", s.drain) && s.nodes + (s.admit ? 1 : 0) >= 4;
  s.replace = in.Flag("cache.replace", s.replace) && s.nodes >= 4;
}

// The failure's signature for //tools:farm (sim/scenario.h), from the message's prefix.
void SignFailure(ScenarioResult& r, const std::vector<std::string>& oracle_violations) {
  const std::string_view m = r.message;
  auto starts = [m](std::string_view prefix) { return m.substr(0, prefix.size()) == prefix; };
  auto until_colon = [](std::string_view text) {
    return std::string(text.substr(0, text.find(':')));
  };
  if (starts("RAFT INVARIANT: ")) {
    r.oracle = "raft-invariant";
    r.property = until_colon(m.substr(16));
    r.where = "after an event";
  } else if (starts("NOT LINEARIZABLE")) {
    r.oracle = "linearizability";
    r.property = "history not linearizable";
    r.where = "history";
  } else if (starts("UNKNOWN")) {
    r.oracle = "linearizability";
    r.property = "check gave up (unknown)";
    r.where = "history";
  } else if (starts("CACHE ORACLE")) {
    r.oracle = "cache-oracle";
    r.property = oracle_violations.empty() ? "violation" : until_colon(oracle_violations.front());
    r.where = "history";
  } else if (starts("LIVENESS: the cluster did not bootstrap")) {
    r.oracle = "liveness";
    r.property = "cluster bootstraps";
    r.where = "bootstrap";
  } else if (starts("LIVENESS: not every shard")) {
    r.oracle = "liveness";
    r.property = "every shard takes a write after healing";
    r.where = "liveness";
  } else if (starts("LIVENESS: clients")) {
    r.oracle = "liveness";
    r.property = "clients finish after stopping";
    r.where = "drain";
  } else if (starts("LIVENESS: the final reads")) {
    r.oracle = "liveness";
    r.property = "final reads finish";
    r.where = "drain";
  } else if (starts("CONVERGENCE")) {
    r.oracle = "convergence";
    r.property = "replicas and maps identical after the clients stopped";
    r.where = "convergence";
  }
}

// The swarm's nemesis (chaos::NemesisFromFaults) with faults no longer than 4 s and clock steps
// within the cluster's skew bound.
chaos::NemesisOptions NemesisFromFaults(FaultConfig& faults, absl::Duration skew) {
  chaos::NemesisOptions n = chaos::NemesisFromFaults(faults);
  n.max_fault_duration = std::min(n.max_fault_duration, absl::Seconds(4));
  n.max_clock_step = std::min(n.max_clock_step, skew / 8);
  faults.amnesia = false;  // never for voters (chaos/nemesis.h)
  // Wall clocks stay within the cluster's skew bound (docs/cache-node.md, "Time").
  faults.clock.max_offset = std::min(faults.clock.max_offset, skew / 8);
  faults.clock.max_drift_ppm = std::min<int64_t>(faults.clock.max_drift_ppm, 500);
  return n;
}

// Keeps every node's accumulated clock steps within +-bound.
void ClampClockSteps(chaos::NemesisSchedule& schedule, absl::Duration bound) {
  absl::btree_map<NodeId, absl::Duration> total;
  for (chaos::NemesisAction& a : schedule.actions) {
    if (a.kind != chaos::NemesisKind::kClockStep) continue;
    absl::Duration& sum = total[a.node];
    const absl::Duration next = std::clamp(sum + a.delta, -bound, bound);
    a.delta = next - sum;
    sum = next;
  }
}

CacheNodeOptions NodeOptions(const CacheScenarioParams& params, const CacheSwarm& swarm) {
  CacheNodeOptions o;
  o.attempt_timeout = absl::Milliseconds(500);
  o.retry_backoff = absl::Milliseconds(10);
  o.maintenance_interval = absl::Milliseconds(100);
  o.tick_every = absl::Seconds(2);
  o.balance_every = absl::Seconds(3);
  o.map_refresh_every = absl::Seconds(3);
  o.report_every = absl::Milliseconds(500);
  o.session_ttl = absl::Seconds(60);
  o.max_request_age = absl::Seconds(20);
  o.checkpoint.every_entries = swarm.checkpoint_every;
  o.checkpoint.every_log_bytes = 0;
  o.swim.probe_interval = absl::Milliseconds(500);
  o.swim.probe_timeout = absl::Milliseconds(200);
  o.swim.gossip_interval = absl::Milliseconds(100);
  o.plant_replica_self_eviction = params.plant_replica_self_eviction;
  o.plant_retry_new_seq = params.plant_retry_new_seq;
  o.plant_local_read_no_floor = params.plant_local_read_no_floor;
  o.plant_inline_read_without_lease = params.plant_inline_read_without_lease;
  return o;
}

}  // namespace

ScenarioResult RunCacheScenario(const ScenarioOptions& options,
                                const CacheScenarioParams& given_params) {
  Random root = ScenarioRoot(options);
  RunInputs in(options.schedule);  // sim/schedule.h: every drawn input, replayable
  CacheSwarm swarm = DrawSwarm(options, root.Fork("cache"));
  if (FromRealRun(options.schedule)) {
    swarm.evicting = false;  // a real run's nodes have room for every key
    swarm.ttls = swarm.leases = true;  // crema_server's defaults
    swarm.admit = swarm.drain = swarm.replace = false;
  }
  InputCacheSwarm(in, swarm);
  CacheScenarioParams params = given_params;
  params.plant_replica_self_eviction |= options.planted_bug == kCachePlantedReplicaSelfEviction;
  params.plant_retry_new_seq |= options.planted_bug == kCachePlantedRetryNewSeq;
  params.plant_local_read_no_floor |= options.planted_bug == kCachePlantedLocalReadNoFloor;
  params.plant_inline_read_without_lease |=
      options.planted_bug == kCachePlantedInlineReadWithoutLease;
  params.safety_duration = std::clamp(
      in.Duration("safety_duration", params.safety_duration, absl::Seconds(1)),
      absl::ZeroDuration(), kMaxSafety);
  params.max_clock_skew = std::max(
      absl::Milliseconds(1),
      in.Duration("max_clock_skew", params.max_clock_skew, params.max_clock_skew));
  FaultConfig faults = MakeFaultConfig(options.faults, root.Fork("swarm"));
  ApplyOverrides(options.overrides, faults);
  chaos::NemesisOptions nemesis_options = NemesisFromFaults(faults, params.max_clock_skew);
  // Persist-before-send windows on purpose, not by a crash landing there by chance (nemesis.h).
  nemesis_options.crash_at_send =
      nemesis_options.crashes && in.Flag("nemesis.crash_at_send", chaos::DrawCrashAtSend(root));
  nemesis_options.disk_io_error = in.Rate("nemesis.disk_io_error", nemesis_options.disk_io_error);
  nemesis_options.disk_read_corruption =
      in.Rate("nemesis.disk_read_corruption", nemesis_options.disk_read_corruption);
  InputFaultConfig(in, faults);
  SimOptions sim_options = BaseSimOptions(options);
  faults.ApplyTo(sim_options);

  std::vector<NodeId> founders;
  for (int i = 1; i <= swarm.nodes; ++i) founders.push_back(static_cast<NodeId>(i));
  std::vector<NodeId> all = founders;
  const NodeId joiner = swarm.admit ? static_cast<NodeId>(swarm.nodes + 1) : kNoNode;
  if (joiner != kNoNode) all.push_back(joiner);
  // The membership plan, as schedule params (a replayed node that is not a founder, or a drain
  // of the victim, is dropped).
  Random plan = root.Fork("membership");
  NodeId victim = swarm.replace ? founders[plan.Uniform(founders.size())] : kNoNode;
  NodeId drained = kNoNode;
  if (swarm.drain) {
    do {
      drained = founders[plan.Uniform(founders.size())];
    } while (drained == victim);
  }
  auto founder_or_none = [&founders](int64_t id) {
    return std::find(founders.begin(), founders.end(), id) != founders.end()
               ? static_cast<NodeId>(id) : kNoNode;
  };
  const int64_t admit_ms = in.Int("cache.admit_at_ms", 1000 + plan.Uniform(4000), 1000);
  const int64_t drain_ms = in.Int("cache.drain_at_ms", 3000 + plan.Uniform(6000), 3000);
  const int64_t kill_ms = in.Int("cache.kill_at_ms", 500 + plan.Uniform(3000), 500);
  victim = swarm.replace ? founder_or_none(in.Int("cache.victim", victim, victim)) : kNoNode;
  drained = swarm.drain ? founder_or_none(in.Int("cache.drained", drained, drained)) : kNoNode;
  if (drained == victim) drained = kNoNode;

  CacheConfig config;
  config.bootstrap = founders;
  config.num_shards = swarm.shards;
  config.replication_factor = 3;
  config.meta_replication_factor = 3;
  // Small capacity: a few entries per shard replica, so eviction runs all the time.
  config.max_capacity = swarm.evicting ? 4 + static_cast<int64_t>(swarm.shards) / 2 : 20'000;
  config.tick_interval = absl::Milliseconds(50);
  config.election_tick = 10;
  config.max_clock_skew = params.max_clock_skew;
  config.max_clock_drift = absl::Milliseconds(50);
  config.lease_reads = swarm.leases;
  config.replace_dead_after = swarm.replace ? absl::Seconds(6) : absl::ZeroDuration();
  const CacheNodeOptions node_options = NodeOptions(params, swarm);

  // Declared before the simulator: node fibers reference it until the simulator is gone.
  CacheWorkloadOptions workload_options;
  workload_options.clients = swarm.clients;
  workload_options.ttls = swarm.ttls;
  workload_options.num_shards = swarm.shards;
  std::unique_ptr<CacheWorkload> workload;
  Simulator sim(sim_options);
  for (NodeId id : all) {
    CacheConfig c = config;
    c.node_id = id;
    if (id == joiner) {
      c.bootstrap.clear();
      c.seeds = founders;
    }
    sim.AddNode(id, [c, node_options](Env env) {
      return std::make_unique<CacheNodeProgram>(env, c, node_options);
    });
  }
  workload = std::make_unique<CacheWorkload>(&sim, all, workload_options, Random(options.seed).Fork("clients"));  // not an input: from the seed
  std::vector<NodeId> nemesis_targets;
  for (NodeId id : all) {
    if (id != victim) nemesis_targets.push_back(id);
  }
  chaos::NemesisSchedule drawn = chaos::GenerateNemesis(
      nemesis_options, nemesis_targets, {}, params.safety_duration, root.Fork("nemesis"));
  ClampClockSteps(drawn, params.max_clock_skew / 8);
  absl::StatusOr<chaos::NemesisSchedule> replayed =
      chaos::NemesisFromJson(in.List("nemesis", chaos::NemesisToJson(drawn)));
  if (!replayed.ok()) {
    ScenarioResult bad;
    SetFailure(bad, "usage", "bad schedule", "setup", std::string(replayed.status().message()));
    FinishResult(sim, bad);
    return bad;
  }
  chaos::NemesisSchedule schedule = *std::move(replayed);
  // A no-op for recorded runs (already within skew/8); a real run's file is clamped as the real
  // planner clamps offsets (within +-skew/4).
  ClampClockSteps(schedule, params.max_clock_skew / 4);
  if (options.log) {
    *options.log << "cache: " << swarm.Describe() << "\ncache: faults: " << faults.Describe()
                 << "\ncache: nemesis: " << nemesis_options.Describe() << "; "
                 << schedule.actions.size() << " actions:\n"
                 << schedule.ToString();
  }

  sim.StartAll();
  GroupChecker checker(&sim, all);
  bool violation_traced = false;
  auto run_checked = [&](const std::function<bool()>& done, absl::Duration limit) {
    const bool reached = sim.RunUntil([&] { return !checker.AfterEvent() || done(); }, limit);
    if (!checker.violation().ok() && !violation_traced) {
      sim.Trace(kNoNode, "scenario.violation", std::string(checker.violation().message()));
      violation_traced = true;
    }
    return reached && checker.violation().ok();
  };
  ScenarioResult result;
  std::string failure;
  // 1. Bootstrap (faults already on: crashes may hit founders while they write their state).
  chaos::NemesisRunner nemesis(&sim, nemesis_targets, nemesis_options);
  nemesis.Start(schedule);
  auto bootstrapped = [&] {
    const cluster::ClusterMap* map = checker.LeaderMap();
    return map != nullptr && map->bootstrapped();
  };
  bool booted = run_checked(bootstrapped, params.bootstrap_bound);
  if (!booted && checker.violation().ok()) {
    // Faults beyond tolerance during the bootstrap (e.g. a founder crashing again and again
    // while another's metadata replica is stopped by a disk error) may hold it up for as long as
    // they last: that is not a liveness failure. Heal everything (the rest of the schedule is
    // dropped) and require the bootstrap within the bound again.
    sim.Trace(kNoNode, "scenario.phase", "bootstrap-healed");
    nemesis.HealAll();
    booted = run_checked(bootstrapped, params.bootstrap_bound);
  }
  if (!booted && checker.violation().ok()) {
    failure = absl::StrCat("LIVENESS: the cluster did not bootstrap within ",
                           absl::FormatDuration(params.bootstrap_bound), " after healing; ",
                           checker.Describe());
  }
  // 2. Safety phase, with membership work.
  const int64_t start_ns = sim.now_ns();
  auto admin = [&](std::string what, std::function<absl::Status(CacheNode&)> call) {
    // Scheduled retries hold the attempt; the attempt holds itself only weakly (no cycle).
    auto attempt = std::make_shared<std::function<void()>>();
    *attempt = [&sim, &workload, what, call, weak = std::weak_ptr(attempt), all]() {
      std::shared_ptr<std::function<void()>> attempt = weak.lock();
      NodeId via = kNoNode;
      for (NodeId id : all) {
        CacheNodeProgram* p = GetCacheNodeProgram(sim, id);
        if (p != nullptr && p->node() != nullptr && p->node()->ready()) via = id;
      }
      if (via == kNoNode) {
        sim.After(absl::Milliseconds(500), "cache.admin", [attempt] { (*attempt)(); });
        return;
      }
      CacheNodeProgram* p = GetCacheNodeProgram(sim, via);
      CacheNode* node = p->node();
      p->Run(what, [&sim, node, call, attempt, what] {
        const absl::Status s = call(*node);
        sim.Trace(kNoNode, "cache.admin", absl::StrCat(what, ": ", s.ToString()));
        if (s.ok()) sim.coverage().Add(absl::StrCat("stat.admin_ok.", what.substr(0, what.find(' '))));
        if (!s.ok()) sim.After(absl::Milliseconds(500), "cache.admin", [attempt] { (*attempt)(); });
      });
      (void)workload;
    };
    (*attempt)();
  };
  if (failure.empty()) {
    workload->Start();
    if (joiner != kNoNode) {
      sim.After(absl::Milliseconds(admit_ms), "cache.plan.admit", [&, joiner] {
        admin(absl::StrCat("admit ", joiner), [joiner](CacheNode& n) {
          return n.AdmitNode(joiner, WriteOptions{.timeout = absl::Seconds(2)});
        });
      });
    }
    if (drained != kNoNode) {
      sim.After(absl::Milliseconds(drain_ms), "cache.plan.drain", [&, drained] {
        admin(absl::StrCat("drain ", drained), [drained](CacheNode& n) {
          return n.DrainNode(drained, WriteOptions{.timeout = absl::Seconds(2)});
        });
      });
    }
    if (victim != kNoNode) {
      sim.After(absl::Milliseconds(kill_ms), "cache.plan.kill",
                [&sim, victim] { sim.Crash(victim); });
    }
    sim.Trace(kNoNode, "scenario.phase", "safety");
    run_checked([] { return false; }, params.safety_duration);
  }
  // 3. Heal; liveness: every shard takes a write.
  nemesis.HealAll();
  if (victim != kNoNode && sim.state(victim) == NodeState::kDown) sim.Restart(victim);
  sim.network().config().drop = Ratio{0, 1};
  sim.network().config().latency.tail = Ratio{0, 1};
  sim.Trace(kNoNode, "scenario.phase", "liveness");
  const int64_t heal_ns = sim.now_ns();
  if (failure.empty() && checker.violation().ok()) {
    workload->StartLiveness(swarm.shards);
    if (!run_checked([&] { return workload->liveness_done(); }, params.liveness_bound) &&
        checker.violation().ok()) {
      failure = absl::StrCat("LIVENESS: not every shard acknowledged a write within ",
                             absl::FormatDuration(params.liveness_bound), " after healing; ",
                             checker.Describe(), "; waiting: ", workload->LivenessReport());
      // The Raft state of (up to three of) the groups still waiting.
      int shown = 0;
      for (const std::string& key : workload->LivenessKeysPending()) {
        if (shown++ == 3) break;
        absl::StrAppend(&failure, "; ", checker.DescribeGroup(cluster::GroupOfShard(
                                            membership::ShardOfKey(key, swarm.shards))));
      }
    }
  }
  const absl::Duration liveness_took = absl::Nanoseconds(sim.now_ns() - heal_ns);
  // 4. Clients stop, the final reader reads every key, the replicas converge.
  workload->Stop();
  if (failure.empty() && checker.violation().ok() &&
      !run_checked([&] { return workload->busy() == 0; }, params.drain_bound) &&
      checker.violation().ok()) {
    failure = absl::StrCat("LIVENESS: clients still busy ",
                           absl::FormatDuration(params.drain_bound), " after stopping");
  }
  if (failure.empty() && checker.violation().ok()) {
    workload->StartFinalReads();
    if (!run_checked([&] { return workload->busy() == 0; }, params.drain_bound) &&
        checker.violation().ok()) {
      failure = "LIVENESS: the final reads did not finish";
    }
  }
  std::string not_converged;
  if (failure.empty() && checker.violation().ok() &&
      !run_checked([&] { return checker.Converged(&not_converged); },
                   params.convergence_bound) &&
      checker.violation().ok()) {
    failure = absl::StrCat("CONVERGENCE: not converged ",
                           absl::FormatDuration(params.convergence_bound),
                           " after the clients stopped: ", not_converged, "; ",
                           checker.Describe());
  }
  // 5. The history.
  const std::vector<chaos::OracleInfo> info = workload->info();
  const uint64_t ops_done = workload->ops_done();
  const uint64_t indeterminate = workload->indeterminate();
  const uint64_t reads_inline = workload->reads_inline();
  const uint64_t reads_inline_with_reading = workload->reads_inline_with_reading();
  const uint64_t errors = workload->errors();
  const chaos::History history = std::move(*workload).TakeHistory();
  if (params.history_out) *params.history_out << chaos::HistoryToJsonLines(history);
  chaos::LinearizabilityOptions lin_options;
  lin_options.cache_model = true;
  lin_options.cache_may_evict = swarm.evicting;
  absl::StatusOr<chaos::LinearizabilityResult> lin =
      chaos::CheckLinearizability(history, lin_options);
  chaos::CacheOracleOptions oracle_options;
  oracle_options.max_skew = params.max_clock_skew;
  oracle_options.lose_nothing = !swarm.evicting;
  const chaos::CacheOracleResult oracles =
      chaos::CheckCacheOracles(history, info, oracle_options);

  if (!checker.violation().ok()) {
    failure = absl::StrCat("RAFT INVARIANT: ", checker.violation().message());
  } else if (!lin.ok()) {
    failure = absl::StrCat("HISTORY malformed: ", lin.status().message());
  } else if (lin->verdict == chaos::Verdict::kNotLinearizable) {
    failure = absl::StrCat("NOT LINEARIZABLE: ", chaos::LinearizabilitySummary(*lin));
  } else if (oracles.violation_count > 0) {
    failure = absl::StrCat("CACHE ORACLE: ", oracles.violation_count, " violations; first: ",
                           oracles.violations.front());
  } else if (lin->verdict == chaos::Verdict::kUnknown && failure.empty()) {
    failure = absl::StrCat("UNKNOWN: the linearizability check gave up: ",
                           lin->unknown_reason);
  }
  result.pass = failure.empty();
  result.message =
      result.pass
          ? absl::StrCat("n=", swarm.nodes, " shards=", swarm.shards, " ops=", ops_done,
                         " indeterminate=", indeterminate, " errors=", errors,
                         " lin=", chaos::VerdictName(lin->verdict),
                         " local_reads=", oracles.local_reads_checked,
                         " ttl_reads=", oracles.ttl_reads_checked,
                         " invariant_checks=", checker.checks(),
                         " liveness_ms=", absl::ToInt64Milliseconds(liveness_took))
          : failure;
  if (options.log) {
    if (lin.ok()) *options.log << "cache: " << chaos::LinearizabilitySummary(*lin) << "\n";
    if (lin.ok() && lin->verdict == chaos::Verdict::kNotLinearizable) {
      *options.log << chaos::ExplainViolation(history, *lin);
    }
    for (const std::string& v : oracles.violations) *options.log << "cache: oracle: " << v << "\n";
    *options.log << "cache: nemesis applied=" << nemesis.applied()
                 << " skipped=" << nemesis.skipped() << "; ops=" << ops_done
                 << " indeterminate=" << indeterminate << " errors=" << errors
                 << "; final: " << checker.Describe() << "\ncache: "
                 << (result.pass ? "PASS: " : "FAIL: ") << result.message << "\n";
  }
  (void)start_ns;
  if (lin.ok() && lin->violation.has_value()) {
    sim.Trace(kNoNode, "scenario.violation",
              absl::StrCat("op=", lin->violation->blocked_operation, " not linearizable"));
  }
  if (!result.pass) SignFailure(result, oracles.violations);
  // Oracles exercised and sometimes-properties (sim/coverage.h).
  Coverage& c = sim.coverage();
  c.Oracle("raft_invariants", checker.checks());
  c.Oracle("linearizability", lin.ok() ? lin->operations_checked : 0);
  c.Oracle("local_read_bounds", oracles.local_reads_checked);
  c.Oracle("ttl_expiry", oracles.ttl_reads_checked + oracles.expire_reads_checked);
  c.Oracle("liveness_after_heal", 1);
  c.Oracle("convergence", 1);
  c.Add("stat.ops_done", ops_done);
  c.Add("stat.ops_indeterminate", indeterminate);
  c.Sometimes("snapshot_installed_on_lagging_replica", c.Get("app.raft.snapshot_installed") > 0);
  c.Sometimes("replica_removed_from_a_node", c.Get("app.cache.replica_destroyed") > 0);
  c.Sometimes("node_admitted", c.Get("stat.admin_ok.admit") > 0);
  c.Sometimes("node_drained", c.Get("stat.admin_ok.drain") > 0);
  c.Sometimes("local_read_checked", oracles.local_reads_checked > 0);
  c.Sometimes("ttl_read_checked", oracles.ttl_reads_checked > 0);
  c.Sometimes("client_op_indeterminate", indeterminate > 0);
  c.Sometimes("storage_reopened_after_error", c.Get("app.raft.reopened") > 0);
  c.Add("stat.reads_inline", reads_inline);
  c.Sometimes("read_answered_inline", reads_inline > 0);
  c.Add("stat.reads_inline_with_reading", reads_inline_with_reading);
  c.Sometimes("read_answered_inline_with_a_callers_clock_reading", reads_inline_with_reading > 0);
  c.Sometimes("pipelined_sets_combined", c.Get("app.cache.put_combined") > 0);
  sim.Trace(kNoNode, "scenario.result", result.message);
  result.schedule = in.Take("cache", options.seed);
  FinishResult(sim, result);
  return result;
}

void RegisterCacheScenario(ScenarioRegistry& registry, std::ostream* history_out) {
  const absl::Status registered = registry.Register(
      "cache",
      "3-9 CacheNodes, 8-32 shards, under the full fault model with admission, drain and "
      "replacement; Raft invariants of every group after every event, linearizable (cache "
      "model), local reads and TTLs, liveness, convergence",
      [history_out](const ScenarioOptions& options) {
        CacheScenarioParams params;
        params.history_out = history_out;
        return RunCacheScenario(options, params);
      },
      {kCachePlantedReplicaSelfEviction, kCachePlantedRetryNewSeq, kCachePlantedLocalReadNoFloor});
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::sim
