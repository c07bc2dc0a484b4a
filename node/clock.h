// Clock: the only way node logic learns the time.
//
// Contract:
//   * `MonotonicNow()` never decreases while the node runs. Its epoch is arbitrary (it is not wall
//     time) and it restarts from an arbitrary value after a crash. Its rate may drift from real time
//     by a bounded amount (the simulator models drift up to a configured bound, in ppm); code that
//     relies on elapsed time for safety (leader leases) must allow for that bound explicitly.
//   * `Now()` is wall time. It may be offset from other nodes' wall time, drift, and *step*
//     forwards or backwards at any moment. Never use it to measure an interval.
//   * Timers are not here: a fiber sleeps through `Executor::Sleep`, which counts monotonic time.
//
// Implementations: sim::SimClock (virtual time with per-node offset, drift and steps) and
// transport::RealClock (CLOCK_MONOTONIC / CLOCK_REALTIME).
#ifndef CREMA_NODE_CLOCK_H_
#define CREMA_NODE_CLOCK_H_

#include "absl/time/time.h"

namespace crema {

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time since an arbitrary epoch; never decreases while this node runs.
  virtual absl::Time MonotonicNow() const = 0;

  // Wall-clock time; may be skewed and may step in either direction.
  virtual absl::Time Now() const = 0;
};

// A clock that only moves when told to: for unit tests of pure cores and the cache.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::UnixEpoch() + absl::Hours(24)) : now_(start) {}
  absl::Time MonotonicNow() const override { return now_; }
  absl::Time Now() const override { return now_ + wall_offset_; }
  // REQUIRES: d >= 0 (monotonic time never goes back).
  void Advance(absl::Duration d);
  // Steps wall time only (monotonic time is unaffected), as an NTP step would.
  void StepWall(absl::Duration d) { wall_offset_ += d; }

 private:
  absl::Time now_;
  absl::Duration wall_offset_ = absl::ZeroDuration();
};

}  // namespace crema

#endif  // CREMA_NODE_CLOCK_H_
