// TcpNetwork: crema::Network over TCP, for production (and for clients of a cluster).
//
// Example:
//   TcpNetwork::Options options;
//   options.self = 1;
//   options.listen_address = "127.0.0.1:7001";
//   options.peers = {{2, "127.0.0.1:7002"}, {3, "127.0.0.1:7003"}};
//   options.cluster_secret = "a shared secret of 16+ bytes";
//   absl::StatusOr<std::unique_ptr<TcpNetwork>> network = TcpNetwork::Create(&loop, options);
//   (*network)->SetHandler(Service::kPing, [](NodeId from, std::string m) { ... });
//   (*network)->Send(2, Service::kPing, "hello");
//
// Shape:
//   * Listens on `listen_address` (optional: a pure client need not listen). Accepted connections
//     must complete the handshake (handshake.h) within `handshake_timeout`; then their NodeId is
//     bound to them and their data frames are delivered.
//   * A peer table NodeId -> host:port, given at creation and extended with `AddPeer`. Messages to
//     a peer in the table go over this node's one outgoing connection to it, opened lazily on the
//     first Send and reopened after a failure with capped exponential backoff
//     (`reconnect_backoff_min` doubling to `reconnect_backoff_max`, reset by a good handshake).
//   * Messages to a node NOT in the table go back over the newest authenticated connection that
//     node opened to us (how a node answers a client), or are dropped if there is none.
//   * Messages to `self` are delivered through the loop (a Post), never inline.
//   * Each peer has a bounded SendQueue; when it is full the message is dropped and counted. When
//     a connection attempt fails, messages queued for that peer are dropped (and counted): protocols
//     retransmit, and stale traffic should not burst out when the peer returns.
//   * Bad input from a connection (bad frame, failed handshake, wrong NodeId, a data frame whose
//     per-frame tag does not verify: forged, modified, replayed, reordered) closes that
//     connection and is counted in Stats; it never crashes the node.
//   * Inbound connections are bounded twice: kMaxInboundConnections in all, and at most
//     kMaxUnauthenticatedInbound that have not completed the handshake. A new connection beyond
//     the latter evicts the OLDEST unauthenticated one (as it does when all kMaxInboundConnections
//     are taken and some are unauthenticated), so a flood of garbage or silent connections cannot
//     lock a real peer out: it only has to finish its handshake (one round trip) before
//     kMaxUnauthenticatedInbound newer connections arrive. Before the handshake a connection
//     buffers at most kMaxHandshakePayloadBytes of frame payload (frame.h).
//   * Inbound messages go to the handler of their Service, on the loop thread, outside fibers.
//     Unknown services and services with no handler are dropped and counted.
//   * Reachability hints (node/network.h): an authenticated connection to or from a peer that
//     closes for any reason but our own (the peer closed or reset it, a bad frame, ...) or a
//     failed dial reports (peer, false) — but only when no other authenticated connection with
//     that peer is left (a peer that redialled us leaves its old inbound connection to close
//     after the new one is up: that close is no news) — once until a connection with that peer
//     authenticates again, which reports (peer, true). So a peer with a live authenticated link
//     is never left reported gone — and since messages arrive only on authenticated links, none
//     comes from a peer reported gone (the contract sim/sim_network.h keeps by reporting back).
//
// Thread safety: none; loop thread only. Destroying the TcpNetwork closes every connection at
// once; no handler runs after that.
#ifndef CREMA_TRANSPORT_TCP_NETWORK_H_
#define CREMA_TRANSPORT_TCP_NETWORK_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/network.h"
#include "node/tracer.h"
#include "transport/asio_loop.h"
#include "transport/connection.h"
#include "transport/send_queue.h"

namespace crema::transport {

inline constexpr size_t kMaxQueuedMessagesPerPeer = 4096;
inline constexpr size_t kMaxQueuedBytesPerPeer = 64 << 20;  // >= one largest frame
inline constexpr size_t kMaxInboundConnections = 1024;
inline constexpr size_t kMaxUnauthenticatedInbound = 128;
inline constexpr size_t kMaxSelfMessagesInFlight = kMaxQueuedMessagesPerPeer;

class TcpNetwork final : public Network, private Connection::Owner {
 public:
  struct Options {
    NodeId self = kNoNode;
    std::string listen_address;  // "host:port"; port 0 = ephemeral; empty = do not listen
    absl::btree_map<NodeId, std::string> peers;  // NodeId -> "host:port"
    std::string cluster_secret;                  // see ValidateClusterSecret
    absl::Duration handshake_timeout = absl::Seconds(5);
    absl::Duration reconnect_backoff_min = absl::Milliseconds(20);
    absl::Duration reconnect_backoff_max = absl::Seconds(1);
    size_t max_queued_messages_per_peer = kMaxQueuedMessagesPerPeer;
    size_t max_queued_bytes_per_peer = kMaxQueuedBytesPerPeer;
    // Connection events go here (not owned; nullptr: nowhere): "net.connected" (authenticated),
    // "net.connect_failed" (the TCP connect failed or timed out), "net.handshake_failed" (a
    // connection closed before authenticating: wrong secret, wrong node, timeout),
    // "net.disconnected" (an authenticated connection closed). Detail: "<peer> dialed|accepted
    // [<why>]".
    Tracer* tracer = nullptr;
  };

  // One peer's outgoing link as it stands (for /metrics and failure reports): exactly one state.
  struct PeerLink {
    NodeId id = kNoNode;
    // "connected" (authenticated), "handshaking" (TCP up, handshake running), "dialing" (TCP
    // connect in flight), "backoff" (waiting to redial), "idle" (nothing to send, no connection).
    std::string_view state;
    size_t queued_messages = 0;  // waiting in this peer's send queue
    size_t queued_bytes = 0;
    bool inbound = false;  // the peer has an authenticated connection to us
  };

  // Counters since creation; for tests, logs and /metrics.
  struct Stats {
    uint64_t messages_sent = 0;      // handed to a queue (not necessarily written)
    uint64_t messages_received = 0;  // delivered to a handler
    uint64_t dropped_oversize = 0;
    uint64_t dropped_queue_full = 0;
    uint64_t dropped_no_route = 0;     // unknown node and no connection from it
    uint64_t dropped_unreachable = 0;  // queued for a peer whose connection attempt failed
    uint64_t dropped_no_handler = 0;
    uint64_t connects = 0;  // outgoing connections that completed the handshake
    uint64_t connect_failures = 0;
    uint64_t accepted = 0;  // inbound connections that completed the handshake
    uint64_t rejected_inbound = 0;  // over kMaxInboundConnections, all of them authenticated
    uint64_t bad_frames = 0;        // connections closed for a malformed frame
    uint64_t bad_tags = 0;          // connections closed for a data frame failing its tag
    uint64_t evicted_unauthenticated = 0;  // oldest handshaking connections closed for newer ones
    uint64_t auth_failures = 0;     // connections that closed before completing the handshake
    uint64_t disconnects = 0;       // authenticated connections that closed
  };

  // Validates options (INVALID_ARGUMENT) and starts listening (UNAVAILABLE if the port is taken).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TcpNetwork>> Create(AsioLoop* loop,
                                                                          Options options);
  ~TcpNetwork() override;
  TcpNetwork(const TcpNetwork&) = delete;
  TcpNetwork& operator=(const TcpNetwork&) = delete;

  void SetHandler(Service service, Handler handler) override;
  void SetPeerHandler(PeerHandler handler) override { peer_handler_ = std::move(handler); }
  void Send(NodeId to, Service service, std::string message) override;

  // Adds or re-addresses a peer. A changed address closes the current connection to it.
  [[nodiscard]] absl::Status AddPeer(NodeId id, std::string_view address);
  // Network::LearnAddress: AddPeer for addresses learned at run time (gossip, the cluster map);
  // an unchanged address changes nothing, a bad one is ignored.
  void LearnAddress(NodeId id, std::string_view address) override;

  // The port actually listened on (useful with port 0); 0 when not listening.
  uint16_t listen_port() const { return listen_port_; }
  const Stats& stats() const { return stats_; }
  // Every peer in the table, by id.
  std::vector<PeerLink> Links() const;
  NodeId self() const { return options_.self; }
  // Open inbound connections, and how many of them have not completed the handshake.
  size_t inbound_connections() const { return inbound_.size(); }
  size_t unauthenticated_inbound_connections() const { return unauthenticated_inbound_.size(); }

 private:
  struct Peer {
    boost::asio::ip::tcp::endpoint endpoint;
    std::shared_ptr<SendQueue> queue;
    std::shared_ptr<Connection> connection;             // set once the TCP connect succeeded
    std::unique_ptr<boost::asio::ip::tcp::socket> dialing;  // set while connecting
    // While connecting: gives up after handshake_timeout (a SYN into a partition would otherwise
    // wait out the kernel's SYN retries, about two minutes, and hold every message for this peer).
    std::unique_ptr<boost::asio::steady_timer> connect_timer;
    std::unique_ptr<boost::asio::steady_timer> retry_timer;  // set while backing off
    absl::Duration backoff;
  };

  TcpNetwork(AsioLoop* loop, Options options);
  absl::Status Listen();
  void Accept();
  void OnAccepted(boost::asio::ip::tcp::socket socket);
  // Closes the oldest inbound connection that has not authenticated; false if there is none.
  bool EvictOldestUnauthenticated();
  Peer& NewPeer(NodeId id, boost::asio::ip::tcp::endpoint endpoint);
  void MaybeConnect(NodeId id, Peer& peer);
  void Connect(NodeId id, Peer& peer);
  void OnConnected(NodeId id, const boost::system::error_code& error);
  void ScheduleRetry(NodeId id, Peer& peer, absl::Duration delay);
  void DeliverToSelf(Service service, std::string message);
  void Deliver(uint8_t service, NodeId from, std::string message);
  // Reachability hints, deduplicated per peer (file comment).
  void HintGone(NodeId peer);  // no-op while an authenticated connection with `peer` is left
  bool HasAuthenticatedConnection(NodeId peer) const;
  void HintBack(NodeId peer);

  // Connection::Owner
  Connection::Owner* AsOwner() { return this; }
  void OnAuthenticated(Connection& connection) override;
  void OnData(Connection& connection, Frame frame) override;
  void OnClosed(Connection& connection, const absl::Status& why) override;

  AsioLoop* loop_;
  Options options_;
  Connection::Config connection_config_;
  Stats stats_;
  // Handlers by raw service value; shared_ptr so a handler may replace itself while running.
  absl::btree_map<uint8_t, std::shared_ptr<Handler>> handlers_;
  PeerHandler peer_handler_;
  absl::btree_set<NodeId> hinted_gone_;  // reported gone, no connection authenticated since
  absl::btree_map<NodeId, Peer> peers_;
  absl::btree_map<uint64_t, std::shared_ptr<Connection>> inbound_;  // by connection id
  absl::btree_map<NodeId, std::shared_ptr<Connection>> inbound_by_node_;  // newest authenticated
  absl::btree_set<uint64_t> unauthenticated_inbound_;  // ids, oldest first
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::steady_timer> accept_retry_timer_;
  uint16_t listen_port_ = 0;
  uint64_t next_connection_id_ = 1;
  size_t self_messages_in_flight_ = 0;
  // Asio handlers hold a weak_ptr to this; once the network is gone they do nothing.
  std::shared_ptr<TcpNetwork*> alive_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_TCP_NETWORK_H_
