// SimNetwork: one node incarnation's crema::Network endpoint on the NetworkFabric.
//
// `Send` hands the message to the fabric (which applies every fault); `Deliver` is called by the
// fabric on the receiver's event loop and runs the handler for the service (or drops the message
// if none is installed). Handlers live as long as the incarnation: after a crash a new SimNetwork
// (with no handlers) is built for the restarted node.
//
// Thread safety: none.
#ifndef CREMA_SIM_SIM_NETWORK_H_
#define CREMA_SIM_SIM_NETWORK_H_

#include <string>

#include "absl/container/btree_map.h"
#include "node/network.h"
#include "sim/network_fabric.h"

namespace crema::sim {

class SimNetwork final : public Network {
 public:
  SimNetwork(NetworkFabric* fabric, NodeId self) : fabric_(fabric), self_(self) {}

  void SetHandler(Service service, Handler handler) override {
    handlers_.insert_or_assign(service, std::move(handler));
  }
  void Send(NodeId to, Service service, std::string message) override {
    fabric_->Send(self_, to, service, std::move(message));
  }

  // False if no handler is installed for `service`.
  bool Deliver(NodeId from, Service service, std::string message) {
    auto it = handlers_.find(service);
    if (it == handlers_.end()) return false;
    it->second(from, std::move(message));
    return true;
  }

 private:
  NetworkFabric* fabric_;
  NodeId self_;
  absl::btree_map<Service, Handler> handlers_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIM_NETWORK_H_
