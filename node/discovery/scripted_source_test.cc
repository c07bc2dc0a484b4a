// ScriptedMembershipSource keeps the MembershipSource contract its users (the cache node's
// health tests) rely on: one event per real transition, in subscription order, synchronously;
// a stable id-ordered view; availability = known and alive; a version that moves only when the
// live set changes; subscribers that may unsubscribe while being called.
#include "node/discovery/scripted_source.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace crema::discovery {
namespace {

using membership::MemberState;
using membership::MembershipEvent;
using membership::MembershipEventKind;

struct Seen {
  MembershipEventKind kind;
  NodeId id;
  bool operator==(const Seen&) const = default;
};

class ScriptedSourceTest : public ::testing::Test {
 protected:
  ScriptedSourceTest() : source_(/*self=*/1, {2, 3}) {
    EXPECT_TRUE(source_
                    .Subscribe([this](const MembershipEvent& e) {
                      seen_.push_back({e.kind, e.member.id});
                    })
                    .ok());
  }
  ScriptedMembershipSource source_;
  std::vector<Seen> seen_;
};

TEST_F(ScriptedSourceTest, StartsWithEveryMemberAliveSelfIncludedInIdOrder) {
  ASSERT_TRUE(source_.Start().ok());
  EXPECT_EQ(source_.Start().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<NodeId> ids;
  for (const membership::Member& m : source_.Members()) {
    EXPECT_EQ(m.state, MemberState::kAlive);
    ids.push_back(m.id);
  }
  EXPECT_EQ(ids, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(source_.Joined());
  EXPECT_EQ(source_.self(), 1u);
  EXPECT_EQ(source_.kind(), "scripted");
  EXPECT_TRUE(source_.IsAvailable(1));
  EXPECT_TRUE(source_.IsAvailable(3));
  EXPECT_FALSE(source_.IsAvailable(9));
  EXPECT_TRUE(seen_.empty());
}

TEST_F(ScriptedSourceTest, EachTransitionDeliversItsEventAndOnlyLiveSetChangesMoveTheVersion) {
  const uint64_t v0 = source_.view_version();
  source_.Set(2, MemberState::kSuspect);  // alive → suspect: still live
  EXPECT_FALSE(source_.IsAvailable(2));
  EXPECT_EQ(source_.view_version(), v0);
  source_.Set(2, MemberState::kSuspect);  // unchanged: nothing
  source_.Set(2, MemberState::kAlive);    // refuted
  EXPECT_TRUE(source_.IsAvailable(2));
  source_.Set(3, MemberState::kDead);
  EXPECT_EQ(source_.view_version(), v0 + 1);
  source_.Set(3, MemberState::kAlive);  // a rejoin after death
  EXPECT_EQ(source_.view_version(), v0 + 2);
  source_.Set(2, MemberState::kLeft);
  source_.Set(7, MemberState::kAlive);  // unknown: added, joins
  EXPECT_EQ(source_.view_version(), v0 + 4);
  EXPECT_TRUE(source_.IsAvailable(7));
  EXPECT_EQ(seen_, (std::vector<Seen>{{MembershipEventKind::kSuspected, 2},
                                      {MembershipEventKind::kAliveAgain, 2},
                                      {MembershipEventKind::kDead, 3},
                                      {MembershipEventKind::kJoined, 3},
                                      {MembershipEventKind::kLeft, 2},
                                      {MembershipEventKind::kJoined, 7}}));
  // A member once known stays in the view with its last state, and incarnations grew.
  std::vector<membership::Member> members = source_.Members();
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[1].id, 2u);
  EXPECT_EQ(members[1].state, MemberState::kLeft);
  EXPECT_EQ(members[1].incarnation, 3u);
}

TEST_F(ScriptedSourceTest, LeaveMarksSelfLeftOnceAndMakesItUnavailable) {
  source_.Leave();
  source_.Leave();
  EXPECT_FALSE(source_.IsAvailable(1));
  EXPECT_EQ(seen_, (std::vector<Seen>{{MembershipEventKind::kLeft, 1}}));
  source_.Stop();
}

TEST_F(ScriptedSourceTest, SubscribersAreCalledInOrderAndMayUnsubscribeWhileCalled) {
  std::vector<std::string> calls;
  MembershipSource::SubscriptionId second = 0;
  absl::StatusOr<MembershipSource::SubscriptionId> id =
      source_.Subscribe([&](const MembershipEvent&) {
        calls.push_back("second");
        source_.Unsubscribe(second);  // removes itself mid-delivery
      });
  ASSERT_TRUE(id.ok());
  second = *id;
  ASSERT_TRUE(source_.Subscribe([&](const MembershipEvent&) { calls.push_back("third"); }).ok());
  EXPECT_EQ(source_.subscribers(), 3u);
  source_.Set(2, MemberState::kDead);
  EXPECT_EQ(calls, (std::vector<std::string>{"second", "third"}));
  EXPECT_EQ(source_.subscribers(), 2u);
  source_.Set(2, MemberState::kAlive);
  EXPECT_EQ(calls, (std::vector<std::string>{"second", "third", "third"}));
  EXPECT_EQ(seen_.size(), 2u);  // the fixture's subscriber, first in order, saw both
}

TEST_F(ScriptedSourceTest, MetadataUpdatesSelf) {
  ASSERT_TRUE(source_.UpdateMetadata({{"resp", "127.0.0.1:6379"}}).ok());
  EXPECT_EQ(source_.Members()[0].metadata.at("resp"), "127.0.0.1:6379");
}

}  // namespace
}  // namespace crema::discovery
