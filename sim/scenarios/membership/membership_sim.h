// MembershipSim: a cluster of MembershipNodes on the project simulator (sim/), for the membership
// scenario, its tests and the benchmark.
//
// Every node i in 1..N runs a MembershipNode (node/membership/driver/membership_node.h) on its own
// simulated Env, joining through seeds 1..min(3, N). All network faults (loss, duplication,
// latency/reordering, partitions, clogging), process faults (crash, restart, pause) and clock
// faults (offset, drift) come from the Simulator, which is exposed as `sim()`. Every membership
// event any node delivers is also reported to the observer with the virtual time it happened at.
//
// Checks are by polling (`RunUntil` checks `done` every `poll` of virtual time), because checking a
// 200-node view after every simulator event would dominate the run time; measured times are
// therefore accurate to one poll interval (100 ms by default) and the tests state that.
//
// Bounds derived from the protocol parameters (docs/membership.md, "Bounds on the real simulator"):
//   DetectionBound(N) — crash → every live member has declared the crashed member dead.
//   HealBound(N)      — partition healed → one view again.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SIM_H_
#define CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SIM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include "absl/time/time.h"
#include "node/membership/driver/membership_node.h"
#include "sim/simulator.h"

namespace crema::membership {

inline constexpr int kMaxSeedNodes = 3;

struct MembershipSimOptions {
  sim::SimOptions sim;  // seed, network faults, clock faults, trace output
  int nodes = 5;   // ids 1..nodes
  MembershipNodeConfig node;  // seeds are filled in (1..min(3, nodes))
};

// The time, on the node's monotonic clock, within which every live member has declared a crashed
// member dead (with overwhelming probability), under up to `max_drift_ppm` of clock drift:
//   10 periods until some member's probe of the victim fails: each of the N − 1 members probes one
//     target per period in randomised round-robin, so a given member goes unprobed for a period
//     with probability ≈ (1 − 1/(N−1))^(N−1) ≈ e^−1, for 10 periods ≈ e^−10 ≈ 5·10^−5,
//   + the maximum suspicion timeout, suspicion_max_mult · suspicion_mult · max(1, log10 N) periods
//     (Lifeguard; reached only with no independent confirmation),
//   + dissemination of the suspicion, which starts every member's own timer: 3 · log2 N periods
//     (measured ≈ 0.66 · log2 N with piggyback-only dissemination, under one period with the
//     gossip timer; kept as margin for loss and LHM-stretched periods),
//   + 5 periods of slack,
// all divided by (1 − drift), since a slow clock stretches every timer.
absl::Duration DetectionBound(int nodes, const SwimConfig& config, int64_t max_drift_ppm = 0);

// Partition healed → one view: the first push-pull across the healed cut happens within one
// push_pull_interval (every member pushes to one random dead member per interval) — or within
// seed_reconnect_interval once tombstones have expired — then refutations and revivals spread in
// O(log N) periods: max(push_pull, seed_reconnect) + 6 · log2 N periods + 10 periods, / (1 − drift).
absl::Duration HealBound(int nodes, const MembershipNodeConfig& config, int64_t max_drift_ppm = 0);

class MembershipSim {
 public:
  // (observer node, event, virtual time since the run began)
  using Observer = std::function<void(NodeId, const MembershipEvent&, absl::Duration)>;

  explicit MembershipSim(MembershipSimOptions options, Observer observer = nullptr);
  ~MembershipSim();

  sim::Simulator& sim() { return *sim_; }
  const std::vector<NodeId>& ids() const { return ids_; }
  // The node's driver, or nullptr while it is down.
  MembershipNode* node(NodeId id);
  // Nodes in state kUp (not down, not paused), ascending.
  std::vector<NodeId> UpNodes() const;

  // Runs until `done()` (checked every `poll`) or `limit`; returns done().
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit,
                absl::Duration poll = absl::Milliseconds(100));

  // True if no node is paused and every up node that has not left sees exactly the up,
  // not-left nodes as live.
  bool ViewsAgree();
  // Each node's view of every other node ("n3: 1 alive@0, 2 suspect@1, 4 absent, ..."), one node
  // per line: what a failed ViewsAgree needs to say.
  std::string DescribeViews();
  // True if every up node other than `victim` sees `victim` as dead, left or unknown.
  bool AllConsiderGone(NodeId victim);

  const MembershipSimOptions& options() const { return options_; }

 private:
  MembershipSimOptions options_;
  Observer observer_;
  std::vector<NodeId> ids_;
  std::unique_ptr<sim::Simulator> sim_;  // last: programs reference the observer
};

}  // namespace crema::membership

#endif  // CREMA_SIM_SCENARIOS_MEMBERSHIP_MEMBERSHIP_SIM_H_
