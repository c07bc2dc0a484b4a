// HillClimber: adapts the W-TinyLFU admission window size to the workload.
//
// W-TinyLFU splits capacity between a small LRU "window" (good for recency-biased workloads and
// bursts) and the TinyLFU-guarded main space (good for frequency-biased ones). The best split
// depends on the workload, so, as Caffeine does, the cache can climb the hit-rate curve (an
// option, `WindowAdaptation::kHillClimbing`; the default is window_tuner.h, which met more of the
// reference hit-ratio targets, see docs/cache.md):
//
//   * it samples the hit rate over a period of `sample_size` accesses;
//   * after each period it steps the window size by `step` (a weight, positive = grow);
//   * if the hit rate went up (or stayed), the next step keeps the direction; if it went down, the
//     direction reverses;
//   * each step decays geometrically (x 98/100) so the climber settles; a hit-rate change of 5
//     points or more restarts it with a full step (6.25% of capacity) in the current direction,
//     because the workload probably changed.
//
// Hit rates and steps are integers (parts per million, weight units), so the climber's decisions
// are identical on every machine.
//
// Reference: B. Manes' description of Caffeine's adaptive W-TinyLFU and G. Einziger, O. Eytan,
// R. Friedman, B. Manes, "Adaptive Software Cache Management", Middleware 2018.
//
// Thread safety: none.
#ifndef CREMA_CACHE_HILL_CLIMBER_H_
#define CREMA_CACHE_HILL_CLIMBER_H_

#include <cstdint>

namespace crema::cache {

class HillClimber {
 public:
  static constexpr int64_t kPartsPerMillion = 1'000'000;
  // A change of hit rate at least this large restarts the climb with a full step.
  static constexpr int64_t kRestartThresholdPpm = 50'000;  // 5 points.
  // A full step is capacity / kFullStepDivisor (6.25%).
  static constexpr int64_t kFullStepDivisor = 16;
  // Each step is the previous one times kDecayNumerator / kDecayDenominator.
  static constexpr int64_t kDecayNumerator = 98;
  static constexpr int64_t kDecayDenominator = 100;

  // REQUIRES: capacity > 0, sample_size > 0.
  HillClimber(int64_t capacity, int64_t sample_size);

  // Records one access. Returns the window adjustment (weight units; > 0 grow, < 0 shrink) at the
  // end of a sample period, and 0 otherwise.
  int64_t Record(bool hit) {
    if (hit) ++hits_;
    if (++requests_ < sample_size_) return 0;
    return EndSample();
  }

  int64_t step() const { return step_; }
  int64_t previous_hit_rate_ppm() const { return previous_hit_rate_ppm_; }
  int64_t sample_size() const { return sample_size_; }

 private:
  int64_t EndSample();
  int64_t FullStep() const;

  int64_t capacity_;
  int64_t sample_size_;
  int64_t hits_ = 0;
  int64_t requests_ = 0;
  int64_t previous_hit_rate_ppm_ = 0;
  int64_t step_;  // The next adjustment if the hit rate does not drop; sign is the direction.
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_HILL_CLIMBER_H_
