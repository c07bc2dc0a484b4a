// ExchangeRunner (internal to the driver): sends batches of requests to one peer and collects
// the matching replies, resending silent requests (up to kCallAttempts, each waiting
// exchange_step_timeout) and charging every byte to the anti-entropy budget. Used by
// anti-entropy exchanges and hint delivery. Fiber-only; one runner per exchange.
#ifndef CREMA_NODE_EVENTUAL_DRIVER_EXCHANGE_RUNNER_H_
#define CREMA_NODE_EVENTUAL_DRIVER_EXCHANGE_RUNNER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "node/eventual/driver/eventual_node.h"

namespace crema::eventual {

class ExchangeRunner {
 public:
  static constexpr int kCallAttempts = 4;

  ExchangeRunner(EventualNode* node, NodeId peer) : node_(node), peer_(peer), waiter_(node, 1024) {}

  // The replies, in request order (each the reply type of its request). DEADLINE_EXCEEDED if one
  // stays unanswered after every attempt; CANCELLED if the node stops.
  absl::StatusOr<std::vector<Message>> Call(std::vector<Message> requests);

  uint64_t bytes() const { return bytes_; }

 private:
  EventualNode* node_;
  NodeId peer_;
  EventualNode::Waiter waiter_;
  uint64_t bytes_ = 0;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_DRIVER_EXCHANGE_RUNNER_H_
