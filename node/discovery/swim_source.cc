#include "node/discovery/swim_source.h"

#include <algorithm>

namespace crema::discovery {

namespace {

bool NoOtherSeed(const std::vector<NodeId>& seeds, NodeId self) {
  return std::all_of(seeds.begin(), seeds.end(), [self](NodeId s) { return s == self || s == kNoNode; });
}

}  // namespace

SwimMembershipSource::SwimMembershipSource(Env env, membership::MembershipNodeConfig config)
    : alone_by_design_(NoOtherSeed(config.seeds, env.self)) {
  owned_ = std::make_unique<membership::MembershipNode>(env, std::move(config));
  node_ = owned_.get();
}

SwimMembershipSource::SwimMembershipSource(membership::MembershipNode* node,
                                           const std::vector<NodeId>& seeds)
    : node_(node), alone_by_design_(NoOtherSeed(seeds, node->self())) {}

bool SwimMembershipSource::Joined() const {
  joined_ = joined_ || alone_by_design_ || node_->LiveCount() > 1;
  return joined_;
}

absl::Status SwimMembershipSource::Start() {
  if (!owned_ && node_->started()) return absl::OkStatus();  // the host started it
  return node_->Start();
}

std::vector<membership::Member> SwimMembershipSource::Members() const {
  std::vector<membership::Member> members = node_->Members();
  std::sort(members.begin(), members.end(),
            [](const membership::Member& a, const membership::Member& b) { return a.id < b.id; });
  return members;
}

}  // namespace crema::discovery
