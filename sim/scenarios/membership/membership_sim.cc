#include "sim/scenarios/membership/membership_sim.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace crema::membership {
namespace {

class MembershipProgram final : public sim::NodeProgram {
 public:
  MembershipProgram(Env env, MembershipNodeConfig config, const MembershipSim::Observer* observer,
                    sim::Simulator* simulator)
      : node(env, std::move(config)) {
    if (*observer) {
      const NodeId self = env.self;
      absl::StatusOr<MembershipNode::SubscriptionId> subscribed =
          node.Subscribe([observer, simulator, self](const MembershipEvent& event) {
            (*observer)(self, event, simulator->elapsed());
          });
      assert(subscribed.ok());
      (void)subscribed;
    }
    const absl::Status started = node.Start();
    assert(started.ok());
    (void)started;
  }
  MembershipNode node;
};

double DriftFactor(int64_t max_drift_ppm) {
  assert(max_drift_ppm >= 0 && max_drift_ppm < 1'000'000);
  return 1e6 / (1e6 - static_cast<double>(max_drift_ppm));
}

}  // namespace

absl::Duration DetectionBound(int nodes, const SwimConfig& config, int64_t max_drift_ppm) {
  const double n = std::max(2, nodes);
  const double periods = 10 +
                         config.suspicion_max_mult * config.suspicion_mult *
                             std::max(1.0, std::log10(n)) +
                         3 * std::log2(n) + 5;
  return config.probe_interval * (periods * DriftFactor(max_drift_ppm));
}

absl::Duration HealBound(int nodes, const MembershipNodeConfig& config, int64_t max_drift_ppm) {
  const double n = std::max(2, nodes);
  const absl::Duration contact =
      std::max(config.swim.push_pull_interval, config.seed_reconnect_interval);
  const absl::Duration spread = config.swim.probe_interval * (6 * std::log2(n) + 10);
  return (contact + spread) * DriftFactor(max_drift_ppm);
}

MembershipSim::MembershipSim(MembershipSimOptions options, Observer observer)
    : options_(std::move(options)), observer_(std::move(observer)) {
  assert(options_.nodes >= 1);
  options_.node.seeds.clear();
  for (int i = 1; i <= options_.nodes; ++i) ids_.push_back(static_cast<NodeId>(i));
  for (int i = 1; i <= std::min(options_.nodes, kMaxSeedNodes); ++i) {
    options_.node.seeds.push_back(static_cast<NodeId>(i));
  }
  sim_ = std::make_unique<sim::Simulator>(options_.sim);
  for (NodeId id : ids_) {
    MembershipNodeConfig config = options_.node;
    config.address = "node-" + std::to_string(id);
    sim_->AddNode(id, [this, config](Env env) {
      return std::make_unique<MembershipProgram>(env, config, &observer_, sim_.get());
    });
  }
}

MembershipSim::~MembershipSim() = default;

MembershipNode* MembershipSim::node(NodeId id) {
  if (sim_->state(id) == sim::NodeState::kDown || sim_->program(id) == nullptr) return nullptr;
  return &static_cast<MembershipProgram*>(sim_->program(id))->node;
}

std::vector<NodeId> MembershipSim::UpNodes() const {
  std::vector<NodeId> up;
  for (NodeId id : ids_) {
    if (sim_->state(id) == sim::NodeState::kUp) up.push_back(id);
  }
  return up;
}

bool MembershipSim::RunUntil(const std::function<bool()>& done, absl::Duration limit,
                             absl::Duration poll) {
  assert(poll > absl::ZeroDuration());
  const absl::Duration end = sim_->elapsed() + limit;
  while (!done()) {
    if (sim_->elapsed() >= end) return false;
    sim_->RunFor(std::min(poll, end - sim_->elapsed()));
  }
  return true;
}

bool MembershipSim::ViewsAgree() {
  std::vector<NodeId> expected;
  for (NodeId id : ids_) {
    if (sim_->state(id) == sim::NodeState::kPaused) return false;
    MembershipNode* n = node(id);
    if (n != nullptr && !n->swim().has_left()) expected.push_back(id);
  }
  for (NodeId id : expected) {
    if (node(id)->LiveMembers() != expected) return false;
  }
  return true;
}

std::string MembershipSim::DescribeViews() {
  std::string out;
  for (NodeId id : ids_) {
    MembershipNode* n = node(id);
    absl::StrAppend(&out, "  n", id, ":");
    if (n == nullptr) {
      absl::StrAppend(&out, " down\n");
      continue;
    }
    for (NodeId other : ids_) {
      if (other == id) continue;
      const Member* m = n->swim().Find(other);
      if (m == nullptr) {
        absl::StrAppend(&out, " ", other, " absent,");
      } else {
        absl::StrAppend(&out, " ", other, " ", std::string(MemberStateName(m->state)), "@", m->incarnation, ",");
      }
    }
    out.back() = '\n';
  }
  return out;
}

bool MembershipSim::AllConsiderGone(NodeId victim) {
  for (NodeId id : UpNodes()) {
    if (id == victim) continue;
    const Member* member = node(id)->swim().Find(victim);
    if (member != nullptr && IsLive(member->state)) return false;
  }
  return true;
}

}  // namespace crema::membership
