// Connection: one authenticated, framed TCP connection to a peer (internal to TcpNetwork).
//
// A Connection reads frames (frame.h) from its socket, runs its side of the handshake
// (handshake.h), then hands data frames from the authenticated peer to its Owner, and writes the
// frames of its SendQueue, in batches, once the handshake allows. A dialer connection is the one
// outgoing connection to a configured peer and shares that peer's SendQueue (so frames queued
// while it is down go out on the next one); an accepted connection has a queue of its own, used to
// answer nodes that are not in the peer table (clients).
//
// Contract:
//   * Data frames go out only after authentication (dialer: after its proof is queued, which is
//     written first; acceptor: after the proof checked out), each sealed with the next tag of this
//     connection's send key (frame_auth.h) as it is taken from the queue. Data frames are
//     delivered only after authentication, only if their tag verifies under the receive key at the
//     next sequence number (so nothing forged, modified, replayed, reordered or dropped gets
//     through), and only if their `from` is the bound peer.
//   * Until the handshake completes the reader accepts payloads of at most
//     kMaxHandshakePayloadBytes, so an unauthenticated connection holds a few hundred bytes of
//     frame buffer at most; afterwards up to kMaxFramePayloadBytes.
//   * Any bad input — a bad frame, a failed or out-of-order handshake step, a data frame from
//     another NodeId, no handshake within `handshake_timeout` — closes the connection with a
//     status saying why (DATA_LOSS for bad frames, UNAUTHENTICATED/INVALID_ARGUMENT for handshake
//     failures, DEADLINE_EXCEEDED for the timeout, UNAVAILABLE for socket errors and EOF).
//   * `Owner::OnClosed` is called exactly once per connection, unless the owner `Detach`ed first.
//     Owner callbacks may close or drop this connection; the connection keeps itself alive
//     (shared_from_this) for the duration of every callback.
//
// Thread safety: none; loop thread only.
#ifndef CREMA_TRANSPORT_CONNECTION_H_
#define CREMA_TRANSPORT_CONNECTION_H_

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/network.h"
#include "transport/frame.h"
#include "transport/frame_auth.h"
#include "transport/handshake.h"
#include "transport/send_queue.h"

namespace crema::transport {

inline constexpr size_t kReadChunkBytes = 64 << 10;
inline constexpr size_t kMaxWriteBatchFrames = 64;
inline constexpr size_t kMaxWriteBatchBytes = 1 << 20;  // a single larger frame still goes alone
// Unacknowledged data older than this aborts the connection (TCP_USER_TIMEOUT); idle connections
// are probed by TCP keepalive (5 s idle, then 3 probes 2 s apart).
inline constexpr absl::Duration kDeadPeerTimeout = absl::Seconds(10);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void OnAuthenticated(Connection& connection) = 0;
    // A data frame whose `from` is `connection.peer()`.
    virtual void OnData(Connection& connection, Frame frame) = 0;
    virtual void OnClosed(Connection& connection, const absl::Status& why) = 0;
  };

  struct Config {
    NodeId self = kNoNode;
    std::string cluster_secret;
    absl::Duration handshake_timeout = absl::Seconds(5);
  };

  // `dial_to` is the peer a dialer expects; kNoNode makes this the accepting side.
  Connection(uint64_t id, boost::asio::ip::tcp::socket socket, Owner* owner, const Config& config,
             NodeId dial_to, std::shared_ptr<SendQueue> queue);
  ~Connection();

  // Starts reading, the handshake timer and (dialer) the hello. Call once, right after creation.
  void Start();
  // Writes whatever the queue holds, if the handshake allows. Call after pushing to queue().
  void KickWriter();
  // Closes the connection (idempotent); reports `why` to the owner once.
  void Close(absl::Status why);
  // Closes without telling the owner (the owner is going away).
  void Detach();

  uint64_t id() const { return id_; }
  bool is_dialer() const { return dialer_.has_value(); }
  bool authenticated() const { return authenticated_; }
  bool closed() const { return closed_; }
  // True if the connection closed because a data frame's tag did not verify.
  bool tag_failed() const { return tag_failed_; }
  NodeId peer() const { return peer_; }  // kNoNode until authenticated (dialer: the expected peer)
  SendQueue& queue() { return *queue_; }

 private:
  void StartRead();
  void OnRead(const boost::system::error_code& error, size_t bytes);
  void HandleFrame(Frame frame);
  absl::Status HandleHandshakeFrame(const Frame& frame);
  void OnWrite(const boost::system::error_code& error);
  void SendControl(FrameKind kind, std::string_view payload);
  // Switches to authenticated mode with the handshake's keys.
  void StartAuthenticatedFrames(const SessionKeys& keys);

  const uint64_t id_;
  boost::asio::ip::tcp::socket socket_;
  Owner* owner_;
  const NodeId self_;
  NodeId peer_ = kNoNode;
  std::optional<DialerHandshake> dialer_;
  std::optional<AcceptorHandshake> acceptor_;
  bool saw_hello_ = false;
  bool authenticated_ = false;
  bool closed_ = false;
  bool tag_failed_ = false;
  std::optional<FrameSealer> sealer_;  // set at authentication
  std::optional<FrameOpener> opener_;
  absl::Duration handshake_timeout_;
  boost::asio::steady_timer handshake_timer_;
  std::shared_ptr<SendQueue> queue_;
  std::deque<std::string> control_;  // handshake frames, written before any data
  std::vector<std::string> writing_;  // the batch in flight
  bool write_in_flight_ = false;
  FrameReader reader_;
  std::array<char, kReadChunkBytes> read_buffer_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_CONNECTION_H_
