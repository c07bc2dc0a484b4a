// CacheNodeProgram: a CacheNode as a simulated node's program — started in a fiber on every
// incarnation (the simulator calls the factory again after a restart, on the surviving disk); a
// start that fails is retried every kStartRetryInterval.
//
// Clients in the simulation run operations on a node by spawning fibers on its executor
// (`Run`): they share the node's fate, as a client connected to that node would.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_SCENARIOS_CACHE_CACHE_NODE_PROGRAM_H_
#define CREMA_SIM_SCENARIOS_CACHE_CACHE_NODE_PROGRAM_H_

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "node/cache_node/cache_node.h"
#include "sim/simulator.h"

namespace crema::sim {

class CacheNodeProgram final : public NodeProgram {
 public:
  CacheNodeProgram(Env env, CacheConfig config, CacheNodeOptions options) : env_(env) {
    // A failed start (a disk fault while reading the node's files) is retried after a pause, as
    // a process supervisor restarts a server that exited.
    env.executor->Spawn("cache-node-start",
                        [this, config = std::move(config), options = std::move(options)] {
                          do {
                            absl::StatusOr<std::unique_ptr<CacheNode>> node =
                                CacheNode::Start(env_, config, options);
                            if (node.ok()) {
                              node_ = *std::move(node);
                              return;
                            }
                            start_error_ = node.status();
                            env_.tracer->Record("cache.start_failed",
                                                std::string(node.status().message()));
                          } while (env_.executor->Sleep(kStartRetryInterval).ok());
                        });
  }

  static constexpr absl::Duration kStartRetryInterval = absl::Seconds(1);

  // nullptr until started (or if the start failed).
  CacheNode* node() { return node_.get(); }
  const absl::Status& start_error() const { return start_error_; }
  const Env& env() const { return env_; }
  // Runs `body` in a new fiber of this node (a client operation through this node).
  void Run(std::string name, absl::AnyInvocable<void()> body) {
    env_.executor->Spawn(std::move(name), std::move(body));
  }

 private:
  Env env_;
  std::unique_ptr<CacheNode> node_;
  absl::Status start_error_;
};

inline CacheNodeProgram* GetCacheNodeProgram(Simulator& sim, NodeId id) {
  if (sim.state(id) != NodeState::kUp) return nullptr;
  return static_cast<CacheNodeProgram*>(sim.program(id));
}

// Runs `op` in a fiber on node `id`'s cache node and the simulation until it returns: true if it
// did within `limit`, false if it did not or the node has no cache node (down, or not started).
inline bool RunOnCacheNode(Simulator& sim, NodeId id, std::function<void(CacheNode&)> op,
                           absl::Duration limit) {
  CacheNodeProgram* p = GetCacheNodeProgram(sim, id);
  if (p == nullptr || p->node() == nullptr) return false;
  auto done = std::make_shared<bool>(false);
  CacheNode* node = p->node();
  p->Run("test-op", [node, op = std::move(op), done] {
    op(*node);
    *done = true;
  });
  return sim.RunUntil([&] { return *done; }, limit);
}

// SimOptions for a cache-node simulation test: `seed`, and with CREMA_TRACE_OUT=FILE in the
// environment every event of the run written to FILE as JSON lines (for debugging; the stream is
// kept in `*trace_file`, which must outlive the Simulator).
inline SimOptions TestSimOptions(uint64_t seed, std::unique_ptr<std::ofstream>* trace_file) {
  SimOptions o;
  o.seed = seed;
  if (const char* trace = std::getenv("CREMA_TRACE_OUT"); trace != nullptr) {
    *trace_file = std::make_unique<std::ofstream>(trace);
    o.trace_json = trace_file->get();
  }
  return o;
}

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIOS_CACHE_CACHE_NODE_PROGRAM_H_
