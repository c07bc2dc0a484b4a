#include "sim/network_fabric.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/sim_network.h"
#include "sim/simulator.h"
#include "xxhash.h"

namespace crema::sim {

NetworkFabric::NetworkFabric(Simulator* simulator, NetworkConfig config, Random random)
    : sim_(simulator), config_(config), random_(random) {}

void NetworkFabric::Drop(const Message& message, uint64_t& counter, std::string_view reason) {
  ++counter;
  sim_->Trace(message.from, "net.drop", absl::StrCat(message.summary, " ", std::string(reason)));
}

void NetworkFabric::Send(NodeId from, NodeId to, Service service, std::string message) {
  ++stats_.sent;
  const uint64_t id = ++messages_;
  Message m{from, to, service, nullptr,
            absl::StrCat(from, ">", to, " s", static_cast<int>(service), " ", message.size(),
                         "B ", Hex64(XXH3_64bits(message.data(), message.size())), " #", id),
            id};
  sim_->Trace(from, "net.send", m.summary);
  if (message.size() > kMaxMessageBytes) return Drop(m, stats_.dropped_oversize, "oversize");
  if (sim_->endpoint(from) == nullptr || !sim_->HasNode(to)) {
    return Drop(m, stats_.dropped_down, "no route");
  }
  if (Blocked(from, to)) {
    sim_->coverage().Add("effect.partition");
    return Drop(m, stats_.dropped_partition, "partition");
  }
  m.payload = std::make_shared<const std::string>(std::move(message));
  if (Clogged(from, to)) return Hold(m);
  if (config_.drop.Draw(random_)) {
    sim_->coverage().Add("fault.drop");
    return Drop(m, stats_.dropped_random, "random");
  }
  Transmit(m, /*may_duplicate=*/true);
}

void NetworkFabric::Transmit(const Message& message, bool may_duplicate) {
  const int copies = may_duplicate && config_.duplicate.Draw(random_) ? 2 : 1;
  if (copies == 2) {
    ++stats_.duplicated;
    sim_->coverage().Add("fault.duplicate");
    sim_->Trace(message.from, "net.duplicate", message.summary);
  }
  for (int i = 0; i < copies; ++i) {
    const absl::Duration latency = config_.latency.Sample(random_);
    sim_->ScheduleNodeEvent(message.to, kAnyIncarnation,
                            sim_->now_ns() + absl::ToInt64Nanoseconds(latency), "net.deliver",
                            [this, message] { Deliver(message); }, message.id);
  }
}

void NetworkFabric::Deliver(const Message& message) {
  if (Blocked(message.from, message.to)) {
    sim_->coverage().Add("effect.partition");
    return Drop(message, stats_.dropped_partition, "partition");
  }
  if (Clogged(message.from, message.to)) return Hold(message);
  SimNetwork* endpoint = sim_->endpoint(message.to);
  if (endpoint == nullptr) {
    if (sim_->incarnation(message.to) > 0) sim_->coverage().Add("effect.crash");
    return Drop(message, stats_.dropped_down, "receiver down");
  }
  if (!endpoint->Deliver(message.from, message.service, *message.payload)) {
    return Drop(message, stats_.dropped_no_handler, "no handler");
  }
  ++stats_.delivered;
}

void NetworkFabric::Hold(const Message& message) {
  std::deque<Message>& held = clogged_[Link{message.from, message.to}];
  if (held.size() >= kMaxHeldPerLink) {
    return Drop(message, stats_.dropped_clog_overflow, "clog overflow");
  }
  ++stats_.held_clogged;
  sim_->coverage().Add("effect.clog");
  sim_->Trace(message.from, "net.hold", message.summary);
  held.push_back(message);
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
  for (const Message& message : held) Transmit(message, /*may_duplicate=*/false);
}

void NetworkFabric::UnclogAll() {
  while (!clogged_.empty()) {
    const Link link = clogged_.begin()->first;
    Unclog(link.first, link.second);
  }
}

}  // namespace crema::sim
