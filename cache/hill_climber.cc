#include "cache/hill_climber.h"

#include <cassert>
#include <cstdlib>

namespace crema::cache {

HillClimber::HillClimber(int64_t capacity, int64_t sample_size)
    : capacity_(capacity), sample_size_(sample_size) {
  assert(capacity > 0);
  assert(sample_size > 0);
  // Start by growing the window: the initial window is tiny, so the first sample tells whether
  // recency helps.
  step_ = FullStep();
}

int64_t HillClimber::FullStep() const {
  const int64_t step = capacity_ / kFullStepDivisor;
  return step > 0 ? step : 1;
}

int64_t HillClimber::EndSample() {
  const int64_t hit_rate_ppm = hits_ * kPartsPerMillion / requests_;
  const int64_t change_ppm = hit_rate_ppm - previous_hit_rate_ppm_;
  // Keep the direction while the hit rate does not drop; reverse it when it does.
  const int64_t adjustment = change_ppm >= 0 ? step_ : -step_;
  if (std::llabs(change_ppm) >= kRestartThresholdPpm) {
    step_ = adjustment >= 0 ? FullStep() : -FullStep();
  } else {
    step_ = adjustment * kDecayNumerator / kDecayDenominator;
  }
  previous_hit_rate_ppm_ = hit_rate_ppm;
  hits_ = 0;
  requests_ = 0;
  return adjustment;
}

}  // namespace crema::cache
