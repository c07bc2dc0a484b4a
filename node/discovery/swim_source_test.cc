#include "node/discovery/swim_source.h"

#include "gtest/gtest.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema::discovery {
namespace {

struct Program : sim::NodeProgram {
  explicit Program(Env env) {
    membership::MembershipNodeConfig config;
    config.seeds = {1, 2, 3};
    source = std::make_unique<SwimMembershipSource>(env, config);
    EXPECT_TRUE(source->Start().ok());
    EXPECT_TRUE(source
                    ->Subscribe([this](const membership::MembershipEvent& e) {
                      events.push_back(e.kind);
                    })
                    .ok());
  }
  std::unique_ptr<SwimMembershipSource> source;
  std::vector<membership::MembershipEventKind> events;
};

Program& At(sim::Simulator& sim, NodeId id) { return *static_cast<Program*>(sim.program(id)); }

TEST(SwimMembershipSourceTest, MembersJoinLeaveAndAreSortedById) {
  const uint64_t seed = sim::TestSeed();
  SCOPED_TRACE(sim::ReproCommand(seed));
  sim::Simulator sim(sim::SimOptions{.seed = seed});
  for (NodeId id : {3, 1, 2, 4}) sim.AddNode(id, [](Env env) { return std::make_unique<Program>(env); });
  sim.StartAll();
  // Every node sees all four before node 2 leaves (node 1's view is checked below; waiting for
  // node 4's alone let node 1 not know node 2 yet, so "not available" held at once).
  ASSERT_TRUE(sim.RunUntil(
      [&] {
        for (NodeId id : {1, 2, 3, 4}) {
          if (At(sim, id).source->Members().size() != 4) return false;
        }
        return true;
      },
      absl::Seconds(30)));
  const std::vector<membership::Member> members = At(sim, 4).source->Members();
  for (size_t i = 0; i < members.size(); ++i) EXPECT_EQ(members[i].id, i + 1);
  EXPECT_TRUE(At(sim, 4).source->IsAvailable(2));
  EXPECT_EQ(At(sim, 4).source->kind(), "swim");
  const uint64_t version = At(sim, 1).source->view_version();
  At(sim, 2).source->Leave();
  ASSERT_TRUE(sim.RunUntil([&] { return !At(sim, 1).source->IsAvailable(2); }, absl::Seconds(30)));
  EXPECT_NE(At(sim, 1).source->view_version(), version);
  EXPECT_EQ(At(sim, 1).events.back(), membership::MembershipEventKind::kLeft);
}

}  // namespace
}  // namespace crema::discovery
