// Failover time in the simulator, with the production timing (100 ms ticks, election after 10-19
// ticks: an election timeout of 1 s): the leader of a shard crashes (its process is gone, so its
// peers' connections to it are refused) and a write of that shard through a surviving node must
// succeed within 2x the election timeout of the crash. Both when the shard was busy (its
// followers' election timers running) and when it was idle long enough to go quiet (quiescence
// stops the followers' timers; only a health report wakes them).
//
// Contract checked: crash -> write acknowledged < 2 s, in every round; and the write applies once.
// Seeds: CREMA_SEED (sim/test_seed.h); a failure prints the repro command.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "node/cluster/cluster_map.h"
#include "node/membership/placement.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

constexpr uint32_t kShards = 8;
constexpr absl::Duration kTick = absl::Milliseconds(100);
constexpr int kElectionTick = 10;  // kTick * kElectionTick = kElectionTimeout
constexpr absl::Duration kElectionTimeout = absl::Milliseconds(100 * kElectionTick);

class FailoverSimTest : public ::testing::Test {
 protected:
  void StartCluster(uint64_t seed) {
    seed_ = seed;
    sim_ = std::make_unique<sim::Simulator>(sim::TestSimOptions(seed, &trace_file_));
    CacheConfig config;
    config.bootstrap = {1, 2, 3};
    config.num_shards = kShards;
    config.max_capacity = 10'000;
    config.tick_interval = kTick;
    config.election_tick = kElectionTick;
    for (NodeId id : {1u, 2u, 3u}) {
      sim_->AddNode(id, [config](Env env) mutable {
        config.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, config, CacheNodeOptions{});
      });
    }
    sim_->StartAll();
    ASSERT_TRUE(sim_->RunUntil([&] { return Ready(); }, absl::Seconds(30)))
        << "cluster never became ready; reproduce: " << sim::ReproCommand(seed);
  }

  bool Ready() {
    for (NodeId id : {1u, 2u, 3u}) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr || !p->node()->ready()) return false;
      if (p->node()->Status().meta_leader == kNoNode) return false;
    }
    return true;
  }

  // The node whose replica of `group` leads (kNoNode if none is known).
  NodeId LeaderOf(raft::GroupId group) {
    for (NodeId id : {1u, 2u, 3u}) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr) continue;
      for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
        if (r.group == group && r.driver != nullptr && r.driver->has_core() &&
            !r.driver->stopped() && r.driver->core().role() == raft::Role::kLeader) {
          return id;
        }
      }
    }
    return kNoNode;
  }

  // Puts key=value through node `via` in a fiber; runs the simulation until it returns; the time
  // it took (simulated), or an infinite duration if it failed.
  absl::Duration TimedPut(NodeId via, const std::string& key, const std::string& value) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, via);
    EXPECT_NE(p, nullptr);
    if (p == nullptr || p->node() == nullptr) return absl::InfiniteDuration();
    auto done = std::make_shared<bool>(false);
    auto ok = std::make_shared<bool>(false);
    CacheNode* node = p->node();
    p->Run("failover-put", [node, key, value, done, ok] {
      *ok = node->Put(key, value, PutOptions{.timeout = absl::Seconds(10)}).ok();
      *done = true;
    });
    const absl::Duration start = sim_->elapsed();
    if (!sim_->RunUntil([&] { return *done; }, absl::Seconds(15)) || !*ok) {
      return absl::InfiniteDuration();
    }
    return sim_->elapsed() - start;
  }

  uint64_t seed_ = 0;
  std::unique_ptr<std::ofstream> trace_file_;
  std::unique_ptr<sim::Simulator> sim_;
};

// Rounds alternate busy (writes right up to the crash) and quiet (idle for 5 s first, so the
// shard's group has quiesced). The restarted node rejoins before the next round.
TEST_F(FailoverSimTest, WritesOfACrashedLeadersShardSucceedWithinTwoElectionTimeouts) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  const std::string key = "failover-key";
  const raft::GroupId group = cluster::GroupOfShard(membership::ShardOfKey(key, kShards));
  int writes = 0;
  for (int round = 0; round < 4; ++round) {
    const bool quiet = round % 2 == 1;
    for (NodeId via : {1u, 2u, 3u}) {  // sessions and leader hints everywhere
      ASSERT_LT(TimedPut(via, key, absl::StrCat("v", ++writes)), absl::Seconds(5))
          << "round " << round << "; reproduce: " << sim::ReproCommand(seed);
    }
    if (quiet) sim_->RunFor(absl::Seconds(5));
    const NodeId leader = LeaderOf(group);
    ASSERT_NE(leader, kNoNode) << "round " << round;
    sim_->Crash(leader);
    const NodeId via = leader == 1 ? 2 : 1;
    const std::string value = absl::StrCat("v", ++writes);
    const absl::Duration took = TimedPut(via, key, value);
    std::cerr << "round " << round << (quiet ? " (quiet)" : " (busy)") << ": leader " << leader
              << " crashed, a write through " << via << " took " << took << "\n";
    EXPECT_LT(took, 2 * kElectionTimeout)
        << "round " << round << (quiet ? " (quiet)" : " (busy)") << ": leader " << leader
        << " crashed, write through " << via << " took " << took
        << "; reproduce: " << sim::ReproCommand(seed);
    sim_->Restart(leader);
    ASSERT_TRUE(sim_->RunUntil([&] { return Ready(); }, absl::Seconds(30)))
        << "round " << round << "; reproduce: " << sim::ReproCommand(seed);
  }
}

}  // namespace
}  // namespace crema
