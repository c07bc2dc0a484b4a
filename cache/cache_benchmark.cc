// Throughput and memory of LocalCache, with baselines measured in the same run (the machine is
// shared and noisy, so compare ratios, not absolute numbers):
//   bazel build -c opt //cache:cache_benchmark && bazel-bin/cache/cache_benchmark
//
// Keys are small ("key:" + 8 digits, 12 bytes, inline in std::string), values 8 bytes; the memory
// benchmark also fills 1,000,000 entries of 16-byte keys and 32-byte values.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "cache/local_cache.h"
#include "node/clock.h"
#include "node/random.h"

namespace crema::cache {
namespace {

constexpr int kEntries = 100'000;
constexpr int kRequests = 1 << 20;  // Pre-generated request stream (power of two: cheap wrap).

std::string Key(uint64_t i) { return absl::StrFormat("key:%08d", i); }

const std::vector<std::string>& Keys(int n) {
  static std::vector<std::string> keys;
  while (static_cast<int>(keys.size()) < n) keys.push_back(Key(keys.size()));
  return keys;
}

// Indices uniformly at random in [0, n).
std::vector<uint32_t> UniformStream(int n, uint64_t seed) {
  Random random(seed);
  std::vector<uint32_t> stream(kRequests);
  for (auto& i : stream) i = static_cast<uint32_t>(random.Uniform(n));
  return stream;
}

// Indices Zipf-distributed over [0, n) with exponent s (rank 0 most popular), by inverse CDF.
std::vector<uint32_t> ZipfStream(int n, double s, uint64_t seed) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) cdf[i] = (sum += 1.0 / std::pow(i + 1, s));
  Random random(seed);
  std::vector<uint32_t> stream(kRequests);
  for (auto& i : stream) {
    const double u = static_cast<double>(random.Next() >> 11) / 9007199254740992.0 * sum;
    i = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    if (i >= static_cast<uint32_t>(n)) i = n - 1;
  }
  return stream;
}

// Bytes in use on the heap, including large blocks malloc served with mmap.
size_t HeapBytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

CacheOptions Options(int64_t max_weight) {
  CacheOptions options;
  options.max_weight = max_weight;
  return options;
}

// Same-run baselines: a plain hash map's find, the floor a cache's get is compared against.
template <typename Map>
void BM_BaselineMapFind(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto& keys = Keys(n);
  Map map;
  for (int k = 0; k < n; ++k) map.emplace(keys[k], "value123");
  const auto stream = UniformStream(n, 1);
  size_t i = 0;
  for (auto _ : state) {
    auto it = map.find(keys[stream[i++ & (kRequests - 1)]]);
    benchmark::DoNotOptimize(it);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_BaselineMapFind, absl::flat_hash_map<std::string, std::string>)
    ->Name("BM_Baseline_FlatHashMapFind")
    ->Arg(1000)
    ->Arg(kEntries);
BENCHMARK_TEMPLATE(BM_BaselineMapFind, std::unordered_map<std::string, std::string>)
    ->Name("BM_Baseline_UnorderedMapFind")
    ->Arg(1000)
    ->Arg(kEntries);

void BM_GetHit(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto& keys = Keys(n);
  ManualClock clock;
  LocalCache cache(clock, Options(n));
  for (int k = 0; k < n; ++k) cache.Put(keys[k], "value123");
  const auto stream = UniformStream(n, 1);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.GetIfPresent(keys[stream[i++ & (kRequests - 1)]]));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit%"] = 100.0 * cache.stats().hits / std::max<int64_t>(1, cache.stats().requests());
}
BENCHMARK(BM_GetHit)->Arg(1000)->Arg(kEntries);

void BM_GetHitWithExpiry(benchmark::State& state) {
  const auto& keys = Keys(kEntries);
  ManualClock clock;
  CacheOptions options = Options(kEntries);
  options.expire_after_write = absl::Hours(1);
  LocalCache cache(clock, std::move(options));
  for (int k = 0; k < kEntries; ++k) cache.Put(keys[k], "value123");
  const auto stream = UniformStream(kEntries, 1);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.GetIfPresent(keys[stream[i++ & (kRequests - 1)]]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetHitWithExpiry);

void BM_GetMiss(benchmark::State& state) {
  const auto& keys = Keys(2 * kEntries);
  ManualClock clock;
  LocalCache cache(clock, Options(kEntries));
  for (int k = 0; k < kEntries; ++k) cache.Put(keys[k], "value123");
  auto stream = UniformStream(kEntries, 2);
  for (auto& s : stream) s += kEntries;  // Never inserted.
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.GetIfPresent(keys[stream[i++ & (kRequests - 1)]]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetMiss);

void BM_PutEvicting(benchmark::State& state) {
  const auto& keys = Keys(10 * kEntries);
  ManualClock clock;
  LocalCache cache(clock, Options(kEntries));
  const auto stream = UniformStream(10 * kEntries, 3);
  size_t i = 0;
  for (auto _ : state) cache.Put(keys[stream[i++ & (kRequests - 1)]], "value123");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutEvicting);

// 90% reads (a miss is followed by a put, as a read-through cache would), 10% writes; Zipf(0.99)
// over 10x more keys than the cache holds.
void BM_Mixed90Read10WriteZipf(benchmark::State& state) {
  const auto& keys = Keys(10 * kEntries);
  ManualClock clock;
  LocalCache cache(clock, Options(kEntries));
  const auto stream = ZipfStream(10 * kEntries, 0.99, 4);
  Random random(5);
  std::vector<uint8_t> is_write(kRequests);
  for (auto& w : is_write) w = random.Chance(1, 10);
  size_t i = 0;
  for (auto _ : state) {
    const size_t r = i++ & (kRequests - 1);
    const std::string& key = keys[stream[r]];
    if (is_write[r]) {
      cache.Put(key, "value123");
    } else if (cache.GetIfPresent(key) == nullptr) {
      cache.Put(key, "value123");
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit%"] = 100.0 * cache.stats().hits / std::max<int64_t>(1, cache.stats().requests());
}
BENCHMARK(BM_Mixed90Read10WriteZipf);

void BM_Baseline_Mixed90Read10WriteZipf_FlatHashMap(benchmark::State& state) {
  // The same stream against an unbounded map (no eviction at all): an upper bound on speed.
  const auto& keys = Keys(10 * kEntries);
  absl::flat_hash_map<std::string, std::string> map;
  const auto stream = ZipfStream(10 * kEntries, 0.99, 4);
  Random random(5);
  std::vector<uint8_t> is_write(kRequests);
  for (auto& w : is_write) w = random.Chance(1, 10);
  size_t i = 0;
  for (auto _ : state) {
    const size_t r = i++ & (kRequests - 1);
    const std::string& key = keys[stream[r]];
    if (is_write[r]) {
      map[key] = "value123";
    } else if (map.find(key) == map.end()) {
      map.emplace(key, "value123");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_Mixed90Read10WriteZipf_FlatHashMap);

// Heap bytes per entry (mallinfo2 delta) of a full cache, and of an absl::flat_hash_map<std::string,
// std::string> holding the same keys and values. Args: entries, key bytes, value bytes, reads
// after the fill (half of cached keys, half of keys never written: the policy shadows simulate
// every sampled read, so their rows grow with the keys they see; see shadow_set.h).
void BM_MemoryPerEntry(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const size_t key_bytes = static_cast<size_t>(state.range(1));
  const std::string value(static_cast<size_t>(state.range(2)), 'v');
  std::vector<std::string> keys;
  keys.reserve(n);
  for (int k = 0; k < n; ++k) {
    std::string digits = absl::StrFormat("%012d", k);
    std::string key(key_bytes > digits.size() ? key_bytes - digits.size() : 0, 'k');
    key += digits.substr(digits.size() - std::min(digits.size(), key_bytes));
    keys.push_back(std::move(key));
  }
  double cache_bytes = 0, map_bytes = 0, policy_bytes = 0;
  for (auto _ : state) {
    ManualClock clock;
    const size_t before_cache = HeapBytes();
    {
      LocalCache cache(clock, Options(n));
      for (int k = 0; k < n; ++k) cache.Put(keys[k], value);
      Random random(6);
      std::string other = keys[0];
      for (int64_t r = 0; r < state.range(3); ++r) {
        if (random.OneIn(2)) {
          benchmark::DoNotOptimize(cache.GetIfPresent(keys[random.Uniform(n)]));
        } else {
          other.replace(0, 8, absl::StrFormat("%08x", r));  // A key never written.
          benchmark::DoNotOptimize(cache.GetIfPresent(other));
        }
      }
      cache_bytes = static_cast<double>(HeapBytes() - before_cache) / n;
      policy_bytes = static_cast<double>(cache.PolicyMemoryBytes()) / n;
      if (cache.size() != n) state.SkipWithError("the cache did not keep every entry");
    }
    const size_t before_map = HeapBytes();
    {
      absl::flat_hash_map<std::string, std::string> map;
      for (int k = 0; k < n; ++k) map.emplace(keys[k], value);
      map_bytes = static_cast<double>(HeapBytes() - before_map) / n;
    }
  }
  state.counters["cache_bytes_per_entry"] = cache_bytes;
  state.counters["of_which_policy"] = policy_bytes;
  state.counters["flat_hash_map_bytes_per_entry"] = map_bytes;
  state.counters["ratio"] = cache_bytes / map_bytes;
}
BENCHMARK(BM_MemoryPerEntry)
    ->Args({kEntries, 12, 8, 0})
    ->Args({1'000'000, 16, 32, 0})
    ->Args({1'000'000, 16, 32, 8'000'000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace crema::cache

BENCHMARK_MAIN();
