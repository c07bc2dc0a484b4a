#include "tools/hit_ratio/hit_ratio_sweep.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"
#include "cache/replay_policies.h"
#include "node/clock.h"

namespace crema::cache {
namespace {

struct Baseline {
  int64_t lru_hits = 0;
  int64_t arc_hits = 0;
};

using BaselineKey = std::tuple<std::string, int64_t, int64_t>;  // trace, size, requests

std::map<BaselineKey, Baseline> LoadBaselines(const std::string& path) {
  std::map<BaselineKey, Baseline> baselines;
  if (path.empty()) return baselines;
  std::ifstream in(path);
  std::string name;
  int64_t size, lru, arc, requests;
  while (in >> name >> size >> lru >> arc >> requests) {
    baselines[{name, size, requests}] = Baseline{lru, arc};
  }
  return baselines;
}

void SaveBaseline(const std::string& path, const std::string& name, int64_t size,
                  const Baseline& b, int64_t requests) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << name << " " << size << " " << b.lru_hits << " " << b.arc_hits << " " << requests << "\n";
}

int64_t ArcHits(int64_t size, const std::vector<uint64_t>& keys) {
  auto arc = MakeReplayPolicy("arc", size);
  int64_t hits = 0;
  for (uint64_t key : keys) hits += (*arc)->Access(key) ? 1 : 0;
  return hits;
}

double Percent(int64_t hits, size_t requests) {
  return 100.0 * static_cast<double>(hits) / static_cast<double>(requests);
}

}  // namespace

double LocalCacheHitPercent(const OptionsFactory& options, int64_t capacity,
                            const std::vector<uint64_t>& keys) {
  ManualClock clock;
  LocalCache cache(clock, options(capacity));
  for (uint64_t key : keys) {
    char bytes[sizeof(key)];
    std::memcpy(bytes, &key, sizeof(key));
    const std::string_view k(bytes, sizeof(bytes));
    if (!cache.GetIfPresent(k)) cache.Put(k, std::string_view());
  }
  return Percent(cache.stats().hits, keys.size());
}

std::vector<int64_t> SweepSizes(int64_t distinct) {
  static constexpr int64_t kGrid[] = {
      10,    15,    20,    25,    30,     40,     50,     60,     75,     100,    125,
      150,   200,   250,   300,   400,    500,    750,    1'000,  1'500,  2'000,  3'000,
      5'000, 7'500, 10'000, 15'000, 20'000, 30'000, 50'000, 75'000, 100'000, 150'000,
      200'000, 300'000, 500'000, 750'000, 1'000'000};
  std::vector<int64_t> sizes;
  for (int64_t s : kGrid) {
    if (s < distinct) sizes.push_back(s);
  }
  for (int64_t percent : {20, 30, 40}) {
    const int64_t s = distinct * percent / 100;
    if (s >= 10) sizes.push_back(s);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

void SweepTrace(const std::string& name, const std::vector<uint64_t>& keys,
                const OptionsFactory& options, const std::string& baselines_file,
                SweepTotals& totals) {
  absl::flat_hash_set<uint64_t> distinct_keys(keys.begin(), keys.end());
  const int64_t distinct = static_cast<int64_t>(distinct_keys.size());
  const std::vector<int64_t> sizes = SweepSizes(distinct);
  const int64_t requests = static_cast<int64_t>(keys.size());
  std::map<BaselineKey, Baseline> cached = LoadBaselines(baselines_file);
  std::vector<int64_t> lru_hits;
  std::printf("\n%s: %lld requests, %lld distinct keys\n\n", name.c_str(),
              static_cast<long long>(requests), static_cast<long long>(distinct));
  std::printf("| size | LRU %% | ARC %% | W-TinyLFU %% | margin | change from previous size |\n");
  std::printf("|---|---|---|---|---|---|\n");
  double previous = -1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t size = sizes[i];
    auto it = cached.find({name, size, requests});
    Baseline b;
    if (it != cached.end()) {
      b = it->second;
    } else {
      if (lru_hits.empty()) lru_hits = LruHitsBySize(keys, sizes);
      b.lru_hits = lru_hits[i];
      b.arc_hits = ArcHits(size, keys);
      SaveBaseline(baselines_file, name, size, b, requests);
    }
    const double lru = Percent(b.lru_hits, keys.size());
    const double arc = Percent(b.arc_hits, keys.size());
    const double ours = LocalCacheHitPercent(options, size, keys);
    const double margin = ours - std::max(lru, arc);
    const bool met = margin >= kRequiredMargin - 0.005;
    const double change = previous < 0 ? 0 : ours - previous;
    const bool monotonic = change >= -kMonotonicTolerance;
    ++totals.cells;
    totals.margin_met += met ? 1 : 0;
    totals.monotonic_breaks += monotonic ? 0 : 1;
    if (margin < totals.worst_margin) {
      totals.worst_margin = margin;
      totals.worst_margin_at = absl::StrCat(name, "@", size);
    }
    if (change < totals.worst_drop) {
      totals.worst_drop = change;
      totals.worst_drop_at = absl::StrCat(name, "@", size);
    }
    std::printf("| %lld | %.2f | %.2f | %.2f | %+.2f%s | %s%+.2f%s |\n",
                static_cast<long long>(size), lru, arc, ours, margin, met ? "" : " MISSED",
                monotonic ? "" : "**", change, monotonic ? "" : " DROP**");
    std::fflush(stdout);
    previous = ours;
  }
}

}  // namespace crema::cache
