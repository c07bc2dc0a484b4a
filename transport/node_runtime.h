// NodeRuntime: a crema::Env built from the real parts, and the loop that drives it.
//
// This is how node logic runs on a real machine: RealClock, AsioLoop, TcpNetwork, PosixDisk, a
// Random seeded once from the OS (getrandom; only transport/ may do that), a disabled Buggify, and
// the caller's Tracer (crema_server: the log, transport/logging/log_tracer.h) or one that writes
// to stderr when `verbose`.
//
// Example:
//   absl::StatusOr<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::Create(options);
//   if (!runtime.ok()) { ...report, exit... }
//   MyService service((*runtime)->env(), ...);
//   if (!service.Start().ok()) ...;
//   (*runtime)->RunUntilSignal();   // SIGINT / SIGTERM
//   (*runtime)->Shutdown();         // unwinds fibers and closes sockets while `service` is alive
//
// Contract:
//   * `env()` is valid from Create until Shutdown; every pointer in it belongs to this runtime.
//   * Services built on env() must be destroyed after `Shutdown()` (their fibers are unwound first,
//     while the objects they reference still exist) — or before, if they have no live fibers.
//   * `Shutdown()` is idempotent and also runs from the destructor.
// Thread safety: none; everything runs on the thread that calls RunUntilSignal/RunUntil.
#ifndef CREMA_TRANSPORT_NODE_RUNTIME_H_
#define CREMA_TRANSPORT_NODE_RUNTIME_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "node/buggify.h"
#include "node/env.h"
#include "node/executor.h"
#include "node/random.h"
#include "node/tracer.h"
#include "transport/asio_loop.h"
#include "transport/posix_disk.h"
#include "transport/real_clock.h"
#include "transport/tcp_network.h"

namespace crema::transport {

struct NodeRuntimeOptions {
  NodeId self = kNoNode;
  std::string listen_address;                  // "host:port"; empty = do not listen (a client)
  absl::btree_map<NodeId, std::string> peers;  // NodeId -> "host:port"; self is ignored
  std::string data_dir;                        // empty = no disk (env().disk is then null)
  std::string cluster_secret;
  bool verbose = false;  // Tracer records go to stderr (unless `tracer` is set)
  Tracer* tracer = nullptr;  // where Tracer records go (not owned; outlives the runtime)
  // File::Sync from a fiber fsyncs on a worker thread while the loop keeps serving
  // (PosixDisk::OffloadSyncs). false: fsync blocks the loop (for comparison only).
  bool fsync_on_worker = true;
};

// A Tracer that writes "trace <monotonic_ms> node=<id> <kind> <detail>" lines to stderr.
class StderrTracer final : public Tracer {
 public:
  StderrTracer(const Clock* clock, NodeId self) : clock_(clock), self_(self) {}
  void Record(std::string_view kind, std::string_view detail) override;

 private:
  const Clock* clock_;
  NodeId self_;
};

// 64 bits from the OS CSPRNG (getrandom). Aborts if the OS cannot provide them.
uint64_t SeedFromOs();

class NodeRuntime {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<NodeRuntime>> Create(
      NodeRuntimeOptions options);
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // REQUIRES: Shutdown has not run.
  Env env();

  // Runs the loop until SIGINT or SIGTERM (or loop().Stop()); returns the signal, if any.
  std::optional<int> RunUntilSignal();

  // Unwinds every fiber (as a crash would) and closes every connection. Idempotent.
  void Shutdown();

  AsioLoop& loop() { return loop_; }
  TcpNetwork& network() { return *network_; }
  const Clock& clock() const { return clock_; }
  uint64_t random_seed() const { return random_.seed(); }

 private:
  explicit NodeRuntime(NodeRuntimeOptions options);

  NodeRuntimeOptions options_;
  RealClock clock_;
  AsioLoop loop_;
  Random random_;
  Buggify buggify_;  // disabled
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<TcpNetwork> network_;
  std::unique_ptr<PosixDisk> disk_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_NODE_RUNTIME_H_
