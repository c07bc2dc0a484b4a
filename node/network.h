// Network: how a node exchanges messages with its peers.
//
// The unit is a whole message (bytes), addressed to a node id and a service (so several protocols
// — membership, Raft, request forwarding — share one transport). Semantics are deliberately weak:
//   * a message may be lost, delayed arbitrarily, duplicated, or delivered out of order;
//   * a message that arrives is delivered whole and uncorrupted (the transport checksums frames and
//     drops bad ones), from the node id it claims (peers are authenticated by the transport);
//   * `Send` never blocks and never fails visibly: with no route, the message is dropped.
// Protocol code must be correct under all of that.
//
// Handlers run on the node's event loop, outside any fiber. They must not block: copy what they
// need, push it to a Channel, or `Executor::Spawn` a fiber.
//
// Bounds: a message larger than `kMaxMessageBytes` is dropped by `Send` (and counted); a receiver
// never sees a larger one.
//
// Reachability hints (optional, `SetPeerHandler`): a transport that can tell calls
// `handler(peer, false)` when it sees that `peer`'s process is gone — its connection was closed by
// the peer or refused (the kernel does that for a killed process) — and `handler(peer, true)` once
// it hears from `peer` again. Hints, not verdicts: a peer reported gone may be back a moment later
// (a restart), a hint may be late or repeated, and silence (a partition, a machine that lost
// power) is never reported. Use them to stop waiting early and to wake timers (liveness), never
// for a safety decision. The handler runs on the event loop like message handlers (must not
// block); one per network (the node host's).
//
// Implementations: sim::SimNetwork (faults injected by the simulator) and transport::TcpNetwork
// (length-prefixed, checksummed frames over TCP with reconnection).
#ifndef CREMA_NODE_NETWORK_H_
#define CREMA_NODE_NETWORK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"

namespace crema {

using NodeId = uint32_t;  // 0 is never a valid node
inline constexpr NodeId kNoNode = 0;

// Which protocol a message belongs to; each service registers one handler per node.
enum class Service : uint8_t {
  kPing = 1,        // the example protocol of sim/ and transport/
  kMembership = 2,  // SWIM gossip
  kRaft = 3,        // multi-Raft
  kForward = 4,     // follower-to-leader request forwarding
  kEventual = 5,    // eventual-mode keyspaces (node/eventual)
  kTest = 250,      // tests only
};

inline constexpr size_t kMaxMessageBytes = 8 << 20;  // 8 MiB; snapshots go in smaller chunks

class Network {
 public:
  using Handler = absl::AnyInvocable<void(NodeId from, std::string message)>;

  virtual ~Network() = default;

  // Installs the handler for `service`, replacing any earlier one. Messages for a service with no
  // handler are dropped.
  virtual void SetHandler(Service service, Handler handler) = 0;

  // Sends `message` to `to` (best effort, see the file comment). Sending to oneself is allowed and
  // goes through the same lossy path.
  virtual void Send(NodeId to, Service service, std::string message) = 0;

  // Installs the reachability-hint handler (see the file comment), replacing any earlier one.
  // Networks that cannot tell (or tests) ignore it: the default.
  using PeerHandler = absl::AnyInvocable<void(NodeId peer, bool reachable)>;
  virtual void SetPeerHandler(PeerHandler handler) { (void)handler; }

  // Tells the network where node `id` can be reached ("host:port"), as learned from gossip or the
  // cluster map. Networks that route by id alone (the simulator's) ignore it; a bad address is
  // ignored too (the node stays unreachable until a good one is learned).
  virtual void LearnAddress(NodeId id, std::string_view address) {
    (void)id;
    (void)address;
  }
};

}  // namespace crema

#endif  // CREMA_NODE_NETWORK_H_
