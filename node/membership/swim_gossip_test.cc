// Unit tests of the SWIM core's dissemination beyond piggybacking: the gossip timer, eager
// refutation, answers to stale accusations and suspicion reminders (swim_gossip.cc), driving cores
// by hand on a `Wire`.
#include <algorithm>
#include <memory>
#include <vector>

#include "absl/container/btree_set.h"
#include "gtest/gtest.h"
#include "node/membership/swim.h"
#include "node/membership/testing/swim_wire.h"

namespace crema::membership::testing {
namespace {

TEST(SwimGossipTest, GossipTimerSendsQueuedUpdatesToFanoutMembers) {
  Wire wire;
  JoinAll(wire, 10);
  // Let the join gossip run out (every probe is answered, so nothing new is queued).
  for (int i = 0; i < 50; ++i) wire.TickAll(absl::Milliseconds(200));
  ASSERT_EQ(wire[1].pending_broadcasts(), 0u);
  const absl::Time idle_next = wire[1].NextTickTime();
  ASSERT_TRUE(wire[1].UpdateMetadata({{"shards", "3"}}, wire.now).ok());
  EXPECT_LE(wire[1].NextTickTime(), idle_next) << "queued news wakes the gossip timer";
  // Tick node 1 alone until its first gossip round: exactly gossip_fanout (3) kGossip messages to
  // distinct members, each carrying the update.
  const uint64_t gossip_before = wire[1].stats().gossip_messages_sent;
  absl::btree_set<NodeId> targets;
  for (int i = 0; i < 100 && targets.empty(); ++i) {
    wire.now += absl::Milliseconds(10);
    wire.log.clear();
    wire[1].Tick(wire.now);
    wire.Pump();
    for (const Message& m : wire.log) {
      if (m.from != 1 || m.type != MessageType::kGossip) continue;
      EXPECT_TRUE(Carries(m, 1, MemberState::kAlive, 1));
      targets.insert(m.to);
    }
  }
  EXPECT_EQ(targets.size(), 3u);
  EXPECT_FALSE(targets.contains(1));
  EXPECT_EQ(wire[1].stats().gossip_messages_sent - gossip_before, 3u);
  // The next round comes one gossip interval later, not sooner.
  const absl::Time round_at = wire.now;
  for (absl::Time t = round_at + absl::Milliseconds(10);
       t < round_at + SwimConfig{}.gossip_interval; t += absl::Milliseconds(10)) {
    wire.now = t;
    wire.log.clear();
    wire[1].Tick(t);
    wire.Pump();
    for (const Message& m : wire.log) {
      EXPECT_FALSE(m.from == 1 && m.type == MessageType::kGossip) << "at " << (t - round_at);
    }
  }
}

TEST(SwimGossipTest, RefutationIsToldEagerlyAndStaleAccusationsAreAnswered) {
  Random random(12);
  std::unique_ptr<Swim> swim = Knowing(random, 8);
  Tell(*swim, 2, Claim(1, MemberState::kSuspect, 0, 2), kStart);
  ASSERT_EQ(swim->self().incarnation, 1u);
  // The accuser gets our alive record straight back; refutation_fanout (3) others are told now.
  absl::btree_set<NodeId> told;
  bool answered_accuser = false;
  for (const Message& m : Decoded(swim->TakeOutbox())) {
    ASSERT_EQ(m.type, MessageType::kGossip);
    ASSERT_TRUE(Carries(m, 1, MemberState::kAlive, 1));
    if (m.to == 2) {
      answered_accuser = true;
    } else {
      told.insert(m.to);
    }
  }
  EXPECT_TRUE(answered_accuser);
  EXPECT_EQ(told.size(), 3u);
  // A stale accusation (its sender missed every copy of the refutation): no new incarnation, but
  // the sender gets the refutation directly.
  Tell(*swim, 5, Claim(1, MemberState::kSuspect, 0, 2), kStart);
  EXPECT_EQ(swim->self().incarnation, 1u);
  std::vector<Message> out = Decoded(swim->TakeOutbox());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, 5u);
  EXPECT_TRUE(Carries(out[0], 1, MemberState::kAlive, 1));
  EXPECT_EQ(swim->stats().refutation_replies_sent, 2u);
  // A stale accusation on a ping is answered in the ack itself.
  Message ping;
  ping.type = MessageType::kPing;
  ping.from = 6;
  ping.to = 1;
  ping.seq = 77;
  ping.updates.push_back(Claim(1, MemberState::kSuspect, 0, 6));
  ASSERT_TRUE(swim->Receive(6, EncodeMessage(ping), kStart).ok());
  out = Decoded(swim->TakeOutbox());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MessageType::kAck);
  EXPECT_TRUE(Carries(out[0], 1, MemberState::kAlive, 1));
}

TEST(SwimGossipTest, HolderOfASuspicionRemindsTheSuspectEveryPeriod) {
  Random random(13);
  std::unique_ptr<Swim> swim = Knowing(random, 6);
  Tell(*swim, 2, Claim(5, MemberState::kSuspect, 0, 2), kStart);
  ASSERT_EQ(swim->Find(5)->state, MemberState::kSuspect);
  swim->TakeOutbox();
  auto reminders_to_5 = [&](absl::Time at) {
    swim->Tick(at);
    int reminders = 0;
    for (const Message& m : Decoded(swim->TakeOutbox())) {
      if (m.to != 5 || m.type != MessageType::kGossip) continue;
      // A reminder is the suspicion alone (nothing piggybacked on it); gossip rounds to the
      // suspect carry the suspicion too, with the queued updates.
      reminders += m.updates.size() == 1 && Carries(m, 5, MemberState::kSuspect, 0);
    }
    return reminders;
  };
  // Probes run once a period; reminders start once the suspicion is a period old.
  int reminders = 0;
  for (absl::Time t = kStart; t < kStart + absl::Seconds(5); t += absl::Milliseconds(100)) {
    reminders += reminders_to_5(t);
    if (t < kStart + SwimConfig{}.probe_interval) EXPECT_EQ(reminders, 0);
  }
  EXPECT_GE(reminders, 3);
  EXPECT_LE(reminders, 5);
  // (This lone core's own probes fail too, so it reminds other suspects as well.)
  EXPECT_GE(swim->stats().suspicion_reminders_sent, static_cast<uint64_t>(reminders));
  // Refuted: no more reminders.
  Tell(*swim, 5, Claim(5, MemberState::kAlive, 1, 5), kStart + absl::Seconds(5));
  for (absl::Time t = kStart + absl::Seconds(5); t < kStart + absl::Seconds(10);
       t += absl::Milliseconds(100)) {
    EXPECT_EQ(reminders_to_5(t), 0);
  }
}

TEST(SwimGossipTest, MemberThatMissedEveryGossipedRefutationHearsItFromTheSuspect) {
  Wire wire;
  JoinAll(wire, 6);
  // Node 1 comes to suspect node 6 (as if its probe failed); everything else is healthy.
  Tell(wire[1], 2, Claim(6, MemberState::kSuspect, 0, 1), wire.now);
  const absl::Time suspected_at = wire.now;
  // Node 1 never gets the refutation second-hand (every gossiped copy is lost), and for the first
  // 1.5 s nothing from node 6 reaches it either (the eager answers are lost too).
  auto lossy = [&](NodeId from, NodeId to, const Message& m) {
    if (to != 1) return false;
    if (from == 6) return wire.now < suspected_at + absl::Milliseconds(1500);
    return Carries(m, 6, MemberState::kAlive, 1);
  };
  wire.Pump(lossy);
  for (int step = 0; step < 40 && wire[1].Find(6)->state != MemberState::kAlive; ++step) {
    wire.TickAll(absl::Milliseconds(100), lossy);
  }
  EXPECT_EQ(wire[6].self().incarnation, 1u) << "6 refuted";
  EXPECT_EQ(wire[1].Find(6)->state, MemberState::kAlive);
  EXPECT_EQ(wire[1].Find(6)->incarnation, 1u);
  // Rescued by whichever message to 6 carried the suspicion first (a reminder, a gossip round or a
  // probe of 6 — all carry it), answered by 6 directly.
  EXPECT_GE(wire[1].stats().suspicion_reminders_sent, 1u);
  EXPECT_GT(wire[6].stats().refutation_replies_sent, 0u);
  EXPECT_LT(wire.now - suspected_at, absl::Seconds(4)) << "well before the minimum timeout";
  for (NodeId id = 1; id <= 6; ++id) EXPECT_FALSE(wire.SawEvent(id, MembershipEventKind::kDead, 6));
}

}  // namespace
}  // namespace crema::membership::testing
