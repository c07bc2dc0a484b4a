#include "transport/tcp_network.h"

#include <boost/asio/post.hpp>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/address.h"
#include "transport/frame.h"
#include "transport/handshake.h"

namespace crema::transport {
namespace {

using boost::asio::ip::tcp;

constexpr absl::Duration kAcceptRetryDelay = absl::Milliseconds(100);

// Runs `body` with the live network, or not at all once it is destroyed.
template <typename F>
auto Guarded(const std::shared_ptr<TcpNetwork*>& alive, F body) {
  return [weak = std::weak_ptr<TcpNetwork*>(alive), body = std::move(body)](auto&&... args) mutable {
    if (auto self = weak.lock()) body(**self, std::forward<decltype(args)>(args)...);
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpNetwork>> TcpNetwork::Create(AsioLoop* loop, Options options) {
  assert(loop != nullptr);
  if (options.self == kNoNode) return absl::InvalidArgumentError("self must not be node 0");
  if (absl::Status s = ValidateClusterSecret(options.cluster_secret); !s.ok()) return s;
  if (options.reconnect_backoff_min <= absl::ZeroDuration() ||
      options.reconnect_backoff_max < options.reconnect_backoff_min ||
      options.handshake_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("backoff and handshake timeout must be positive");
  }
  if (options.max_queued_messages_per_peer == 0 ||
      options.max_queued_bytes_per_peer < kFrameHeaderBytes + kMaxFramePayloadBytes) {
    return absl::InvalidArgumentError("peer queue bounds too small for one largest message");
  }
  absl::btree_map<NodeId, std::string> peers = std::move(options.peers);
  std::unique_ptr<TcpNetwork> network(new TcpNetwork(loop, std::move(options)));
  for (const auto& [id, address] : peers) {
    if (absl::Status s = network->AddPeer(id, address); !s.ok()) return s;
  }
  if (!network->options_.listen_address.empty()) {
    if (absl::Status s = network->Listen(); !s.ok()) return s;
  }
  return network;
}

TcpNetwork::TcpNetwork(AsioLoop* loop, Options options)
    : loop_(loop), options_(std::move(options)), alive_(std::make_shared<TcpNetwork*>(this)) {
  connection_config_.self = options_.self;
  connection_config_.cluster_secret = options_.cluster_secret;
  connection_config_.handshake_timeout = options_.handshake_timeout;
}

TcpNetwork::~TcpNetwork() {
  alive_.reset();  // pending handlers become no-ops
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  for (auto& [id, peer] : peers_) {
    if (peer.connection) peer.connection->Detach();
    if (peer.dialing) peer.dialing->close(ignored);
  }
  for (auto& [id, connection] : inbound_) connection->Detach();
}

absl::Status TcpNetwork::Listen() {
  absl::StatusOr<tcp::endpoint> endpoint = ParseHostPort(options_.listen_address);
  if (!endpoint.ok()) return endpoint.status();
  acceptor_ = std::make_unique<tcp::acceptor>(loop_->io_context());
  boost::system::error_code error;
  acceptor_->open(endpoint->protocol(), error);
  if (!error) acceptor_->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_->bind(*endpoint, error);
  if (!error) acceptor_->listen(boost::asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen_address, ": ", error.message()));
  }
  listen_port_ = acceptor_->local_endpoint().port();
  Accept();
  return absl::OkStatus();
}

void TcpNetwork::Accept() {
  acceptor_->async_accept(
      Guarded(alive_, [](TcpNetwork& self, const boost::system::error_code& error, tcp::socket s) {
        if (!error) {
          self.OnAccepted(std::move(s));
          self.Accept();
          return;
        }
        if (error == boost::asio::error::operation_aborted) return;
        // E.g. out of file descriptors: try again shortly instead of spinning.
        self.accept_retry_timer_ = std::make_unique<boost::asio::steady_timer>(
            self.loop_->io_context(), absl::ToChronoNanoseconds(kAcceptRetryDelay));
        self.accept_retry_timer_->async_wait(
            Guarded(self.alive_, [](TcpNetwork& again, const boost::system::error_code& e) {
              if (!e) again.Accept();
            }));
      }));
}

bool TcpNetwork::EvictOldestUnauthenticated() {
  if (unauthenticated_inbound_.empty()) return false;
  auto it = inbound_.find(*unauthenticated_inbound_.begin());
  assert(it != inbound_.end());
  ++stats_.evicted_unauthenticated;
  std::shared_ptr<Connection> victim = it->second;  // OnClosed erases it from the maps
  victim->Close(absl::ResourceExhaustedError("evicted: too many unauthenticated connections"));
  return true;
}

void TcpNetwork::OnAccepted(tcp::socket socket) {
  if (unauthenticated_inbound_.size() >= kMaxUnauthenticatedInbound) {
    EvictOldestUnauthenticated();
  }
  if (inbound_.size() >= kMaxInboundConnections && !EvictOldestUnauthenticated()) {
    ++stats_.rejected_inbound;
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto queue = std::make_shared<SendQueue>(options_.max_queued_messages_per_peer,
                                           options_.max_queued_bytes_per_peer);
  auto connection = std::make_shared<Connection>(next_connection_id_++, std::move(socket), AsOwner(),
                                                 connection_config_, kNoNode, std::move(queue));
  inbound_.emplace(connection->id(), connection);
  unauthenticated_inbound_.insert(connection->id());
  connection->Start();
}

absl::Status TcpNetwork::AddPeer(NodeId id, std::string_view address) {
  if (id == kNoNode) return absl::InvalidArgumentError("peer id must not be 0");
  absl::StatusOr<tcp::endpoint> endpoint = ParseHostPort(address);
  if (!endpoint.ok()) return endpoint.status();
  if (endpoint->port() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("peer ", id, " has port 0"));
  }
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    if (peers_.size() >= kMaxPeers) return absl::ResourceExhaustedError("too many peers");
    NewPeer(id, *endpoint);
    return absl::OkStatus();
  }
  Peer& peer = it->second;
  if (peer.endpoint == *endpoint) return absl::OkStatus();
  peer.endpoint = *endpoint;
  if (peer.connection) peer.connection->Close(absl::CancelledError("peer address changed"));
  return absl::OkStatus();
}

void TcpNetwork::LearnAddress(NodeId id, std::string_view address) {
  if (id == options_.self || address.empty()) return;
  (void)AddPeer(id, address);  // a bad address leaves the peer as it was
}

TcpNetwork::Peer& TcpNetwork::NewPeer(NodeId id, tcp::endpoint endpoint) {
  Peer& peer = peers_[id];
  peer.endpoint = endpoint;
  peer.queue = std::make_shared<SendQueue>(options_.max_queued_messages_per_peer,
                                           options_.max_queued_bytes_per_peer);
  peer.backoff = options_.reconnect_backoff_min;
  return peer;
}

std::vector<TcpNetwork::PeerLink> TcpNetwork::Links() const {
  std::vector<PeerLink> links;
  links.reserve(peers_.size());
  for (const auto& [id, peer] : peers_) {
    PeerLink link;
    link.id = id;
    if (peer.connection) {
      link.state = peer.connection->authenticated() ? "connected" : "handshaking";
    } else if (peer.dialing) {
      link.state = "dialing";
    } else if (peer.retry_timer) {
      link.state = "backoff";
    } else {
      link.state = "idle";
    }
    link.queued_messages = peer.queue->size();
    link.queued_bytes = peer.queue->bytes();
    link.inbound = inbound_by_node_.contains(id);
    links.push_back(link);
  }
  return links;
}

void TcpNetwork::SetHandler(Service service, Handler handler) {
  handlers_[static_cast<uint8_t>(service)] = std::make_shared<Handler>(std::move(handler));
}

void TcpNetwork::Send(NodeId to, Service service, std::string message) {
  if (message.size() > kMaxMessageBytes) {
    ++stats_.dropped_oversize;
    return;
  }
  if (to == options_.self) {
    DeliverToSelf(service, std::move(message));
    return;
  }
  std::string frame =
      EncodeFrame(FrameKind::kData, static_cast<uint8_t>(service), options_.self, message);
  if (auto it = peers_.find(to); it != peers_.end()) {
    Peer& peer = it->second;
    if (!peer.queue->Push(std::move(frame))) {
      ++stats_.dropped_queue_full;
      return;
    }
    ++stats_.messages_sent;
    if (peer.connection) {
      peer.connection->KickWriter();
    } else {
      MaybeConnect(to, peer);
    }
    return;
  }
  auto inbound = inbound_by_node_.find(to);
  if (inbound == inbound_by_node_.end()) {
    ++stats_.dropped_no_route;
    return;
  }
  if (!inbound->second->queue().Push(std::move(frame))) {
    ++stats_.dropped_queue_full;
    return;
  }
  ++stats_.messages_sent;
  inbound->second->KickWriter();
}

void TcpNetwork::DeliverToSelf(Service service, std::string message) {
  if (self_messages_in_flight_ >= kMaxSelfMessagesInFlight) {
    ++stats_.dropped_queue_full;
    return;
  }
  ++self_messages_in_flight_;
  ++stats_.messages_sent;
  std::weak_ptr<TcpNetwork*> weak = alive_;
  loop_->Post([weak, service, message = std::move(message)]() mutable {
    auto self = weak.lock();
    if (!self) return;
    --(*self)->self_messages_in_flight_;
    (*self)->Deliver(static_cast<uint8_t>(service), (*self)->options_.self, std::move(message));
  });
}

void TcpNetwork::Deliver(uint8_t service, NodeId from, std::string message) {
  auto it = handlers_.find(service);
  if (it == handlers_.end()) {
    ++stats_.dropped_no_handler;
    return;
  }
  ++stats_.messages_received;
  std::shared_ptr<Handler> handler = it->second;  // survives SetHandler inside the handler
  (*handler)(from, std::move(message));
}

void TcpNetwork::MaybeConnect(NodeId id, Peer& peer) {
  if (peer.connection || peer.dialing || peer.retry_timer) return;  // busy or backing off
  Connect(id, peer);
}

void TcpNetwork::Connect(NodeId id, Peer& peer) {
  assert(!peer.connection && !peer.dialing);
  peer.dialing = std::make_unique<tcp::socket>(loop_->io_context());
  peer.dialing->async_connect(
      peer.endpoint,
      Guarded(alive_, [id](TcpNetwork& self, const boost::system::error_code& error) {
        self.OnConnected(id, error);
      }));
  peer.connect_timer = std::make_unique<boost::asio::steady_timer>(
      loop_->io_context(), absl::ToChronoNanoseconds(options_.handshake_timeout));
  peer.connect_timer->async_wait(
      Guarded(alive_, [id](TcpNetwork& self, const boost::system::error_code& error) {
        if (error) return;  // cancelled: the connect finished first
        auto it = self.peers_.find(id);
        if (it == self.peers_.end() || !it->second.dialing) return;
        boost::system::error_code ignored;
        it->second.dialing->close(ignored);  // OnConnected sees operation_aborted and backs off
      }));
}

void TcpNetwork::OnConnected(NodeId id, const boost::system::error_code& error) {
  auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.dialing) return;
  Peer& peer = it->second;
  peer.connect_timer.reset();  // cancels it
  std::unique_ptr<tcp::socket> socket = std::move(peer.dialing);
  if (error) {
    ++stats_.connect_failures;
    if (options_.tracer != nullptr) {
      options_.tracer->Record("net.connect_failed", absl::StrCat(id, " ", error.message()));
    }
    stats_.dropped_unreachable += peer.queue->Clear();
    ScheduleRetry(id, peer, peer.backoff);
    peer.backoff = std::min(peer.backoff * 2, options_.reconnect_backoff_max);
    HintGone(id);  // last: the handler may send (to this peer too)
    return;
  }
  peer.connection = std::make_shared<Connection>(next_connection_id_++, std::move(*socket), AsOwner(),
                                                 connection_config_, id, peer.queue);
  peer.connection->Start();
}

void TcpNetwork::ScheduleRetry(NodeId id, Peer& peer, absl::Duration delay) {
  peer.retry_timer = std::make_unique<boost::asio::steady_timer>(loop_->io_context(),
                                                                 absl::ToChronoNanoseconds(delay));
  peer.retry_timer->async_wait(
      Guarded(alive_, [id](TcpNetwork& self, const boost::system::error_code& error) {
        if (error) return;
        auto it = self.peers_.find(id);
        if (it == self.peers_.end()) return;
        Peer& peer = it->second;
        peer.retry_timer.reset();
        // Reconnect only if there is something to send; otherwise the next Send connects.
        if (!peer.queue->empty()) self.MaybeConnect(id, peer);
      }));
}

void TcpNetwork::OnAuthenticated(Connection& connection) {
  if (options_.tracer != nullptr) {
    options_.tracer->Record("net.connected", absl::StrCat(connection.peer(), connection.is_dialer()
                                                                                 ? " dialed"
                                                                                 : " accepted"));
  }
  if (connection.is_dialer()) {
    ++stats_.connects;
    auto it = peers_.find(connection.peer());
    if (it != peers_.end()) it->second.backoff = options_.reconnect_backoff_min;
  } else {
    ++stats_.accepted;
    unauthenticated_inbound_.erase(connection.id());
    auto it = inbound_.find(connection.id());
    assert(it != inbound_.end());
    inbound_by_node_[connection.peer()] = it->second;
  }
  HintBack(connection.peer());
}

bool TcpNetwork::HasAuthenticatedConnection(NodeId peer) const {
  auto out = peers_.find(peer);
  if (out != peers_.end() && out->second.connection != nullptr &&
      out->second.connection->authenticated()) {
    return true;
  }
  auto in = inbound_by_node_.find(peer);
  return in != inbound_by_node_.end() && in->second->authenticated();
}

void TcpNetwork::HintGone(NodeId peer) {
  if (peer == kNoNode || HasAuthenticatedConnection(peer)) return;
  if (hinted_gone_.insert(peer).second && peer_handler_) {
    peer_handler_(peer, false);
  }
}

void TcpNetwork::HintBack(NodeId peer) {
  if (hinted_gone_.erase(peer) > 0 && peer_handler_) peer_handler_(peer, true);
}

void TcpNetwork::OnData(Connection& connection, Frame frame) {
  assert(connection.authenticated() && frame.from == connection.peer());
  Deliver(frame.service, frame.from, std::move(frame.payload));
}

void TcpNetwork::OnClosed(Connection& connection, const absl::Status& why) {
  if (absl::IsDataLoss(why)) {
    ++stats_.bad_frames;
  } else if (connection.tag_failed()) {
    ++stats_.bad_tags;
  } else if (!connection.authenticated() && !absl::IsCancelled(why) &&
             !absl::IsResourceExhausted(why)) {
    ++stats_.auth_failures;
  }
  if (connection.authenticated()) ++stats_.disconnects;
  if (options_.tracer != nullptr && !absl::IsCancelled(why)) {
    options_.tracer->Record(
        connection.authenticated() ? "net.disconnected" : "net.handshake_failed",
        absl::StrCat(connection.peer(), connection.is_dialer() ? " dialed " : " accepted ",
                     why.message()));
  }
  // Not for our own closes (address change, shutdown): the peer may be perfectly well.
  const NodeId gone =
      connection.authenticated() && !absl::IsCancelled(why) ? connection.peer() : kNoNode;
  if (!connection.is_dialer()) {
    auto by_node = inbound_by_node_.find(connection.peer());
    if (by_node != inbound_by_node_.end() && by_node->second.get() == &connection) {
      inbound_by_node_.erase(by_node);
    }
    inbound_.erase(connection.id());
    unauthenticated_inbound_.erase(connection.id());
    HintGone(gone);
    return;
  }
  auto it = peers_.find(connection.peer());
  if (it == peers_.end() || it->second.connection.get() != &connection) return;
  Peer& peer = it->second;
  peer.connection.reset();
  if (!connection.authenticated()) {
    ++stats_.connect_failures;
    stats_.dropped_unreachable += peer.queue->Clear();
  }
  // Back off before redialling, so a peer that accepts and drops us is not hammered.
  ScheduleRetry(connection.peer(), peer, peer.backoff);
  peer.backoff = std::min(peer.backoff * 2, options_.reconnect_backoff_max);
  HintGone(gone);
}

}  // namespace crema::transport
