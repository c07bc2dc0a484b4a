// Replay policies: cache simulators over integer keys, for measuring hit ratios on traces.
//
// `//tools:cache_trace` replays a trace through one of these and prints the hit ratio. Three
// policies:
//   * "lru":      a plain least-recently-used list (the baseline every paper reports);
//   * "arc":      Adaptive Replacement Cache, exactly as in Fig. 4 of N. Megiddo and D. S. Modha,
//                 "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX FAST 2003;
//   * "wtinylfu": Crema's LocalCache itself (key = the 8 little-endian bytes of the integer), so the
//                 numbers are those of the production code, not of a model of it.
// LRU and ARC exist only as baselines here; they are not used by Crema at run time.
//
// Every policy counts a miss-then-insert: Access(key) returns whether the key was cached, and
// caches it if it was not.
//
// Thread safety: none.
#ifndef CREMA_CACHE_REPLAY_POLICIES_H_
#define CREMA_CACHE_REPLAY_POLICIES_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace crema::cache {

class ReplayPolicy {
 public:
  virtual ~ReplayPolicy() = default;
  // Returns true on a hit; on a miss, inserts the key (evicting as the policy decides).
  virtual bool Access(uint64_t key) = 0;
};

// REQUIRES: capacity > 0. Names: "lru", "arc", "wtinylfu"; anything else is InvalidArgument.
absl::StatusOr<std::unique_ptr<ReplayPolicy>> MakeReplayPolicy(std::string_view name,
                                                               int64_t capacity);

// LRU hit counts of many cache sizes in one pass over `keys` (Mattson's stack algorithm: a request
// hits an LRU cache of C entries iff fewer than C distinct keys were used since its key's last
// use). result[i] is the number of hits of an LRU cache of sizes[i] entries.
std::vector<int64_t> LruHitsBySize(const std::vector<uint64_t>& keys,
                                   const std::vector<int64_t>& sizes);

// Hit and request counts of a replay, and the hit ratio in percent.
struct ReplayResult {
  int64_t requests = 0;
  int64_t hits = 0;
  double hit_ratio_percent() const {
    return requests == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(requests);
  }
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_REPLAY_POLICIES_H_
