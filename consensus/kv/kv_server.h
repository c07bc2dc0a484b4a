// KvServer: answers KV client requests (protocol.h) on one node by executing them on the node's
// KvReplica (through the Raft log).
//
// Requests arrive on kKvService; malformed ones are dropped. Each request runs in its own fiber
// (at most kMaxInflightRequests at once; beyond that the reply is kBusy, and beyond
// kMaxQueuedRequests waiting in the inbox requests are dropped). A request whose execution fails
// is answered kUnknown with the node's leader hint, so the client retries the same command
// (same session and seq) here or elsewhere.
//
// Thread safety: none; the node's event loop.
#ifndef CREMA_CONSENSUS_KV_KV_SERVER_H_
#define CREMA_CONSENSUS_KV_KV_SERVER_H_

#include <cstddef>
#include <string>
#include <utility>

#include "consensus/kv/kv_replica.h"
#include "consensus/kv/protocol.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::kv {

class KvServer {
 public:
  static constexpr size_t kMaxQueuedRequests = 1024;
  static constexpr size_t kMaxInflightRequests = 256;

  // `replica` must outlive the server. Installs the handler and starts the dispatcher fiber.
  KvServer(Env env, KvReplica* replica);
  KvServer(const KvServer&) = delete;
  KvServer& operator=(const KvServer&) = delete;

  uint64_t requests() const { return requests_; }

 private:
  void Dispatch();
  void Serve(NodeId client, Request request);

  Env env_;
  KvReplica* replica_;
  Channel<std::pair<NodeId, std::string>> inbox_;
  size_t inflight_ = 0;
  uint64_t requests_ = 0;
};

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_KV_SERVER_H_
