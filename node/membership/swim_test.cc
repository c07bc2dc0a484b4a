// Unit tests of the SWIM core, driving a handful of cores by hand (messages are carried, dropped
// or inspected explicitly) so every protocol step can be checked.
#include "node/membership/swim.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace crema::membership {
namespace {

const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

// A hand-cranked network: `Pump` delivers queued messages instantly until quiet, dropping those
// the filter rejects. Every message sent is decoded and kept in `log` for inspection.
class Wire {
 public:
  using Filter = std::function<bool(NodeId from, NodeId to, const Message&)>;

  explicit Wire(SwimConfig config = {}) : config_(config) {}

  Swim& Add(NodeId id, Incarnation incarnation = 0, std::string address = "") {
    randoms_[id] = std::make_unique<Random>(1000 + id);
    SwimConfig config = config_;
    config.initial_incarnation = incarnation;
    if (address.empty()) address = absl::StrCat("node-", id);
    nodes_[id] = std::make_unique<Swim>(id, address, Metadata{}, config, *randoms_[id], now);
    return *nodes_[id];
  }
  void Remove(NodeId id) { nodes_.erase(id); }
  Swim& operator[](NodeId id) { return *nodes_.at(id); }

  // Delivers until no node has anything to send. Returns the number of messages delivered.
  int Pump(const Filter& drop = nullptr) {
    int delivered = 0;
    for (int round = 0; round < 100; ++round) {
      std::vector<std::pair<NodeId, OutgoingMessage>> batch;
      for (auto& [id, swim] : nodes_) {
        for (OutgoingMessage& m : swim->TakeOutbox()) batch.emplace_back(id, std::move(m));
        for (MembershipEvent& e : swim->TakeEvents()) events[id].push_back(e);
      }
      if (batch.empty()) return delivered;
      for (auto& [from, m] : batch) {
        absl::StatusOr<Message> decoded = DecodeMessage(m.bytes);
        EXPECT_TRUE(decoded.ok());
        log.push_back(*decoded);
        if (drop && drop(from, m.to, *decoded)) continue;
        auto it = nodes_.find(m.to);
        if (it == nodes_.end()) continue;
        EXPECT_TRUE(it->second->Receive(from, m.bytes, now).ok());
        ++delivered;
      }
    }
    ADD_FAILURE() << "network did not quiesce";
    return delivered;
  }

  // Ticks every node at `now` (after advancing it) and pumps.
  void TickAll(absl::Duration advance, const Filter& drop = nullptr) {
    now += advance;
    for (auto& [id, swim] : nodes_) swim->Tick(now);
    Pump(drop);
  }

  bool SawEvent(NodeId at, MembershipEventKind kind, NodeId about) const {
    auto it = events.find(at);
    if (it == events.end()) return false;
    for (const MembershipEvent& e : it->second) {
      if (e.kind == kind && e.member.id == about) return true;
    }
    return false;
  }

  absl::Time now = kStart;
  std::vector<Message> log;
  std::map<NodeId, std::vector<MembershipEvent>> events;

 private:
  SwimConfig config_;
  std::map<NodeId, std::unique_ptr<Random>> randoms_;
  std::map<NodeId, std::unique_ptr<Swim>> nodes_;
};

// Nodes 1..n, all joined through node 1 and fully known to each other.
void JoinAll(Wire& wire, int n) {
  for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) wire.Add(id);
  for (NodeId id = 2; id <= static_cast<NodeId>(n); ++id) {
    wire[id].Join({1}, wire.now);
    wire.Pump();
  }
  // One more exchange so early joiners learn of later ones.
  for (NodeId id = 2; id <= static_cast<NodeId>(n); ++id) {
    wire[id].Join({1}, wire.now);
    wire.Pump();
  }
  for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) {
    ASSERT_EQ(wire[id].LiveCount(), static_cast<size_t>(n)) << "node " << id;
  }
  wire.log.clear();
  wire.events.clear();
}

// Ticks node `id` alone at 1 ms steps until it pings `target`; returns false after 60 s.
bool TickUntilPing(Wire& wire, NodeId id, NodeId target, const Wire::Filter& drop) {
  for (int i = 0; i < 60000; ++i) {
    wire.now += absl::Milliseconds(1);
    const size_t before = wire.log.size();
    wire[id].Tick(wire.now);
    wire.Pump(drop);
    for (size_t j = before; j < wire.log.size(); ++j) {
      const Message& m = wire.log[j];
      if (m.type == MessageType::kPing && m.from == id && m.to == target) return true;
    }
  }
  return false;
}

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

// Feeds `swim` a gossip message from `from` carrying one update.
void Tell(Swim& swim, NodeId from, MemberUpdate update, absl::Time now) {
  Message m;
  m.type = MessageType::kGossip;
  m.from = from;
  m.to = swim.self_id();
  m.updates.push_back(std::move(update));
  ASSERT_TRUE(swim.Receive(from, EncodeMessage(m), now).ok());
}

MemberUpdate Claim(NodeId id, MemberState state, Incarnation incarnation, NodeId accuser) {
  MemberUpdate u;
  u.member.id = id;
  u.member.address = absl::StrCat("node-", id);
  u.member.state = state;
  u.member.incarnation = incarnation;
  u.accuser = accuser;
  return u;
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

std::vector<Message> Decoded(std::vector<OutgoingMessage> out) {
  std::vector<Message> messages;
  for (const OutgoingMessage& m : out) {
    absl::StatusOr<Message> decoded = DecodeMessage(m.bytes);
    EXPECT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->to, m.to);
    messages.push_back(*decoded);
  }
  return messages;
}

bool Carries(const Message& m, NodeId id, MemberState state, Incarnation incarnation) {
  for (const MemberUpdate& u : m.updates) {
    if (u.member.id == id && u.member.state == state && u.member.incarnation == incarnation) {
      return true;
    }
  }
  return false;
}

// A lone core that knows members 2..n (alive, incarnation 0), with its outbox drained.
std::unique_ptr<Swim> Knowing(Random& random, int n, SwimConfig config = {}) {
  auto swim = std::make_unique<Swim>(1, "node-1", Metadata{}, config, random, kStart);
  for (NodeId id = 2; id <= static_cast<NodeId>(n); ++id) {
    Tell(*swim, id, Claim(id, MemberState::kAlive, 0, id), kStart);
  }
  swim->TakeOutbox();
  swim->TakeEvents();
  return swim;
}

TEST(SwimTest, GossipTimerSendsQueuedUpdatesToFanoutMembers) {
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

TEST(SwimTest, RefutationIsToldEagerlyAndStaleAccusationsAreAnswered) {
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

TEST(SwimTest, HolderOfASuspicionRemindsTheSuspectEveryPeriod) {
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

TEST(SwimTest, MemberThatMissedEveryGossipedRefutationHearsItFromTheSuspect) {
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
  EXPECT_EQ(swim.TakeOutbox().size(), 1u);  // the ack
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
}  // namespace crema::membership
