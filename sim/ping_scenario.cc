#include "sim/ping_scenario.h"

#include <cassert>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/ping/ping_service.h"
#include "sim/fault_scheduler.h"
#include "sim/ping_client.h"

namespace crema::sim {
namespace {

constexpr NodeId kFirstClientId = 101;

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
                      " disk_fulls=", s.disk_fulls);
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
  Random root(options.seed);
  const int n = options.nodes > 0 ? options.nodes
                                  : 3 + static_cast<int>(root.Fork("size").Uniform(3));
  FaultConfig faults = MakeFaultConfig(options.faults, root.Fork("swarm"));
  ApplyOverrides(options.overrides, faults);
  faults.amnesia = false;  // see the header: single-copy durability
  SimOptions sim_options;
  sim_options.seed = options.seed;
  sim_options.keep_trace_records = options.keep_trace_records;
  sim_options.trace_json = options.trace_json;
  faults.ApplyTo(sim_options);
  // Declared before the simulator, which the clients reference until it is destroyed.
  PingLedger ledger;
  bool stop_clients = false;
  Simulator sim(sim_options);

  std::vector<NodeId> servers;
  for (int i = 1; i <= n; ++i) servers.push_back(static_cast<NodeId>(i));
  for (NodeId id : servers) {
    ping::PingConfig config;
    for (NodeId peer : servers) {
      if (peer != id) config.peers.push_back(peer);
    }
    config.plant_nondeterminism_for_test = options.plant_nondeterminism;
    sim.AddNode(id, [config](Env env) { return std::make_unique<PingProgram>(env, config); });
  }
  for (int c = 0; c < params.clients; ++c) {
    sim.AddNode(kFirstClientId + c, [&, servers](Env env) {
      return std::make_unique<PingClient>(env, servers, &ledger, params.request_timeout,
                                          &stop_clients);
    });
  }
  if (options.log) {
    *options.log << "ping: " << n << " servers, " << params.clients << " clients; faults: "
                 << faults.Describe() << "\n";
  }
  sim.StartAll();
  FaultScheduler nemesis(&sim, faults, servers, root.Fork("faults"));
  nemesis.Start();

  // Safety phase.
  sim.Trace(kNoNode, "scenario.phase", "safety");
  sim.RunFor(params.safety_duration);
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
  std::string failure;
  if (!ledger.violations.empty()) {
    failure = absl::StrCat("SAFETY: ", ledger.violations.front());
  } else if (!ok) {
    failure = absl::StrCat("LIVENESS: servers did not converge within ",
                           absl::FormatDuration(params.liveness_bound), " after healing");
  } else {
    failure = CheckPingCounter(Service(sim, servers[0])->counter(), servers, ledger);
  }
  result.pass = failure.empty();
  const uint64_t total = ok ? Service(sim, servers[0])->Total() : 0;
  result.message = result.pass
                       ? absl::StrCat("converged V=", total, " acked=", ledger.acked(),
                                      " indeterminate=", ledger.indeterminate())
                       : failure;
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
  FinishResult(sim, result);
  return result;
}

void RegisterPingScenario(ScenarioRegistry& registry) {
  const absl::Status registered = registry.Register(
      "ping",
      "3-5 ping nodes (G-Counter) under swarm faults; no acked add lost or invented, convergence",
      [](const ScenarioOptions& options) { return RunPingScenario(options); });
  assert(registered.ok());
  (void)registered;
}

}  // namespace crema::sim
