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
// Process death is visible, as on real hosts where the kernel closes a killed process's sockets:
// `OnCrash(id)` tells every live node whose link from `id` is not blocked, after kPeerGoneDelay,
// that `id` is gone, and a message that reaches a crashed (not paused) receiver is answered the
// same way to its sender (connection refused) — SimNetwork::PeerGone, node/network.h's
// reachability hints. A partition or a pause tells nobody anything. These hint events draw no
// randomness.
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
#include "absl/functional/any_invocable.h"
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

  // How long the kernel of a live node takes to report a dead peer (a FIN or RST on a LAN).
  static constexpr absl::Duration kPeerGoneDelay = absl::Milliseconds(1);

  void Send(NodeId from, NodeId to, Service service, std::string message);
  // Called at the end of every Send with the sender (a nemesis arming a crash right after a
  // send: chaos/nemesis_runner.h). The observer must not send, and must not crash the sender
  // inline (its code is on the stack): it schedules. One at a time; nullptr removes it.
  using SendObserver = absl::AnyInvocable<void(NodeId from)>;
  void SetSendObserver(SendObserver observer) { send_observer_ = std::move(observer); }
  // `id` crashed (called by the simulator once it is down): its peers learn it (file comment).
  void OnCrash(NodeId id);

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
    NodeId from = kNoNode;
    NodeId to = kNoNode;
    Service service{};
    uint64_t from_incarnation = 0;  // the sender's incarnation when it sent
    uint64_t id = 0;              // per run, from 1; deliveries are traced as "net.deliver" "#<id>"
    uint64_t payload_digest = 0;  // XXH3 of the payload
    uint64_t bytes = 0;           // of the payload (kept when the payload has been handed over)
    std::string payload;
  };

  // "from>to s<service> <bytes>B <payload digest> #<id>", the message's trace detail.
  static std::string Summary(const Message& m);
  // The trace digest of a message event (over its fields; the summary is made only if needed).
  static uint64_t Digest(const Message& m);
  // Send without the observer: applies the faults and schedules delivery.
  void Route(NodeId from, NodeId to, Service service, std::string message);
  // Schedules delivery after a drawn latency (and maybe a duplicate).
  void Transmit(Message message, bool may_duplicate);
  void Deliver(Message message);
  void Hold(Message message);
  void Drop(const Message& message, uint64_t& counter, std::string_view reason);
  // Schedules SimNetwork::PeerGone(gone) at `at`'s current incarnation after kPeerGoneDelay.
  void TellGone(NodeId at, NodeId gone);
  // Messages in flight live here (not in their delivery callbacks, which stay small enough for
  // AnyInvocable's inline storage: no allocation per delivery).
  uint32_t Park(Message message);
  Message Unpark(uint32_t slot);

  SendObserver send_observer_;
  Simulator* sim_;
  NetworkConfig config_;
  Random random_;
  NetworkStats stats_;
  absl::btree_set<Link> blocked_;
  absl::btree_map<Link, std::deque<Message>> clogged_;  // held messages per clogged link
  uint64_t messages_ = 0;  // message ids handed out
  std::vector<Message> in_flight_;    // slots; free ones are listed in free_slots_
  std::vector<uint32_t> free_slots_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_NETWORK_FABRIC_H_
