// MembershipSource: who is in the cluster and how healthy each member looks — the discovery
// interface that both consistency modes build on, with one implementation per mechanism:
//   * SwimMembershipSource (swim_source.h): SWIM gossip with Lifeguard and the phi-accrual
//     detector (node/membership/), self-contained, runs in the simulator and in production.
//   * EtcdMembershipSource (transport/etcd/etcd_membership_source.h): one etcd lease per node,
//     an ephemeral key per member under a prefix, a watch on the prefix (ZephyrCache's default);
//     production only, since it talks to a real etcd over sockets.
// A server picks one with a flag (`--membership=swim|etcd`); everything above it — placement,
// the eventual-mode driver, Raft's health hooks — sees only this interface.
//
// Contract for implementations:
//   * Everything runs on the node's event loop; events are delivered there, in order, to
//     subscribers in subscription order. Callbacks must not block (spawn a fiber for slow work).
//   * `Members()` lists every member the source knows, self included, sorted by id, each with
//     its state: kAlive / kSuspect (live), kDead (failed: SWIM declared it, or its etcd lease
//     expired), kLeft (left gracefully). A source may forget dead and left members after a while.
//   * `IsAvailable(id)`: is it worth sending to `id` right now (self: true until Leave).
//   * `view_version()` changes whenever the set of live members changes.
//   * `Joined()`: the view has been synchronised with the rest of the cluster at least once (SWIM:
//     another member is known, or there is no one else to know; etcd: the first listing of the
//     prefix succeeded). Before that, `Members()` may be just this node, and placement computed
//     from it is wrong: callers must not serve data on it.
//   * Metadata (small string map, membership/types.h bounds) is published with `UpdateMetadata`
//     and reaches the other members' `Members()` eventually.
//
// Thread safety: none; one loop.
#ifndef CREMA_NODE_DISCOVERY_MEMBERSHIP_SOURCE_H_
#define CREMA_NODE_DISCOVERY_MEMBERSHIP_SOURCE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/membership/types.h"
#include "node/network.h"

namespace crema::discovery {

class MembershipSource {
 public:
  using EventCallback = absl::AnyInvocable<void(const membership::MembershipEvent&)>;
  using SubscriptionId = uint64_t;

  virtual ~MembershipSource() = default;

  // Starts discovery (joins). FAILED_PRECONDITION if called twice.
  [[nodiscard]] virtual absl::Status Start() = 0;
  // Leaves gracefully: others see kLeft. Idempotent.
  virtual void Leave() = 0;
  // Stops without announcing anything (others will notice the silence). Idempotent.
  virtual void Stop() = 0;

  virtual NodeId self() const = 0;
  virtual std::vector<membership::Member> Members() const = 0;
  virtual bool IsAvailable(NodeId id) const = 0;
  virtual uint64_t view_version() const = 0;
  virtual bool Joined() const = 0;

  [[nodiscard]] virtual absl::StatusOr<SubscriptionId> Subscribe(EventCallback callback) = 0;
  virtual void Unsubscribe(SubscriptionId id) = 0;
  [[nodiscard]] virtual absl::Status UpdateMetadata(membership::Metadata metadata) = 0;

  // "swim" or "etcd" (for logs and /cluster).
  virtual std::string_view kind() const = 0;
};

}  // namespace crema::discovery

#endif  // CREMA_NODE_DISCOVERY_MEMBERSHIP_SOURCE_H_
