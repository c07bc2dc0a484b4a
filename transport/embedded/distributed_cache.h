// DistributedCache: Crema embedded in an application — one cache node running on its own event
// loop thread, with a blocking, thread-safe API for the application's threads.
//
//   crema::CacheConfig config;
//   config.node_id = 1;
//   config.bootstrap = {1, 2, 3};
//   config.max_capacity = 100'000;
//   config.default_ttl = absl::Hours(1);
//   crema::transport::NodeRuntimeOptions runtime;
//   runtime.self = 1;
//   runtime.listen_address = "10.0.0.1:7000";
//   runtime.peers = {{2, "10.0.0.2:7000"}, {3, "10.0.0.3:7000"}};
//   runtime.data_dir = "/var/lib/crema";
//   runtime.cluster_secret = secret;
//   auto cache = crema::DistributedCache::Start(config, runtime);
//   (*cache)->Put("user:123", "Alice");                       // linearizable, through Raft
//   (*cache)->Get("user:123");                                // fast local read
//   (*cache)->Get("user:123", {.consistency = crema::ReadConsistency::kLinearizable});
//
// Every method may be called from any thread, concurrently: it hands the call to the node's loop
// thread (a fiber calls the CacheNode, node/cache_node/cache_node.h — the same code the simulator
// runs), and waits for the answer. Semantics and errors are CacheApi's (cache_api.h). A call
// after Stop() returns UNAVAILABLE.
//
// Thread safety: all public methods are thread-safe. Destroying the object stops the node
// (gracefully) and joins its thread; it must not race with calls still in progress.
#ifndef CREMA_TRANSPORT_EMBEDDED_DISTRIBUTED_CACHE_H_
#define CREMA_TRANSPORT_EMBEDDED_DISTRIBUTED_CACHE_H_

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/cache_node/cache_node.h"
#include "transport/node_runtime.h"

namespace crema {

class DistributedCache {
 public:
  // Starts the node's runtime (sockets, data directory) and its loop thread, then the cache node
  // on it. Errors: the config's (INVALID_ARGUMENT), a port in use or a bad data dir (from the
  // runtime), or the node's start-up error.
  static absl::StatusOr<std::unique_ptr<DistributedCache>> Start(
      CacheConfig config, transport::NodeRuntimeOptions runtime, CacheNodeOptions node = {});
  ~DistributedCache();
  DistributedCache(const DistributedCache&) = delete;
  DistributedCache& operator=(const DistributedCache&) = delete;

  // Waits until the node serves (it knows the cluster map); false on timeout.
  bool WaitUntilReady(absl::Duration timeout);
  // Graceful stop: leaderships handed over, gossip left, the loop thread joined. Idempotent.
  void Stop();

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, ReadOptions options = {});
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      const std::vector<std::string>& keys, ReadOptions options = {});
  absl::StatusOr<TtlResult> Ttl(std::string_view key, ReadOptions options = {});
  absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value,
                                PutOptions options = {});
  absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                        Expiration expiration = {}, WriteOptions options = {});
  absl::StatusOr<std::optional<std::string>> Delete(std::string_view key,
                                                    WriteOptions options = {});
  absl::StatusOr<bool> CompareAndSet(std::string_view key, std::optional<std::string> expected,
                                     std::string_view new_value, Expiration expiration = {},
                                     WriteOptions options = {});
  absl::StatusOr<int64_t> Increment(std::string_view key, int64_t delta = 1,
                                    WriteOptions options = {});
  absl::StatusOr<bool> Expire(std::string_view key, Expiration expiration,
                              WriteOptions options = {});
  absl::StatusOr<std::optional<std::string>> GetAndTouch(std::string_view key,
                                                         std::optional<Expiration> expiration,
                                                         WriteOptions options = {});
  absl::StatusOr<int64_t> Size(ReadOptions options = {});
  absl::Status AdmitNode(NodeId node, WriteOptions options = {});
  absl::Status DrainNode(NodeId node, WriteOptions options = {});
  absl::Status RemoveNode(NodeId node, WriteOptions options = {});
  absl::Status TransferShardLeader(uint32_t shard, NodeId to, WriteOptions options = {});
  absl::StatusOr<ClusterStatus> Status();

  // The port the node's peer listener bound (useful with port 0).
  uint16_t peer_port() const { return peer_port_; }

 private:
  DistributedCache() = default;
  // Runs `fn` in a fiber on the loop thread and waits for its result. UNAVAILABLE if stopped.
  template <typename R>
  R Call(std::function<R(CacheNode&)> fn, R if_stopped);
  void Post(std::function<void()> fn);

  std::unique_ptr<transport::NodeRuntime> runtime_;
  std::unique_ptr<CacheNode> node_;  // created and destroyed on the loop thread
  std::thread thread_;
  uint16_t peer_port_ = 0;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> ready_{false};
};

}  // namespace crema

#endif  // CREMA_TRANSPORT_EMBEDDED_DISTRIBUTED_CACHE_H_
