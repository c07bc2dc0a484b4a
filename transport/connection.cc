#include "transport/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::transport {

Connection::Connection(uint64_t id, boost::asio::ip::tcp::socket socket, Owner* owner,
                       const Config& config, NodeId dial_to, std::shared_ptr<SendQueue> queue)
    : id_(id),
      socket_(std::move(socket)),
      owner_(owner),
      self_(config.self),
      handshake_timeout_(config.handshake_timeout),
      handshake_timer_(socket_.get_executor()),
      queue_(std::move(queue)) {
  assert(owner_ != nullptr && queue_ != nullptr && self_ != kNoNode);
  if (dial_to != kNoNode) {
    dialer_.emplace(config.cluster_secret, self_, dial_to, RandomNonce());
    peer_ = dial_to;
  } else {
    acceptor_.emplace(config.cluster_secret, self_, RandomNonce());
  }
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  // A peer whose machine vanished never sends a FIN: let the kernel notice within seconds, both
  // when we have unacknowledged data (TCP_USER_TIMEOUT) and when the connection is idle (keepalive).
  socket_.set_option(boost::asio::socket_base::keep_alive(true), ignored);
  const int fd = socket_.native_handle();
  const int user_timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(kDeadPeerTimeout));
  const int keepalive_idle_s = 5, keepalive_interval_s = 2, keepalive_probes = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_idle_s, sizeof(keepalive_idle_s));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepalive_interval_s, sizeof(keepalive_interval_s));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepalive_probes, sizeof(keepalive_probes));
}

Connection::~Connection() = default;  // the socket closes itself

void Connection::Start() {
  handshake_timer_.expires_after(absl::ToChronoNanoseconds(handshake_timeout_));
  handshake_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->closed_ || self->authenticated_) return;
    self->Close(absl::DeadlineExceededError("no handshake in time"));
  });
  if (dialer_) SendControl(FrameKind::kHello, dialer_->HelloPayload());
  StartRead();
}

void Connection::StartRead() {
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->OnRead(error, bytes);
      });
}

void Connection::OnRead(const boost::system::error_code& error, size_t bytes) {
  if (closed_) return;
  if (error) {
    Close(absl::UnavailableError(error == boost::asio::error::eof
                                     ? std::string("peer closed the connection")
                                     : absl::StrCat("read: ", error.message())));
    return;
  }
  reader_.Append(std::string_view(read_buffer_.data(), bytes));
  while (!closed_) {
    absl::StatusOr<std::optional<Frame>> next = reader_.Next();
    if (!next.ok()) {
      Close(next.status());
      return;
    }
    if (!next->has_value()) break;
    HandleFrame(std::move(**next));
  }
  if (!closed_) StartRead();
}

void Connection::HandleFrame(Frame frame) {
  if (frame.kind != FrameKind::kData) {
    absl::Status status = HandleHandshakeFrame(frame);
    if (!status.ok()) Close(std::move(status));
    return;
  }
  if (!authenticated_) {
    Close(absl::UnauthenticatedError("data before the handshake completed"));
    return;
  }
  if (absl::Status s = opener_->Open(AuthenticatedHeader(frame), frame.payload, frame.tag);
      !s.ok()) {
    tag_failed_ = true;
    Close(std::move(s));
    return;
  }
  if (frame.from != peer_) {
    Close(absl::UnauthenticatedError(
        absl::StrCat("frame claims node ", frame.from, " on a connection of node ", peer_)));
    return;
  }
  if (owner_ != nullptr) owner_->OnData(*this, std::move(frame));
}

absl::Status Connection::HandleHandshakeFrame(const Frame& frame) {
  if (authenticated_) return absl::InvalidArgumentError("handshake frame after the handshake");
  if (dialer_) {
    if (frame.kind != FrameKind::kChallenge) {
      return absl::InvalidArgumentError("dialer expected a challenge");
    }
    absl::StatusOr<std::string> proof = dialer_->OnChallenge(frame.from, frame.payload);
    if (!proof.ok()) return proof.status();
    SendControl(FrameKind::kProof, *proof);
    StartAuthenticatedFrames(dialer_->keys());
  } else if (!saw_hello_) {
    if (frame.kind != FrameKind::kHello) return absl::InvalidArgumentError("expected a hello");
    absl::StatusOr<std::string> challenge = acceptor_->OnHello(frame.from, frame.payload);
    if (!challenge.ok()) return challenge.status();
    saw_hello_ = true;
    SendControl(FrameKind::kChallenge, *challenge);
    return absl::OkStatus();
  } else {
    if (frame.kind != FrameKind::kProof) return absl::InvalidArgumentError("expected a proof");
    absl::Status status = acceptor_->OnProof(frame.from, frame.payload);
    if (!status.ok()) return status;
    peer_ = acceptor_->peer();
    StartAuthenticatedFrames(acceptor_->keys());
  }
  authenticated_ = true;
  handshake_timer_.cancel();
  auto keep_alive = shared_from_this();
  if (owner_ != nullptr) owner_->OnAuthenticated(*this);
  KickWriter();
  return absl::OkStatus();
}

void Connection::StartAuthenticatedFrames(const SessionKeys& keys) {
  sealer_.emplace(keys.send);
  opener_.emplace(keys.receive);
  reader_.set_max_payload_bytes(kMaxFramePayloadBytes);
}

void Connection::SendControl(FrameKind kind, std::string_view payload) {
  control_.push_back(EncodeFrame(kind, /*service=*/0, self_, payload));
  KickWriter();
}

void Connection::KickWriter() {
  if (closed_ || write_in_flight_) return;
  assert(writing_.empty());
  size_t batch_bytes = 0;
  while (!control_.empty()) {
    batch_bytes += control_.front().size();
    writing_.push_back(std::move(control_.front()));
    control_.pop_front();
  }
  while (authenticated_ && !queue_->empty() && writing_.size() < kMaxWriteBatchFrames &&
         (writing_.empty() || batch_bytes < kMaxWriteBatchBytes)) {
    writing_.push_back(queue_->Pop());
    sealer_->Seal(&writing_.back());
    batch_bytes += writing_.back().size();
  }
  if (writing_.empty()) return;
  std::vector<boost::asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const std::string& frame : writing_) buffers.push_back(boost::asio::buffer(frame));
  write_in_flight_ = true;
  boost::asio::async_write(
      socket_, buffers,
      [self = shared_from_this()](const boost::system::error_code& error, size_t) {
        self->OnWrite(error);
      });
}

void Connection::OnWrite(const boost::system::error_code& error) {
  write_in_flight_ = false;
  writing_.clear();  // sent, or lost with the connection (Network semantics allow loss)
  if (closed_) return;
  if (error) {
    Close(absl::UnavailableError(absl::StrCat("write: ", error.message())));
    return;
  }
  KickWriter();
}

void Connection::Close(absl::Status why) {
  if (closed_) return;
  auto keep_alive = shared_from_this();
  closed_ = true;
  boost::system::error_code ignored;
  handshake_timer_.cancel();
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  control_.clear();
  Owner* owner = std::exchange(owner_, nullptr);
  if (owner != nullptr) owner->OnClosed(*this, why);
}

void Connection::Detach() {
  owner_ = nullptr;
  Close(absl::CancelledError("transport shut down"));
}

}  // namespace crema::transport
