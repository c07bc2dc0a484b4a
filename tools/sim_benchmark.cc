// Simulator throughput: runs the ping scenario (5 nodes, swarm faults) for a number of seeds and
// reports simulated events per wall-clock second and simulated time per wall time.
//
//   bazel build -c opt //tools:sim_benchmark && bazel-bin/tools/sim_benchmark --seeds=50
//
// (A tool, not node code: it reads the real clock to time the runs.)
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "sim/ping_scenario.h"

ABSL_FLAG(int, seeds, 50, "how many seeds (runs) to time");
ABSL_FLAG(int, nodes, 5, "servers per run");
ABSL_FLAG(std::string, faults, "default", "fault level: none | default | heavy");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::optional<crema::sim::FaultLevel> level =
      crema::sim::ParseFaultLevel(absl::GetFlag(FLAGS_faults));
  if (!level) return 2;
  uint64_t events = 0, passed = 0;
  absl::Duration simulated, wall;
  const int seeds = absl::GetFlag(FLAGS_seeds);
  for (int i = 0; i < seeds; ++i) {
    crema::sim::ScenarioOptions options;
    options.seed = 1 + i;
    options.nodes = absl::GetFlag(FLAGS_nodes);
    options.faults = *level;
    const absl::Time start = absl::Now();
    const crema::sim::ScenarioResult result = crema::sim::RunPingScenario(options);
    wall += absl::Now() - start;
    events += result.events;
    simulated += result.virtual_time;
    passed += result.pass;
  }
  const double wall_s = absl::ToDoubleSeconds(wall);
  std::printf("ping scenario, %d nodes, faults=%s, %d seeds (%llu passed)\n",
              absl::GetFlag(FLAGS_nodes), absl::GetFlag(FLAGS_faults).c_str(), seeds,
              static_cast<unsigned long long>(passed));
  std::printf("events: %llu in %.3f s wall = %.0f events/s\n",
              static_cast<unsigned long long>(events), wall_s, events / wall_s);
  std::printf("simulated time: %.1f s in %.3f s wall = %.0fx real time\n",
              absl::ToDoubleSeconds(simulated), wall_s, absl::ToDoubleSeconds(simulated) / wall_s);
  std::printf("per run: %.1f ms wall, %.0f events\n", 1000 * wall_s / seeds,
              static_cast<double>(events) / seeds);
  return passed == static_cast<uint64_t>(seeds) ? 0 : 1;
}
