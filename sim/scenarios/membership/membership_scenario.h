// The "membership" scenario for //tools:sim: a SWIM cluster of MembershipNodes on the simulator,
// checked for crash detection within a derived bound, one view after healing, and the
// incarnation/precedence rules on every event.
//
//   1. Setup: N nodes (options.nodes, or 5-20 from the seed; at least 3), seeds 1..3; per-message
//      and clock faults from the seed's swarm configuration (sim/fault_config.h: loss, duplication,
//      latency with jitter/long tails, i.e. reordering; per-node clock offset and drift).
//   2. Join: StartAll; one view within HealBound(N).
//   3. Crash phase (unless --no_crashes): 1..max(1, (N−1)/4) random nodes crash at once; if pauses
//      are on, one other node stalls (GC-like pause of 0.2-3 s) meanwhile; if clogging is on, 1-3
//      random links are clogged for up to max_fault_duration (held messages arrive late and out of
//      order). Every up node must see every crashed node as dead within DetectionBound(N) (+ the
//      stall or clog).
//   4. Partition phase (unless --no_partitions): a random shape (sim/partitions.h) over all the
//      nodes for 5-90 s; the crashed nodes restart halfway through (they rejoin at a higher
//      incarnation). Then the partition heals.
//   5. Liveness: one view — every node up, each sees exactly all N as live — within HealBound(N).
//   Throughout: every event a node delivers obeys SWIM's rules as that node saw the member before
//   (no event about oneself; suspect/dead/left never at a lower incarnation than last seen; alive
//   again and metadata updates only at a higher incarnation).
//
// Thread safety: none.
#ifndef CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SCENARIO_H_
#define CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SCENARIO_H_

#include "absl/time/time.h"
#include "sim/scenario.h"

namespace crema::membership {

struct MembershipScenarioParams {
  absl::Duration min_partition = absl::Seconds(5);
  absl::Duration max_partition = absl::Seconds(90);
  absl::Duration min_stall = absl::Milliseconds(200);
  absl::Duration max_stall = absl::Seconds(3);
};

sim::ScenarioResult RunMembershipScenario(const sim::ScenarioOptions& options,
                                          const MembershipScenarioParams& params = {});

// Registers "membership".
void RegisterMembershipScenario(sim::ScenarioRegistry& registry);

}  // namespace crema::membership

#endif  // CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SCENARIO_H_
