// SimCluster: a deterministic in-memory network for many Swim cores, for tests and the benchmark.
//
// Until the project's simulator (sim/) hosts membership, this is the harness: one event queue of
// (time, sequence) → message delivery or node tick, one seed. Each node gets its own Random stream
// forked from the seed; the network has its own stream for loss and latency. Nodes are ticked at
// exactly their `NextTickTime()`, messages take a uniform latency in [min_latency, max_latency] and
// are lost with probability loss_numerator/loss_denominator. Crash, restart, leave and symmetric
// partitions are supported.
//
// Not a general simulator: no duplication/reordering beyond what latency jitter gives, no clock
// skew. Thread safety: none.
#ifndef CREMA_NODE_MEMBERSHIP_TESTING_SIM_CLUSTER_H_
#define CREMA_NODE_MEMBERSHIP_TESTING_SIM_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "node/membership/swim.h"
#include "node/random.h"

namespace crema::membership::testing {

struct NetworkConfig {
  absl::Duration min_latency = absl::Milliseconds(1);
  absl::Duration max_latency = absl::Milliseconds(20);
  uint64_t loss_numerator = 0;
  uint64_t loss_denominator = 100;
};

class SimCluster {
 public:
  // Called for every membership event: (node that saw it, event, time).
  using EventObserver = std::function<void(NodeId, const MembershipEvent&, absl::Time)>;

  SimCluster(uint64_t seed, SwimConfig config, NetworkConfig network);

  // Starts node `id` (fresh state) and has it join through `seeds`.
  void Start(NodeId id, const std::vector<NodeId>& seeds, Incarnation initial_incarnation = 0);
  // Starts nodes 1..n, each joining through node 1, and runs until every view is complete.
  // Returns false if they did not converge within `limit`.
  bool StartConverged(int n, absl::Duration limit = absl::Minutes(2));

  void Crash(NodeId id);  // the process vanishes; messages to it are lost
  void Leave(NodeId id);  // graceful leave; the node keeps answering until crashed
  void Partition(const absl::btree_set<NodeId>& side);  // cuts `side` from everyone else
  void Heal();
  void SetLoss(uint64_t numerator, uint64_t denominator);

  void RunFor(absl::Duration d) { RunUntil(now_ + d); }
  void RunUntil(absl::Time t);
  // Runs until `done()` holds (checked after every event) or `limit` passes. Returns done().
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit);

  // True if every up node sees exactly the up, not-left nodes as live.
  bool ViewsAgree() const;

  absl::Time now() const { return now_; }
  bool IsUp(NodeId id) const;
  Swim& node(NodeId id);
  std::vector<NodeId> UpNodes() const;
  void set_observer(EventObserver observer) { observer_ = std::move(observer); }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t messages_delivered() const { return messages_delivered_; }
  const SwimConfig& config() const { return config_; }

 private:
  struct Node {
    std::unique_ptr<Random> random;
    std::unique_ptr<Swim> swim;
    bool up = false;
    bool left = false;
    absl::Time tick_at = absl::InfiniteFuture();
  };
  struct Event {
    absl::Time at;
    uint64_t sequence;
    NodeId to;
    NodeId from;        // kNoNode for a tick
    std::string bytes;
    bool operator>(const Event& other) const {
      return at != other.at ? at > other.at : sequence > other.sequence;
    }
  };

  void Flush(NodeId id);  // moves outbox to the network, events to the observer, reschedules
  void Step(Event event);
  bool Connected(NodeId a, NodeId b) const;

  SwimConfig config_;
  NetworkConfig network_;
  Random root_;
  Random net_random_;
  absl::Time now_;
  uint64_t next_sequence_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  absl::btree_map<NodeId, Node> nodes_;
  absl::btree_map<NodeId, uint64_t> starts_;  // restarts per id, to fork fresh streams
  absl::btree_set<NodeId> partition_side_;
  bool partitioned_ = false;
  EventObserver observer_;
  uint64_t messages_sent_ = 0;
  uint64_t messages_delivered_ = 0;
};

}  // namespace crema::membership::testing

#endif  // CREMA_NODE_MEMBERSHIP_TESTING_SIM_CLUSTER_H_
