// SwimMembershipSource: MembershipSource over the SWIM driver (node/membership/driver/
// membership_node.h). It either owns its MembershipNode (built from a config on the node's Env)
// or wraps one the host already runs (a cache node that also uses it for Raft's health hooks).
//
// Mapping: Members() is MembershipNode::Members() sorted by id; IsAvailable is the driver's
// (SWIM alive, or suspect with phi below threshold); events and metadata pass straight through.
//
// Thread safety: none; the node's event loop.
#ifndef CREMA_NODE_DISCOVERY_SWIM_SOURCE_H_
#define CREMA_NODE_DISCOVERY_SWIM_SOURCE_H_

#include <memory>
#include <vector>

#include "node/discovery/membership_source.h"
#include "node/env.h"
#include "node/membership/driver/membership_node.h"

namespace crema::discovery {

class SwimMembershipSource final : public MembershipSource {
 public:
  // Owns a MembershipNode built on `env` with `config`.
  SwimMembershipSource(Env env, membership::MembershipNodeConfig config);
  // Wraps `node`, which must outlive this source. Start/Stop/Leave act on it.
  // `seeds`: the ids it joins through (to know whether it can be alone by design).
  SwimMembershipSource(membership::MembershipNode* node, const std::vector<NodeId>& seeds);

  absl::Status Start() override;
  void Leave() override { node_->Leave(); }
  void Stop() override { node_->Stop(); }
  NodeId self() const override { return node_->self(); }
  std::vector<membership::Member> Members() const override;
  bool IsAvailable(NodeId id) const override { return node_->IsAvailable(id); }
  uint64_t view_version() const override { return node_->view_version(); }
  // Sticky: another member has been live in the view, or no seed other than this node is
  // configured.
  bool Joined() const override;
  absl::StatusOr<SubscriptionId> Subscribe(EventCallback callback) override {
    return node_->Subscribe(std::move(callback));
  }
  void Unsubscribe(SubscriptionId id) override { node_->Unsubscribe(id); }
  absl::Status UpdateMetadata(membership::Metadata metadata) override {
    return node_->UpdateMetadata(std::move(metadata));
  }
  std::string_view kind() const override { return "swim"; }

  membership::MembershipNode& node() { return *node_; }

 private:
  std::unique_ptr<membership::MembershipNode> owned_;
  membership::MembershipNode* node_;
  bool alone_by_design_ = false;  // no seed but self: a one-node cluster
  mutable bool joined_ = false;
};

}  // namespace crema::discovery

#endif  // CREMA_NODE_DISCOVERY_SWIM_SOURCE_H_
