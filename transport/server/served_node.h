// ServedNode: what crema_server needs from the node it serves — the CacheApi, a graceful
// shutdown, and a way to expose the node's own metrics. The production binary starts a CacheNode
// (node/cache_node/cache_node.h); tests may start a test double behind the same seam.
//
// Thread safety: the node's loop thread; Start and Shutdown are fiber-only.
#ifndef CREMA_TRANSPORT_SERVER_SERVED_NODE_H_
#define CREMA_TRANSPORT_SERVER_SERVED_NODE_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "node/cache_node/cache_api.h"
#include "node/cache_node/cache_config.h"
#include "node/keyspace/keyspace_api.h"
#include "transport/asio_loop.h"
#include "transport/server/server_config.h"
#include "node/env.h"
#include "node/metrics/metrics.h"
#include "transport/resp/session.h"

namespace crema::server {

class ServedNode {
 public:
  virtual ~ServedNode() = default;
  virtual CacheApi* api() = 0;
  // The keyspaces (null: only keyspace 0, served by api()).
  virtual keyspace::KeyspaceApi* keyspaces() { return nullptr; }
  // Hands shard leaderships away, flushes, leaves the cluster's gossip; bounded by `timeout`.
  virtual void Shutdown(absl::Duration timeout) = 0;
  // Every replica the node hosts with its applied index and state digest (CREMA.DIGESTS);
  // nullopt when the node cannot tell (test doubles).
  virtual std::optional<std::vector<resp::ReplicaDigest>> ReplicaDigests() { return std::nullopt; }
};

// Starts the node (fiber-only). `registry` is where the node registers its metrics
// (metrics::NodeMetrics) and collect hooks; it outlives the node. `loop` is the node's event loop
// (for production-only clients such as etcd's).
using NodeStarter = std::function<absl::StatusOr<std::unique_ptr<ServedNode>>(
    Env env, const ServerConfig& config, metrics::MetricsRegistry* registry,
    transport::AsioLoop* loop)>;

}  // namespace crema::server

#endif  // CREMA_TRANSPORT_SERVER_SERVED_NODE_H_
