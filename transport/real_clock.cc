#include "transport/real_clock.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>

namespace crema::transport {
namespace {

absl::Time Read(clockid_t clock_id) {
  timespec ts;
  if (clock_gettime(clock_id, &ts) != 0) {
    std::perror("clock_gettime");  // cannot happen for these clocks on Linux
    std::abort();
  }
  return absl::UnixEpoch() + absl::DurationFromTimespec(ts);
}

}  // namespace

absl::Time RealClock::MonotonicNow() const { return Read(CLOCK_MONOTONIC); }

absl::Time RealClock::Now() const { return Read(CLOCK_REALTIME); }

}  // namespace crema::transport
