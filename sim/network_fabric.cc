#include "sim/network_fabric.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/sim_network.h"
#include "sim/simulator.h"
#include "xxhash.h"

namespace crema::sim {

NetworkFabric::NetworkFabric(Simulator* simulator, NetworkConfig config, Random random)
    : sim_(simulator), config_(config), random_(random) {}

std::string NetworkFabric::Summary(const Message& m) {
  return absl::StrCat(m.from, ">", m.to, " s", static_cast<int>(m.service), " ", m.bytes,
                      "B ", Hex64(m.payload_digest), " #", m.id);
}

uint64_t NetworkFabric::Digest(const Message& m) {
  const uint64_t fields[5] = {(static_cast<uint64_t>(m.from) << 32) | m.to,
                              static_cast<uint64_t>(m.service), m.bytes, m.payload_digest,
                              m.id};
  return XXH3_64bits(fields, sizeof(fields));
}

uint32_t NetworkFabric::Park(Message message) {
  if (free_slots_.empty()) {
    in_flight_.push_back(std::move(message));
    return static_cast<uint32_t>(in_flight_.size() - 1);
  }
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  in_flight_[slot] = std::move(message);
  return slot;
}

NetworkFabric::Message NetworkFabric::Unpark(uint32_t slot) {
  Message m = std::move(in_flight_[slot]);
  free_slots_.push_back(slot);
  return m;
}

void NetworkFabric::Drop(const Message& message, uint64_t& counter, std::string_view reason) {
  ++counter;
  sim_->Trace(message.from, "net.drop", absl::StrCat(Summary(message), " ", std::string(reason)));
}

void NetworkFabric::Send(NodeId from, NodeId to, Service service, std::string message) {
  Route(from, to, service, std::move(message));
  if (send_observer_) send_observer_(from);
}

void NetworkFabric::Route(NodeId from, NodeId to, Service service, std::string message) {
  ++stats_.sent;
  Message m;
  m.from = from;
  m.to = to;
  m.service = service;
  m.from_incarnation = sim_->incarnation(from);
  m.id = ++messages_;
  m.payload_digest = XXH3_64bits(message.data(), message.size());
  m.bytes = message.size();
  m.payload = std::move(message);
  sim_->TraceDigest(from, "net.send", Digest(m), [&m] { return Summary(m); });
  if (m.bytes > kMaxMessageBytes) return Drop(m, stats_.dropped_oversize, "oversize");
  if (sim_->endpoint(from) == nullptr || !sim_->HasNode(to)) {
    return Drop(m, stats_.dropped_down, "no route");
  }
  if (Blocked(from, to)) {
    sim_->coverage().Add("effect.partition");
    return Drop(m, stats_.dropped_partition, "partition");
  }
  if (Clogged(from, to)) return Hold(std::move(m));
  if (config_.drop.Draw(random_)) {
    sim_->coverage().Add("fault.drop");
    return Drop(m, stats_.dropped_random, "random");
  }
  Transmit(std::move(m), /*may_duplicate=*/true);
}

void NetworkFabric::Transmit(Message message, bool may_duplicate) {
  const bool twice = may_duplicate && config_.duplicate.Draw(random_);
  if (twice) {
    ++stats_.duplicated;
    sim_->coverage().Add("fault.duplicate");
    sim_->Trace(message.from, "net.duplicate", Summary(message));
  }
  for (int copy = twice ? 2 : 1; copy > 0; --copy) {
    const absl::Duration latency = config_.latency.Sample(random_);
    const NodeId to = message.to;
    const uint64_t id = message.id;
    const uint32_t slot = Park(copy == 1 ? std::move(message) : message);
    sim_->ScheduleNodeEvent(to, kAnyIncarnation,
                            sim_->now_ns() + absl::ToInt64Nanoseconds(latency), "net.deliver",
                            [this, slot] { Deliver(Unpark(slot)); }, id);
  }
}

void NetworkFabric::Deliver(Message message) {
  if (Blocked(message.from, message.to)) {
    sim_->coverage().Add("effect.partition");
    return Drop(message, stats_.dropped_partition, "partition");
  }
  if (Clogged(message.from, message.to)) return Hold(std::move(message));
  SimNetwork* endpoint = sim_->endpoint(message.to);
  if (endpoint == nullptr) {
    if (sim_->incarnation(message.to) > 0) {
      sim_->coverage().Add("effect.crash");
      // Refused: the sender learns that the receiver's process is gone (once is enough).
      if (sim_->state(message.to) == NodeState::kDown) {
        if (SimNetwork* sender = sim_->endpoint(message.from);
            sender != nullptr && !sender->KnowsGone(message.to)) {
          TellGone(message.from, message.to);
        }
      }
    }
    return Drop(message, stats_.dropped_down, "receiver down");
  }
  const NodeId from = message.from;
  const Service service = message.service;
  const bool fresh = sim_->state(from) == NodeState::kUp &&
                     sim_->incarnation(from) == message.from_incarnation;
  std::string payload = std::move(message.payload);
  if (!endpoint->Deliver(from, service, std::move(payload), fresh)) {
    return Drop(message, stats_.dropped_no_handler, "no handler");
  }
  ++stats_.delivered;
}

void NetworkFabric::TellGone(NodeId at, NodeId gone) {
  sim_->ScheduleNodeEvent(at, sim_->incarnation(at),
                          sim_->now_ns() + absl::ToInt64Nanoseconds(kPeerGoneDelay),
                          "net.peer_gone", [this, at, gone] {
                            if (SimNetwork* endpoint = sim_->endpoint(at)) endpoint->PeerGone(gone);
                          }, gone);
}

void NetworkFabric::OnCrash(NodeId id) {
  for (NodeId peer : sim_->node_ids()) {  // ascending: a deterministic order
    if (peer == id || sim_->endpoint(peer) == nullptr || Blocked(id, peer)) continue;
    TellGone(peer, id);
  }
}

void NetworkFabric::Hold(Message message) {
  std::deque<Message>& held = clogged_[Link{message.from, message.to}];
  if (held.size() >= kMaxHeldPerLink) {
    return Drop(message, stats_.dropped_clog_overflow, "clog overflow");
  }
  ++stats_.held_clogged;
  sim_->coverage().Add("effect.clog");
  sim_->Trace(message.from, "net.hold", Summary(message));
  held.push_back(std::move(message));
}

void NetworkFabric::SetPartition(std::vector<Link> blocked, std::string_view description) {
  blocked_ = absl::btree_set<Link>(blocked.begin(), blocked.end());
  std::string links;
  for (const Link& link : blocked_) absl::StrAppend(&links, " ", link.first, ">", link.second);
  sim_->Trace(kNoNode, "net.partition", absl::StrCat(std::string(description), ":", links));
  sim_->coverage().Add("fault.partition");
  sim_->coverage().Declare("effect.partition");
}

void NetworkFabric::HealPartition() {
  if (blocked_.empty()) return;
  blocked_.clear();
  sim_->Trace(kNoNode, "net.heal", "");
}

void NetworkFabric::Clog(NodeId from, NodeId to) {
  if (clogged_.try_emplace(Link{from, to}).second) {
    sim_->Trace(kNoNode, "net.clog", absl::StrCat(from, ">", to));
    sim_->coverage().Add("fault.clog");
    sim_->coverage().Declare("effect.clog");
  }
}

void NetworkFabric::Unclog(NodeId from, NodeId to) {
  auto it = clogged_.find(Link{from, to});
  if (it == clogged_.end()) return;
  std::deque<Message> held = std::move(it->second);
  clogged_.erase(it);
  sim_->Trace(kNoNode, "net.unclog", absl::StrCat(from, ">", to, " released=", held.size()));
  for (Message& message : held) Transmit(std::move(message), /*may_duplicate=*/false);
}

void NetworkFabric::UnclogAll() {
  while (!clogged_.empty()) {
    const Link link = clogged_.begin()->first;
    Unclog(link.first, link.second);
  }
}

}  // namespace crema::sim
