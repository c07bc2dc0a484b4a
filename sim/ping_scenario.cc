#include "sim/ping_scenario.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/ping/ping_service.h"
#include "sim/fault_inputs.h"
#include "sim/fault_scheduler.h"
#include "sim/ping_client.h"

namespace crema::sim {
namespace {

constexpr NodeId kFirstClientId = 101;
constexpr int kMaxPingServers = 64;  // bounds on schedule-file inputs
constexpr int kMaxPingClients = 32;
constexpr absl::Duration kMaxPingSafety = absl::Hours(24);

class PingProgram final : public NodeProgram {
 public:
  PingProgram(Env env, ping::PingConfig config) : service(env, std::move(config)) {
    const absl::Status started = service.Start();
    assert(started.ok());
    (void)started;
  }
  ping::PingService service;
};

ping::PingService* Service(Simulator& sim, NodeId id) {
  if (sim.state(id) != NodeState::kUp || sim.program(id) == nullptr) return nullptr;
  return &static_cast<PingProgram*>(sim.program(id))->service;
}

// All servers up, recovered and holding identical counters; clients idle.
bool Converged(Simulator& sim, const std::vector<NodeId>& servers, const PingLedger& ledger) {
  if (ledger.busy_clients > 0) return false;
  const ping::PingService* first = Service(sim, servers[0]);
  if (first == nullptr || !first->recovered()) return false;
  for (NodeId id : servers) {
    const ping::PingService* service = Service(sim, id);
    if (service == nullptr || !service->recovered() || !(service->counter() == first->counter())) {
      return false;
    }
  }
  return true;
}

std::string Describe(const FaultStats& s) {
  return absl::StrCat("crashes=", s.crashes, " pauses=", s.pauses, " partitions=", s.partitions,
                      " clogs=", s.clogs, " swizzles=", s.swizzles, " clock_steps=", s.clock_steps,
                      " disk_fulls=", s.disk_fulls, " skipped=", s.skipped);
}

// Oracles exercised and sometimes-properties (sim/coverage.h).
void AddPingCoverage(Simulator& sim, const PingLedger& ledger, bool converged) {
  Coverage& c = sim.coverage();
  c.Oracle("reported_total_bound", ledger.gets_answered + ledger.acked());
  c.Oracle("no_lost_or_invented_adds", converged ? 1 : 0);
  c.Oracle("convergence", 1);
  c.Add("stat.acked", ledger.acked());
  c.Add("stat.indeterminate", ledger.indeterminate());
  // A crashed server came back holding acknowledged adds from its disk.
  c.Sometimes("recovered_adds_from_disk", c.Get("app.ping.recovered_own_adds") > 0);
  // A torn or corrupt state file was detected and not used.
  c.Sometimes("damaged_state_file_detected", c.Get("app.ping.read_failed") > 0);
  // An add was acknowledged while some link was cut by a partition.
  c.Sometimes("add_acked_during_partition", ledger.acked_during_partition > 0);
  c.Sometimes("client_add_indeterminate", ledger.indeterminate() > 0);
}

}  // namespace

std::string CheckPingCounter(const ping::GCounter& counter, const std::vector<NodeId>& servers,
                             const PingLedger& ledger) {
  for (NodeId id : servers) {
    const uint64_t count = counter.Get(id);
    auto get = [id](const absl::btree_map<NodeId, uint64_t>& map) {
      auto it = map.find(id);
      return it == map.end() ? uint64_t{0} : it->second;
    };
    const uint64_t acked = get(ledger.acked_by_server);
    const uint64_t indeterminate = get(ledger.indeterminate_by_server);
    if (count < acked) {
      return absl::StrCat("LOST acknowledged adds: server ", id, " count ", count, " < acked ",
                          acked);
    }
    if (count > acked + indeterminate) {
      return absl::StrCat("INVENTED adds: server ", id, " count ", count, " > acked ", acked,
                          " + indeterminate ", indeterminate);
    }
  }
  return "";
}

ScenarioResult RunPingScenario(const ScenarioOptions& options, const PingScenarioParams& params) {
  Random root = ScenarioRoot(options);
  RunInputs in(options.schedule);  // sim/schedule.h: every drawn input, replayable
  const int n = static_cast<int>(std::clamp<int64_t>(
      in.Int("nodes",
             options.nodes > 0 ? options.nodes : 3 + static_cast<int>(root.Fork("size").Uniform(3)),
             3),
      1, kMaxPingServers));
  const int clients =
      static_cast<int>(std::clamp<int64_t>(in.Int("clients", params.clients, 1), 1, kMaxPingClients));
  const absl::Duration safety_duration = std::clamp(
      in.Duration("safety", params.safety_duration, absl::Seconds(1)), absl::ZeroDuration(),
      kMaxPingSafety);
  FaultConfig faults = MakeFaultConfig(options.faults, root.Fork("swarm"));
  ApplyOverrides(options.overrides, faults);
  faults.amnesia = false;  // see the header: single-copy durability
  InputFaultConfig(in, faults);
  SimOptions sim_options = BaseSimOptions(options);
  faults.ApplyTo(sim_options);
  // Declared before the simulator, which the clients reference until it is destroyed.
  PingLedger ledger;
  bool stop_clients = false;
  Simulator sim(sim_options);
  ledger.network = &sim.network();

  std::vector<NodeId> servers;
  for (int i = 1; i <= n; ++i) servers.push_back(static_cast<NodeId>(i));
  for (NodeId id : servers) {
    ping::PingConfig config;
    for (NodeId peer : servers) {
      if (peer != id) config.peers.push_back(peer);
    }
    config.plant_nondeterminism_for_test = options.plant_nondeterminism;
    config.planted_bug_rename_without_sync_for_test = options.planted_bug == kPingPlantedRenameWithoutSync;
    sim.AddNode(id, [config](Env env) { return std::make_unique<PingProgram>(env, config); });
  }
  for (int c = 0; c < clients; ++c) {
    sim.AddNode(kFirstClientId + c, [&, servers](Env env) {
      return std::make_unique<PingClient>(env, servers, &ledger, params.request_timeout,
                                          &stop_clients);
    });
  }
  if (options.log) {
    *options.log << "ping: " << n << " servers, " << clients << " clients; faults: "
                 << faults.Describe() << (in.replaying() ? " (replaying a schedule)" : "") << "\n";
  }
  sim.StartAll();
  FaultScheduler nemesis(&sim, faults, servers, root.Fork("faults"));
  std::optional<std::vector<FaultAction>> replay;
  if (const nlohmann::json* list = in.Replayed("nemesis")) {
    absl::StatusOr<std::vector<FaultAction>> parsed = FaultActionsFromJson(*list);
    if (!parsed.ok()) {
      ScenarioResult bad;
      SetFailure(bad, "usage", "bad schedule", "setup", std::string(parsed.status().message()));
      FinishResult(sim, bad);
      return bad;
    }
    replay = *std::move(parsed);
  }
  replay ? nemesis.Replay(*replay) : nemesis.Start();

  // Safety phase.
  sim.Trace(kNoNode, "scenario.phase", "safety");
  sim.RunFor(safety_duration);
  // Heal, then the liveness phase: convergence within the bound, stable for `stable_for`.
  stop_clients = true;
  nemesis.HealAll();
  sim.Trace(kNoNode, "scenario.phase", "liveness");
  const absl::Duration liveness_start = sim.elapsed();
  auto converged = [&] { return Converged(sim, servers, ledger); };
  bool ok = sim.RunUntil(converged, params.liveness_bound);
  while (ok) {
    const uint64_t total = Service(sim, servers[0])->Total();
    sim.RunFor(params.stable_for);
    const absl::Duration left = params.liveness_bound - (sim.elapsed() - liveness_start);
    if (left < absl::ZeroDuration()) {
      ok = converged();
      break;
    }
    if (converged() && Service(sim, servers[0])->Total() == total) break;
    ok = sim.RunUntil(converged, left);
  }

  ScenarioResult result;
  result.pass = true;
  if (!ledger.violations.empty()) {
    SetFailure(result, "safety", "reported total exceeds adds sent", "safety",
               absl::StrCat("SAFETY: ", ledger.violations.front()));
  } else if (!ok) {
    SetFailure(result, "liveness", "servers did not converge after healing", "liveness",
               absl::StrCat("LIVENESS: servers did not converge within ",
                            absl::FormatDuration(params.liveness_bound), " after healing"));
  } else if (std::string failure =
                 CheckPingCounter(Service(sim, servers[0])->counter(), servers, ledger);
             !failure.empty()) {
    const bool lost = failure.rfind("LOST", 0) == 0;
    sim.Trace(kNoNode, "scenario.violation", failure);
    SetFailure(result, "counter", lost ? "acknowledged add lost" : "add invented", "final",
               failure);
  }
  const uint64_t total = ok ? Service(sim, servers[0])->Total() : 0;
  if (result.pass) {
    result.message = absl::StrCat("converged V=", total, " acked=", ledger.acked(),
                                  " indeterminate=", ledger.indeterminate());
  }
  AddPingCoverage(sim, ledger, ok);
  if (options.log && sim.buggify(servers[0]) != nullptr && sim.buggify(servers[0])->enabled()) {
    *options.log << "ping: buggify sites reached by node " << servers[0] << ":";
    for (const auto& [site, active] : sim.buggify(servers[0])->sites()) {
      *options.log << " " << site << (active ? "=on" : "=off");
    }
    *options.log << "\n";
  }
  if (options.log) {
    *options.log << "ping: " << Describe(nemesis.stats()) << "; acked=" << ledger.acked()
                 << " indeterminate=" << ledger.indeterminate() << " V=" << total << "\n"
                 << "ping: " << (result.pass ? "PASS: " : "FAIL: ") << result.message << "\n";
  }
  sim.Trace(kNoNode, "scenario.result", result.message);
  in.List("nemesis", FaultActionsToJson(nemesis.performed()));
  result.schedule = in.Take("ping", options.seed);
  FinishResult(sim, result);
  return result;
}

void RegisterPingScenario(ScenarioRegistry& registry) {
  const absl::Status registered = registry.Register(
      "ping",
      "3-5 ping nodes (G-Counter) under swarm faults; no acked add lost or invented, convergence",
      [](const ScenarioOptions& options) { return RunPingScenario(options); },
      {kPingPlantedRenameWithoutSync});
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::sim
