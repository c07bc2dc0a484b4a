// membership_bench: sweeps of the SWIM core on the in-memory SimCluster, in virtual time.
//
//   bazel build //node/membership:membership_bench
//   bazel-bin/node/membership/membership_bench [seeds=5] [seed=1] [max_n=200]
//
// Reports (all times are virtual; the run is deterministic for a given seed):
//   1. detection time vs probe interval (50 nodes);
//   2. messages and bytes per member per second, and false positives, at 0% and 10% loss;
//   3. time for an update to reach every member vs cluster size 5..max_n (median, mean, max), with
//      a least-squares fit of the medians in gossip rounds = a + b·log2(N).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "node/membership/testing/scenarios.h"
#include "node/random.h"

namespace crema::membership::testing {
namespace {

struct Options {
  int seeds = 5;
  uint64_t seed = 1;
  int max_n = 200;
};

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::string> kv = absl::StrSplit(argv[i], absl::MaxSplits('=', 1));
    bool ok = kv.size() == 2;
    if (ok && kv[0] == "seeds") ok = absl::SimpleAtoi(kv[1], &options.seeds);
    else if (ok && kv[0] == "seed") ok = absl::SimpleAtoi(kv[1], &options.seed);
    else if (ok && kv[0] == "max_n") ok = absl::SimpleAtoi(kv[1], &options.max_n);
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "usage: membership_bench [seeds=N] [seed=S] [max_n=N]\n");
      std::exit(2);
    }
  }
  return options;
}

std::vector<uint64_t> Seeds(const Options& options) {
  Random root(options.seed);
  std::vector<uint64_t> seeds;
  for (int i = 0; i < options.seeds; ++i) seeds.push_back(root.Next());
  return seeds;
}

void DetectionVsProbeInterval(const Options& options) {
  std::printf("\n## Detection time vs probe interval (N = 50, timeout = interval / 2, %d seeds)\n\n",
              options.seeds);
  std::printf("| probe interval | first suspect (s) | first dead (s) | all dead mean (s) | "
              "all dead max (s) | all dead / interval |\n|---|---|---|---|---|---|\n");
  for (int interval_ms : {200, 500, 1000, 2000}) {
    SwimConfig config;
    config.probe_interval = absl::Milliseconds(interval_ms);
    config.probe_timeout = config.probe_interval / 2;
    double suspect = 0, first = 0, all = 0, all_max = 0;
    for (uint64_t seed : Seeds(options)) {
      const DetectionResult r = MeasureDetection(seed, 50, config);
      suspect += r.first_suspected_s;
      first += r.first_dead_s;
      all += r.all_dead_s;
      all_max = std::max(all_max, r.all_dead_s);
    }
    const double k = options.seeds;
    std::printf("| %d ms | %.2f | %.2f | %.2f | %.2f | %.1f |\n", interval_ms, suspect / k,
                first / k, all / k, all_max, all / k / (interval_ms / 1000.0));
  }
}

void MessageRates(const Options& options) {
  std::printf("\n## Traffic and false positives in steady state (120 s, %d seeds)\n\n",
              options.seeds);
  std::printf("| N | loss | msgs/member/s | bytes/member/s | suspicion events | false deaths | "
              "one view after |\n|---|---|---|---|---|---|---|\n");
  for (int n : {5, 50, options.max_n}) {
    for (int loss : {0, 10}) {
      double messages = 0, bytes = 0;
      int suspicions = 0, deaths = 0, converged = 0;
      for (uint64_t seed : Seeds(options)) {
        const SteadyStateResult r =
            MeasureSteadyState(seed, n, SwimConfig{}, loss, absl::Minutes(2));
        messages += r.messages_per_member_per_s;
        bytes += r.bytes_per_member_per_s;
        suspicions += r.suspicions;
        deaths += r.false_deaths;
        converged += r.converged_after;
      }
      std::printf("| %d | %d%% | %.2f | %.0f | %d | %d | %d/%d |\n", n, loss,
                  messages / options.seeds, bytes / options.seeds, suspicions, deaths, converged,
                  options.seeds);
    }
  }
}

void ConvergenceVsSize(const Options& options) {
  const SwimConfig config;
  const double round_s = absl::ToDoubleSeconds(config.gossip_interval);
  const double period_s = absl::ToDoubleSeconds(config.probe_interval);
  std::printf("\n## Time for one update to reach every member (%d seeds; gossip round = %.0f ms)"
              "\n\n| N | log2 N | median (s) | median (gossip rounds) | mean (s) | max (s) |\n"
              "|---|---|---|---|---|---|\n",
              options.seeds, round_s * 1000);
  std::vector<double> xs, ys;
  for (int n : {5, 10, 20, 50, 100, 150, 200, 300, 500}) {
    if (n > options.max_n) break;
    std::vector<double> runs;
    double sum = 0;
    for (uint64_t seed : Seeds(options)) {
      runs.push_back(MeasureDissemination(seed, n, config) * period_s);
      sum += runs.back();
    }
    std::sort(runs.begin(), runs.end());
    const double median = runs[runs.size() / 2];
    xs.push_back(std::log2(n));
    ys.push_back(median / round_s);
    std::printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n, std::log2(n), median,
                median / round_s, sum / options.seeds, runs.back());
  }
  // Least squares y = a + b·x and R².
  const double k = xs.size();
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sx += xs[i];
    sy += ys[i];
    sxx += xs[i] * xs[i];
    sxy += xs[i] * ys[i];
  }
  const double b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  const double a = (sy - b * sx) / k;
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    ss_res += std::pow(ys[i] - (a + b * xs[i]), 2);
    ss_tot += std::pow(ys[i] - sy / k, 2);
  }
  std::printf("\nfit of the medians: gossip rounds = %.2f + %.2f * log2(N), R^2 = %.3f\n", a, b,
              1 - ss_res / ss_tot);
}

}  // namespace
}  // namespace crema::membership::testing

int main(int argc, char** argv) {
  using namespace crema::membership::testing;
  const Options options = Parse(argc, argv);
  std::printf("# membership_bench seeds=%d seed=%llu max_n=%d\n", options.seeds,
              static_cast<unsigned long long>(options.seed), options.max_n);
  DetectionVsProbeInterval(options);
  MessageRates(options);
  ConvergenceVsSize(options);
  return 0;
}
