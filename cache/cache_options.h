// Configuration and observation types for LocalCache (see local_cache.h).
#ifndef CREMA_CACHE_CACHE_OPTIONS_H_
#define CREMA_CACHE_CACHE_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace crema::cache {

// Why an entry left the cache; the removal listener gets exactly one call per removed entry.
enum class RemovalCause {
  kExplicit,  // Invalidate, InvalidateAll, InvalidateIf.
  kReplaced,  // Put over an existing value (the listener sees the old value).
  kExpired,   // Time-to-live, time-to-idle or per-entry expiry passed.
  kSize,      // Evicted to respect the capacity (count or weight).
};

const char* RemovalCauseName(RemovalCause cause);

// Per-entry expiry decided by the user, as Caffeine's `Expiry`. Each method returns how long from
// now the entry stays live: absl::InfiniteDuration() for never, <= 0 for "already expired".
// Combined with the cache-wide limits: an entry expires at the earliest of the three deadlines.
class Expiry {
 public:
  virtual ~Expiry() = default;
  // A new entry was written.
  virtual absl::Duration AfterCreate(std::string_view key, std::string_view value) = 0;
  // An existing entry was overwritten; `remaining` is its current remaining time.
  virtual absl::Duration AfterUpdate(std::string_view key, std::string_view value,
                                     absl::Duration remaining) {
    (void)remaining;
    return AfterCreate(key, value);
  }
  // An entry was read; return `remaining` to leave its expiry alone.
  virtual absl::Duration AfterRead(std::string_view key, std::string_view value,
                                   absl::Duration remaining) {
    (void)key;
    (void)value;
    return remaining;
  }
};

// Returns the weight of an entry in the capacity's unit (e.g. bytes). Must be deterministic.
using Weigher = absl::AnyInvocable<uint32_t(std::string_view key, std::string_view value) const>;

// Told about every removed entry. The views are valid only during the call. REQUIRES: the listener
// does not call back into the cache (asserted): it runs in the middle of a cache operation.
using RemovalListener =
    absl::AnyInvocable<void(std::string_view key, std::string_view value, RemovalCause cause)>;

// Who removes entries to respect the capacity.
enum class EvictionMode {
  // Every write evicts at once, by the W-TinyLFU policy (a standalone cache).
  kAutomatic,
  // Writes never evict: the total weight may exceed max_weight until the owner removes the
  // entries that `LocalCache::EvictionCandidates` proposes, with `LocalCache::Evict`. For a
  // replicated cache, where eviction must be a decision carried by the log (chosen by one
  // replica's policy, applied by all), never one each replica takes on its own.
  kDeferred,
};

// How the policy adapts its admission window (and its shape) to the workload (local_cache.h).
enum class WindowAdaptation {
  // Sampled shadow caches of a grid of configurations; the best one's is adopted
  // (policy_shadows.h). The default.
  kMiniSimulation,
  kShadowQueues,  // Per miss, from shadow hits on keys each side recently lost (window_tuner.h).
  kHillClimbing,  // Per sample period, from the hit rate's change (hill_climber.h, as Caffeine).
};

struct CacheOptions {
  // The capacity: the maximum number of entries, or with a weigher the maximum total weight.
  // REQUIRES: > 0.
  int64_t max_weight = 0;
  // Weight of each entry; unset means every entry weighs 1 (capacity by count).
  Weigher weigher;

  // Cache-wide expiry: since the last write, and since the last read or write.
  absl::Duration expire_after_write = absl::InfiniteDuration();
  absl::Duration expire_after_access = absl::InfiniteDuration();
  // Per-entry expiry; a per-put TTL (`Put(key, value, ttl)`) overrides it for that write.
  std::unique_ptr<Expiry> expiry;

  RemovalListener removal_listener;

  EvictionMode eviction = EvictionMode::kAutomatic;

  // Initial admission window, in percent of max_weight (W-TinyLFU's default is 1%).
  int initial_window_percent = 1;
  // Adapt the window (otherwise it keeps its initial size), and how.
  bool adaptive_window = true;
  WindowAdaptation window_adaptation = WindowAdaptation::kMiniSimulation;
  // Accesses per hill-climbing sample (kHillClimbing only); 0 means 10 x capacity in entries.
  int64_t climber_sample_size = 0;
  // Seed of the admission lottery that defends against hash flooding (see local_cache.h).
  uint64_t admission_seed = 0x6372656d61;  // "crema"
};

// Counters since the cache was created. All reads count as a hit or a miss (GetIfPresent, Get,
// GetWith); a waiter that joins an in-flight load counts as a miss.
struct CacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t removals_explicit = 0;
  int64_t removals_replaced = 0;
  int64_t removals_expired = 0;
  int64_t removals_size = 0;  // Evictions for capacity.
  int64_t load_successes = 0;
  int64_t load_failures = 0;
  absl::Duration total_load_time = absl::ZeroDuration();  // Monotonic clock time in loaders.

  int64_t requests() const { return hits + misses; }
  int64_t evictions() const { return removals_size + removals_expired; }
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_CACHE_OPTIONS_H_
