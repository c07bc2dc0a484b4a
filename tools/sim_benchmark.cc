// Simulator throughput: runs a scenario (ping or raft-kv) for a number of seeds in this process and
// reports simulated events per wall-clock second and simulated time per wall time.
//
//   bazel build //tools:sim_benchmark && bazel-bin/tools/sim_benchmark --scenario=ping --seeds=50
//
// `--events_from=FILE` counts events from a file of "seed events" lines instead of the runs' own
// counts: tools/speed_compare.sh uses it to compare two builds on the SAME runs (a build that
// traces more per run must not look faster for it). The source compiles against the simulator as
// of e060e37 too, so the same harness measures the baseline.
// (A tool, not node code: it reads the real clock to time the runs.)
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "sim/scenarios/raftkv/raft_kv_scenario.h"
#include "sim/ping_scenario.h"

ABSL_FLAG(std::string, scenario, "ping", "ping | raft-kv");
ABSL_FLAG(int, seeds, 50, "how many seeds (runs) to time: 1, 2, ...");
ABSL_FLAG(int, nodes, 5, "servers per run (0: the scenario picks)");
ABSL_FLAG(std::string, faults, "default", "fault level: none | default | heavy");
ABSL_FLAG(std::string, events_from, "", "take each seed's event count from this file");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::optional<crema::sim::FaultLevel> level =
      crema::sim::ParseFaultLevel(absl::GetFlag(FLAGS_faults));
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (!level || (scenario != "ping" && scenario != "raft-kv")) return 2;
  std::map<uint64_t, uint64_t> given_events;
  if (!absl::GetFlag(FLAGS_events_from).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_events_from));
    uint64_t seed = 0, events = 0;
    while (in >> seed >> events) given_events[seed] = events;
  }
  uint64_t events = 0, passed = 0;
  absl::Duration simulated, wall;
  const int seeds = absl::GetFlag(FLAGS_seeds);
  for (int i = 0; i < seeds; ++i) {
    crema::sim::ScenarioOptions options;
    options.seed = 1 + i;
    options.nodes = absl::GetFlag(FLAGS_nodes);
    options.faults = *level;
    const absl::Time start = absl::Now();
    const crema::sim::ScenarioResult result = scenario == "ping"
                                                  ? crema::sim::RunPingScenario(options)
                                                  : crema::kvsim::RunRaftKvScenario(options);
    wall += absl::Now() - start;
    auto given = given_events.find(options.seed);
    events += given != given_events.end() ? given->second : result.events;
    simulated += result.virtual_time;
    passed += result.pass;
    std::printf("seed %llu events %llu\n", static_cast<unsigned long long>(options.seed),
                static_cast<unsigned long long>(result.events));
  }
  const double wall_s = absl::ToDoubleSeconds(wall);
  std::printf("%s scenario, %d nodes, faults=%s, %d seeds (%llu passed)\n", scenario.c_str(),
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
