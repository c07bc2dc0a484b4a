// ShadowSet: every shadow of the set hits and misses exactly as a separate ShadowCache of its
// configuration fed the same reads (the reference model), on streams that exercise hits in every
// list, evictions of the key just inserted, and rows shared by all shadows or held by one; the
// invariants hold throughout, and rows are bounded by the shadows' sizes.
#include "cache/shadow_set.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "cache/policy_shadows.h"
#include "gtest/gtest.h"
#include "node/random.h"
#include "sim/test_seed.h"
#include "xxhash.h"

namespace crema::cache {
namespace {

uint64_t Hash(uint64_t key) { return XXH3_64bits(&key, sizeof(key)); }

// A mix the shadows disagree on: a hot set, keys reused a short while later, and one-time keys.
std::vector<uint64_t> Stream(int n, int64_t capacity, uint64_t seed) {
  Random random(seed);
  std::vector<uint64_t> keys;
  uint64_t fresh = 1'000'000;
  for (int i = 0; i < n; ++i) {
    const uint64_t dice = random.Uniform(10);
    if (dice < 4) {
      keys.push_back(random.Uniform(static_cast<uint64_t>(capacity)));  // Hot set.
    } else if (dice < 7 && !keys.empty()) {
      keys.push_back(keys[keys.size() - 1 - random.Uniform(std::min<uint64_t>(keys.size(), 50))]);
    } else {
      keys.push_back(fresh++);
    }
  }
  return keys;
}

void ExpectSameAsReference(int64_t capacity, const std::vector<uint64_t>& keys) {
  FrequencySketch sketch(capacity * 4);
  ShadowSet set(capacity, kPolicyGrid);
  std::vector<std::unique_ptr<ShadowCache>> reference;
  for (const PolicyConfig& config : kPolicyGrid) {
    reference.push_back(std::make_unique<ShadowCache>(capacity, config));
  }
  std::vector<int64_t> hits(kPolicyGrid.size(), 0);
  std::vector<int64_t> reference_hits(kPolicyGrid.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t h = Hash(keys[i]);
    sketch.Increment(h);
    set.Access(h, sketch, hits.data());
    for (size_t k = 0; k < reference.size(); ++k) reference_hits[k] += reference[k]->Access(h, sketch);
    ASSERT_EQ(hits, reference_hits) << "capacity " << capacity << " read " << i;
    if (i % 499 == 0) ASSERT_TRUE(set.Valid()) << "capacity " << capacity << " read " << i;
  }
  ASSERT_TRUE(set.Valid());
  for (int k = 0; k < set.shadows(); ++k) EXPECT_EQ(set.size(k), reference[k]->size());
  EXPECT_LE(set.rows_high_water(), static_cast<int64_t>(kPolicyGrid.size()) * capacity + 1);
}

TEST(ShadowSetTest, EveryShadowHitsExactlyAsItsReferenceShadowCache) {
  const uint64_t seed = sim::TestSeed();
  for (int64_t capacity : {1, 2, 7, 50, 256, 1000}) {
    ExpectSameAsReference(capacity, Stream(20'000, capacity, seed + capacity));
  }
}

TEST(ShadowSetTest, OneShadowAlone) {
  const PolicyConfig config[] = {{WindowHit::kToProbation, true, 500}};
  ShadowSet set(64, config);
  FrequencySketch sketch(256);
  int64_t hits = 0;
  for (uint64_t key : Stream(5'000, 64, 3)) {
    const uint64_t h = Hash(key);
    sketch.Increment(h);
    set.Access(h, sketch, &hits);
  }
  EXPECT_TRUE(set.Valid());
  EXPECT_GT(hits, 0);
  EXPECT_LE(set.rows_in_use(), 64);
}

TEST(ShadowSetTest, RowsAreFreedWhenNoShadowHoldsTheKey) {
  // One-time keys only: each shadow holds its window's most recent keys and main entries that won
  // duels (mostly early keys; sketch collisions admit a few later ones). Over 10,000 keys the rows
  // stay within 3 x capacity (272 measured): rows of dropped keys are freed and reused.
  ShadowSet set(100, kPolicyGrid);
  FrequencySketch sketch(400);
  std::vector<int64_t> hits(kPolicyGrid.size(), 0);
  for (uint64_t key = 0; key < 10'000; ++key) {
    const uint64_t h = Hash(key);
    sketch.Increment(h);
    set.Access(h, sketch, hits.data());
  }
  EXPECT_TRUE(set.Valid());
  EXPECT_EQ(hits, std::vector<int64_t>(kPolicyGrid.size(), 0));
  EXPECT_LE(set.rows_high_water(), 300);
  EXPECT_LE(set.memory_bytes(), size_t{64} * 400 + 4096);
}

}  // namespace
}  // namespace crema::cache
