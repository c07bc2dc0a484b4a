// Benchmarks of the linearizability checker on histories from a simulated atomic store
// (chaos/history_generator.h): 10,000 operations, realistic latencies (1-10 ms, up to 1 ms think
// time), 2% indeterminate and 1% errored operations, varying clients (concurrency), keys and
// value reuse. Results are recorded in docs/linearizability.md.
//
//   bazel build //chaos:lincheck_benchmark && bazel-bin/chaos/lincheck_benchmark
#include <cstdint>
#include <cstdio>

#include "benchmark/benchmark.h"
#include "chaos/history.h"
#include "chaos/history_generator.h"
#include "chaos/linearizability.h"
#include "node/random.h"

namespace crema::chaos {
namespace {

constexpr uint64_t kSeed = 20240601;
constexpr int kOperations = 10'000;

// Args: clients, keys, value_domain (0 = unique values), one in N operations indeterminate
// (0 = none).
void BM_CheckLinearizability(benchmark::State& state) {
  Random random(kSeed);
  const AtomicHistoryOptions options{.clients = static_cast<int>(state.range(0)),
                                     .keys = static_cast<int>(state.range(1)),
                                     .operations = kOperations,
                                     .value_domain = static_cast<int>(state.range(2)),
                                     .indeterminate_one_in = static_cast<uint64_t>(state.range(3))};
  const History history = GenerateAtomicHistory(options, random);
  LinearizabilityResult last;
  for (auto _ : state) {
    absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(history);
    if (!result.ok() || result->verdict != Verdict::kLinearizable) {
      if (result.ok()) std::fprintf(stderr, "%s\n", LinearizabilitySummary(*result).c_str());
      state.SkipWithError("unexpected verdict");
      break;
    }
    last = *result;
    benchmark::DoNotOptimize(last);
  }
  state.counters["ops"] = static_cast<double>(history.size());
  state.counters["steps"] = static_cast<double>(last.steps);
  state.counters["max_cache"] = static_cast<double>(last.max_cache_entries);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(history.size()));
}

BENCHMARK(BM_CheckLinearizability)
    ->ArgNames({"clients", "keys", "domain", "indet"})
    ->Args({8, 100, 0, 50})  // The headline case.
    ->Args({1, 100, 0, 50})
    ->Args({2, 100, 0, 50})
    ->Args({4, 100, 0, 50})
    ->Args({16, 100, 0, 50})
    ->Args({32, 100, 0, 50})
    ->Args({64, 100, 0, 50})
    ->Args({8, 10, 0, 50})
    ->Args({8, 1, 0, 50})
    ->Args({16, 1, 0, 50})
    ->Args({16, 1, 0, 0})
    ->Args({8, 100, 3, 50})
    ->Args({8, 1, 3, 50})
    ->Unit(benchmark::kMillisecond);

// The same history checked as one object: what per-key partitioning saves.
void BM_CheckWholeHistory(benchmark::State& state) {
  Random random(kSeed);
  const AtomicHistoryOptions options{.clients = static_cast<int>(state.range(0)),
                                     .keys = static_cast<int>(state.range(1)),
                                     .operations = static_cast<int>(state.range(2))};
  const History history = GenerateAtomicHistory(options, random);
  for (auto _ : state) {
    absl::StatusOr<LinearizabilityResult> result =
        CheckLinearizability(history, {.partition_by_key = false});
    if (!result.ok() || result->verdict == Verdict::kNotLinearizable) {
      state.SkipWithError("unexpected verdict");
      break;
    }
    state.counters["steps"] = static_cast<double>(result->steps);
    state.counters["verdict_known"] = result->verdict == Verdict::kLinearizable ? 1 : 0;
  }
}

BENCHMARK(BM_CheckWholeHistory)
    ->ArgNames({"clients", "keys", "ops"})
    ->Args({8, 100, 1000})
    ->Args({8, 100, 3000})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace crema::chaos
