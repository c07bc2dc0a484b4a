// Lifeguard's two local mechanisms (Dadgar, Phillips, Currey, "Lifeguard: Local Health Awareness
// for More Accurate Failure Detection", DSN-W 2018), as small pure helpers used by the SWIM core.
//
// 1. Dynamic suspicion timeout ("LHA-Suspicion"). A suspicion starts with the long timeout `max`
//    and shrinks, as independent confirmations (suspect messages about the same member and
//    incarnation from distinct accusers) arrive, towards `min`:
//
//        timeout(c) = max(min, max − (max − min) · log(c + 1) / log(k + 1))
//
//    where k is the number of confirmations expected (the indirect-probe fan-out, capped by the
//    cluster size). With k = 0 the timeout is `min`. `min` itself is
//    suspicion_mult · max(1, log10(N)) · probe_interval (the SWIM/memberlist scaling with N).
//
// 2. Local health multiplier ("LHM", "LHA-Probe"). A node that fails to get acks or nacks it
//    expects is probably the slow one itself (CPU starved, overloaded network): its score rises,
//    and its probe interval and probe timeout are multiplied by (score + 1), so it accuses others
//    more slowly. Successful probes lower the score. The score stays within [0, max_score].
//
// Thread safety: plain values.
#ifndef CREMA_NODE_MEMBERSHIP_LIFEGUARD_H_
#define CREMA_NODE_MEMBERSHIP_LIFEGUARD_H_

#include <cstddef>

#include "absl/time/time.h"

namespace crema::membership {

// Minimum suspicion timeout for a cluster of `cluster_size` members. REQUIRES: suspicion_mult >= 1.
absl::Duration SuspicionMinTimeout(int suspicion_mult, size_t cluster_size,
                                   absl::Duration probe_interval);

// Lifeguard's timeout after `confirmations` independent confirmations.
// REQUIRES: min <= max, expected_confirmations >= 0, confirmations >= 0.
absl::Duration SuspicionTimeout(absl::Duration min, absl::Duration max, int expected_confirmations,
                                int confirmations);

class LocalHealth {
 public:
  explicit LocalHealth(int max_score);

  // Adds `delta` (may be negative) and clamps to [0, max_score].
  void Apply(int delta);

  int score() const { return score_; }
  int multiplier() const { return score_ + 1; }
  absl::Duration Scale(absl::Duration d) const { return d * multiplier(); }

 private:
  int max_score_;
  int score_ = 0;
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_LIFEGUARD_H_
