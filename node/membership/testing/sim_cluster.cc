#include "node/membership/testing/sim_cluster.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace crema::membership::testing {

SimCluster::SimCluster(uint64_t seed, SwimConfig config, NetworkConfig network)
    : config_(std::move(config)),
      network_(network),
      root_(seed),
      net_random_(root_.Fork("network")),
      now_(absl::UnixEpoch() + absl::Hours(1)) {}

void SimCluster::Start(NodeId id, const std::vector<NodeId>& seeds,
                       Incarnation initial_incarnation) {
  Node& node = nodes_[id];
  const uint64_t start = starts_[id]++;
  node.random = std::make_unique<Random>(root_.Fork(absl::StrCat("node-", id, "-", start)));
  SwimConfig config = config_;
  config.initial_incarnation = initial_incarnation;
  node.swim = std::make_unique<Swim>(id, absl::StrCat("10.0.", id / 256, ".", id % 256, ":7946"),
                                     Metadata{}, config, *node.random, now_);
  node.up = true;
  node.left = false;
  node.tick_at = absl::InfiniteFuture();
  node.swim->Join(seeds, now_);
  Flush(id);
}

bool SimCluster::StartConverged(int n, absl::Duration limit) {
  for (int i = 1; i <= n; ++i) Start(static_cast<NodeId>(i), {1});
  return RunUntil([this] { return ViewsAgree(); }, limit);
}

void SimCluster::Crash(NodeId id) {
  Node& node = nodes_.at(id);
  node.up = false;
  node.swim.reset();  // pending ticks and deliveries for it are dropped on arrival
  node.tick_at = absl::InfiniteFuture();
}

void SimCluster::Leave(NodeId id) {
  Node& node = nodes_.at(id);
  assert(node.up);
  node.swim->Leave(now_);
  node.left = true;
  Flush(id);
}

void SimCluster::Partition(const absl::btree_set<NodeId>& side) {
  partition_side_ = side;
  partitioned_ = true;
}

void SimCluster::Heal() { partitioned_ = false; }

void SimCluster::SetLoss(uint64_t numerator, uint64_t denominator) {
  network_.loss_numerator = numerator;
  network_.loss_denominator = denominator;
}

bool SimCluster::Connected(NodeId a, NodeId b) const {
  if (!partitioned_) return true;
  return partition_side_.contains(a) == partition_side_.contains(b);
}

bool SimCluster::IsUp(NodeId id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second.up;
}

Swim& SimCluster::node(NodeId id) {
  Node& node = nodes_.at(id);
  assert(node.up);
  return *node.swim;
}

std::vector<NodeId> SimCluster::UpNodes() const {
  std::vector<NodeId> up;
  for (const auto& [id, node] : nodes_) {
    if (node.up) up.push_back(id);
  }
  return up;
}

void SimCluster::Flush(NodeId id) {
  Node& node = nodes_.at(id);
  if (!node.up) return;
  for (OutgoingMessage& message : node.swim->TakeOutbox()) {
    ++messages_sent_;
    if (!Connected(id, message.to)) continue;
    if (net_random_.Chance(network_.loss_numerator, network_.loss_denominator)) continue;
    const absl::Duration latency =
        net_random_.DurationBetween(network_.min_latency, network_.max_latency);
    queue_.push(Event{now_ + latency, next_sequence_++, message.to, id, std::move(message.bytes)});
  }
  for (const MembershipEvent& event : node.swim->TakeEvents()) {
    if (observer_) observer_(id, event, now_);
  }
  // Never schedule in the past or at the same instant twice: Tick leaves every timer > now.
  const absl::Time next = std::max(node.swim->NextTickTime(), now_ + absl::Microseconds(1));
  if (next < node.tick_at) {
    node.tick_at = next;
    queue_.push(Event{next, next_sequence_++, id, kNoNode, {}});
  }
}

void SimCluster::Step(Event event) {
  assert(event.at >= now_);
  now_ = event.at;
  auto it = nodes_.find(event.to);
  if (it == nodes_.end() || !it->second.up) return;
  Node& node = it->second;
  if (event.from == kNoNode) {
    if (event.at != node.tick_at) return;  // superseded by an earlier tick
    node.tick_at = absl::InfiniteFuture();
    node.swim->Tick(now_);
  } else {
    if (!Connected(event.from, event.to)) return;  // partition began while in flight
    ++messages_delivered_;
    absl::Status status = node.swim->Receive(event.from, event.bytes, now_);
    if (!status.ok()) {
      std::fprintf(stderr, "node %u rejected a message from %u: %s\n", event.to, event.from,
                   status.ToString().c_str());
      std::abort();  // the harness only carries well-formed traffic
    }
  }
  Flush(event.to);
}

void SimCluster::RunUntil(absl::Time t) {
  while (!queue_.empty() && queue_.top().at <= t) {
    Event event = queue_.top();
    queue_.pop();
    Step(std::move(event));
  }
  now_ = std::max(now_, t);
}

bool SimCluster::RunUntil(const std::function<bool()>& done, absl::Duration limit) {
  const absl::Time deadline = now_ + limit;
  if (done()) return true;
  // `done` may be costly (a full view comparison), so it is checked every kCheckEvery of virtual
  // time rather than after every event.
  constexpr absl::Duration kCheckEvery = absl::Milliseconds(50);
  absl::Time next_check = now_ + kCheckEvery;
  while (!queue_.empty() && queue_.top().at <= deadline) {
    Event event = queue_.top();
    queue_.pop();
    Step(std::move(event));
    if (now_ >= next_check) {
      next_check = now_ + kCheckEvery;
      if (done()) return true;
    }
  }
  now_ = std::max(now_, deadline);
  return done();
}

bool SimCluster::ViewsAgree() const {
  std::vector<NodeId> expected;
  for (const auto& [id, node] : nodes_) {
    if (node.up && !node.left) expected.push_back(id);
  }
  for (const auto& [id, node] : nodes_) {
    if (!node.up || node.left) continue;
    if (node.swim->LiveMemberIds() != expected) return false;
  }
  return true;
}

}  // namespace crema::membership::testing
