// membership_sim_bench: sweeps of MembershipNode clusters on the project simulator (sim/), in
// virtual time — the same measurements as membership_bench (in-memory SimCluster) so the two can be
// compared, plus a false-positive sweep over many seeds.
//
//   bazel build -c opt //sim/scenarios/membership:membership_sim_bench
//   bazel-bin/sim/scenarios/membership/membership_sim_bench [seeds=10] [seed=1] [max_n=200]
//       [net=clean|faulty] [fp_seeds=0] [fp_n=5] [fp_seconds=120] [sections=dtcf]
//
// net=clean: uniform 1-20 ms latency, no loss/dup/drift (as SimCluster). net=faulty: 1-10 ms with a
// 1/50 tail to 300 ms (reordering), 2% duplication, 1% clock drift, 10 s clock offsets.
// Sections: d = detection vs probe interval (N = 50), t = traffic and false positives (N = 5, 50,
// max_n; 0% and 10% loss; 120 s), c = time for an update to reach everyone vs N, with an
// O(log N) fit in gossip rounds,
// f = false-positive sweep (fp_seeds runs of fp_n nodes, 10% loss, fp_seconds each), with the
// distribution of how long a live member stays suspected in one observer's view (suspected →
// alive again), to compare with the minimum suspicion timeout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sim/scenarios/membership/membership_sim.h"
#include "node/random.h"

namespace crema::membership {
namespace {

struct Options {
  int seeds = 10;
  uint64_t seed = 1;
  int max_n = 200;
  bool faulty = false;
  int fp_seeds = 0;
  int fp_n = 5;
  int fp_seconds = 120;
  std::string sections = "dtcf";
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: membership_sim_bench [seeds=N] [seed=S] [max_n=N] [net=clean|faulty] "
               "[fp_seeds=N] [fp_n=N] [fp_seconds=S] [sections=dtcf]\n");
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::string> kv = absl::StrSplit(argv[i], absl::MaxSplits('=', 1));
    if (kv.size() != 2) Usage();
    bool ok = true;
    if (kv[0] == "seeds") ok = absl::SimpleAtoi(kv[1], &o.seeds);
    else if (kv[0] == "seed") ok = absl::SimpleAtoi(kv[1], &o.seed);
    else if (kv[0] == "max_n") ok = absl::SimpleAtoi(kv[1], &o.max_n);
    else if (kv[0] == "fp_seeds") ok = absl::SimpleAtoi(kv[1], &o.fp_seeds);
    else if (kv[0] == "fp_n") ok = absl::SimpleAtoi(kv[1], &o.fp_n);
    else if (kv[0] == "fp_seconds") ok = absl::SimpleAtoi(kv[1], &o.fp_seconds) && o.fp_seconds > 0;
    else if (kv[0] == "sections") o.sections = kv[1];
    else if (kv[0] == "net") ok = (o.faulty = kv[1] == "faulty") || kv[1] == "clean";
    else ok = false;
    if (!ok || o.seeds < 1 || o.max_n < 5 || o.fp_n < 3) Usage();
  }
  return o;
}

std::vector<uint64_t> Seeds(uint64_t seed, int count) {
  Random root(seed);
  std::vector<uint64_t> seeds;
  for (int i = 0; i < count; ++i) seeds.push_back(root.Next());
  return seeds;
}

MembershipSimOptions SimOptions(const Options& o, uint64_t seed, int n, uint64_t loss_percent) {
  MembershipSimOptions options;
  options.sim.seed = seed;
  options.nodes = n;
  sim::LatencyModel& latency = options.sim.network.latency;
  if (o.faulty) {
    latency.kind = sim::LatencyModel::Kind::kLongTail;
    latency.min = absl::Milliseconds(1);
    latency.max = absl::Milliseconds(10);
    latency.tail = {1, 50};
    latency.tail_max = absl::Milliseconds(300);
    options.sim.network.duplicate = {2, 100};
    options.sim.clock.max_offset = absl::Seconds(10);
    options.sim.clock.max_drift_ppm = 10'000;
  } else {
    latency.kind = sim::LatencyModel::Kind::kUniform;
    latency.min = absl::Milliseconds(1);
    latency.max = absl::Milliseconds(20);
  }
  options.sim.network.drop = {loss_percent, 100};
  return options;
}

// Event times per kind, member and observer, and how long each suspicion was held.
struct Events {
  absl::btree_map<std::tuple<MembershipEventKind, NodeId, NodeId>, absl::Duration> first;
  absl::btree_map<MembershipEventKind, int> count;
  absl::btree_map<std::pair<NodeId, NodeId>, absl::Duration> suspected_since;  // (at, member)
  std::vector<double> held_s;  // suspected → alive again, per observer, in seconds
  MembershipSim::Observer Observer() {
    return [this](NodeId at, const MembershipEvent& e, absl::Duration t) {
      ++count[e.kind];
      first.try_emplace({e.kind, e.member.id, at}, t);
      const std::pair<NodeId, NodeId> key{at, e.member.id};
      if (e.kind == MembershipEventKind::kSuspected) {
        suspected_since[key] = t;
      } else if (auto it = suspected_since.find(key); it != suspected_since.end()) {
        if (e.kind == MembershipEventKind::kAliveAgain) {
          held_s.push_back(absl::ToDoubleSeconds(t - it->second));
        }
        suspected_since.erase(it);
      }
    };
  }
  // (earliest, latest, observers) of `kind` about `member` at or after `since`.
  std::tuple<absl::Duration, absl::Duration, int> Span(MembershipEventKind kind, NodeId member,
                                                       absl::Duration since) const {
    absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
    int observers = 0;
    for (const auto& [key, t] : first) {
      if (std::get<0>(key) != kind || std::get<1>(key) != member || t < since) continue;
      lo = std::min(lo, t);
      hi = std::max(hi, t);
      ++observers;
    }
    return {lo, hi, observers};
  }
};

bool Converge(MembershipSim& cluster, absl::Duration limit) {
  return cluster.RunUntil([&] { return cluster.ViewsAgree(); }, limit);
}

double Fit(const std::vector<double>& xs, const std::vector<double>& ys, double* a, double* b) {
  const double k = xs.size();
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sx += xs[i], sy += ys[i], sxx += xs[i] * xs[i], sxy += xs[i] * ys[i];
  }
  *b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  *a = (sy - *b * sx) / k;
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    ss_res += std::pow(ys[i] - (*a + *b * xs[i]), 2);
    ss_tot += std::pow(ys[i] - sy / k, 2);
  }
  return 1 - ss_res / ss_tot;
}

void DetectionVsProbeInterval(const Options& o) {
  std::printf("\n## Detection time vs probe interval (N = 50, timeout = interval / 2, %d seeds)\n\n"
              "| probe interval | first suspect (s) | first dead (s) | all dead mean (s) | "
              "all dead max (s) | all dead / interval |\n|---|---|---|---|---|---|\n",
              o.seeds);
  for (int interval_ms : {200, 500, 1000, 2000}) {
    double suspect = 0, first = 0, all = 0, all_max = 0;
    for (uint64_t seed : Seeds(o.seed, o.seeds)) {
      MembershipSimOptions options = SimOptions(o, seed, 50, 0);
      options.node.swim.probe_interval = absl::Milliseconds(interval_ms);
      options.node.swim.probe_timeout = options.node.swim.probe_interval / 2;
      Events events;
      MembershipSim cluster(options, events.Observer());
      cluster.sim().StartAll();
      Converge(cluster, absl::Minutes(2));
      const NodeId victim = 50;
      cluster.sim().Crash(victim);
      const absl::Duration crash = cluster.sim().elapsed();
      cluster.RunUntil([&] { return cluster.AllConsiderGone(victim); }, absl::Minutes(5),
                       absl::Milliseconds(50));
      const auto [s_lo, s_hi, s_n] = events.Span(MembershipEventKind::kSuspected, victim, crash);
      const auto [d_lo, d_hi, d_n] = events.Span(MembershipEventKind::kDead, victim, crash);
      if (d_n != 49) std::printf("(seed %llu: only %d observers)\n", (unsigned long long)seed, d_n);
      suspect += absl::ToDoubleSeconds(s_lo - crash);
      first += absl::ToDoubleSeconds(d_lo - crash);
      all += absl::ToDoubleSeconds(d_hi - crash);
      all_max = std::max(all_max, absl::ToDoubleSeconds(d_hi - crash));
    }
    const double k = o.seeds;
    std::printf("| %d ms | %.2f | %.2f | %.2f | %.2f | %.1f |\n", interval_ms, suspect / k,
                first / k, all / k, all_max, all / k / (interval_ms / 1000.0));
    std::fflush(stdout);
  }
}

struct Steady {
  double messages_per_member_s = 0, bytes_per_member_s = 0;
  double gossip_per_member_s = 0;  // gossip-timer messages
  double repair_per_member_s = 0;  // suspicion reminders + answers to stale accusations
  int suspicions = 0, deaths = 0;
  bool one_view_after = false;
  std::vector<double> held_s;
};

Steady SteadyState(const Options& o, uint64_t seed, int n, uint64_t loss, absl::Duration length) {
  Steady r;
  Events events;
  MembershipSim cluster(SimOptions(o, seed, n, 0), events.Observer());
  cluster.sim().StartAll();
  Converge(cluster, absl::Minutes(2));
  cluster.sim().RunFor(absl::Seconds(30));  // past the join burst
  struct Totals {
    uint64_t messages = 0, bytes = 0, gossip = 0, repair = 0;
  };
  auto totals = [&] {
    Totals t;
    for (NodeId id : cluster.UpNodes()) {
      const SwimStats& stats = cluster.node(id)->swim().stats();
      t.messages += stats.messages_sent;
      t.bytes += stats.bytes_sent;
      t.gossip += stats.gossip_messages_sent;
      t.repair += stats.suspicion_reminders_sent + stats.refutation_replies_sent;
    }
    return t;
  };
  const Totals t0 = totals();
  events.held_s.clear();
  const int suspicions0 = events.count[MembershipEventKind::kSuspected];
  const int deaths0 = events.count[MembershipEventKind::kDead];
  cluster.sim().network().config().drop = {loss, 100};
  cluster.sim().RunFor(length);
  const Totals t1 = totals();
  const double member_s = n * absl::ToDoubleSeconds(length);
  r.messages_per_member_s = (t1.messages - t0.messages) / member_s;
  r.bytes_per_member_s = (t1.bytes - t0.bytes) / member_s;
  r.gossip_per_member_s = (t1.gossip - t0.gossip) / member_s;
  r.repair_per_member_s = (t1.repair - t0.repair) / member_s;
  r.held_s = std::move(events.held_s);
  r.suspicions = events.count[MembershipEventKind::kSuspected] - suspicions0;
  r.deaths = events.count[MembershipEventKind::kDead] - deaths0;
  cluster.sim().network().config().drop = {0, 100};
  r.one_view_after = Converge(cluster, absl::Minutes(1));
  return r;
}

void Traffic(const Options& o) {
  std::printf("\n## Traffic and false positives in steady state (120 s, %d seeds)\n\n"
              "| N | loss | msgs/member/s | of which gossip timer | of which reminders + answers | "
              "bytes/member/s | suspicion events | false deaths | one view after |\n"
              "|---|---|---|---|---|---|---|---|---|\n",
              o.seeds);
  for (int n : {5, 50, o.max_n}) {
    for (uint64_t loss : {0, 10}) {
      Steady sum;
      int views = 0;
      for (uint64_t seed : Seeds(o.seed, o.seeds)) {
        const Steady r = SteadyState(o, seed, n, loss, absl::Minutes(2));
        if (r.deaths > 0) {
          std::printf("(N=%d loss=%d%% seed %llu: %d false deaths)\n", n, static_cast<int>(loss),
                      static_cast<unsigned long long>(seed), r.deaths);
        }
        sum.messages_per_member_s += r.messages_per_member_s;
        sum.gossip_per_member_s += r.gossip_per_member_s;
        sum.repair_per_member_s += r.repair_per_member_s;
        sum.bytes_per_member_s += r.bytes_per_member_s;
        sum.suspicions += r.suspicions;
        sum.deaths += r.deaths;
        views += r.one_view_after;
      }
      std::printf("| %d | %d%% | %.2f | %.2f | %.3f | %.0f | %d | %d | %d/%d |\n", n,
                  static_cast<int>(loss), sum.messages_per_member_s / o.seeds,
                  sum.gossip_per_member_s / o.seeds, sum.repair_per_member_s / o.seeds,
                  sum.bytes_per_member_s / o.seeds, sum.suspicions, sum.deaths, views, o.seeds);
      std::fflush(stdout);
    }
  }
}

// Seconds from a metadata change at node 1 until every other node has applied it.
double Dissemination(const Options& o, uint64_t seed, int n) {
  Events events;
  MembershipSim cluster(SimOptions(o, seed, n, 0), events.Observer());
  cluster.sim().StartAll();
  if (!Converge(cluster, absl::Minutes(2))) return INFINITY;
  cluster.sim().RunFor(absl::Minutes(1));  // let join gossip die down
  const absl::Duration start = cluster.sim().elapsed();
  if (!cluster.node(1)->UpdateMetadata({{"shards", "1-7"}}).ok()) return INFINITY;
  cluster.RunUntil(
      [&] { return std::get<2>(events.Span(MembershipEventKind::kUpdated, 1, start)) == n - 1; },
      absl::Minutes(5), absl::Milliseconds(10));
  const auto [lo, hi, observers] = events.Span(MembershipEventKind::kUpdated, 1, start);
  if (observers != n - 1) return INFINITY;
  return absl::ToDoubleSeconds(hi - start);
}

void ConvergenceVsSize(const Options& o) {
  const double round_s = absl::ToDoubleSeconds(SwimConfig{}.gossip_interval);
  std::printf("\n## Time for one update to reach every member (%d seeds; gossip round = %.0f ms)\n\n"
              "| N | log2 N | median (s) | median (gossip rounds) | mean (s) | max (s) | "
              "runs > 5 s |\n|---|---|---|---|---|---|---|\n",
              o.seeds, round_s * 1000);
  std::vector<double> xs, medians;
  for (int n : {5, 10, 20, 50, 100, 150, 200, 300, 500}) {
    if (n > o.max_n) break;
    std::vector<double> runs;
    double sum = 0;
    for (uint64_t seed : Seeds(o.seed, o.seeds)) {
      runs.push_back(Dissemination(o, seed, n));
      sum += runs.back();
    }
    std::sort(runs.begin(), runs.end());
    const double median = runs[runs.size() / 2];
    const int slow = static_cast<int>(
        std::count_if(runs.begin(), runs.end(), [](double r) { return r > 5.0; }));
    xs.push_back(std::log2(n));
    medians.push_back(median / round_s);
    std::printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n", n, std::log2(n), median,
                median / round_s, sum / o.seeds, runs.back(), slow);
    std::fflush(stdout);
  }
  double a = 0, b = 0;
  const double r2 = Fit(xs, medians, &a, &b);
  std::printf("\nfit of the medians: gossip rounds = %.2f + %.2f * log2(N), R^2 = %.3f\n"
              "(runs > 5 s: an update that missed a member until anti-entropy repaired it)\n",
              a, b, r2);
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
}

void FalsePositiveSweep(const Options& o) {
  if (o.fp_seeds <= 0) return;
  std::printf("\n## False-positive sweep: %d runs of %d nodes, 10%% loss, %d s each (net=%s)\n\n",
              o.fp_seeds, o.fp_n, o.fp_seconds, o.faulty ? "faulty" : "clean");
  int runs_with_death = 0, deaths = 0, suspicions = 0, views = 0;
  double messages = 0, gossip = 0, repair = 0;
  std::vector<double> held;
  for (uint64_t seed : Seeds(o.seed ^ 0xf00d, o.fp_seeds)) {
    const Steady r = SteadyState(o, seed, o.fp_n, 10, absl::Seconds(o.fp_seconds));
    if (r.deaths > 0) {
      ++runs_with_death;
      std::printf("seed %llu: %d false deaths\n", static_cast<unsigned long long>(seed), r.deaths);
    }
    deaths += r.deaths;
    suspicions += r.suspicions;
    views += r.one_view_after;
    messages += r.messages_per_member_s;
    gossip += r.gossip_per_member_s;
    repair += r.repair_per_member_s;
    held.insert(held.end(), r.held_s.begin(), r.held_s.end());
  }
  std::sort(held.begin(), held.end());
  const double member_hours = o.fp_seeds * o.fp_n * o.fp_seconds / 3600.0;
  const absl::Duration min_timeout =
      SuspicionMinTimeout(SwimConfig{}.suspicion_mult, o.fp_n, SwimConfig{}.probe_interval);
  std::printf("runs with a false death: %d/%d; false deaths (events, all observers): %d; "
              "suspicion events: %d; one view after: %d/%d; %.1f member-hours observed\n",
              runs_with_death, o.fp_seeds, deaths, suspicions, views, o.fp_seeds, member_hours);
  std::printf("msgs/member/s: %.2f (gossip timer %.2f, reminders + answers %.3f)\n",
              messages / o.fp_seeds, gossip / o.fp_seeds, repair / o.fp_seeds);
  std::printf("suspicion held until refuted (per observer, %zu): p50 %.2f s, p99 %.2f s, "
              "p99.9 %.2f s, max %.2f s; minimum suspicion timeout %.2f s\n",
              held.size(), Quantile(held, 0.5), Quantile(held, 0.99), Quantile(held, 0.999),
              held.empty() ? 0.0 : held.back(), absl::ToDoubleSeconds(min_timeout));
  // The tail, to compare with the model in docs/membership.md: past ~1 s only members that missed
  // every gossiped copy of the refutation are still waiting, and each further second (one
  // reminder round trip, which succeeds with (1 - loss)^2) should cut their number by ~5x.
  std::printf("held longer than:");
  for (int seconds = 1; seconds <= 6; ++seconds) {
    std::printf(" %d s: %td;", seconds,
                held.end() -
                    std::upper_bound(held.begin(), held.end(), static_cast<double>(seconds)));
  }
  std::printf("\n");
}

}  // namespace
}  // namespace crema::membership

int main(int argc, char** argv) {
  using namespace crema::membership;
  const Options o = Parse(argc, argv);
  std::printf("# membership_sim_bench seeds=%d seed=%llu max_n=%d net=%s fp_seeds=%d fp_n=%d\n",
              o.seeds, static_cast<unsigned long long>(o.seed), o.max_n,
              o.faulty ? "faulty" : "clean", o.fp_seeds, o.fp_n);
  if (absl::StrContains(o.sections, 'd')) DetectionVsProbeInterval(o);
  if (absl::StrContains(o.sections, 't')) Traffic(o);
  if (absl::StrContains(o.sections, 'c')) ConvergenceVsSize(o);
  if (absl::StrContains(o.sections, 'f')) FalsePositiveSweep(o);
  return 0;
}
