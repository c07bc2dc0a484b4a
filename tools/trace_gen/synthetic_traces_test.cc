// The synthetic shapes are what docs/cache.md says they are: deterministic per seed, and each
// with the property its name promises (checked on the keys, not on a policy's hit ratio).
#include "tools/trace_gen/synthetic_traces.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace crema::tools {
namespace {

std::vector<uint64_t> Trace(const std::string& shape, int64_t length, uint64_t seed = 7) {
  auto keys = GenerateSyntheticTrace(shape, length, seed);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *keys : std::vector<uint64_t>{};
}

// Uses per key, and the request distance between a key's first and second use.
struct Reuse {
  absl::flat_hash_map<uint64_t, int> uses;
  std::vector<int64_t> second_use_distance;
};

Reuse Analyse(const std::vector<uint64_t>& keys) {
  Reuse r;
  absl::flat_hash_map<uint64_t, int64_t> first;
  for (int64_t t = 0; t < static_cast<int64_t>(keys.size()); ++t) {
    const int n = ++r.uses[keys[t]];
    if (n == 1) first[keys[t]] = t;
    if (n == 2) r.second_use_distance.push_back(t - first[keys[t]]);
  }
  return r;
}

TEST(SyntheticTracesTest, EveryShapeIsDeterministicPerSeedAndDiffersAcrossSeeds) {
  for (const std::string& shape : SyntheticShapeNames()) {
    const auto a = Trace(shape, 20'000, 1);
    EXPECT_EQ(a, Trace(shape, 20'000, 1)) << shape;
    EXPECT_NE(a, Trace(shape, 20'000, 2)) << shape;
    EXPECT_EQ(a.size(), 20'000u);
  }
}

TEST(SyntheticTracesTest, PairsAreUsedAtMostTwiceAndReusedWithinAHundredRequests) {
  const Reuse r = Analyse(Trace("pairs", 200'000));
  int64_t twice = 0;
  for (const auto& [key, n] : r.uses) {
    ASSERT_LE(n, 2) << key;
    twice += n == 2;
  }
  // 3 of 4 new keys get a second use (a few pending at the end do not).
  const double share = static_cast<double>(twice) / static_cast<double>(r.uses.size());
  EXPECT_NEAR(share, 0.75, 0.01);
  // The second use comes 1..100 requests of the source later; queued second uses can be pushed a
  // little further when several fall due at once.
  int64_t within_100 = 0;
  for (int64_t d : r.second_use_distance) within_100 += d <= 100;
  EXPECT_GT(within_100, static_cast<int64_t>(0.97 * static_cast<double>(twice)));
}

TEST(SyntheticTracesTest, ZipfIsSkewedAndScanKeysNeverRepeat) {
  const Reuse zipf = Analyse(Trace("zipf", 200'000));
  std::vector<int> counts;
  for (const auto& [key, n] : zipf.uses) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  // Zipf(0.9) over 100,000 keys: the top key has a ~5% share, and far more than the 100th.
  EXPECT_GT(counts[0], 5'000);
  EXPECT_GT(counts[0], 5 * counts[99]);

  const auto scan = Trace("scan", 400'000);
  const Reuse s = Analyse(scan);
  int64_t scan_requests = 0;
  for (uint64_t key : scan) {
    if ((key & 0xFFFFFFFFFFull) >= (uint64_t{1} << 32)) {  // the scan range of the shape
      ++scan_requests;
      ASSERT_EQ(s.uses.at(key), 1);
    }
  }
  EXPECT_NEAR(static_cast<double>(scan_requests) / 400'000.0, 0.4, 0.1);
}

TEST(SyntheticTracesTest, StackModelReusesRecentKeysMostly) {
  const auto keys = Trace("stack", 100'000);
  // New keys: 1 in 8 by draw, plus depths beyond the live stack (rare once it is deep).
  absl::flat_hash_set<uint64_t> seen;
  int64_t fresh = 0;
  for (uint64_t k : keys) fresh += seen.insert(k).second;
  EXPECT_NEAR(static_cast<double>(fresh) / 100'000.0, 0.125, 0.02);
  // Half of all reuses are within depth ~32 (P(d > x) ~ 16 / (x + 15)).
  const Reuse r = Analyse(keys);
  std::vector<int64_t> d = r.second_use_distance;
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  EXPECT_LT(d[d.size() / 2], 64);
}

TEST(SyntheticTracesTest, LoopCyclesOverItsKeysWithNoise) {
  const auto keys = Trace("loop", 60'000);
  absl::flat_hash_map<uint64_t, int64_t> last;
  int64_t loop_reuses = 0;
  for (int64_t t = 0; t < static_cast<int64_t>(keys.size()); ++t) {
    auto it = last.find(keys[t]);
    if (it != last.end()) {
      ++loop_reuses;
      // A loop key comes back after its 4,999 loop neighbours and ~1/4 as many noise keys.
      EXPECT_GT(t - it->second, 5'000);
      EXPECT_LT(t - it->second, 7'000);
    }
    last[keys[t]] = t;
  }
  EXPECT_GT(loop_reuses, 30'000);
}

TEST(SyntheticTracesTest, BadArgumentsAreErrors) {
  EXPECT_FALSE(GenerateSyntheticTrace("nope", 10, 1).ok());
  EXPECT_FALSE(GenerateSyntheticTrace("pairs", 0, 1).ok());
  EXPECT_FALSE(GenerateSyntheticTrace("pairs", kMaxSyntheticLength + 1, 1).ok());
}

}  // namespace
}  // namespace crema::tools
