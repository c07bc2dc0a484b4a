#include "node/membership/testing/scenarios.h"

#include <cmath>

#include "absl/container/btree_map.h"

namespace crema::membership::testing {

DetectionResult MeasureDetection(uint64_t seed, int n, const SwimConfig& config,
                                 const NetworkConfig& network) {
  DetectionResult result{INFINITY, INFINITY, INFINITY};
  SimCluster cluster(seed, config, network);
  if (!cluster.StartConverged(n)) return result;
  const NodeId victim = static_cast<NodeId>(n);  // not the seed node
  absl::btree_map<NodeId, absl::Time> declared;
  absl::Time first_suspected = absl::InfiniteFuture();
  cluster.set_observer([&](NodeId at, const MembershipEvent& e, absl::Time t) {
    if (e.member.id != victim) return;
    if (e.kind == MembershipEventKind::kDead) declared.emplace(at, t);
    if (e.kind == MembershipEventKind::kSuspected) first_suspected = std::min(first_suspected, t);
  });
  cluster.Crash(victim);
  const absl::Time crash = cluster.now();
  const bool all = cluster.RunUntil(
      [&] { return declared.size() == static_cast<size_t>(n - 1); }, absl::Minutes(5));
  if (first_suspected != absl::InfiniteFuture()) {
    result.first_suspected_s = absl::ToDoubleSeconds(first_suspected - crash);
  }
  if (declared.empty()) return result;
  absl::Time first = absl::InfiniteFuture();
  absl::Time last = crash;
  for (const auto& [id, t] : declared) {
    first = std::min(first, t);
    last = std::max(last, t);
  }
  result.first_dead_s = absl::ToDoubleSeconds(first - crash);
  if (all) result.all_dead_s = absl::ToDoubleSeconds(last - crash);
  return result;
}

double MeasureDissemination(uint64_t seed, int n, const SwimConfig& config,
                            const NetworkConfig& network) {
  SimCluster cluster(seed, config, network);
  if (!cluster.StartConverged(n)) return INFINITY;
  cluster.RunFor(absl::Minutes(1));  // let join gossip die down
  int informed = 0;
  cluster.set_observer([&](NodeId, const MembershipEvent& e, absl::Time) {
    informed += e.kind == MembershipEventKind::kUpdated && e.member.id == 1;
  });
  const absl::Time start = cluster.now();
  if (!cluster.node(1).UpdateMetadata({{"shards", "1-7"}}, start).ok()) return INFINITY;
  if (!cluster.RunUntil([&] { return informed == n - 1; }, absl::Minutes(5))) return INFINITY;
  return absl::FDivDuration(cluster.now() - start, config.probe_interval);
}

SteadyStateResult MeasureSteadyState(uint64_t seed, int n, const SwimConfig& config,
                                     uint64_t loss_percent, absl::Duration duration) {
  SteadyStateResult result;
  SimCluster cluster(seed, config, NetworkConfig{});
  if (!cluster.StartConverged(n)) return result;
  cluster.RunFor(absl::Seconds(30));  // past the join burst
  cluster.set_observer([&](NodeId, const MembershipEvent& e, absl::Time) {
    result.false_deaths += e.kind == MembershipEventKind::kDead;
    result.suspicions += e.kind == MembershipEventKind::kSuspected;
  });
  uint64_t messages_before = 0;
  uint64_t bytes_before = 0;
  for (NodeId id : cluster.UpNodes()) {
    messages_before += cluster.node(id).stats().messages_sent;
    bytes_before += cluster.node(id).stats().bytes_sent;
  }
  cluster.SetLoss(loss_percent, 100);
  cluster.RunFor(duration);
  uint64_t messages = 0;
  uint64_t bytes = 0;
  for (NodeId id : cluster.UpNodes()) {
    messages += cluster.node(id).stats().messages_sent;
    bytes += cluster.node(id).stats().bytes_sent;
  }
  const double member_seconds = n * absl::ToDoubleSeconds(duration);
  result.messages_per_member_per_s = (messages - messages_before) / member_seconds;
  result.bytes_per_member_per_s = (bytes - bytes_before) / member_seconds;
  cluster.SetLoss(0, 100);
  result.converged_after = cluster.RunUntil([&] { return cluster.ViewsAgree(); }, absl::Minutes(1));
  return result;
}

}  // namespace crema::membership::testing
