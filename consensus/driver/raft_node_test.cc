// A 3-node cluster on the simulator: elects a leader, replicates, survives a leader crash, and a
// restarted node recovers from its disk and catches up.
#include "consensus/driver/raft_node.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema::raft {
namespace {

// Applied entries by index. Checkpoints are only ever the empty bootstrap state here.
class LogMachine final : public StateMachine {
 public:
  void Apply(Index index, std::string_view data) override { applied[index] = std::string(data); }
  std::string Checkpoint() override { return ""; }
  absl::Status Restore(std::string_view checkpoint) override {
    applied.clear();
    return checkpoint.empty() ? absl::OkStatus() : absl::InvalidArgumentError("unexpected");
  }
  std::map<Index, std::string> applied;
};

struct Acked {
  Index index;
  std::string value;
};

class Replica final : public sim::NodeProgram {
 public:
  Replica(Env env, std::vector<Acked>* acked, const bool* quiet) : env_(env) {
    env.executor->Spawn("replica", [this, acked, quiet] {
      RaftNodeOptions options;
      options.raft.id = env_.self;
      options.raft.group = 1;
      options.bootstrap.voters = {1, 2, 3};
      options.proposal_timeout = absl::Seconds(2);
      absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(env_, options, &machine);
      if (!node.ok()) {
        start_error = node.status();
        return;
      }
      node_ = *std::move(node);
      for (int k = 0; env_.executor->Sleep(absl::Milliseconds(20)).ok(); ++k) {
        if (*quiet || node_->core().role() != Role::kLeader) continue;
        const std::string value = absl::StrCat("n", env_.self, "-", k);
        absl::StatusOr<Index> index = node_->Propose(value);
        if (index.ok()) acked->push_back({*index, value});
      }
    });
  }
  const RaftNode* node() const { return node_.get(); }
  LogMachine machine;
  absl::Status start_error;

 private:
  Env env_;
  std::unique_ptr<RaftNode> node_;
};

class Cluster {
 public:
  explicit Cluster(uint64_t seed) : sim_(sim::SimOptions{.seed = seed}) {
    for (NodeId id : {1, 2, 3}) {
      sim_.AddNode(id, [this](Env env) { return std::make_unique<Replica>(env, &acked_, &quiet_); });
    }
    sim_.StartAll();
  }
  Replica* replica(NodeId id) {
    return sim_.state(id) == sim::NodeState::kUp ? static_cast<Replica*>(sim_.program(id))
                                                 : nullptr;
  }
  NodeId Leader() {
    NodeId leader = kNoNode;
    Term term = 0;
    for (NodeId id : {1, 2, 3}) {
      Replica* r = replica(id);
      if (r == nullptr || r->node() == nullptr) continue;
      const Raft& core = r->node()->core();
      if (core.role() == Role::kLeader && core.term() >= term) {
        leader = id;
        term = core.term();
      }
    }
    return leader;
  }
  // Every acknowledged write is applied at its index on `id`; replicas agree where they overlap.
  void CheckReplica(NodeId id) {
    Replica* r = replica(id);
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(r->start_error.ok()) << r->start_error;
    for (const Acked& a : acked_) {
      auto it = r->machine.applied.find(a.index);
      ASSERT_NE(it, r->machine.applied.end()) << "node " << id << " lacks acked index " << a.index;
      EXPECT_EQ(it->second, a.value) << "node " << id << " index " << a.index;
    }
  }
  sim::Simulator& sim() { return sim_; }
  void Quiesce() { quiet_ = true; }
  const std::vector<Acked>& acked() const { return acked_; }

 private:
  std::vector<Acked> acked_;  // outlives every incarnation
  bool quiet_ = false;
  sim::Simulator sim_;
};

TEST(RaftNodeTest, ElectsReplicatesSurvivesLeaderCrashAndRecoversFromDisk) {
  const uint64_t seed = sim::TestSeed();
  Cluster cluster(seed);
  cluster.sim().RunFor(absl::Seconds(5));
  const NodeId first = cluster.Leader();
  ASSERT_NE(first, kNoNode) << sim::ReproCommand(seed);
  const size_t acked_before_crash = cluster.acked().size();
  EXPECT_GT(acked_before_crash, 10u) << sim::ReproCommand(seed);

  cluster.sim().Crash(first);
  cluster.sim().RunFor(absl::Seconds(5));
  const NodeId second = cluster.Leader();
  ASSERT_NE(second, kNoNode) << sim::ReproCommand(seed);
  EXPECT_NE(second, first);
  EXPECT_GT(cluster.acked().size(), acked_before_crash + 10) << sim::ReproCommand(seed);

  cluster.sim().Restart(first);
  cluster.sim().RunFor(absl::Seconds(5));
  cluster.Quiesce();  // let the last commits reach every replica
  cluster.sim().RunFor(absl::Seconds(2));
  for (NodeId id : {1, 2, 3}) {
    cluster.CheckReplica(id);
    if (::testing::Test::HasFailure()) FAIL() << sim::ReproCommand(seed);
  }
}

}  // namespace
}  // namespace crema::raft
