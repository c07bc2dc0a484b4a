// NetworkFabric: the simulated wires between nodes, and every network fault.
//
// Each message is decided at send time, in this order (draws from the fabric's own Random stream,
// forked from the run seed as "net"): too large (> kMaxMessageBytes) -> dropped; sender down or
// unknown receiver -> dropped; link blocked by a partition -> dropped; link clogged -> held;
// `drop` -> dropped; otherwise delivered after a latency drawn from the LatencyModel (jitter
// reorders), and with probability `duplicate` a second copy is sent with its own latency.
// At delivery time the link is checked again: a partition that arrived meanwhile drops it, a clog
// holds it; a crashed receiver drops it; a paused receiver keeps it until it resumes (the
// simulator holds the event); otherwise the receiver's current incarnation's handler gets it.
//
// Partitions are a set of blocked *directed* links (so they can be one-way); sim/partitions.h
// builds the usual shapes. A clogged link holds messages (up to kMaxHeldPerLink; more are dropped)
// until `Unclog`, which releases them in order, each with a fresh latency. Swizzle-clogging
// (clog links one by one, unclog in another random order) is scheduled by the FaultScheduler.
//
// Every send, delivery, drop, hold and link change is recorded in the run's trace. Each message
// has an id (from 1, per run): its send, drops, holds and duplication name it ("... #<id>"), and
// its delivery events carry it as their detail ("#<id>"), so a trace viewer can draw the arrow.
// Thread safety: none.
#ifndef CREMA_SIM_NETWORK_FABRIC_H_
#define CREMA_SIM_NETWORK_FABRIC_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "node/network.h"
#include "node/random.h"
#include "sim/latency_model.h"
#include "sim/ratio.h"

namespace crema::sim {

class Simulator;

struct NetworkConfig {
  LatencyModel latency;
  Ratio drop{0, 1};
  Ratio duplicate{0, 1};
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t duplicated = 0;
  uint64_t dropped_random = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_down = 0;  // sender or receiver down, or receiver unknown
  uint64_t dropped_oversize = 0;
  uint64_t dropped_no_handler = 0;
  uint64_t dropped_clog_overflow = 0;
  uint64_t held_clogged = 0;
};

using Link = std::pair<NodeId, NodeId>;  // (from, to)

class NetworkFabric {
 public:
  static constexpr size_t kMaxHeldPerLink = 4096;

  // `simulator` must outlive the fabric.
  NetworkFabric(Simulator* simulator, NetworkConfig config, Random random);

  void Send(NodeId from, NodeId to, Service service, std::string message);

  // --- Partitions (directed blocked links) ---
  // Replaces the current partition with `blocked`; `description` goes to the trace.
  void SetPartition(std::vector<Link> blocked, std::string_view description);
  void HealPartition();
  bool Blocked(NodeId from, NodeId to) const { return blocked_.contains(Link{from, to}); }
  const absl::btree_set<Link>& blocked_links() const { return blocked_; }

  // --- Clogging ---
  void Clog(NodeId from, NodeId to);
  void Unclog(NodeId from, NodeId to);
  void UnclogAll();
  bool Clogged(NodeId from, NodeId to) const { return clogged_.contains(Link{from, to}); }
  size_t clogged_count() const { return clogged_.size(); }

  NetworkConfig& config() { return config_; }
  const NetworkStats& stats() const { return stats_; }

 private:
  struct Message {
    NodeId from;
    NodeId to;
    Service service;
    std::shared_ptr<const std::string> payload;
    std::string summary;  // "from>to s<service> <bytes>B <digest> #<id>" for the trace
    uint64_t id = 0;      // per run, from 1; its deliveries are traced as "net.deliver" "#<id>"
  };

  // Schedules delivery after a drawn latency (and maybe a duplicate).
  void Transmit(const Message& message, bool may_duplicate);
  void Deliver(const Message& message);
  void Hold(const Message& message);
  void Drop(const Message& message, uint64_t& counter, std::string_view reason);

  Simulator* sim_;
  NetworkConfig config_;
  Random random_;
  NetworkStats stats_;
  absl::btree_set<Link> blocked_;
  absl::btree_map<Link, std::deque<Message>> clogged_;  // held messages per clogged link
  uint64_t messages_ = 0;  // message ids handed out
};

}  // namespace crema::sim

#endif  // CREMA_SIM_NETWORK_FABRIC_H_
