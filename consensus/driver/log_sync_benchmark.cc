// Benchmark (not a test): what one shared log per node saves over one WAL per Raft group.
//
// 64 groups on 3 simulated nodes, every group under a write load (a writer on its leader
// proposes every `--interval_ms`). For each storage layout (a WAL per group: before; the node's
// shared log: after) and each simulated disk latency, the same seeds run and report, per node:
// File::Syncs per simulated second, syncs per committed write, committed writes per second, and
// host cycles. Counts come from SimDisk (every File::Sync that succeeded), so they are exact and
// deterministic per seed; simulated disk latency (every Disk call) shows what the syncs cost.
//
//   bazel build -c opt //consensus/driver:log_sync_benchmark
//   bazel-bin/consensus/driver/log_sync_benchmark --seeds=3
//
// Results: docs/raft.md ("Shared log").
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "consensus/driver/test_cluster.h"

ABSL_FLAG(int, groups, 64, "Raft groups (each on all 3 nodes)");
ABSL_FLAG(int, seeds, 3, "seeds per configuration (1, 2, ...)");
ABSL_FLAG(int, interval_ms, 20, "each group's writer proposes this often (on its leader)");
ABSL_FLAG(int, warmup_s, 2, "simulated seconds before measuring");
ABSL_FLAG(int, measure_s, 10, "simulated seconds measured");

namespace crema::raft {
namespace {

struct Result {
  double syncs_per_node_per_s = 0;
  double syncs_per_node_per_write = 0;
  double writes_per_s = 0;
  double cycles_per_node_per_s = 0;
  bool ok = true;
};

struct Totals {
  uint64_t syncs = 0;
  uint64_t cycles = 0;
  size_t acked = 0;
};

Totals Measure(testing::TestCluster& c, int groups) {
  Totals t;
  for (NodeId id : {1, 2, 3}) {
    t.syncs += c.sim().disk(id).stats().syncs;
    t.cycles += c.node(id)->host->stats().cycles;
  }
  for (int g = 1; g <= groups; ++g) t.acked += c.acked_count(g);
  return t;
}

Result Run(uint64_t seed, bool shared_log, absl::Duration disk_latency) {
  const int groups = absl::GetFlag(FLAGS_groups);
  testing::ClusterSpec spec;
  spec.nodes = {1, 2, 3};
  for (int g = 1; g <= groups; ++g) spec.groups.push_back({.id = GroupId(g), .voters = {1, 2, 3}});
  spec.host.shared_log = shared_log;
  sim::SimOptions sim_options;
  sim_options.disk.latency_min = disk_latency / 2;
  sim_options.disk.latency_max = disk_latency * 3 / 2;  // mean = disk_latency
  testing::TestCluster c(seed, spec, sim_options);
  Result r;
  for (int g = 1; g <= groups; ++g) {
    if (!c.WaitForLeader(g, absl::Seconds(30))) r.ok = false;
  }
  for (int g = 1; g <= groups; ++g) {
    c.StartWriters(g, absl::Milliseconds(absl::GetFlag(FLAGS_interval_ms)));
  }
  c.sim().RunFor(absl::Seconds(absl::GetFlag(FLAGS_warmup_s)));
  const Totals before = Measure(c, groups);
  const double seconds = absl::GetFlag(FLAGS_measure_s);
  c.sim().RunFor(absl::Seconds(seconds));
  const Totals after = Measure(c, groups);
  const double syncs = static_cast<double>(after.syncs - before.syncs) / 3;  // per node
  const double acked = static_cast<double>(after.acked - before.acked);
  r.syncs_per_node_per_s = syncs / seconds;
  r.syncs_per_node_per_write = acked > 0 ? syncs / acked : 0;
  r.writes_per_s = acked / seconds;
  r.cycles_per_node_per_s = static_cast<double>(after.cycles - before.cycles) / 3 / seconds;
  return r;
}

void Report() {
  const int seeds = absl::GetFlag(FLAGS_seeds);
  std::printf("%d groups x 3 nodes, a write per group every %d ms offered, %d s measured after "
              "%d s warm-up; per node\n",
              absl::GetFlag(FLAGS_groups), absl::GetFlag(FLAGS_interval_ms),
              absl::GetFlag(FLAGS_measure_s), absl::GetFlag(FLAGS_warmup_s));
  std::printf("%-14s %-10s %6s %14s %16s %14s %12s\n", "layout", "disk lat.", "seed",
              "syncs/s", "syncs/write", "writes/s", "cycles/s");
  for (absl::Duration latency : {absl::ZeroDuration(), absl::Milliseconds(1)}) {
    double base_syncs = 0;
    double base_per_write = 0;
    for (bool shared : {false, true}) {
      double sum_syncs = 0, sum_per_write = 0, sum_writes = 0;
      for (int s = 1; s <= seeds; ++s) {
        const Result r = Run(static_cast<uint64_t>(s), shared, latency);
        std::printf("%-14s %-10s %6d %14.0f %16.3f %14.0f %12.0f%s\n",
                    shared ? "shared log" : "WAL per group",
                    absl::FormatDuration(latency).c_str(), s, r.syncs_per_node_per_s,
                    r.syncs_per_node_per_write, r.writes_per_s, r.cycles_per_node_per_s,
                    r.ok ? "" : "  (a group had no leader)");
        sum_syncs += r.syncs_per_node_per_s;
        sum_per_write += r.syncs_per_node_per_write;
        sum_writes += r.writes_per_s;
      }
      const double syncs = sum_syncs / seeds, per_write = sum_per_write / seeds;
      std::printf("%-14s %-10s %6s %14.0f %16.3f %14.0f", shared ? "shared log" : "WAL per group",
                  absl::FormatDuration(latency).c_str(), "mean", syncs, per_write,
                  sum_writes / seeds);
      if (shared) {
        std::printf("   (%.1fx fewer syncs/s, %.1fx fewer per write)", base_syncs / syncs,
                    base_per_write / per_write);
      } else {
        base_syncs = syncs;
        base_per_write = per_write;
      }
      std::printf("\n");
    }
  }
}

}  // namespace
}  // namespace crema::raft

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  crema::raft::Report();
  return 0;
}
