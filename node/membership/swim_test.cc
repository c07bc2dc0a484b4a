// Unit tests of the SWIM core, driving a handful of cores by hand (messages are carried, dropped
// or inspected explicitly) so every protocol step can be checked.
#include "node/membership/swim.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/membership/testing/swim_wire.h"

namespace crema::membership::testing {
namespace {

TEST(SwimTest, JoinThroughSeedEmitsJoined) {
  Wire wire;
  wire.Add(1);
  wire.Add(2).Join({1}, wire.now);
  wire.Pump();
  EXPECT_TRUE(wire.SawEvent(1, MembershipEventKind::kJoined, 2));
  EXPECT_TRUE(wire.SawEvent(2, MembershipEventKind::kJoined, 1));
  EXPECT_EQ(wire[1].LiveMemberIds(), (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(wire[2].Find(1)->address, "node-1");
}

TEST(SwimTest, ProbeIsAnsweredWithAck) {
  Wire wire;
  JoinAll(wire, 2);
  ASSERT_TRUE(TickUntilPing(wire, 1, 2, nullptr));
  bool acked = false;
  for (const Message& m : wire.log) acked |= m.type == MessageType::kAck && m.from == 2;
  EXPECT_TRUE(acked);
  wire.TickAll(absl::Seconds(1));
  EXPECT_EQ(wire[1].stats().probes_failed, 0u);
  EXPECT_EQ(wire[1].Find(2)->state, MemberState::kAlive);
  EXPECT_EQ(wire[1].health_score(), 0);
}

TEST(SwimTest, TimeoutSendsPingReqsAndNoAckSuspects) {
  Wire wire;
  JoinAll(wire, 5);
  wire.Remove(5);  // crashed: messages to it vanish
  ASSERT_TRUE(TickUntilPing(wire, 1, 5, nullptr));
  const absl::Time ping_at = wire.now;
  wire.log.clear();
  // Only node 1 ticks, so the relays' nacks come from their own ticks below.
  wire.now = ping_at + SwimConfig{}.probe_timeout;
  wire[1].Tick(wire.now);
  wire.Pump();
  int ping_reqs = 0;
  for (const Message& m : wire.log) {
    if (m.type == MessageType::kPingReq) {
      ++ping_reqs;
      EXPECT_EQ(m.target, 5u);
      EXPECT_NE(m.to, 5u);
    }
  }
  EXPECT_EQ(ping_reqs, 3);
  // Relays give up at 80% of their probe timeout and nack.
  wire.now += absl::Milliseconds(400);
  for (NodeId id : {2, 3, 4}) wire[id].Tick(wire.now);
  wire.Pump();
  EXPECT_EQ(wire[1].stats().nacks_received, 3u);
  // End of the period: suspect, and no health penalty since every nack arrived.
  wire.now = ping_at + SwimConfig{}.probe_interval;
  wire[1].Tick(wire.now);
  wire.Pump();
  EXPECT_TRUE(wire.SawEvent(1, MembershipEventKind::kSuspected, 5));
  EXPECT_EQ(wire[1].Find(5)->state, MemberState::kSuspect);
  EXPECT_EQ(wire[1].health_score(), 0);
  // Gossip piggybacked on the next probes spreads the suspicion to the others.
  for (int s = 0; s < 3; ++s) wire.TickAll(absl::Seconds(1));
  for (NodeId id : {2, 3, 4}) EXPECT_EQ(wire[id].Find(5)->state, MemberState::kSuspect) << id;
}

TEST(SwimTest, MissedNacksRaiseLocalHealthAndSlowProbing) {
  Wire wire;
  JoinAll(wire, 5);
  wire.Remove(5);
  // Node 1 is "slow": it hears nothing back except on the direct path to the target (which is dead).
  auto deaf = [](NodeId, NodeId to, const Message& m) {
    return to == 1 && (m.type == MessageType::kNack || m.type == MessageType::kAck);
  };
  // Healthy until it probes the dead member (earlier probes are answered, so the score is 0).
  ASSERT_TRUE(TickUntilPing(wire, 1, 5, nullptr));
  ASSERT_EQ(wire[1].health_score(), 0);
  const absl::Time ping_at = wire.now;
  wire.now = ping_at + SwimConfig{}.probe_timeout;
  wire[1].Tick(wire.now);
  wire.Pump(deaf);
  wire.now += absl::Milliseconds(400);
  for (NodeId id : {2, 3, 4}) wire[id].Tick(wire.now);
  wire.Pump(deaf);
  wire.now = ping_at + SwimConfig{}.probe_interval;
  wire[1].Tick(wire.now);
  wire.Pump(deaf);
  EXPECT_EQ(wire[1].stats().nacks_received, 0u);
  EXPECT_EQ(wire[1].health_score(), 3);  // three missing nacks
  // The next probe (started now) waits (score + 1) times the probe timeout for its ack before
  // asking relays.
  const absl::Time probe_started = wire.now;
  absl::Time first_ping_req = absl::InfiniteFuture();
  while (wire.now < probe_started + absl::Seconds(3) && first_ping_req == absl::InfiniteFuture()) {
    wire.now += absl::Milliseconds(50);
    wire.log.clear();
    wire[1].Tick(wire.now);
    wire.Pump(deaf);
    for (const Message& m : wire.log) {
      if (m.from == 1 && m.type == MessageType::kPingReq) first_ping_req = wire.now;
    }
  }
  EXPECT_EQ(first_ping_req - probe_started, SwimConfig{}.probe_timeout * 4);
}

TEST(SwimTest, SuspectRefutesWithHigherIncarnation) {
  Wire wire;
  JoinAll(wire, 3);
  // Node 3's acks and node 1's ping-reqs are lost, so node 1 suspects the healthy node 3.
  auto lossy = [](NodeId from, NodeId to, const Message& m) {
    return (from == 3 && to == 1 && m.type == MessageType::kAck) ||
           (from == 1 && m.type == MessageType::kPingReq);
  };
  ASSERT_TRUE(TickUntilPing(wire, 1, 3, lossy));
  wire.now += SwimConfig{}.probe_interval;
  wire[1].Tick(wire.now);
  wire.Pump();  // the suspicion now reaches node 3, which refutes
  EXPECT_TRUE(wire.SawEvent(1, MembershipEventKind::kSuspected, 3));
  EXPECT_EQ(wire[3].self().incarnation, 1u);
  EXPECT_EQ(wire[3].stats().refutations, 1u);
  EXPECT_EQ(wire[3].health_score(), 1);  // Lifeguard: being suspected counts against us
  EXPECT_TRUE(wire.SawEvent(1, MembershipEventKind::kAliveAgain, 3));
  EXPECT_EQ(wire[1].Find(3)->state, MemberState::kAlive);
  EXPECT_EQ(wire[1].Find(3)->incarnation, 1u);
}

TEST(SwimTest, SuspicionTimeoutShrinksWithConfirmations) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  for (NodeId id = 2; id <= 5; ++id) Tell(swim, id, Claim(id, MemberState::kAlive, 0, id), kStart);
  ASSERT_EQ(swim.LiveCount(), 5u);
  // N = 5: min = 4 · max(1, log10 5) · 1 s = 4 s; max = 24 s; k = min(3, N − 2) = 3.
  Tell(swim, 2, Claim(5, MemberState::kSuspect, 0, 2), kStart);
  EXPECT_EQ(*swim.SuspicionTimeoutOf(5), absl::Seconds(24));
  Tell(swim, 3, Claim(5, MemberState::kSuspect, 0, 3), kStart);
  EXPECT_EQ(*swim.SuspicionTimeoutOf(5), absl::Seconds(14));  // 24 − 20·log 2 / log 4
  Tell(swim, 3, Claim(5, MemberState::kSuspect, 0, 3), kStart);  // same accuser: no change
  EXPECT_EQ(*swim.SuspicionTimeoutOf(5), absl::Seconds(14));
  Tell(swim, 4, Claim(5, MemberState::kSuspect, 0, 4), kStart);
  EXPECT_EQ(*swim.SuspicionTimeoutOf(5), absl::Milliseconds(8150));  // 24 − 20·log 3 / log 4
  Tell(swim, 4, Claim(5, MemberState::kSuspect, 0, 1), kStart);  // ours, relayed back by 4
  EXPECT_EQ(*swim.SuspicionTimeoutOf(5), absl::Seconds(4));
  // Expires exactly at the shortened timeout.
  swim.Tick(kStart + absl::Milliseconds(3999));
  EXPECT_EQ(swim.Find(5)->state, MemberState::kSuspect);
  swim.Tick(kStart + absl::Seconds(4));
  EXPECT_EQ(swim.Find(5)->state, MemberState::kDead);
}

TEST(SwimTest, IncarnationRules) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 5, 2), kStart);
  Tell(swim, 3, Claim(2, MemberState::kSuspect, 4, 3), kStart);  // stale suspicion
  EXPECT_EQ(swim.Find(2)->state, MemberState::kAlive);
  Tell(swim, 3, Claim(2, MemberState::kSuspect, 5, 3), kStart);  // suspect@i beats alive@i
  EXPECT_EQ(swim.Find(2)->state, MemberState::kSuspect);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 5, 2), kStart);    // alive@i does not beat suspect@i
  EXPECT_EQ(swim.Find(2)->state, MemberState::kSuspect);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 6, 2), kStart);    // alive@i+1 does
  EXPECT_EQ(swim.Find(2)->state, MemberState::kAlive);
  Tell(swim, 3, Claim(2, MemberState::kLeft, 9, 3), kStart);     // only 2 may say it left
  EXPECT_EQ(swim.Find(2)->state, MemberState::kAlive);
  Tell(swim, 3, Claim(2, MemberState::kDead, 6, 3), kStart);     // dead@i beats alive@i
  EXPECT_EQ(swim.Find(2)->state, MemberState::kDead);
  Tell(swim, 3, Claim(2, MemberState::kAlive, 6, 2), kStart);    // and is final for i
  EXPECT_EQ(swim.Find(2)->state, MemberState::kDead);
  // Claims that we are dead are refuted, however high their incarnation.
  Tell(swim, 3, Claim(1, MemberState::kDead, 41, 3), kStart);
  EXPECT_EQ(swim.self().incarnation, 42u);
  EXPECT_EQ(swim.self().state, MemberState::kAlive);
  std::vector<MembershipEvent> events = swim.TakeEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, MembershipEventKind::kJoined);
  EXPECT_EQ(events[1].kind, MembershipEventKind::kSuspected);
  EXPECT_EQ(events[2].kind, MembershipEventKind::kAliveAgain);
  EXPECT_EQ(events[3].kind, MembershipEventKind::kDead);
}

TEST(SwimTest, StaleAccusationAfterRefutationRegossipsIt) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Tell(swim, 2, Claim(2, MemberState::kAlive, 0, 2), kStart);
  Tell(swim, 2, Claim(1, MemberState::kSuspect, 0, 2), kStart);
  ASSERT_EQ(swim.self().incarnation, 1u);
  ASSERT_EQ(swim.pending_broadcasts(), 2u);  // our refutation and member 2's join
  Message ping;  // each ping is answered by an ack carrying the queued updates
  ping.type = MessageType::kPing;
  ping.from = 2;
  ping.to = 1;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(swim.Receive(2, EncodeMessage(ping), kStart).ok());
  swim.TakeOutbox();
  ASSERT_EQ(swim.pending_broadcasts(), 0u) << "every copy spent";
  Tell(swim, 2, Claim(1, MemberState::kSuspect, 0, 2), kStart);  // 2 never heard it
  EXPECT_EQ(swim.self().incarnation, 1u) << "no new incarnation for a stale claim";
  EXPECT_EQ(swim.pending_broadcasts(), 1u) << "but the refutation is queued again";
}

// A member whose joining gossip and push-pulls all missed us is learned from its first message:
// we ask the unknown sender for its full state at once (at most once per probe interval).
TEST(SwimTest, AMessageFromAnUnknownMemberAsksItForItsState) {
  Random random(7);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  Message ping;
  ping.type = MessageType::kPing;
  ping.from = 3;
  ping.to = 1;
  auto pulls_to_3 = [&] {
    int pulls = 0;
    for (const OutgoingMessage& out : swim.TakeOutbox()) {
      absl::StatusOr<Message> m = DecodeMessage(out.bytes);
      if (m.ok() && out.to == 3 && m->type == MessageType::kPushPull && !m->is_reply) ++pulls;
    }
    return pulls;
  };
  ASSERT_TRUE(swim.Receive(3, EncodeMessage(ping), kStart).ok());
  EXPECT_EQ(pulls_to_3(), 1) << "an unknown sender is asked for its state";
  ASSERT_TRUE(swim.Receive(3, EncodeMessage(ping), kStart + absl::Milliseconds(10)).ok());
  EXPECT_EQ(pulls_to_3(), 0) << "at most once per probe interval";
  // Its state arrives: 3 and the members it knows become ours; no more pulls for it.
  Message state;
  state.type = MessageType::kPushPull;
  state.is_reply = true;
  state.from = 3;
  state.to = 1;
  state.updates = {Claim(3, MemberState::kAlive, 0, 3), Claim(4, MemberState::kAlive, 0, 4)};
  ASSERT_TRUE(swim.Receive(3, EncodeMessage(state), kStart + absl::Milliseconds(20)).ok());
  EXPECT_EQ(swim.LiveMemberIds(), (std::vector<NodeId>{1, 3, 4}));
  ASSERT_TRUE(swim.Receive(3, EncodeMessage(ping), kStart + absl::Seconds(5)).ok());
  EXPECT_EQ(pulls_to_3(), 0) << "a known sender is not asked again";
  EXPECT_EQ(swim.stats().unknown_sender_pulls, 1u);
}

TEST(SwimTest, GracefulLeaveAndTombstoneExpiry) {
  SwimConfig config;
  config.tombstone_ttl = absl::Seconds(30);
  Wire wire(config);
  JoinAll(wire, 4);
  wire[4].Leave(wire.now);
  EXPECT_TRUE(wire[4].has_left());
  wire.Pump();
  for (NodeId id : {1, 2, 3}) {
    EXPECT_TRUE(wire.SawEvent(id, MembershipEventKind::kLeft, 4)) << id;
    EXPECT_EQ(wire[id].Find(4)->state, MemberState::kLeft);
    EXPECT_EQ(wire[id].LiveCount(), 3u);
  }
  wire.Remove(4);
  for (int s = 0; s < 29; ++s) wire.TickAll(absl::Seconds(1));
  EXPECT_NE(wire[1].Find(4), nullptr) << "tombstone kept for tombstone_ttl";
  for (int s = 0; s < 2; ++s) wire.TickAll(absl::Seconds(1));
  EXPECT_EQ(wire[1].Find(4), nullptr) << "tombstone expired";
  EXPECT_FALSE(wire.SawEvent(1, MembershipEventKind::kDead, 4)) << "a leaver is never 'dead'";
}

TEST(SwimTest, RestartedNodeReclaimsItsIdWithANewAddress) {
  Wire wire;
  JoinAll(wire, 3);
  // Everyone declares node 3 dead at incarnation 0 (as after a crash).
  Tell(wire[1], 2, Claim(3, MemberState::kDead, 0, 2), wire.now);
  Tell(wire[2], 1, Claim(3, MemberState::kDead, 0, 1), wire.now);
  wire.Remove(3);
  wire.Pump();
  ASSERT_EQ(wire[1].Find(3)->state, MemberState::kDead);
  // It restarts from scratch (incarnation 0 again) at a new address and joins through node 1.
  wire.Add(3, /*incarnation=*/0, "new-address:1").Join({1}, wire.now);
  wire.Pump();
  for (int s = 0; s < 5; ++s) wire.TickAll(absl::Seconds(1));
  EXPECT_GE(wire[3].self().incarnation, 1u) << "it refuted its own death";
  for (NodeId id : {1, 2}) {
    EXPECT_EQ(wire[id].Find(3)->state, MemberState::kAlive) << id;
    EXPECT_EQ(wire[id].Find(3)->address, "new-address:1");
    EXPECT_TRUE(wire.SawEvent(id, MembershipEventKind::kJoined, 3));
  }
}

TEST(SwimTest, PiggybackedUpdateIsSentAtMostTheRetransmitLimit) {
  Wire wire;
  JoinAll(wire, 10);
  ASSERT_TRUE(wire[1].UpdateMetadata({{"shards", "7"}}, wire.now).ok());
  const Incarnation incarnation = wire[1].self().incarnation;
  const int limit = wire[1].RetransmitLimit();
  EXPECT_EQ(limit, 4 * 2);  // λ · ⌈log10(10 + 1)⌉
  for (int s = 0; s < 40; ++s) wire.TickAll(absl::Seconds(1));
  int carried_by_node_1 = 0;
  for (const Message& m : wire.log) {
    if (m.from != 1 || m.type == MessageType::kPushPull) continue;
    for (const MemberUpdate& u : m.updates) {
      if (u.member.id == 1 && u.member.incarnation == incarnation) ++carried_by_node_1;
    }
  }
  EXPECT_EQ(carried_by_node_1, limit);
  for (NodeId id = 2; id <= 10; ++id) {
    EXPECT_TRUE(wire.SawEvent(id, MembershipEventKind::kUpdated, 1)) << id;
    EXPECT_EQ(wire[id].Find(1)->metadata.at("shards"), "7");
  }
}

TEST(SwimTest, PiggybackRespectsTheMessageSizeLimit) {
  SwimConfig config;
  config.max_message_bytes = 2048;
  Random random(3);
  Swim swim(1, "node-1", {}, config, random, kStart);
  for (NodeId id = 2; id <= 200; ++id) {
    MemberUpdate u = Claim(id, MemberState::kAlive, 0, id);
    u.member.metadata["payload"] = std::string(100, 'x');
    Tell(swim, id, u, kStart);
  }
  swim.TakeOutbox();
  swim.Tick(kStart + absl::Seconds(2));
  std::vector<OutgoingMessage> out = swim.TakeOutbox();
  ASSERT_FALSE(out.empty());
  for (const OutgoingMessage& m : out) {
    EXPECT_LE(m.bytes.size(), 2048u);
    absl::StatusOr<Message> decoded = DecodeMessage(m.bytes);
    ASSERT_TRUE(decoded.ok());
    if (decoded->type == MessageType::kPing) {
      EXPECT_GT(decoded->updates.size(), 10u);
    }
  }
}

TEST(SwimTest, RejectsGarbageMisaddressedAndSpoofedMessages) {
  Random random(3);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  EXPECT_FALSE(swim.Receive(2, "garbage", kStart).ok());
  Message m;
  m.type = MessageType::kPing;
  m.from = 2;
  m.to = 9;
  EXPECT_EQ(swim.Receive(2, EncodeMessage(m), kStart).code(),
            absl::StatusCode::kFailedPrecondition);
  m.to = 1;
  EXPECT_FALSE(swim.Receive(3, EncodeMessage(m), kStart).ok()) << "claims 2, came from 3";
  EXPECT_EQ(swim.stats().messages_rejected, 3u);
  EXPECT_TRUE(swim.TakeOutbox().empty());
  EXPECT_TRUE(swim.Receive(2, EncodeMessage(m), kStart).ok());
  // The ack, and (2 being unknown here) a request for 2's state.
  EXPECT_EQ(swim.TakeOutbox().size(), 2u);
}

TEST(SwimTest, MetadataBoundsAreEnforced) {
  Random random(3);
  Swim swim(1, "node-1", {}, SwimConfig{}, random, kStart);
  EXPECT_FALSE(swim.UpdateMetadata({{"k", std::string(kMaxMetadataValueBytes + 1, 'v')}}, kStart)
                   .ok());
  EXPECT_EQ(swim.self().incarnation, 0u);
  EXPECT_TRUE(swim.UpdateMetadata({{"k", "v"}}, kStart).ok());
  EXPECT_EQ(swim.self().incarnation, 1u);
}

}  // namespace
}  // namespace crema::membership::testing
