// SimNetwork: one node incarnation's crema::Network endpoint on the NetworkFabric.
//
// `Send` hands the message to the fabric (which applies every fault); `Deliver` is called by the
// fabric on the receiver's event loop and runs the handler for the service (or drops the message
// if none is installed). Handlers live as long as the incarnation: after a crash a new SimNetwork
// (with no handlers) is built for the restarted node.
//
// Reachability hints (node/network.h): the fabric calls `PeerGone(peer)` when it models the
// kernel telling this node that `peer`'s process died (a crash closes its connections; a message
// to a crashed node is refused). The first one per peer reaches the handler as (peer, false);
// the next message delivered from that peer (its live incarnation: `fresh`) first reports
// (peer, true). Invariant: the handler sees alternating false/true per peer, starting with false.
//
// Thread safety: none.
#ifndef CREMA_SIM_SIM_NETWORK_H_
#define CREMA_SIM_SIM_NETWORK_H_

#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
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

  void SetPeerHandler(PeerHandler handler) override { peer_handler_ = std::move(handler); }

  // False if no handler is installed for `service`. `fresh`: sent by `from`'s current incarnation
  // (a message from before a crash proves nothing about the restarted process).
  bool Deliver(NodeId from, Service service, std::string message, bool fresh) {
    if (fresh && gone_.erase(from) > 0 && peer_handler_) peer_handler_(from, true);
    auto it = handlers_.find(service);
    if (it == handlers_.end()) return false;
    it->second(from, std::move(message));
    return true;
  }

  // The fabric's hint that `peer`'s process is gone (see the file comment).
  void PeerGone(NodeId peer) {
    if (gone_.insert(peer).second && peer_handler_) peer_handler_(peer, false);
  }
  bool KnowsGone(NodeId peer) const { return gone_.contains(peer); }

 private:
  NetworkFabric* fabric_;
  NodeId self_;
  absl::btree_map<Service, Handler> handlers_;
  PeerHandler peer_handler_;
  absl::btree_set<NodeId> gone_;  // peers reported gone and not heard from since
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SIM_NETWORK_H_
