#include "node/discovery/swim_source.h"

#include <algorithm>

namespace crema::discovery {

SwimMembershipSource::SwimMembershipSource(Env env, membership::MembershipNodeConfig config)
    : owned_(std::make_unique<membership::MembershipNode>(env, std::move(config))),
      node_(owned_.get()) {}

SwimMembershipSource::SwimMembershipSource(membership::MembershipNode* node) : node_(node) {}

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
