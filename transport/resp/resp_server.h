// RespServer: Redis's protocol over TCP on the node's single event-loop thread (Boost.Asio via
// transport::AsioLoop). Parsing and encoding are pure (request_parser.h, encoder.h); each command
// runs in a fiber calling crema::CacheApi (command_table.h); this file owns sockets and bounds.
//
// Example:
//   RespServer server(&runtime.loop(), runtime.env().executor, &runtime.clock(), &node, settings,
//                     RespServerOptions{.listen_address = "127.0.0.1:6379"}, &front_end_metrics);
//   if (absl::Status s = server.Start(); !s.ok()) ...;   // e.g. the port is taken
//   ... loop runs ...
//   server.Stop();
//
// Behaviour and bounds (each a named option):
//   * Pipelining: up to `pipeline_window` commands per connection are held; replies leave in
//     request order (pipeline.h gives the ordering rules). Reading pauses while the window is full
//     or unsent output exceeds `output_buffer_soft_bytes` — a client that does not read its
//     replies is throttled, not buffered without end; past `output_buffer_hard_bytes` it is
//     closed (Redis's client-output-buffer-limit).
//   * Runnable commands with an inline path (GET: CacheApi::TryGetNow) are answered on the loop
//     at once when the node can decide them without waiting — no fiber; otherwise they run in a
//     fiber like every other command. All complete commands of a read are parsed and scheduled
//     before one socket write carries every reply that is ready; replies of commands finished
//     by fibers in one loop pass also leave in one write. Every connection's write of a loop
//     pass happens after the pass's handlers have run (FlushAtEndOfPass).
//   * Runnable pipelined plain SETs (no options; valid key and value) are batched, up to
//     RespConnection::kMaxSetBatch, into one CacheApi::MultiPutEach (one atomic command per
//     shard, the shards written concurrently, shared with other connections' batches of the
//     same loop turn by the node): each SET gets +OK or its own shard's error.
//     Anything else runs as its own command.
//   * Server-wide at most `max_inflight_commands` command fibers; connections wait for budget.
//   * `max_clients`: a connection beyond it gets "-ERR max number of clients reached" and is
//     closed (Redis's text). `idle_timeout` (0 = never) closes connections idle that long with no
//     command in flight (Redis's `timeout`). A command still incomplete after
//     `max_command_receive_time` (a slow or half-sent request) closes the connection.
//   * Malformed input: the protocol error is answered (Redis's text) after the replies of earlier
//     commands, then the connection is closed, as Redis does. QUIT answers +OK, then closes.
//   * Nothing here blocks the loop: all socket I/O is asynchronous.
//
// Thread safety: none; everything runs on the loop thread. Stop() before destroying; the server
// must be destroyed before the loop and after the executor's fibers are gone (NodeRuntime order).
#ifndef CREMA_TRANSPORT_RESP_RESP_SERVER_H_
#define CREMA_TRANSPORT_RESP_RESP_SERVER_H_

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "node/cache_node/cache_api.h"
#include "node/executor.h"
#include "node/metrics/crema_metrics.h"
#include "transport/asio_loop.h"
#include "transport/resp/request_parser.h"
#include "transport/resp/session.h"

namespace crema::resp {

struct RespServerOptions {
  std::string listen_address = "127.0.0.1:6379";
  size_t max_clients = 10'000;
  absl::Duration idle_timeout = absl::ZeroDuration();       // 0 = never
  absl::Duration max_command_receive_time = absl::Seconds(60);
  size_t pipeline_window = 64;                               // commands held per connection
  size_t max_inflight_commands = 16'384;                     // command fibers, server-wide
  size_t output_buffer_soft_bytes = 4 * 1024 * 1024;         // pause reading above this
  size_t output_buffer_hard_bytes = 256 * 1024 * 1024;       // close above this
  size_t read_chunk_bytes = 64 * 1024;
  RequestLimits request_limits;
  absl::Duration sweep_interval = absl::Seconds(1);          // idle / slow-request checks
};

class RespConnection;

class RespServer {
 public:
  // Every pointer must outlive the server; `metrics` may be null.
  RespServer(transport::AsioLoop* loop, Executor* executor, const Clock* clock, CacheApi* api,
             ServerSettings settings, RespServerOptions options,
             metrics::FrontEndMetrics* metrics);
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds and starts accepting. UNAVAILABLE if the address cannot be bound (in use...),
  // INVALID_ARGUMENT if it does not parse.
  [[nodiscard]] absl::Status Start();
  // Stops accepting and closes every connection. Idempotent.
  void Stop();

  std::string bound_address() const;  // "ip:port" actually bound (port 0 resolved)
  size_t connections() const { return connections_.size(); }
  const ServerContext& context() const { return context_; }
  // What CREMA.DIGESTS reports (call before Start).
  void SetReplicaDigests(std::function<std::vector<ReplicaDigest>()> digests) {
    context_.replica_digests = std::move(digests);
  }
  // Keyspaces to dispatch to (null: only database 0). Call before Start.
  void set_keyspaces(keyspace::KeyspaceApi* keyspaces) { context_.keyspaces = keyspaces; }

 private:
  friend class RespConnection;
  void Accept();
  void Sweep();
  // Fiber budget, server-wide. A connection that finds none queues itself and is scheduled
  // again (FIFO) when a fiber returns.
  bool FiberAvailable() const { return inflight_fibers_ < options_.max_inflight_commands; }
  void WaitForFiber(std::shared_ptr<RespConnection> waiter);
  void TakeFiber() { ++inflight_fibers_; }
  void ReturnFiber();
  void DrainFiberWaiters();
  void Forget(uint64_t id);
  // Queues `c` (once per pass: its flush_posted_) to write its output after every handler of
  // this loop pass has run, as Redis writes replies before it sleeps: the client is woken once
  // per pass with every reply ready instead of once per connection handled.
  void FlushAtEndOfPass(std::shared_ptr<RespConnection> c);
  void FlushQueued();
  // `count` requests of `command` with this outcome, each having taken `took`.
  void RecordRequest(const std::string& command, const absl::Status& status, absl::Duration took,
                     uint64_t count = 1);

  transport::AsioLoop* loop_;
  Executor* executor_;
  const Clock* clock_;
  RespServerOptions options_;
  metrics::FrontEndMetrics* metrics_;
  ServerContext context_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  bool stopped_ = false;
  uint64_t next_client_id_ = 1;
  // By id: ordered, so CLIENT LIST and sweeps are deterministic.
  absl::btree_map<uint64_t, std::shared_ptr<RespConnection>> connections_;
  size_t inflight_fibers_ = 0;
  std::deque<std::weak_ptr<RespConnection>> fiber_waiters_;
  bool drain_posted_ = false;
  std::vector<std::shared_ptr<RespConnection>> flush_queue_;  // FlushAtEndOfPass
  bool flush_queue_posted_ = false;
  EventLoop::TimerId sweep_timer_ = 0;
  // Metric handles by command, then by outcome (OutcomeOf's static strings, compared by
  // address): one string lookup per request, no key built. Looked up, never iterated.
  struct CommandMetrics {
    metrics::Histogram latency;
    absl::flat_hash_map<const char*, metrics::Counter> requests;
  };
  absl::flat_hash_map<std::string, CommandMetrics> command_metrics_;
};

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_RESP_SERVER_H_
