// PolicyShadows: each shadow is a consistent W-TinyLFU of its configuration, the configurations
// behave as named (window hits to main serve keys used twice; a small window serves frequency),
// and the choice follows the workload, deterministically.
#include "cache/policy_shadows.h"

#include <cstdint>
#include <deque>
#include <vector>

#include "gtest/gtest.h"
#include "node/random.h"
#include "xxhash.h"

namespace crema::cache {
namespace {

uint64_t Hash(uint64_t key) { return XXH3_64bits(&key, sizeof(key)); }

// Keys used exactly twice, the second use 1..60 requests after the first (no frequency signal).
std::vector<uint64_t> Pairs(int n, uint64_t seed) {
  Random random(seed);
  std::vector<uint64_t> keys;
  std::deque<std::pair<int, uint64_t>> pending;
  uint64_t next = 1;
  std::vector<std::pair<int, uint64_t>> due;
  for (int t = 0; static_cast<int>(keys.size()) < n; ++t) {
    bool emitted = false;
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->first <= t) {
        keys.push_back(it->second);
        pending.erase(it);
        emitted = true;
        break;
      }
    }
    if (emitted) continue;
    keys.push_back(next);
    pending.emplace_back(t + static_cast<int>(random.Range(1, 60)), next++);
  }
  return keys;
}

// Hot keys 0..99 half the time, one-time keys the other half (frequency wins).
std::vector<uint64_t> HotAndScan(int n, uint64_t seed) {
  Random random(seed);
  std::vector<uint64_t> keys;
  uint64_t scan = 1'000'000;
  for (int i = 0; i < n; ++i) keys.push_back(random.OneIn(2) ? random.Uniform(100) : scan++);
  return keys;
}

double HitPercent(const PolicyConfig& config, int64_t capacity, const std::vector<uint64_t>& keys) {
  FrequencySketch sketch(capacity);
  ShadowCache shadow(capacity, config);
  int64_t hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t h = Hash(keys[i]);
    sketch.Increment(h);
    hits += shadow.Access(h, sketch) ? 1 : 0;
    if (i % 997 == 0) {
      EXPECT_TRUE(shadow.Valid()) << "at " << i;
    }
  }
  EXPECT_TRUE(shadow.Valid());
  EXPECT_LE(shadow.size(), capacity);
  return 100.0 * static_cast<double>(hits) / static_cast<double>(keys.size());
}

TEST(ShadowCacheTest, EveryGridConfigurationKeepsItsInvariants) {
  const std::vector<uint64_t> mixed = HotAndScan(20'000, 3);
  for (const PolicyConfig& config : kPolicyGrid) {
    for (int64_t capacity : {1, 7, 50, 300}) HitPercent(config, capacity, mixed);
  }
}

TEST(ShadowCacheTest, WindowHitsToMainServeKeysUsedTwice) {
  // 40 entries; reuse within 60 requests: a window that keeps only keys waiting for their second
  // use catches nearly all of them, an LRU window (hits stay) about half, a 1% window none.
  const std::vector<uint64_t> pairs = Pairs(30'000, 5);
  const double to_main = HitPercent({WindowHit::kToProbation, true, 990}, 40, pairs);
  const double lru_like = HitPercent({WindowHit::kStay, false, 990}, 40, pairs);
  const double tiny_window = HitPercent({WindowHit::kStay, false, 10}, 40, pairs);
  EXPECT_GT(to_main, lru_like + 5) << to_main << " vs " << lru_like;
  EXPECT_GT(lru_like, tiny_window + 5) << lru_like << " vs " << tiny_window;
}

TEST(ShadowCacheTest, ASmallWindowServesFrequency) {
  const std::vector<uint64_t> keys = HotAndScan(30'000, 7);
  const double small = HitPercent({WindowHit::kStay, false, 10}, 120, keys);
  const double large = HitPercent({WindowHit::kStay, false, 990}, 120, keys);
  EXPECT_GT(small, large + 5) << small << " vs " << large;
}

// Feeds a stream through PolicyShadows as the cache would; returns the chosen grid index.
int Choose(int64_t capacity, const std::vector<uint64_t>& keys, std::vector<int>* trail) {
  FrequencySketch sketch(capacity);
  PolicyShadows shadows(capacity);
  for (uint64_t key : keys) {
    const uint64_t h = Hash(key);
    sketch.Increment(h);
    if (shadows.Sampled(h) && shadows.OnSampledRead(h, sketch) && trail != nullptr) {
      trail->push_back(shadows.chosen_index());
    }
  }
  return shadows.chosen_index();
}

TEST(PolicyShadowsTest, TheChoiceFollowsTheWorkloadDeterministically) {
  const std::vector<uint64_t> pairs = Pairs(40'000, 11);
  const PolicyConfig for_pairs = kPolicyGrid[Choose(40, pairs, nullptr)];
  EXPECT_NE(for_pairs.window_hit, WindowHit::kStay);
  EXPECT_GE(for_pairs.window_permille, 500);
  const PolicyConfig for_frequency = kPolicyGrid[Choose(120, HotAndScan(40'000, 13), nullptr)];
  EXPECT_LE(for_frequency.window_permille, 200);
  std::vector<int> a, b;
  Choose(40, pairs, &a);
  Choose(40, pairs, &b);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
}

TEST(PolicyShadowsTest, OnlyCaffeinesStructureGetsAFineTuningBracket) {
  for (const PolicyConfig& config : kPolicyGrid) {
    const WindowBracket b = BracketOf(config);
    EXPECT_LE(b.low_permille, config.window_permille);
    EXPECT_GE(b.high_permille, config.window_permille);
    EXPECT_GE(b.low_permille, 0);
    EXPECT_LE(b.high_permille, 1000);
    if (config.window_hit != WindowHit::kStay) {
      EXPECT_EQ(b.low_permille, b.high_permille);
    } else {
      EXPECT_LT(b.low_permille, b.high_permille);
    }
  }
  EXPECT_EQ(BracketOf({WindowHit::kStay, false, 10}).low_permille, 5);
  EXPECT_EQ(BracketOf({WindowHit::kStay, false, 10}).high_permille, 30);
}

TEST(PolicyShadowsTest, SamplingScalesTheShadowsDown) {
  PolicyShadows small(100);
  EXPECT_EQ(small.shadow_capacity(), 100);  // Below the minimum: every read is simulated.
  for (uint64_t k = 0; k < 1000; ++k) EXPECT_TRUE(small.Sampled(Hash(k)));
  PolicyShadows large(1'000'000);
  EXPECT_EQ(large.shadow_capacity(), PolicyShadows::kMaxShadowCapacity);
  int sampled = 0;
  for (uint64_t k = 0; k < 1'000'000; ++k) sampled += large.Sampled(Hash(k));
  EXPECT_NEAR(sampled, 4096, 300);  // 4,096 / 1,000,000 of the key space.
}

}  // namespace
}  // namespace crema::cache
