#include "transport/node_runtime.h"

#include <signal.h>
#include <sys/random.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace crema::transport {

void StderrTracer::Record(std::string_view kind, std::string_view detail) {
  const int64_t now_ms = absl::ToUnixMillis(clock_->MonotonicNow());
  std::fprintf(stderr, "trace %lld node=%u %.*s %.*s\n", static_cast<long long>(now_ms), self_,
               static_cast<int>(kind.size()), kind.data(), static_cast<int>(detail.size()),
               detail.data());
}

uint64_t SeedFromOs() {
  uint64_t seed = 0;
  ssize_t n = -1;
  do {
    n = getrandom(&seed, sizeof(seed), 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(seed))) {
    std::perror("getrandom");
    std::abort();
  }
  return seed;
}

absl::StatusOr<std::unique_ptr<NodeRuntime>> NodeRuntime::Create(NodeRuntimeOptions options) {
  if (options.self == kNoNode) return absl::InvalidArgumentError("node id must not be 0");
  options.peers.erase(options.self);
  std::unique_ptr<NodeRuntime> runtime(new NodeRuntime(std::move(options)));
  const NodeRuntimeOptions& o = runtime->options_;

  TcpNetwork::Options network_options;
  network_options.self = o.self;
  network_options.listen_address = o.listen_address;
  network_options.peers = o.peers;
  network_options.cluster_secret = o.cluster_secret;
  network_options.tracer = o.tracer != nullptr ? o.tracer : runtime->tracer_.get();
  absl::StatusOr<std::unique_ptr<TcpNetwork>> network =
      TcpNetwork::Create(&runtime->loop_, std::move(network_options));
  if (!network.ok()) return network.status();
  runtime->network_ = std::move(*network);

  if (!o.data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<PosixDisk>> disk = PosixDisk::Create(o.data_dir);
    if (!disk.ok()) return disk.status();
    runtime->disk_ = std::move(*disk);
  }
  runtime->executor_ = std::make_unique<Executor>(&runtime->loop_, &runtime->clock_);
  // fsync on a worker thread: the loop keeps serving while a fiber waits for the disk.
  if (runtime->disk_ != nullptr && o.fsync_on_worker) {
    runtime->disk_->OffloadSyncs(&runtime->loop_.io_context(), runtime->executor_.get());
  }
  runtime->loop_.StopOnSignals();
  return runtime;
}

NodeRuntime::NodeRuntime(NodeRuntimeOptions options)
    : options_(std::move(options)), random_(SeedFromOs()) {
  if (options_.tracer != nullptr) {
    tracer_ = nullptr;  // env() hands out options_.tracer
  } else if (options_.verbose) {
    tracer_ = std::make_unique<StderrTracer>(&clock_, options_.self);
  } else {
    tracer_ = std::make_unique<NullTracer>();
  }
}

NodeRuntime::~NodeRuntime() { Shutdown(); }

Env NodeRuntime::env() {
  assert(executor_ != nullptr);  // not after Shutdown
  Env env;
  env.self = options_.self;
  env.clock = &clock_;
  env.network = network_.get();
  env.disk = disk_.get();
  env.random = &random_;
  env.executor = executor_.get();
  env.buggify = &buggify_;
  env.tracer = options_.tracer != nullptr ? options_.tracer : tracer_.get();
  return env;
}

std::optional<int> NodeRuntime::RunUntilSignal() {
  loop_.Run();
  return loop_.stop_signal();
}

void NodeRuntime::Shutdown() {
  if (disk_ != nullptr) disk_->StopOffloadingSyncs();  // no completion may wake a dead executor
  executor_.reset();  // unwinds fibers while whatever they reference is still alive
  network_.reset();
}

}  // namespace crema::transport
