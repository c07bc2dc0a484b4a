// hit_ratio_benchmark: W-TinyLFU (LocalCache) against LRU and ARC, on everything at once, so a
// change to the policy is always judged on all traces and shapes together.
//
//   bazel build -c opt //cache:hit_ratio_benchmark && bazel-bin/cache/hit_ratio_benchmark
//   (from the workspace root; --traces_dir overrides ../shared/traces)
//
// Part 1, the reference table: the 20 configurations of ../shared/traces/README.md. Targets: on
// OLTP at or above ARC; elsewhere at least max(LRU, ARC) - 1 point. LRU and ARC are the reference
// table's numbers (`--verify_baselines` recomputes them with cache/replay_policies).
// Part 2, the sweep (hit_ratio_sweep.h; --sweep=false skips it): every real trace and every
// synthetic shape of tools/trace_gen at a dense grid of sizes, target max(LRU, ARC) - 1 at every
// size and no drop with capacity beyond kMonotonicTolerance. --baselines_file caches the LRU and
// ARC numbers between runs.
//
// Knobs for experiments (a fixed window, another sample size) map to CacheOptions fields.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/hit_ratio/hit_ratio_sweep.h"
#include "cache/local_cache.h"
#include "cache/replay_policies.h"
#include "cache/trace_reader.h"
#include "tools/trace_gen/synthetic_traces.h"

ABSL_FLAG(std::string, traces_dir, "../shared/traces", "Directory of the reference traces");
ABSL_FLAG(std::string, only, "", "Run only traces and shapes whose name contains this");
ABSL_FLAG(int, initial_window_percent, -1, "CacheOptions.initial_window_percent (-1: default)");
ABSL_FLAG(std::string, window, "minisim",
          "Window adaptation: minisim (default), shadow (shadow queues), climb (hill climbing) or "
          "fixed");
ABSL_FLAG(double, sample_per_entry, 0, "Climber sample size in multiples of the capacity (0: default)");
ABSL_FLAG(bool, verify_baselines, false, "Also recompute LRU and ARC and compare to the table");
ABSL_FLAG(bool, reference, true, "Run the 20-configuration reference table");
ABSL_FLAG(bool, sweep, true, "Run the sweep of every trace and shape over many sizes");
ABSL_FLAG(int64_t, synthetic_length, 500'000, "Requests per synthetic shape");
ABSL_FLAG(uint64_t, synthetic_seed, 1, "Seed of the synthetic shapes");
ABSL_FLAG(std::string, baselines_file, "",
          "Cache of LRU/ARC sweep results (created if missing; delete it if traces change)");

namespace crema::cache {
namespace {

struct Config {
  const char* trace;
  int64_t size;
  double lru_percent;
  double arc_percent;
};

// ../shared/traces/README.md, "Reference hit ratios".
constexpr Config kConfigs[] = {
    {"OLTP.lis.zst", 1000, 32.83, 39.06},       {"OLTP.lis.zst", 2000, 42.47, 46.17},
    {"OLTP.lis.zst", 5000, 53.65, 55.12},       {"OLTP.lis.zst", 10000, 60.70, 61.92},
    {"P3.lis.zst", 10000, 1.73, 4.51},          {"P3.lis.zst", 50000, 6.86, 21.97},
    {"P3.lis.zst", 100000, 29.34, 40.78},       {"lirs-sprite.trace.gz", 100, 21.58, 25.59},
    {"lirs-sprite.trace.gz", 500, 78.30, 77.38}, {"lirs-sprite.trace.gz", 1000, 90.64, 89.84},
    {"lirs-multi2.trace.gz", 100, 6.73, 25.89}, {"lirs-multi2.trace.gz", 500, 35.98, 39.49},
    {"lirs-multi2.trace.gz", 1000, 47.80, 50.75}, {"lirs-2_pools.trace.gz", 100, 21.95, 46.88},
    {"lirs-2_pools.trace.gz", 500, 51.06, 51.84}, {"lirs-2_pools.trace.gz", 1000, 54.41, 54.37},
    {"lirs-gli.trace.gz", 1000, 11.21, 21.30},  {"lirs-ps.trace.gz", 500, 48.55, 52.59},
    {"lirs-loop.trace.gz", 512, 0.00, 0.00},    {"lirs-loop.trace.gz", 1024, 99.80, 99.80},
};

double TargetPercent(const Config& c) {
  if (absl::StartsWith(c.trace, "OLTP")) return c.arc_percent;
  return std::max(c.lru_percent, c.arc_percent) - 1.0;
}

CacheOptions OptionsFor(int64_t size) {
  CacheOptions options;
  options.max_weight = size;
  if (absl::GetFlag(FLAGS_initial_window_percent) >= 0) {
    options.initial_window_percent = absl::GetFlag(FLAGS_initial_window_percent);
  }
  const std::string window = absl::GetFlag(FLAGS_window);
  options.adaptive_window = window != "fixed";
  options.window_adaptation = window == "climb"    ? WindowAdaptation::kHillClimbing
                              : window == "shadow" ? WindowAdaptation::kShadowQueues
                                                   : WindowAdaptation::kMiniSimulation;
  if (absl::GetFlag(FLAGS_sample_per_entry) > 0) {
    options.climber_sample_size =
        static_cast<int64_t>(absl::GetFlag(FLAGS_sample_per_entry) * static_cast<double>(size));
  }
  return options;
}

double PolicyPercent(std::string_view policy, int64_t size, const std::vector<uint64_t>& keys) {
  auto replay = MakeReplayPolicy(policy, size);
  if (!replay.ok()) return -1;
  int64_t hits = 0;
  for (uint64_t key : keys) hits += (*replay)->Access(key) ? 1 : 0;
  return 100.0 * static_cast<double>(hits) / static_cast<double>(keys.size());
}

int ReferenceTable(const std::string& dir, const std::string& only) {
  std::string loaded_trace;
  std::vector<uint64_t> keys;
  int met = 0, run = 0;
  double worst_margin = 1e9, total_margin = 0;
  std::printf("| trace | size | LRU %% | ARC %% | W-TinyLFU %% | target %% | margin | |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Config& c : kConfigs) {
    if (!only.empty() && !absl::StrContains(c.trace, only)) continue;
    if (loaded_trace != c.trace) {
      absl::StatusOr<std::vector<uint64_t>> read = ReadTraceFile(absl::StrCat(dir, "/", c.trace));
      if (!read.ok()) {
        std::fprintf(stderr, "%s\n", read.status().ToString().c_str());
        return 1;
      }
      keys = *std::move(read);
      loaded_trace = c.trace;
    }
    const double percent = LocalCacheHitPercent(OptionsFor, c.size, keys);
    const double target = TargetPercent(c);
    const double margin = percent - target;
    const bool ok = margin >= -0.005;
    ++run;
    met += ok ? 1 : 0;
    worst_margin = std::min(worst_margin, margin);
    total_margin += margin;
    std::printf("| %s | %lld | %.2f | %.2f | **%.2f** | %.2f | %+.2f | %s |\n", c.trace,
                static_cast<long long>(c.size), c.lru_percent, c.arc_percent, percent, target,
                margin, ok ? "met" : "MISSED");
    if (absl::GetFlag(FLAGS_verify_baselines)) {
      std::printf("|   recomputed | | %.2f | %.2f | | | | |\n", PolicyPercent("lru", c.size, keys),
                  PolicyPercent("arc", c.size, keys));
    }
    std::fflush(stdout);
  }
  std::printf("met %d of %d; worst margin %+.2f; sum of margins %+.2f\n", met, run, worst_margin,
              total_margin);
  return 0;
}

constexpr const char* kRealTraces[] = {"OLTP.lis.zst",         "P3.lis.zst",
                                       "lirs-sprite.trace.gz", "lirs-multi2.trace.gz",
                                       "lirs-2_pools.trace.gz", "lirs-gli.trace.gz",
                                       "lirs-ps.trace.gz",     "lirs-loop.trace.gz"};

int Sweep(const std::string& dir, const std::string& only) {
  SweepTotals totals;
  const std::string baselines = absl::GetFlag(FLAGS_baselines_file);
  for (const char* trace : kRealTraces) {
    if (!only.empty() && !absl::StrContains(trace, only)) continue;
    absl::StatusOr<std::vector<uint64_t>> keys = ReadTraceFile(absl::StrCat(dir, "/", trace));
    if (!keys.ok()) {
      std::fprintf(stderr, "%s\n", keys.status().ToString().c_str());
      return 1;
    }
    SweepTrace(trace, *keys, OptionsFor, baselines, totals);
  }
  const int64_t length = absl::GetFlag(FLAGS_synthetic_length);
  const uint64_t seed = absl::GetFlag(FLAGS_synthetic_seed);
  for (const std::string& shape : tools::SyntheticShapeNames()) {
    if (!only.empty() && !absl::StrContains(shape, only)) continue;
    absl::StatusOr<std::vector<uint64_t>> keys =
        tools::GenerateSyntheticTrace(shape, length, seed);
    if (!keys.ok()) {
      std::fprintf(stderr, "%s\n", keys.status().ToString().c_str());
      return 1;
    }
    SweepTrace(absl::StrCat("synthetic-", shape, "-", length, "-seed", seed), *keys, OptionsFor,
               baselines, totals);
  }
  std::printf(
      "\nsweep: %d cells; margin >= %.0f met in %d (worst %+.2f at %s); drops beyond %.2f: %d "
      "(worst %+.2f at %s)\n",
      totals.cells, kRequiredMargin, totals.margin_met, totals.worst_margin,
      totals.worst_margin_at.c_str(), kMonotonicTolerance, totals.monotonic_breaks,
      totals.worst_drop, totals.worst_drop_at.c_str());
  return 0;
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_traces_dir);
  const std::string only = absl::GetFlag(FLAGS_only);
  if (absl::GetFlag(FLAGS_reference)) {
    if (int rc = ReferenceTable(dir, only); rc != 0) return rc;
  }
  if (absl::GetFlag(FLAGS_sweep)) return Sweep(dir, only);
  return 0;
}

}  // namespace
}  // namespace crema::cache

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::cache::Main();
}
