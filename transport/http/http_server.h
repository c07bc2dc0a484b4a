// HttpServer: the HTTP/1.1 front end (Boost.Beast over Boost.Asio) on the node's single loop
// thread. Requests are parsed by Beast with hard limits, each handled in a fiber by HandleHttp
// (handler.h), and answered in order on keep-alive connections.
//
// Bounds and bad input (each a named option):
//   * `max_header_bytes` for the request line and headers (431 when exceeded), `max_body_bytes`
//     for bodies (413), `read_timeout` for a whole request to arrive (slow senders are dropped), idle
//     keep-alive connections closed after `idle_timeout`, at most `max_connections` (503).
//   * Malformed HTTP gets 400 with Beast's reason and the connection is closed; nothing a client
//     sends can crash the node.
//
// Thread safety: none; the loop thread. Stop() before destroying; destroy before the loop.
#ifndef CREMA_TRANSPORT_HTTP_HTTP_SERVER_H_
#define CREMA_TRANSPORT_HTTP_HTTP_SERVER_H_

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "node/executor.h"
#include "node/metrics/crema_metrics.h"
#include "transport/asio_loop.h"
#include "transport/http/handler.h"

namespace crema::http {

struct HttpServerOptions {
  std::string listen_address = "127.0.0.1:8080";
  size_t max_connections = 1024;
  size_t max_header_bytes = 256 * 1024;  // a 64 KiB key, percent-encoded, fits
  size_t max_body_bytes = kMaxValueBytes;
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(60);
};

class HttpConnection;

class HttpServer {
 public:
  // `loop`, `executor`, `clock` and context.api must outlive the server; `metrics` may be null.
  HttpServer(transport::AsioLoop* loop, Executor* executor, const Clock* clock,
             HttpContext context, HttpServerOptions options, metrics::FrontEndMetrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // UNAVAILABLE if the address cannot be bound; INVALID_ARGUMENT if it does not parse.
  [[nodiscard]] absl::Status Start();
  void Stop();
  std::string bound_address() const;
  size_t connections() const { return connections_.size(); }

 private:
  friend class HttpConnection;
  void Accept();
  void Forget(uint64_t id);
  void Record(const std::string& route, int status, absl::Duration took);

  transport::AsioLoop* loop_;
  Executor* executor_;
  const Clock* clock_;
  HttpContext context_;
  HttpServerOptions options_;
  metrics::FrontEndMetrics* metrics_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  absl::btree_map<uint64_t, std::shared_ptr<HttpConnection>> connections_;
};

// The route label for metrics: kv_get, kv_put, kv_delete, healthz, readyz, metrics, cluster,
// admin, other.
std::string RouteOf(const HttpRequest& request);

}  // namespace crema::http

#endif  // CREMA_TRANSPORT_HTTP_HTTP_SERVER_H_
