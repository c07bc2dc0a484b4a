// ScriptedMembershipSource: a MembershipSource whose view a test sets by hand — the stand-in for
// a source the simulator cannot run (etcd) when a test needs the source's view to differ from
// what SWIM sees (a member declared dead by the source while it gossips happily, or the reverse).
//
// Example (in a simulated test, one source per node, all scripted alike):
//   ScriptedMembershipSource source(/*self=*/1, {1, 2, 3, 4});   // all kAlive, Joined()
//   options.health = &source;                                     // CacheNodeOptions
//   ...
//   source.Set(4, membership::MemberState::kDead);                // subscribers see kDead
//
// Contract: the MembershipSource one (membership_source.h). `Set` delivers the matching event
// synchronously, to subscribers in subscription order, when the state changes; nothing happens
// on its own. IsAvailable(id) is "known and kAlive" (a scripted kSuspect is unavailable);
// self is available until Leave. `view_version()` grows on every change of a live set.
//
// Invariants: members are kept in id order (btree), so Members() and event order never depend
// on hashing; a member, once known, stays in Members() (with its last state).
//
// Thread safety: none; one loop (the simulator's thread).
#ifndef CREMA_NODE_DISCOVERY_SCRIPTED_SOURCE_H_
#define CREMA_NODE_DISCOVERY_SCRIPTED_SOURCE_H_

#include <memory>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/discovery/membership_source.h"

namespace crema::discovery {

class ScriptedMembershipSource final : public MembershipSource {
 public:
  // `members` (self may be among them) start kAlive; the view counts as joined.
  ScriptedMembershipSource(NodeId self, const std::vector<NodeId>& members);

  // Sets `id`'s state (adding it if unknown) and delivers the event for the transition
  // (kJoined, kSuspected, kAliveAgain, kDead, kLeft); no event if the state is unchanged.
  void Set(NodeId id, membership::MemberState state);

  absl::Status Start() override;
  void Leave() override;
  void Stop() override { stopped_ = true; }
  NodeId self() const override { return self_; }
  std::vector<membership::Member> Members() const override;
  bool IsAvailable(NodeId id) const override;
  uint64_t view_version() const override { return view_version_; }
  bool Joined() const override { return true; }
  absl::StatusOr<SubscriptionId> Subscribe(EventCallback callback) override;
  void Unsubscribe(SubscriptionId id) override { subscribers_.erase(id); }
  absl::Status UpdateMetadata(membership::Metadata metadata) override;
  std::string_view kind() const override { return "scripted"; }

  size_t subscribers() const { return subscribers_.size(); }

 private:
  NodeId self_;
  bool started_ = false, left_ = false, stopped_ = false;
  absl::btree_map<NodeId, membership::Member> members_;
  absl::btree_map<SubscriptionId, std::shared_ptr<EventCallback>> subscribers_;
  SubscriptionId next_subscription_ = 1;
  uint64_t view_version_ = 1;
};

}  // namespace crema::discovery

#endif  // CREMA_NODE_DISCOVERY_SCRIPTED_SOURCE_H_
