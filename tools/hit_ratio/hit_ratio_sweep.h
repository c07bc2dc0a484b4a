// The hit-ratio sweep of cache/hit_ratio_benchmark: W-TinyLFU (LocalCache) against LRU and ARC on
// one trace at many cache sizes, with the two checks of docs/cache.md:
//   * margin: W-TinyLFU >= max(LRU, ARC) - 1 point at every size;
//   * monotonic: the hit ratio never drops by more than kMonotonicTolerance points from one size
//     to the next larger one.
// LRU comes from one stack-distance pass for all sizes (replay_policies.h), ARC and W-TinyLFU
// from one replay per size. Baselines may be cached in a text file between runs (they do not
// depend on the cache under test): lines `trace size lru_hits arc_hits requests`.
//
// Tool code: prints to stdout, reads and writes the optional baseline file.
#ifndef CREMA_TOOLS_HIT_RATIO_HIT_RATIO_SWEEP_H_
#define CREMA_TOOLS_HIT_RATIO_HIT_RATIO_SWEEP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cache/cache_options.h"

namespace crema::cache {

// A drop from one size to the next larger one that counts as noise, in points.
inline constexpr double kMonotonicTolerance = 0.25;
// The margin every size must keep over max(LRU, ARC), in points.
inline constexpr double kRequiredMargin = -1.0;

// Builds the options of the cache under test for a capacity in entries.
using OptionsFactory = std::function<CacheOptions(int64_t capacity)>;

// Hit ratio in percent of LocalCache on `keys` (a miss is followed by a Put, as a read-through
// cache would; keys are the integer's 8 bytes, values empty).
double LocalCacheHitPercent(const OptionsFactory& options, int64_t capacity,
                            const std::vector<uint64_t>& keys);

// Cache sizes worth checking on a trace with `distinct` keys: a dense grid from 10 entries (the
// small caches where recency rules) up to the number of distinct keys, plus 20%, 30% and 40% of it
// (caches close to the working set).
std::vector<int64_t> SweepSizes(int64_t distinct);

struct SweepTotals {
  int cells = 0;
  int margin_met = 0;
  int monotonic_breaks = 0;
  double worst_margin = 1e9;
  std::string worst_margin_at;
  double worst_drop = 0;
  std::string worst_drop_at;
};

// Sweeps one trace and prints its rows; adds to `totals`. `baselines_file` may be empty.
void SweepTrace(const std::string& name, const std::vector<uint64_t>& keys,
                const OptionsFactory& options, const std::string& baselines_file,
                SweepTotals& totals);

}  // namespace crema::cache

#endif  // CREMA_TOOLS_HIT_RATIO_HIT_RATIO_SWEEP_H_
