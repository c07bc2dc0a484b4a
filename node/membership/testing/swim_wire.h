// Test helpers for the SWIM core: a hand-cranked network of cores (`Wire`) and builders for
// messages and claims. Used by swim_test and swim_gossip_test. Test-only; not thread-safe.
#ifndef CREMA_NODE_MEMBERSHIP_TESTING_SWIM_WIRE_H_
#define CREMA_NODE_MEMBERSHIP_TESTING_SWIM_WIRE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "node/membership/codec.h"
#include "node/membership/swim.h"
#include "node/random.h"

namespace crema::membership::testing {

inline const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

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
inline void JoinAll(Wire& wire, int n) {
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
inline bool TickUntilPing(Wire& wire, NodeId id, NodeId target, const Wire::Filter& drop) {
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

// Feeds `swim` a gossip message from `from` carrying one update.
inline void Tell(Swim& swim, NodeId from, MemberUpdate update, absl::Time now) {
  Message m;
  m.type = MessageType::kGossip;
  m.from = from;
  m.to = swim.self_id();
  m.updates.push_back(std::move(update));
  ASSERT_TRUE(swim.Receive(from, EncodeMessage(m), now).ok());
}

inline MemberUpdate Claim(NodeId id, MemberState state, Incarnation incarnation, NodeId accuser) {
  MemberUpdate u;
  u.member.id = id;
  u.member.address = absl::StrCat("node-", id);
  u.member.state = state;
  u.member.incarnation = incarnation;
  u.accuser = accuser;
  return u;
}

inline std::vector<Message> Decoded(std::vector<OutgoingMessage> out) {
  std::vector<Message> messages;
  for (const OutgoingMessage& m : out) {
    absl::StatusOr<Message> decoded = DecodeMessage(m.bytes);
    EXPECT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->to, m.to);
    messages.push_back(*decoded);
  }
  return messages;
}

inline bool Carries(const Message& m, NodeId id, MemberState state, Incarnation incarnation) {
  for (const MemberUpdate& u : m.updates) {
    if (u.member.id == id && u.member.state == state && u.member.incarnation == incarnation) {
      return true;
    }
  }
  return false;
}

// A lone core that knows members 2..n (alive, incarnation 0), with its outbox drained.
inline std::unique_ptr<Swim> Knowing(Random& random, int n, SwimConfig config = {}) {
  auto swim = std::make_unique<Swim>(1, "node-1", Metadata{}, config, random, kStart);
  for (NodeId id = 2; id <= static_cast<NodeId>(n); ++id) {
    Tell(*swim, id, Claim(id, MemberState::kAlive, 0, id), kStart);
  }
  swim->TakeOutbox();
  swim->TakeEvents();
  return swim;
}

}  // namespace crema::membership::testing

#endif  // CREMA_NODE_MEMBERSHIP_TESTING_SWIM_WIRE_H_
