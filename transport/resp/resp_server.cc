#include "transport/resp/resp_server.h"

#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "transport/address.h"
#include "transport/resp/info.h"
#include "transport/resp/resp_connection.h"

namespace crema::resp {

namespace asio = boost::asio;
using asio::ip::tcp;

RespServer::RespServer(transport::AsioLoop* loop, Executor* executor, const Clock* clock,
                       CacheApi* api, ServerSettings settings, RespServerOptions options,
                       metrics::FrontEndMetrics* metrics)
    : loop_(loop), executor_(executor), clock_(clock), options_(std::move(options)),
      metrics_(metrics) {
  context_.api = api;
  context_.clock = clock;
  context_.settings = std::move(settings);
  context_.settings.max_clients = options_.max_clients;
  context_.settings.idle_timeout = options_.idle_timeout;
  context_.started = clock->MonotonicNow();
  context_.client_list = [this] {
    std::vector<std::string> lines;
    for (const auto& [id, c] : connections_) lines.push_back(ClientInfoLine(c->session(), context_));
    return lines;
  };
}

RespServer::~RespServer() { Stop(); }

absl::Status RespServer::Start() {
  absl::StatusOr<tcp::endpoint> endpoint = transport::ParseHostPort(options_.listen_address);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad RESP listen address '", options_.listen_address, "': ",
                     endpoint.status().message()));
  }
  acceptor_ = std::make_unique<tcp::acceptor>(loop_->io_context());
  boost::system::error_code error;
  acceptor_->open(endpoint->protocol(), error);
  if (!error) acceptor_->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_->bind(*endpoint, error);
  if (!error) acceptor_->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen for RESP on ",
                                               options_.listen_address, ": ", error.message()));
  }
  context_.settings.resp_address = bound_address();
  if (metrics_) metrics_->connections.With({{"protocol", "resp"}}).Set(0);
  Accept();
  sweep_timer_ = loop_->RunAfter(options_.sweep_interval, [this] { Sweep(); });
  return absl::OkStatus();
}

std::string RespServer::bound_address() const {
  if (!acceptor_) return "";
  boost::system::error_code ignored;
  const tcp::endpoint e = acceptor_->local_endpoint(ignored);
  return absl::StrCat(e.address().to_string(), ":", e.port());
}

void RespServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (sweep_timer_ != 0) loop_->Cancel(sweep_timer_);
  sweep_timer_ = 0;
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  // Close() calls Forget(), which erases from the map: iterate over a copy.
  auto all = connections_;
  for (auto& [id, c] : all) c->Close("server stopping");
  connections_.clear();
  fiber_waiters_.clear();
  flush_queue_.clear();
}

void RespServer::Accept() {
  if (stopped_ || !acceptor_) return;
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      // Transient (e.g. EMFILE): try again shortly rather than spin.
      loop_->RunAfter(absl::Milliseconds(50), [this] { Accept(); });
      return;
    }
    ++context_.counters.connections_received;
    if (connections_.size() >= options_.max_clients) {
      ++context_.counters.connections_rejected;
      if (metrics_) {
        metrics_->connections_rejected.With({{"protocol", "resp"}, {"reason", "max_clients"}}).Inc();
      }
      // Redis's text; best effort, then close.
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      auto text = std::make_shared<std::string>("-ERR max number of clients reached\r\n");
      asio::async_write(*s, asio::buffer(*text), [s, text](boost::system::error_code, size_t) {
        boost::system::error_code ignored;
        s->close(ignored);
      });
      Accept();
      return;
    }
    const uint64_t id = next_client_id_++;
    auto connection = std::make_shared<RespConnection>(this, std::move(socket), id);
    connections_[id] = connection;
    context_.counters.connected_clients = static_cast<int64_t>(connections_.size());
    if (metrics_) {
      metrics_->connections_total.With({{"protocol", "resp"}}).Inc();
      metrics_->connections.With({{"protocol", "resp"}}).Set(connections_.size());
    }
    connection->Start();
    Accept();
  });
}

void RespServer::Forget(uint64_t id) {
  connections_.erase(id);
  context_.counters.connected_clients = static_cast<int64_t>(connections_.size());
  if (metrics_) metrics_->connections.With({{"protocol", "resp"}}).Set(connections_.size());
}

void RespServer::Sweep() {
  sweep_timer_ = 0;
  if (stopped_) return;
  const absl::Time now = clock_->MonotonicNow();
  auto all = connections_;  // Sweep may close (and so forget) connections
  for (auto& [id, c] : all) c->Sweep(now);
  sweep_timer_ = loop_->RunAfter(options_.sweep_interval, [this] { Sweep(); });
}

void RespServer::WaitForFiber(std::shared_ptr<RespConnection> waiter) {
  fiber_waiters_.push_back(waiter);
}

void RespServer::ReturnFiber() {
  --inflight_fibers_;
  if (fiber_waiters_.empty() || drain_posted_) return;
  // Not from inside the finishing fiber's call stack: hand out budget from the loop.
  drain_posted_ = true;
  loop_->Post([this] { DrainFiberWaiters(); });
}

void RespServer::FlushAtEndOfPass(std::shared_ptr<RespConnection> c) {
  flush_queue_.push_back(std::move(c));
  if (flush_queue_posted_) return;
  flush_queue_posted_ = true;
  loop_->Post([this] { FlushQueued(); });
}

void RespServer::FlushQueued() {
  flush_queue_posted_ = false;
  std::vector<std::shared_ptr<RespConnection>> queued;
  queued.swap(flush_queue_);
  for (const std::shared_ptr<RespConnection>& c : queued) c->FlushNow();
  queued.clear();
  if (flush_queue_.empty()) flush_queue_.swap(queued);  // keep the grown buffer
}

void RespServer::DrainFiberWaiters() {
  drain_posted_ = false;
  // Each waiter takes what it can run; one that needs nothing leaves the budget to the next.
  while (!stopped_ && !fiber_waiters_.empty() && FiberAvailable()) {
    std::shared_ptr<RespConnection> c = fiber_waiters_.front().lock();
    fiber_waiters_.pop_front();
    if (c && !c->closed()) c->Schedule();
  }
}

void RespServer::RecordRequest(const std::string& command, const absl::Status& status,
                               absl::Duration took, uint64_t count) {
  if (metrics_ == nullptr) return;
  auto it = command_metrics_.find(command);
  if (it == command_metrics_.end()) {
    it = command_metrics_.emplace(command, CommandMetrics{metrics_->Latency("resp", command), {}})
             .first;
  }
  CommandMetrics& m = it->second;
  const char* outcome = metrics::OutcomeOf(status);
  auto c = m.requests.find(outcome);
  if (c == m.requests.end()) {
    c = m.requests.emplace(outcome, metrics_->Requests("resp", command, outcome)).first;
  }
  c->second.Inc(static_cast<double>(count));
  if (took > absl::ZeroDuration()) m.latency.ObserveDurationTimes(took, count);
}

}  // namespace crema::resp
