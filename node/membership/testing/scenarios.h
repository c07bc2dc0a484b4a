// Measured scenarios on SimCluster, shared by cluster_test (small, asserted) and membership_bench
// (big sweeps, reported). Each runs one seeded cluster from scratch and returns what it measured;
// a run that does not finish within its limit reports +infinity.
#ifndef CREMA_NODE_MEMBERSHIP_TESTING_SCENARIOS_H_
#define CREMA_NODE_MEMBERSHIP_TESTING_SCENARIOS_H_

#include <cstdint>

#include "absl/time/time.h"
#include "node/membership/swim.h"
#include "node/membership/testing/sim_cluster.h"

namespace crema::membership::testing {

struct DetectionResult {
  double first_suspected_s = 0;  // crash → the first member suspects the victim
  double first_dead_s = 0;       // crash → the first member declares it dead
  double all_dead_s = 0;         // crash → every live member has declared it dead
};

// Starts n nodes, waits for one view, crashes node n and measures detection.
DetectionResult MeasureDetection(uint64_t seed, int n, const SwimConfig& config,
                                 const NetworkConfig& network = {});

// Starts n nodes, lets join traffic settle, changes node 1's metadata, and returns the probe
// periods until every other node has applied it.
double MeasureDissemination(uint64_t seed, int n, const SwimConfig& config,
                            const NetworkConfig& network = {});

struct SteadyStateResult {
  int suspicions = 0;          // kSuspected events, summed over observers
  int false_deaths = 0;        // kDead events (nobody crashed)
  double messages_per_member_per_s = 0;
  double bytes_per_member_per_s = 0;
  bool converged_after = false;  // one view again within 60 s of the loss stopping
};

// Starts n nodes, then runs `duration` with the given loss (no crashes) and counts.
SteadyStateResult MeasureSteadyState(uint64_t seed, int n, const SwimConfig& config,
                                     uint64_t loss_percent, absl::Duration duration);

}  // namespace crema::membership::testing

#endif  // CREMA_NODE_MEMBERSHIP_TESTING_SCENARIOS_H_
