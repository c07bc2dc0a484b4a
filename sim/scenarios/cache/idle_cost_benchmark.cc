// What an idle cluster costs: N shards on 3 nodes (default 10,000), nothing written. After the
// cluster bootstrapped and every group went quiet, measures over `--measure` of simulated time:
// network messages per second (all services, and Raft alone), simulator events per simulated
// second, and host CPU seconds per simulated second (the whole cluster's node code runs on this
// one thread, so this is the cluster's CPU cost, not one node's).
//
//   bazel build -c opt //sim/scenarios/cache:idle_cost_benchmark
//   bazel-bin/sim/scenarios/cache/idle_cost_benchmark --shards=10000
//
// (A tool, not node code: it reads the real clock to time the run.)
#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/scenarios/cache/group_checker.h"
#include "sim/simulator.h"

ABSL_FLAG(int, shards, 10'000, "shards in the cluster");
ABSL_FLAG(int, nodes, 3, "nodes");
ABSL_FLAG(absl::Duration, measure, absl::Seconds(60), "simulated time measured once quiet");
ABSL_FLAG(bool, quiesce_wait, true, "wait until every group is quiet before measuring");

namespace crema::sim {
namespace {

int Quiet(Simulator& sim, int nodes, int* groups) {
  int quiet = 0;
  *groups = 0;
  for (NodeId id = 1; id <= static_cast<NodeId>(nodes); ++id) {
    CacheNodeProgram* p = GetCacheNodeProgram(sim, id);
    if (p == nullptr || p->node() == nullptr) continue;
    for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
      ++*groups;
      if (r.driver != nullptr && r.driver->has_core() && r.driver->core().quiesced()) ++quiet;
    }
  }
  return quiet;
}

// Raft envelopes sent so far and groups still awake, summed over the cluster's hosts.
std::pair<uint64_t, uint64_t> RaftTraffic(Simulator& sim, int nodes) {
  uint64_t envelopes = 0, awake = 0;
  for (NodeId id = 1; id <= static_cast<NodeId>(nodes); ++id) {
    CacheNodeProgram* p = GetCacheNodeProgram(sim, id);
    if (p == nullptr || p->node() == nullptr) continue;
    envelopes += p->node()->raft_host().stats().envelopes_sent;
    awake += p->node()->raft_host().stats().awake_groups;
  }
  return {envelopes, awake};
}

int Run() {
  const int nodes = absl::GetFlag(FLAGS_nodes);
  SimOptions options;
  options.seed = 1;
  Simulator sim(options);
  CacheConfig config;
  for (int i = 1; i <= nodes; ++i) config.bootstrap.push_back(static_cast<NodeId>(i));
  config.num_shards = static_cast<uint32_t>(absl::GetFlag(FLAGS_shards));
  config.max_capacity = 1'000'000;
  CacheNodeOptions node_options;
  for (NodeId id : config.bootstrap) {
    CacheConfig c = config;
    c.node_id = id;
    sim.AddNode(id, [c, node_options](Env env) {
      return std::make_unique<CacheNodeProgram>(env, c, node_options);
    });
  }
  const absl::Time start = absl::Now();
  sim.StartAll();
  GroupChecker checker(&sim, config.bootstrap);
  if (!sim.RunUntil([&] { return checker.LeaderMap() != nullptr; }, absl::Minutes(10))) {
    std::fprintf(stderr, "the cluster did not bootstrap\n");
    return 1;
  }
  int groups = 0;
  const absl::Duration setup_limit = absl::Minutes(20);
  const bool quiet = !absl::GetFlag(FLAGS_quiesce_wait) ||
                     sim.RunUntil([&] { return Quiet(sim, nodes, &groups) == groups; },
                                  setup_limit);
  const int quiet_groups = Quiet(sim, nodes, &groups);
  std::printf("setup: %d nodes, %d shards, %d replicas, %d quiet (%s) after %.0f s simulated, "
              "%.1f s wall\n",
              nodes, absl::GetFlag(FLAGS_shards), groups, quiet_groups, quiet ? "all" : "not all",
              absl::ToDoubleSeconds(sim.elapsed()), absl::ToDoubleSeconds(absl::Now() - start));
  const NetworkStats before = sim.network().stats();
  const uint64_t events_before = sim.events_run();
  const uint64_t raft_before = RaftTraffic(sim, nodes).first;
  const absl::Time wall_start = absl::Now();
  const absl::Duration measure = absl::GetFlag(FLAGS_measure);
  sim.RunFor(measure);
  const double wall = absl::ToDoubleSeconds(absl::Now() - wall_start);
  const double seconds = absl::ToDoubleSeconds(measure);
  const NetworkStats& after = sim.network().stats();
  std::printf("idle for %.0f s simulated: %.2f messages/s (%.2f per node), %.1f events/s, "
              "%.4f host CPU s per simulated s (whole cluster)\n",
              seconds, (after.sent - before.sent) / seconds,
              (after.sent - before.sent) / seconds / nodes,
              (sim.events_run() - events_before) / seconds, wall / seconds);
  const auto [raft_after, awake] = RaftTraffic(sim, nodes);
  uint64_t transfers = 0, ticks = 0;
  for (NodeId id = 1; id <= static_cast<NodeId>(nodes); ++id) {
    if (CacheNodeProgram* p = GetCacheNodeProgram(sim, id); p != nullptr && p->node() != nullptr) {
      transfers += p->node()->stats().leader_transfers;
      ticks += p->node()->stats().ticks_proposed;
    }
  }
  std::printf("of which Raft: %.2f envelopes/s; groups awake at the end: %llu of %d; since the "
              "start: %llu leadership transfers (balancing), %llu expiry ticks\n",
              (raft_after - raft_before) / seconds, static_cast<unsigned long long>(awake), groups,
              static_cast<unsigned long long>(transfers), static_cast<unsigned long long>(ticks));
  return 0;
}

}  // namespace
}  // namespace crema::sim

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::sim::Run();
}
