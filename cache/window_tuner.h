// WindowTuner: sizes W-TinyLFU's admission window from shadow ("ghost") hits, on every miss.
//
// W-TinyLFU splits capacity between an LRU window (good for recency-biased workloads) and the
// TinyLFU-guarded main space (good for frequency-biased ones). Hill climbing on the sampled hit
// rate (hill_climber.h) finds the split, but slowly (one step per sample period) and is misled by
// workload phases that move the hit rate between samples. This tuner instead estimates, on every
// miss, which side's *marginal* capacity would have turned the miss into a hit:
//
//   * Each side remembers, in a short shadow queue, the keys it most recently lost: the window
//     side, candidates that TinyLFU rejected when they left the window; the main side, victims
//     evicted from the main space. A record keeps the key's hash, its weight and its position in
//     its side's loss order (window exits for the window side, main evictions for the main side).
//   * A miss on a key that the window lost at most `depth` window exits ago would have been a hit
//     with a window larger by `depth`: grow the window by the key's weight times kStepPerHit.
//     A miss on a key the main space evicted at most `depth` main evictions ago: shrink it.
//
// That is ARC's ghost-list adaptation (Megiddo & Modha, FAST 2003) applied to the window/main
// split, with shadow queues kept short so that they measure the local gradient of each side's
// hit-rate curve, as in Cliffhanger (Cidon et al., NSDI 2016). Because the shadows are short, a
// loop longer than the cache (whose re-references are far beyond `depth`) does not pull the
// window open, so TinyLFU keeps its scan and loop resistance.
//
// Memory: at most 2 x ring_capacity records (hash map entry plus ring slot, ~40 bytes each);
// the cache uses a depth of 1/20 of its capacity in entries, so about 4 bytes per cached entry.
// With `max_records_per_side` > 0 the tuner keeps records only for a hash-sampled share of the
// keys (rate max_records_per_side / depth when depth is larger; spatial sampling, as SHARDS) and
// scales each shadow hit's step by the inverse rate, so the expected adjustment is unchanged and
// memory is bounded (LocalCache's mini-simulation uses 2,048: ~0.3 MB at most). Positions still
// count every loss, so `depth` keeps its meaning.
// Everything is integer and keyed by the caller's (deterministic) hash; the map is never
// iterated, so decisions replay exactly.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_WINDOW_TUNER_H_
#define CREMA_CACHE_WINDOW_TUNER_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace crema::cache {

class WindowTuner {
 public:
  // A shadow hit moves the window by this many times the weight of the entry that was lost.
  static constexpr int64_t kStepPerHit = 2;
  // Shadow depth is capacity / kDepthDivisor entries, at least kMinDepth, at most kMaxDepth.
  static constexpr int64_t kDepthDivisor = 20;
  static constexpr int64_t kMinDepth = 4;
  static constexpr int64_t kMaxDepth = int64_t{1} << 18;

  enum class Side : uint8_t { kWindow = 0, kMain = 1 };

  // `capacity_entries`: the cache's capacity in entries (its max weight if unweighted, else an
  // estimate). `max_records_per_side`: 0 keeps every loss; else the bound of the file comment.
  // REQUIRES: capacity_entries > 0, max_records_per_side >= 0.
  explicit WindowTuner(int64_t capacity_entries, int64_t max_records_per_side = 0);

  // An entry left the window for the main space (it became an admission candidate).
  void OnWindowExit() { ++losses_[0]; }
  // A key was lost to the cache: by the window side (a rejected candidate) or the main side.
  void OnLost(Side side, uint64_t hash, uint32_t weight);
  // A read missed. Returns the window adjustment in weight units: > 0 grow, < 0 shrink, 0 none.
  int64_t OnMiss(uint64_t hash);

  int64_t depth() const { return depth_; }
  // Whether losses and misses of this key hash are looked at (all of them without sampling).
  bool Sampled(uint64_t hash) const {
    return ((hash * 0xA24BAED4963EE407ull) >> 40) < threshold_;
  }
  int64_t shadow_size() const { return static_cast<int64_t>(shadows_.size()); }
  // Heap bytes of the rings and the map (its slots and control bytes).
  size_t memory_bytes() const {
    return (rings_[0].capacity() + rings_[1].capacity()) * sizeof(RingSlot) +
           shadows_.capacity() * (sizeof(std::pair<uint64_t, Record>) + 1);
  }

 private:
  struct Record {
    uint64_t position;  // In its side's loss order (see file comment).
    uint32_t weight;
    Side side;
  };
  struct RingSlot {
    uint64_t hash = 0;
    uint64_t position = ~uint64_t{0};  // ~0: empty.
  };

  const int64_t depth_;
  const uint64_t threshold_;  // Sampled iff the mixed hash's top 24 bits are below this.
  // Ring i holds side i's most recent `depth_` losses; the map indexes the live ones by hash.
  std::vector<RingSlot> rings_[2];
  uint64_t ring_next_[2] = {0, 0};
  // losses_[0] counts window exits, losses_[1] main evictions: the positions of the file comment.
  uint64_t losses_[2] = {0, 0};
  absl::flat_hash_map<uint64_t, Record> shadows_;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_WINDOW_TUNER_H_
