// Anti-entropy cost and convergence after a partition, in the simulator (simulated time; bytes
// are the exchange messages' sizes, both directions, as EventualStats::exchange_bytes counts them).
//
// For each divergence D: a 3-node cluster (N = 3) holds `shared` keys written at ALL; node 3 is
// isolated, D new keys are written at W = 2 (hinted hand-off off, so only anti-entropy repairs);
// the partition heals; we measure simulated time until every replica of every key converged, the
// exchange bytes spent meanwhile, the keys moved, and bytes per repaired key. An idle line (D = 0)
// gives the cost of exchanges that find nothing, over the same kind of window.
//
//   bazel run -c opt //sim/scenarios/dynamo:anti_entropy_benchmark -- [seed]
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "sim/scenarios/dynamo/dynamo_cluster.h"

namespace crema::dynamo {
namespace {

struct Totals {
  uint64_t bytes = 0, moved = 0, exchanges = 0;
};

Totals Sum(DynamoCluster& cluster) {
  Totals t;
  for (NodeId id : cluster.servers()) {
    const eventual::EventualStats& s = cluster.node(id)->stats();
    t.bytes += s.exchange_bytes;
    t.moved += s.ae_keys_pushed + s.ae_keys_pulled;
    t.exchanges += s.exchanges;
  }
  return t;
}

int Run(uint64_t seed, int shared, int diverged) {
  DynamoClusterOptions o;
  o.sim.seed = seed;
  o.servers = 3;
  o.eventual.hint_replay_interval = absl::Hours(1);  // anti-entropy alone
  DynamoCluster cluster(o);
  if (!cluster.RunUntil([&] { return cluster.MembershipAgrees() && cluster.AllTrusted(); }, absl::Seconds(60))) {
    std::fprintf(stderr, "cluster did not settle\n");
    return 1;
  }
  for (int i = 0; i < shared; ++i) {
    if (!cluster.Put(1, absl::StrCat("shared", i), "value-of-64-bytes-................................................", {eventual::Consistency::All()}).ok()) {
      std::fprintf(stderr, "shared write failed\n");
      return 1;
    }
  }
  cluster.sim().network().SetPartition({{3, 1}, {1, 3}, {3, 2}, {2, 3}}, "isolate 3");
  for (int i = 0; i < diverged; ++i) {
    if (!cluster.Put(1, absl::StrCat("diverged", i), "value-of-64-bytes-................................................", {eventual::Consistency::Count(2)}).ok()) {
      std::fprintf(stderr, "diverged write failed\n");
      return 1;
    }
  }
  const Totals before = Sum(cluster);
  const absl::Duration healed = cluster.sim().elapsed();
  cluster.sim().network().HealPartition();
  std::string why;
  if (!cluster.RunUntil([&] { return cluster.Converged(&why); }, absl::Minutes(10))) {
    std::fprintf(stderr, "did not converge: %s\n", why.c_str());
    return 1;
  }
  const absl::Duration took = cluster.sim().elapsed() - healed;
  const Totals after = Sum(cluster);
  const uint64_t bytes = after.bytes - before.bytes, moved = after.moved - before.moved;
  std::printf("shared=%d diverged=%d converge_ms=%lld exchanges=%llu bytes=%llu keys_moved=%llu bytes_per_repaired_key=%s\n",
              shared, diverged, static_cast<long long>(absl::ToInt64Milliseconds(took)),
              static_cast<unsigned long long>(after.exchanges - before.exchanges),
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(moved),
              diverged == 0 ? "-" : absl::StrCat(bytes / static_cast<uint64_t>(diverged)).c_str());
  return 0;
}

}  // namespace
}  // namespace crema::dynamo

int main(int argc, char** argv) {
  const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  int rc = 0;
  for (int diverged : {0, 1, 10, 100, 1000}) rc |= crema::dynamo::Run(seed, 2000, diverged);
  return rc;
}
