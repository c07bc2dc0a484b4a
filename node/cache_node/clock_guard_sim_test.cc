// The clock guard (clock_guard.cc) on a 5-node cluster in the simulator:
//   * a node booted with its wall clock 5 s off is found out by its peers' estimates within a
//     few probe periods; the others never are;
//   * a node whose wall clock is stepped 5 s ahead stops stamping at once: no shard's log time
//     ever runs ahead of the good clocks by more than the skew bound, its leaderships move away,
//     writes and reads through it keep working (forwarded), and it serves again after its clock
//     comes back; with the guard off the same step DOES push log time ahead (the check can fail);
//   * within the bound (offsets up to half the skew bound each, long-tailed message delays, drift)
//     nothing is ever refused.
// Measured detection and recovery times are printed (docs/cache-node.md, "Clock bound").
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

const std::vector<NodeId> kIds = {1, 2, 3, 4, 5};
constexpr NodeId kBad = 3;
const absl::Duration kSkew = absl::Milliseconds(100);
const absl::Duration kProbe = absl::Milliseconds(500);
const absl::Duration kHold = absl::Seconds(3);
const absl::Duration kStep = absl::Seconds(5);

class ClockGuardSimTest : public ::testing::Test {
 protected:
  // `before_start` runs after the nodes are added, before they start.
  void StartCluster(uint64_t seed, sim::SimOptions o = {},
                    const std::function<void()>& before_start = {}) {
    seed_ = seed;
    o.seed = seed;
    sim_ = std::make_unique<sim::Simulator>(o);
    CacheConfig config;
    config.bootstrap = kIds;
    config.num_shards = 8;
    config.max_capacity = 10'000;
    config.tick_interval = absl::Milliseconds(50);
    config.election_tick = 10;
    config.max_clock_skew = kSkew;
    CacheNodeOptions options;
    options.swim.probe_interval = kProbe;
    options.swim.probe_timeout = absl::Milliseconds(200);
    options.maintenance_interval = absl::Milliseconds(100);
    options.tick_every = absl::Seconds(1);
    options.monitor_clock = monitor_clock_;
    options.clock.recovery_hold = kHold;
    for (NodeId id : kIds) {
      sim_->AddNode(id, [config, options](Env env) mutable {
        config.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, config, options);
      });
    }
    if (before_start) before_start();
    sim_->StartAll();
    const bool ready = sim_->RunUntil([&] { return Ready(); }, absl::Seconds(60));
    std::string why;
    for (NodeId id : kIds) {
      CacheNode* n = Node(id);
      absl::StrAppend(&why, " n", id, n == nullptr ? "=none" : (n->ready() ? "=ready" : "=not"),
                      n == nullptr ? "" : absl::StrCat(" meta=", n->Status().meta_leader));
    }
    ASSERT_TRUE(ready) << "cluster never became ready:" << why << " at "
                       << absl::FormatDuration(sim_->elapsed()) << "; reproduce: "
                       << sim::ReproCommand(seed);
  }

  // Every node serves, the metadata group has a leader, and every shard has one.
  bool Ready() {
    NodeId meta = kNoNode;
    for (NodeId id : kIds) {
      CacheNode* n = Node(id);
      if (n == nullptr || !n->ready()) return false;
      if (meta == kNoNode) meta = n->Status().meta_leader;
    }
    if (meta == kNoNode) return false;
    std::vector<bool> led(Node(meta)->Status().shards.size(), false);
    for (NodeId id : kIds) {
      for (const ShardStatus& s : Node(id)->Status().shards) {
        if (s.shard < led.size() && s.leader != kNoNode) led[s.shard] = true;
      }
    }
    return !led.empty() && std::find(led.begin(), led.end(), false) == led.end();
  }

  CacheNode* Node(NodeId id) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    return p == nullptr ? nullptr : p->node();
  }

  bool OutOfBound(NodeId id) {
    CacheNode* n = Node(id);
    return n != nullptr && n->Status().clock.out_of_bound;
  }

  // Runs `op` in a fiber on node `id` and the simulation until it returns.
  void On(NodeId id, std::function<void(CacheNode&)> op, absl::Duration limit = absl::Seconds(20)) {
    ASSERT_TRUE(sim::RunOnCacheNode(*sim_, id, std::move(op), limit))
        << "operation on node " << id << " did not run or finish; reproduce: "
        << sim::ReproCommand(seed_);
  }

  // Writes TTL'd keys over every shard through node 1 until *stop (a steady load the leaders
  // stamp); counts failures.
  void StartWriter(std::shared_ptr<bool> stop, std::shared_ptr<int> failures) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, 1);
    CacheNode* node = p->node();
    Env env = p->env();
    p->Run("writer", [node, env, stop, failures] {
      for (int i = 0; !*stop; ++i) {
        PutOptions put;
        put.expiration = Expiration::After(absl::Seconds(30));
        if (!node->Put(absl::StrCat("w", i % 32), absl::StrCat(i), put).ok()) ++*failures;
        if (!env.executor->Sleep(absl::Milliseconds(20)).ok()) return;
      }
    });
  }

  // The largest amount by which any shard replica's log time on a good node is ahead of the
  // good nodes' wall clock (they have no offset in these runs).
  absl::Duration LogTimeLead() {
    absl::Duration lead = -absl::InfiniteDuration();
    const absl::Time wall = sim_->clock(1).Now();
    for (NodeId id : kIds) {
      if (id == kBad || Node(id) == nullptr) continue;
      for (const CacheNode::ReplicaView& r : Node(id)->Replicas()) {
        if (r.cache != nullptr) lead = std::max(lead, r.cache->log_time() - wall);
      }
    }
    return lead;
  }

  int ShardsLedBy(NodeId id) {
    int led = 0;
    for (const ShardStatus& s : Node(id)->Status().shards) led += s.leader == id;
    return led;
  }

  uint64_t seed_ = 0;
  bool monitor_clock_ = true;
  std::unique_ptr<sim::Simulator> sim_;
};

// Offsets beyond the bound from the first instant (no local step to see): the peers' estimates
// find it. One bad node of five: it sees 4 of 4 peers beyond; each good node sees 1 of 4.
TEST_F(ClockGuardSimTest, ANodeBootedOutOfBoundIsFoundByItsPeersEstimates) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed, {}, [&] { sim_->StepWallClock(kBad, kStep); });
  if (HasFatalFailure()) return;
  bool false_positive = false;
  ASSERT_TRUE(sim_->RunUntil(
      [&] {
        for (NodeId id : kIds) false_positive |= id != kBad && OutOfBound(id);
        return OutOfBound(kBad);
      },
      absl::Seconds(30)))
      << "never detected; reproduce: " << sim::ReproCommand(seed);
  const absl::Duration detected = sim_->elapsed();  // the nodes started at 0
  std::fprintf(stderr, "clock guard: booted +5 s, detected %s after start (probe period %s)\n",
               absl::FormatDuration(detected).c_str(), absl::FormatDuration(kProbe).c_str());
  EXPECT_LE(detected, 8 * kProbe) << "reproduce: " << sim::ReproCommand(seed);
  EXPECT_FALSE(false_positive);
  const ClockView view = Node(kBad)->Status().clock;
  EXPECT_GE(view.median_offset_ms, 4'800);
  EXPECT_LE(view.median_offset_ms, 5'200);
  EXPECT_GE(view.peers_beyond * 2, view.peers_estimated + 1);
  // It refuses nothing it need not: a write and reads through it are forwarded to good leaders.
  sim_->RunFor(absl::Seconds(3));  // its leaderships move away
  EXPECT_EQ(ShardsLedBy(kBad), 0) << "reproduce: " << sim::ReproCommand(seed);
  On(kBad, [](CacheNode& n) {
    PutOptions put;
    put.expiration = Expiration::After(absl::Seconds(30));
    EXPECT_TRUE(n.Put("ttl", "v", put).ok());
    EXPECT_TRUE(n.Put("plain", "p", PutOptions{}).ok());
    absl::StatusOr<std::optional<std::string>> ttl =
        n.Get("ttl", ReadOptions{.consistency = ReadConsistency::kLocal});
    ASSERT_TRUE(ttl.ok()) << ttl.status();
    EXPECT_EQ(*ttl, "v");
    EXPECT_FALSE(n.TryGetNow("plain", ReadOptions{.consistency = ReadConsistency::kLocal})
                     .has_value())
        << "no inline answers while out of bound";
  });
  for (NodeId id : kIds) EXPECT_EQ(id == kBad, OutOfBound(id)) << "node " << id;
}

// The step scenario, with the guard on (`guard`) or off. Returns the largest log-time lead seen
// on good nodes while the bad clock was ahead.
struct StepRun {
  absl::Duration max_lead = -absl::InfiniteDuration();
  absl::Duration detected = absl::InfiniteDuration();
  absl::Duration recovered = absl::InfiniteDuration();
  int writer_failures = 0;
};

TEST_F(ClockGuardSimTest, ASteppedClockStopsStampingAtOnceAndServesAgainWhenBack) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  auto stop = std::make_shared<bool>(false);
  auto failures = std::make_shared<int>(0);
  StartWriter(stop, failures);
  sim_->RunFor(absl::Seconds(5));  // balanced leaders, TTL'd entries everywhere
  const int led_before = ShardsLedBy(kBad);
  ASSERT_LE(LogTimeLead(), kSkew) << "before any fault";
  const absl::Duration step_at = sim_->elapsed();
  sim_->StepWallClock(kBad, kStep);
  StepRun run;
  const absl::Duration back_at = step_at + absl::Seconds(10);
  while (sim_->elapsed() < back_at) {
    sim_->RunFor(absl::Milliseconds(20));
    run.max_lead = std::max(run.max_lead, LogTimeLead());
    if (run.detected == absl::InfiniteDuration() && OutOfBound(kBad)) {
      run.detected = sim_->elapsed() - step_at;
    }
  }
  EXPECT_TRUE(OutOfBound(kBad));
  EXPECT_EQ(ShardsLedBy(kBad), 0) << "its leaderships should have moved; led " << led_before
                                  << " before; reproduce: " << sim::ReproCommand(seed);
  // Reads of TTL'd keys through it still answer (the leader's clock judges them).
  On(kBad, [](CacheNode& n) {
    absl::StatusOr<std::optional<std::string>> r =
        n.Get("w1", ReadOptions{.consistency = ReadConsistency::kLocal});
    EXPECT_TRUE(r.ok()) << r.status();
  });
  // The clock comes back.
  sim_->StepWallClock(kBad, -kStep);
  const absl::Duration fixed_at = sim_->elapsed();
  ASSERT_TRUE(sim_->RunUntil([&] { return !OutOfBound(kBad); }, absl::Seconds(30)))
      << "never recovered; reproduce: " << sim::ReproCommand(seed);
  run.recovered = sim_->elapsed() - fixed_at;
  *stop = true;
  sim_->RunFor(absl::Seconds(1));
  run.writer_failures = *failures;
  std::fprintf(stderr,
               "clock guard: step +5 s: detected after %s; max log-time lead on good nodes %s; "
               "led %d shards before, %d after; writer failures %d; back in bound %s after the "
               "clock was (hold %s)\n",
               absl::FormatDuration(run.detected).c_str(),
               absl::FormatDuration(run.max_lead).c_str(), led_before, ShardsLedBy(kBad),
               run.writer_failures, absl::FormatDuration(run.recovered).c_str(),
               absl::FormatDuration(kHold).c_str());
  EXPECT_LE(run.detected, kProbe) << "a local step is seen at the next check";
  EXPECT_LE(run.max_lead, kSkew) << "a stamp from the stepped clock reached a log; reproduce: "
                                 << sim::ReproCommand(seed);
  EXPECT_GE(run.recovered, kHold);
  EXPECT_LE(run.recovered, kHold + absl::Seconds(5));
  for (NodeId id : kIds) EXPECT_FALSE(OutOfBound(id)) << "node " << id;
  // Serving again: TTL'd reads answered from its own replica, inline.
  On(kBad, [](CacheNode& n) {
    absl::StatusOr<std::optional<std::string>> r =
        n.Get("w1", ReadOptions{.consistency = ReadConsistency::kLocal});
    EXPECT_TRUE(r.ok()) << r.status();
  });
}

// The control: without the guard the same step pushes a shard's log time ahead (so the check
// above can fail) whenever the stepped node leads a shard under the write load.
TEST_F(ClockGuardSimTest, WithoutTheGuardTheSteppedClockReachesTheLog) {
  const uint64_t seed = sim::TestSeed();
  monitor_clock_ = false;
  StartCluster(seed);
  if (HasFatalFailure()) return;
  auto stop = std::make_shared<bool>(false);
  auto failures = std::make_shared<int>(0);
  StartWriter(stop, failures);
  sim_->RunFor(absl::Seconds(5));
  if (ShardsLedBy(kBad) == 0) GTEST_SKIP() << "node 3 leads no shard with this seed";
  sim_->StepWallClock(kBad, kStep);
  absl::Duration max_lead = -absl::InfiniteDuration();
  for (int i = 0; i < 100; ++i) {
    sim_->RunFor(absl::Milliseconds(20));
    max_lead = std::max(max_lead, LogTimeLead());
  }
  *stop = true;
  sim_->RunFor(absl::Seconds(1));
  std::fprintf(stderr, "clock guard off: max log-time lead %s\n",
               absl::FormatDuration(max_lead).c_str());
  EXPECT_GT(max_lead, absl::Seconds(4));
  EXPECT_FALSE(OutOfBound(kBad)) << "monitor off";
}

// Within the bound nothing is refused: every node's offset within half the skew bound (so any
// two within it), drift, and long-tailed delays up to 400 ms (estimates with large errors).
TEST_F(ClockGuardSimTest, WithinTheBoundNothingIsEverRefused) {
  const uint64_t seed = sim::TestSeed();
  sim::SimOptions o;
  o.clock.max_offset = kSkew / 2 - absl::Milliseconds(5);  // drift adds a little over the run
  o.clock.max_drift_ppm = 50;
  o.network.latency.kind = sim::LatencyModel::Kind::kLongTail;
  o.network.latency.min = absl::Microseconds(200);
  o.network.latency.max = absl::Milliseconds(5);
  o.network.latency.tail = sim::Ratio{1, 20};
  o.network.latency.tail_max = absl::Milliseconds(400);
  StartCluster(seed, o);
  if (HasFatalFailure()) return;
  auto stop = std::make_shared<bool>(false);
  auto failures = std::make_shared<int>(0);
  StartWriter(stop, failures);
  bool refused = false;
  for (int i = 0; i < 60 * 10; ++i) {  // 60 s
    sim_->RunFor(absl::Milliseconds(100));
    for (NodeId id : kIds) refused |= OutOfBound(id);
  }
  *stop = true;
  sim_->RunFor(absl::Seconds(1));
  int64_t estimated = 0;
  int64_t max_offset_ms = 0;
  for (NodeId id : kIds) {
    EXPECT_EQ(Node(id)->stats().clock_refusals, 0u) << "node " << id;
    const ClockView view = Node(id)->Status().clock;
    estimated += view.peers_estimated;
    max_offset_ms = std::max(max_offset_ms, std::abs(view.max_offset_ms));
    EXPECT_EQ(view.peers_beyond, 0) << "node " << id;
  }
  std::fprintf(stderr, "clock guard within bound: %ld estimates, max |offset| %ld ms\n",
               static_cast<long>(estimated), static_cast<long>(max_offset_ms));
  EXPECT_FALSE(refused) << "reproduce: " << sim::ReproCommand(seed);
  EXPECT_GE(estimated, 5 * 3) << "the monitor must actually be measuring";
  EXPECT_EQ(*failures, 0);
}

}  // namespace
}  // namespace crema
