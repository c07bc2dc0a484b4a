#include "sim/sim_clock.h"

#include <cassert>

namespace crema::sim {

namespace {
constexpr int64_t kPpm = 1'000'000;
}  // namespace

SimClock::SimClock(const int64_t* virtual_now_ns, absl::Duration wall_offset, int64_t drift_ppm)
    : virtual_now_ns_(virtual_now_ns), wall_offset_(wall_offset), drift_ppm_(drift_ppm) {
  assert(drift_ppm_ >= -kMaxDriftPpm && drift_ppm_ <= kMaxDriftPpm);
  restart_ns_ = *virtual_now_ns_;
}

int64_t SimClock::Scaled(int64_t virtual_ns) const {
  const __int128 scaled = static_cast<__int128>(virtual_ns) * (kPpm + drift_ppm_);
  // Floor division (virtual_ns >= 0 here, so truncation is floor).
  return static_cast<int64_t>(scaled / kPpm);
}

absl::Time SimClock::MonotonicNow() const {
  const int64_t elapsed = *virtual_now_ns_ - restart_ns_;
  assert(elapsed >= 0);
  return absl::UnixEpoch() + monotonic_epoch_ + absl::Nanoseconds(Scaled(elapsed));
}

absl::Time SimClock::Now() const {
  ++wall_reads_;
  if (stepped_) ++wall_reads_after_step_;
  return WallEpoch() + absl::Nanoseconds(Scaled(*virtual_now_ns_)) + wall_offset_;
}

void SimClock::Restart(absl::Duration monotonic_epoch) {
  restart_ns_ = *virtual_now_ns_;
  monotonic_epoch_ = monotonic_epoch;
}

absl::Duration SimClock::ToVirtualDelay(absl::Duration local_delay) const {
  assert(local_delay >= absl::ZeroDuration());
  if (local_delay == absl::InfiniteDuration()) return local_delay;
  // Round a sub-nanosecond remainder up: a timer must never fire before its deadline, or a fiber
  // waiting for that deadline wakes early and re-waits forever at one virtual instant.
  const __int128 local_ns = absl::ToInt64Nanoseconds(absl::Ceil(local_delay, absl::Nanoseconds(1)));
  const __int128 rate = kPpm + drift_ppm_;
  return absl::Nanoseconds(static_cast<int64_t>((local_ns * kPpm + rate - 1) / rate));
}

}  // namespace crema::sim
