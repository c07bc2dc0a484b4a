// Helpers shared by LocalCache's implementation files (local_cache*.cc). Not part of the API.
#ifndef CREMA_CACHE_LOCAL_CACHE_INTERNAL_H_
#define CREMA_CACHE_LOCAL_CACHE_INTERNAL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cache/entry.h"
#include "cache/timer_wheel.h"

// Crashes loudly: programmer errors must not pass silently, even with NDEBUG.
#define CREMA_CACHE_CHECK(condition)                                                     \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: cache invariant violated: %s\n", __FILE__, __LINE__, \
                   #condition);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace crema::cache::internal {

inline constexpr int64_t kNever = TimerWheel::kNever;

// now + d, saturating to kNever; a non-positive d gives `now` (due at once).
inline int64_t DeadlineAfterNs(int64_t now_ns, int64_t d_ns) {
  if (d_ns == kNever) return kNever;
  if (d_ns <= 0) return now_ns;
  if (d_ns >= kNever - now_ns) return kNever;
  return now_ns + d_ns;
}

}  // namespace crema::cache::internal

#endif  // CREMA_CACHE_LOCAL_CACHE_INTERNAL_H_
