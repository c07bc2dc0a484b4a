// SimClock: a node's crema::Clock over the simulator's virtual time, with offset, drift and steps.
//
// With g = virtual nanoseconds since the run began (read through a pointer the simulator owns):
//   MonotonicNow() = monotonic_epoch + (g - g_restart) * (1e6 + drift_ppm) / 1e6
//   Now()          = kWallEpoch       + g * (1e6 + drift_ppm) / 1e6 + wall_offset
// `drift_ppm` is fixed per node (|drift| within the configured bound), so the node's clock runs fast
// or slow at a constant rate; `StepWall` moves wall time forwards or backwards (an NTP step) and
// never touches monotonic time, which never decreases while the node runs and restarts from a new
// arbitrary epoch after a crash (`Restart`). `ToVirtualDelay` converts a duration of this node's
// monotonic time into virtual time, rounding up, so a timer set for `d` fires when at least `d` of
// the node's monotonic time has passed.
//
// Thread safety: none.
#ifndef CREMA_SIM_SIM_CLOCK_H_
#define CREMA_SIM_SIM_CLOCK_H_

#include <cstdint>

#include "absl/time/time.h"
#include "node/clock.h"

namespace crema::sim {

class SimClock final : public Clock {
 public:
  static constexpr int64_t kMaxDriftPpm = 100'000;  // 10%: far beyond any real oscillator
  // Wall time at the start of every run (a fixed date, so runs are reproducible).
  static absl::Time WallEpoch() { return absl::FromUnixSeconds(1'767'225'600); }  // 2026-01-01

  // REQUIRES: |drift_ppm| <= kMaxDriftPpm; `virtual_now_ns` outlives the clock.
  SimClock(const int64_t* virtual_now_ns, absl::Duration wall_offset, int64_t drift_ppm);

  absl::Time MonotonicNow() const override;
  absl::Time Now() const override;

  void StepWall(absl::Duration step) {
    wall_offset_ += step;
    stepped_ = true;
  }
  // Starts a new incarnation: monotonic time continues from `monotonic_epoch` at this instant.
  void Restart(absl::Duration monotonic_epoch);
  absl::Duration ToVirtualDelay(absl::Duration local_delay) const;

  int64_t drift_ppm() const { return drift_ppm_; }
  absl::Duration wall_offset() const { return wall_offset_; }
  // Coverage (sim/coverage.h): wall-clock reads, and reads after the wall clock was stepped (a
  // step nobody reads never mattered).
  uint64_t wall_reads() const { return wall_reads_; }
  uint64_t wall_reads_after_step() const { return wall_reads_after_step_; }

 private:
  // Virtual nanoseconds scaled by this clock's rate (floor): non-decreasing in `virtual_ns`.
  int64_t Scaled(int64_t virtual_ns) const;

  const int64_t* virtual_now_ns_;
  absl::Duration wall_offset_;
  int64_t drift_ppm_;
  int64_t restart_ns_ = 0;
  absl::Duration monotonic_epoch_ = absl::Hours(1);
  bool stepped_ = false;
  mutable uint64_t wall_reads_ = 0;
  mutable uint64_t wall_reads_after_step_ = 0;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIM_CLOCK_H_
