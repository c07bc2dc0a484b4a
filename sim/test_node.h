// TestNode: a minimal NodeProgram for the simulator's own tests. It keeps its Env, records every
// kTest message it receives (with the virtual time of arrival), and lets a test spawn fibers.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_TEST_NODE_H_
#define CREMA_SIM_TEST_NODE_H_

#include <string>
#include <utility>
#include <vector>

#include "node/env.h"
#include "sim/simulator.h"

namespace crema::sim {

class TestNode final : public NodeProgram {
 public:
  struct Received {
    NodeId from;
    std::string message;
    absl::Time monotonic;
  };
  explicit TestNode(Env env) : env(env) {
    env.network->SetHandler(Service::kTest, [this](NodeId from, std::string message) {
      received.push_back({from, std::move(message), this->env.clock->MonotonicNow()});
    });
  }
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    for (const Received& r : received) out.push_back(r.message);
    return out;
  }

  Env env;
  std::vector<Received> received;
};

inline NodeFactory TestNodeFactory() {
  return [](Env env) { return std::make_unique<TestNode>(env); };
}

inline TestNode& GetTestNode(Simulator& sim, NodeId id) {
  return *static_cast<TestNode*>(sim.program(id));
}

}  // namespace crema::sim

#endif  // CREMA_SIM_TEST_NODE_H_
