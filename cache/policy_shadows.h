// PolicyShadows: chooses LocalCache's policy configuration by simulating several at once, on a
// sample of the keys ("miniature simulation", Waldspurger et al., USENIX ATC 2017).
//
// W-TinyLFU's best shape depends on the workload: frequency-skewed traces want a tiny LRU window
// in front of the frequency-filtered main space; recency-skewed ones want a large window; and
// workloads where most keys are used exactly twice, a short while apart, want the opposite of an
// LRU: a key hit once should leave the recency region for the main space (as ARC moves T1 hits to
// T2) so that the region keeps only keys still waiting for their reuse. A PolicyConfig names one
// shape:
//
//   window_hit       where a hit on a window entry moves it: kStay (Caffeine's W-TinyLFU: to the
//                    window's MRU end), kToProtected or kToProbation (to the main space).
//   repeat_to_front  a missed key that the sketch has seen at least twice recently enters the
//                    window at its LRU end (it becomes the next admission candidate at once)
//                    instead of its MRU end: keys the cache has met before compete on frequency
//                    right away, as ARC sends keys found in its ghost lists straight to T2, so the
//                    window holds only keys waiting for a second use.
//   window_permille  the window's share of the capacity.
//
// Gradient methods (hill climbing, ghost-hit tuners) steer one knob and get stuck or misled where
// the hit-rate curve has cliffs (loops), plateaus or phases. Here every configuration of a fixed
// grid (kGrid) runs side by side as a "shadow": a count-bounded W-TinyLFU over key hashes only,
// fed the same sampled reads. A read is sampled when its key hash falls in a fixed fraction
// (capacity_shadow / capacity) of the hash space (spatial sampling, as SHARDS), so each shadow is
// the whole cache scaled down: its capacity is the cache's times the sampling rate, and reuse
// distances shrink by the same factor. Shadows take their admission decisions from the cache's own
// frequency sketch (a sampled key's frequency is its real frequency). Every period of sampled
// reads, each shadow's hit count is added to an exponentially decaying score, and the cache adopts
// the configuration of the best score (ties keep the current one). Because all shadows see the
// same requests at the same time, a phase change of the workload moves all their hit rates
// together and does not mislead the comparison, as it does a hill climber comparing one period
// with the previous one.
//
// Cost: the shadows run together in one ShadowSet (shadow_set.h): one 64-byte row per key held by
// any shadow (between 1 and 13 x capacity_shadow rows; at most 3.9 x on the reference traces) and
// an index of 2-byte row ids; capacity_shadow = clamp(capacity / 128, 256, 4096) (the whole
// capacity below 256), so a cache of 1,000,000 entries spends 0.3 bytes per entry when full and
// ~1 byte after a long mixed read phase (docs/cache.md). Each sampled read costs one index probe
// and one small simulated access per configuration; the sampled share of reads is
// capacity_shadow / capacity, so per read that is 13 x 256 / 1,000 = 3.3 simulated accesses for a
// cache of 1,000 entries and 0.03 for one of 100,000. ShadowCache (below) is the one-configuration
// reference model the ShadowSet is tested against.
//
// Everything is integer arithmetic on the caller's deterministic hashes: the choice replays exactly.
//
// Thread safety: none (owned by one cache).
#ifndef CREMA_CACHE_POLICY_SHADOWS_H_
#define CREMA_CACHE_POLICY_SHADOWS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "cache/frequency_sketch.h"
#include "cache/shadow_config.h"
#include "cache/shadow_set.h"

namespace crema::cache {


// The configurations the shadows compare; the first is the starting point (W-TinyLFU, 1% window).
inline constexpr std::array<PolicyConfig, 13> kPolicyGrid = {{
    {WindowHit::kStay, false, 10},
    {WindowHit::kStay, false, 50},
    {WindowHit::kStay, false, 200},
    {WindowHit::kStay, false, 400},
    {WindowHit::kStay, false, 650},
    {WindowHit::kStay, false, 800},
    {WindowHit::kStay, false, 990},
    {WindowHit::kToProtected, false, 200},
    {WindowHit::kToProtected, false, 500},
    {WindowHit::kToProtected, false, 800},
    {WindowHit::kToProbation, true, 500},
    {WindowHit::kToProbation, true, 900},
    {WindowHit::kToProbation, true, 990},
}};

// Within the configuration the shadows chose, the cache refines the window between half and three
// times its grid size (LocalCache, "fine tuning"): the grid is coarse (10, 50, 200 permille...)
// and a scoring period is too slow to follow a workload whose best window moves by a few permille
// over a fraction of a period (the ARC trace P3 at 100,000 entries). The bracket keeps the fine
// tuner from undoing the shadows' choice.
struct WindowBracket {
  int32_t low_permille;
  int32_t high_permille;
};
// Only Caffeine's structure (window hits stay) is refined: the tuner's ghost signal assumes an LRU
// window in front of the main space; with window hits moved to main it misleads (mixture shape).
inline constexpr WindowBracket BracketOf(const PolicyConfig& config) {
  const int32_t w = config.window_permille;
  if (config.window_hit != WindowHit::kStay) return {w, w};
  return {w / 2, w * 3 < 1000 ? w * 3 : 1000};
}


// One simulated cache: W-TinyLFU over key hashes with a fixed configuration, count-bounded. The
// reference model: PolicyShadows runs all configurations in one ShadowSet (shadow_set.h), whose
// every shadow must behave exactly as a ShadowCache (shadow_set_test).
class ShadowCache {
 public:
  // REQUIRES: 1 <= capacity <= kMaxCapacity.
  static constexpr int64_t kMaxCapacity = 30'000;
  ShadowCache(int64_t capacity, const PolicyConfig& config);

  // Simulates a read (a miss inserts the key, as a read-through cache would). Returns whether it
  // hit. `sketch` must already count this read.
  bool Access(uint64_t hash, const FrequencySketch& sketch);

  int64_t size() const { return size_; }
  size_t memory_bytes() const;
  // Checks list, index and size invariants. O(capacity).
  bool Valid() const;

 private:
  enum List : uint8_t { kWindow = 0, kProbation = 1, kProtected = 2 };
  struct Node {
    uint64_t hash;
    uint16_t prev;
    uint16_t next;
    uint8_t list;
  };
  static constexpr uint16_t kNone = 0xFFFF;

  // Nodes 0..2 are the sentinels of the three lists.
  uint16_t Front(List l) const { return nodes_[l].next == l ? kNone : nodes_[l].next; }
  void Unlink(uint16_t id);
  void PushBack(List l, uint16_t id);
  void PushFront(List l, uint16_t id);
  uint16_t Find(uint64_t hash) const;
  void IndexInsert(uint64_t hash, uint16_t id);
  void IndexErase(uint64_t hash);
  void Remove(uint16_t id);
  void DemoteProtectedOverflow();
  void Evict(const FrequencySketch& sketch);

  const PolicyConfig config_;
  const int64_t capacity_;
  const int64_t window_max_;
  const int64_t protected_max_;
  int64_t size_ = 0;
  int64_t window_size_ = 0;
  int64_t protected_size_ = 0;
  std::vector<Node> nodes_;
  std::vector<uint16_t> free_;
  std::vector<uint16_t> index_;  // Power-of-two size, at most half full; kNone = empty.
  uint64_t index_mask_;
};

class PolicyShadows {
 public:
  // Shadow capacity: the cache's divided by kCapacityDivisor, within [kMin, kMax]ShadowCapacity
  // (the whole cache when it is smaller than kMinShadowCapacity). A scoring period is
  // shadow-capacity sampled reads (at least kMinPeriod); each period a score loses 1/kDecayDivisor.
  static constexpr int64_t kMinShadowCapacity = 256;
  static constexpr int64_t kMaxShadowCapacity = 4096;
  static constexpr int64_t kCapacityDivisor = 128;
  static constexpr int64_t kDecayDivisor = 16;
  static constexpr int64_t kMinPeriod = 64;

  // `capacity`: the cache's capacity in entries (its max weight, or an estimate). REQUIRES: > 0.
  explicit PolicyShadows(int64_t capacity);

  // Whether reads of this key hash are simulated.
  bool Sampled(uint64_t hash) const { return ((hash * 0xD6E8FEB86659FD93ull) >> 40) < threshold_; }
  // Simulates a sampled read in every shadow. REQUIRES: Sampled(hash); the sketch counts it.
  // Returns true when a scoring period ended (the choice may have changed).
  bool OnSampledRead(uint64_t hash, const FrequencySketch& sketch);

  const PolicyConfig& chosen() const { return kPolicyGrid[chosen_]; }
  int chosen_index() const { return chosen_; }
  int64_t shadow_capacity() const { return shadow_capacity_; }
  int64_t period() const { return period_; }
  size_t memory_bytes() const;

 private:
  const int64_t shadow_capacity_;
  const uint64_t threshold_;  // Sampled iff the mixed hash's top 24 bits are below this.
  const int64_t period_;
  ShadowSet set_;  // One shadow per kPolicyGrid configuration, in grid order.
  std::vector<int64_t> hits_;
  std::vector<int64_t> scores_;
  int64_t reads_in_period_ = 0;
  int chosen_ = 0;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_POLICY_SHADOWS_H_
