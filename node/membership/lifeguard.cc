#include "node/membership/lifeguard.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace crema::membership {

absl::Duration SuspicionMinTimeout(int suspicion_mult, size_t cluster_size,
                                   absl::Duration probe_interval) {
  assert(suspicion_mult >= 1);
  const double scale =
      std::max(1.0, std::log10(static_cast<double>(std::max<size_t>(1, cluster_size))));
  return probe_interval * (suspicion_mult * scale);
}

absl::Duration SuspicionTimeout(absl::Duration min, absl::Duration max, int expected_confirmations,
                                int confirmations) {
  assert(min <= max);
  assert(expected_confirmations >= 0 && confirmations >= 0);
  if (expected_confirmations == 0) return min;
  const double fraction = std::log(static_cast<double>(confirmations) + 1.0) /
                          std::log(static_cast<double>(expected_confirmations) + 1.0);
  const absl::Duration timeout = max - (max - min) * std::min(1.0, fraction);
  // Round down to whole milliseconds so timings stay readable and exactly reproducible.
  return std::max(min, absl::Floor(timeout, absl::Milliseconds(1)));
}

LocalHealth::LocalHealth(int max_score) : max_score_(max_score) { assert(max_score >= 0); }

void LocalHealth::Apply(int delta) {
  score_ = std::clamp(score_ + delta, 0, max_score_);
}

}  // namespace crema::membership
