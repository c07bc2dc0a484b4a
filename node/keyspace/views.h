// The per-keyspace CacheApi views KeyspaceNode hands out (keyspace_node.h has the rules).
//   StrongView:   prefixes keys and applies the keyspace's TTL rules, forwards to the Raft cache.
//   EventualView: maps CacheApi onto EventualNode at the request's levels; refuses what LWW
//                 replicas cannot do atomically (UNIMPLEMENTED).
// Internal to node/keyspace. Thread safety: the node's loop thread; calls are fiber-only.
#ifndef CREMA_NODE_KEYSPACE_VIEWS_H_
#define CREMA_NODE_KEYSPACE_VIEWS_H_

#include <functional>
#include <memory>

#include "node/clock.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/keyspace/keyspace_api.h"

namespace crema::keyspace {

// The keyspace's TTL rules applied to a requested expiration, as a duration from `now`
// (wall time): nullopt = no expiry; <= 0 = already expired. kKeep is the caller's business.
std::optional<absl::Duration> EffectiveTtl(const KeyspaceSpec& spec, const Expiration& e,
                                           absl::Time now);

// Keyspace 0 refuses keys beginning with the strong keyspaces' reserved prefix "\xffks".
std::shared_ptr<CacheApi> MakeStrongView(const Keyspace& keyspace, CacheApi* strong,
                                         const Clock* clock);

// `usage` returns this node's bytes of the keyspace (for the capacity check).
std::shared_ptr<CacheApi> MakeEventualView(const Keyspace& keyspace, CacheApi* strong,
                                           eventual::EventualNode* node, const Clock* clock,
                                           const RequestLevels& levels,
                                           std::function<uint64_t()> usage);

}  // namespace crema::keyspace

#endif  // CREMA_NODE_KEYSPACE_VIEWS_H_
