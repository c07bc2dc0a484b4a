// RealClock: crema::Clock over the machine's clocks (production only).
//
// Contract:
//   * `MonotonicNow()` reads CLOCK_MONOTONIC, shown as an absl::Time whose epoch is the Unix epoch
//     plus the monotonic clock's raw value (so it is NOT wall time; only differences mean
//     anything). It never decreases. std::chrono::steady_clock, which Boost.Asio timers count,
//     is the same clock on Linux, so timers and `MonotonicNow()` agree.
//   * `Now()` reads CLOCK_REALTIME: it can step (NTP) and must never be used to measure intervals.
//
// Thread safety: safe to call from any thread (it has no state).
#ifndef CREMA_TRANSPORT_REAL_CLOCK_H_
#define CREMA_TRANSPORT_REAL_CLOCK_H_

#include "absl/time/time.h"
#include "node/clock.h"

namespace crema::transport {

class RealClock final : public Clock {
 public:
  absl::Time MonotonicNow() const override;
  absl::Time Now() const override;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_REAL_CLOCK_H_
