// hit_ratio_benchmark: replays every reference trace configuration of ../shared/traces/README.md
// (20 of them) through LocalCache's W-TinyLFU and prints the whole table against the targets of
// docs/cache.md, so a change is always judged on all traces at once.
//
//   bazel build -c opt //cache:hit_ratio_benchmark && bazel-bin/cache/hit_ratio_benchmark
//   (from the workspace root; --traces_dir overrides ../shared/traces)
//
// Targets: on OLTP, at or above ARC; elsewhere, at least max(LRU, ARC) - 1 point. LRU and ARC are
// the reference table's numbers (`--verify_baselines` recomputes them with cache/replay_policies).
// Knobs for experiments (a fixed window, another sample size) map to CacheOptions fields.
//
// Traces are read once each (.gz with zlib, .zst through `zstd -dc`) and kept in memory as keys.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"
#include "cache/replay_policies.h"
#include "cache/trace_format.h"
#include "node/clock.h"

ABSL_FLAG(std::string, traces_dir, "../shared/traces", "Directory of the reference traces");
ABSL_FLAG(std::string, only, "", "Run only configurations whose trace name contains this");
ABSL_FLAG(int, initial_window_percent, -1, "CacheOptions.initial_window_percent (-1: default)");
ABSL_FLAG(std::string, window, "shadow",
          "Window adaptation: shadow (default), climb (hill climbing) or fixed");
ABSL_FLAG(double, sample_per_entry, 0, "Climber sample size in multiples of the capacity (0: default)");
ABSL_FLAG(int64_t, window_log_every, 0, "Print the window share every this many requests");
ABSL_FLAG(bool, verify_baselines, false, "Also recompute LRU and ARC and compare to the table");

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

bool ReadLines(const std::string& path, std::vector<uint64_t>& keys, std::string& error) {
  const absl::StatusOr<TraceFormat> format = TraceFormatFromPath(path);
  if (!format.ok()) {
    error = std::string(format.status().message());
    return false;
  }
  auto parse = [&](std::string_view line) {
    absl::Status status =
        ParseTraceLine(*format, line, [&](uint64_t key) { keys.push_back(key); });
    if (!status.ok()) error = std::string(status.message());
    return status.ok();
  };
  char line[512];
  if (absl::EndsWith(path, ".gz")) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) {
      error = "cannot open " + path;
      return false;
    }
    bool ok = true;
    while (ok && gzgets(file, line, sizeof(line)) != nullptr) ok = parse(line);
    gzclose(file);
    return ok;
  }
  std::FILE* pipe = ::popen(absl::StrCat("zstd -dc -- '", path, "'").c_str(), "r");
  if (pipe == nullptr) {
    error = "cannot run zstd for " + path;
    return false;
  }
  bool ok = true;
  while (ok && std::fgets(line, sizeof(line), pipe) != nullptr) ok = parse(line);
  const int exit_code = ::pclose(pipe);
  if (ok && exit_code != 0) error = absl::StrCat("zstd failed on ", path);
  return ok && exit_code == 0 && !keys.empty();
}

double WTinyLfuPercent(int64_t size, const std::vector<uint64_t>& keys) {
  CacheOptions options;
  options.max_weight = size;
  if (absl::GetFlag(FLAGS_initial_window_percent) >= 0) {
    options.initial_window_percent = absl::GetFlag(FLAGS_initial_window_percent);
  }
  const std::string window = absl::GetFlag(FLAGS_window);
  options.adaptive_window = window != "fixed";
  options.window_adaptation = window == "climb" ? WindowAdaptation::kHillClimbing
                                                : WindowAdaptation::kShadowQueues;
  if (absl::GetFlag(FLAGS_sample_per_entry) > 0) {
    options.climber_sample_size =
        static_cast<int64_t>(absl::GetFlag(FLAGS_sample_per_entry) * static_cast<double>(size));
  }
  ManualClock clock;
  LocalCache cache(clock, std::move(options));
  for (uint64_t key : keys) {
    char bytes[sizeof(key)];
    std::memcpy(bytes, &key, sizeof(key));
    const std::string_view k(bytes, sizeof(bytes));
    if (cache.GetIfPresent(k) == nullptr) cache.Put(k, std::string_view());
    const int64_t every = absl::GetFlag(FLAGS_window_log_every);
    if (every > 0 && cache.stats().requests() % every == 0) {
      std::fprintf(stderr, "%lld ", static_cast<long long>(cache.window_max_weight() * 100 / size));
    }
  }
  if (absl::GetFlag(FLAGS_window_log_every) > 0) std::fprintf(stderr, "\n");
  return 100.0 * static_cast<double>(cache.stats().hits) /
         static_cast<double>(cache.stats().requests());
}

double PolicyPercent(std::string_view policy, int64_t size, const std::vector<uint64_t>& keys) {
  auto replay = MakeReplayPolicy(policy, size);
  if (!replay.ok()) return -1;
  int64_t hits = 0;
  for (uint64_t key : keys) hits += (*replay)->Access(key) ? 1 : 0;
  return 100.0 * static_cast<double>(hits) / static_cast<double>(keys.size());
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_traces_dir);
  const std::string only = absl::GetFlag(FLAGS_only);
  std::string loaded_trace;
  std::vector<uint64_t> keys;
  int met = 0, run = 0;
  double worst_margin = 1e9, total_margin = 0;
  std::printf("| trace | size | LRU %% | ARC %% | W-TinyLFU %% | target %% | margin | |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Config& c : kConfigs) {
    if (!only.empty() && !absl::StrContains(c.trace, only)) continue;
    if (loaded_trace != c.trace) {
      keys.clear();
      std::string error;
      if (!ReadLines(absl::StrCat(dir, "/", c.trace), keys, error)) {
        std::fprintf(stderr, "reading %s/%s: %s\n", dir.c_str(), c.trace, error.c_str());
        return 1;
      }
      loaded_trace = c.trace;
    }
    const double percent = WTinyLfuPercent(c.size, keys);
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

}  // namespace
}  // namespace crema::cache

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::cache::Main();
}
