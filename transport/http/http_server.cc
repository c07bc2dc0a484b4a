#include "transport/http/http_server.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "transport/address.h"
#include "transport/http/parser_feeder.h"

namespace crema::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

std::string RouteOf(const HttpRequest& r) {
  const std::string_view t(r.target);
  auto starts = [&](std::string_view p) { return t.substr(0, p.size()) == p; };
  if (starts("/kv/")) {
    if (r.method == "GET") return "kv_get";
    if (r.method == "PUT") return "kv_put";
    if (r.method == "DELETE") return "kv_delete";
    return "other";
  }
  for (const char* route : {"healthz", "readyz", "metrics", "cluster"}) {
    if (t == absl::StrCat("/", route)) return route;
  }
  if (starts("/admin/")) return "admin";
  return "other";
}

void LimitRequestParser(const HttpServerOptions& options, RequestParser& parser) {
  parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

HttpRequest RequestOf(const RequestParser::value_type& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  if (auto it = message.find(bhttp::field::authorization); it != message.end()) {
    request.authorization = std::string(it->value());
  }
  request.body = beast::buffers_to_string(message.body().data());
  return request;
}

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(HttpServer* server, tcp::socket socket, uint64_t id)
      : server_(server), stream_(std::move(socket)), id_(id) {}

  void Start() { Read(true); }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    server_->Forget(id_);
  }

 private:
  void Read(bool first) {
    if (closed_) return;
    parser_.emplace();
    LimitRequestParser(server_->options_, *parser_);
    // A request must arrive in read_timeout; an idle keep-alive connection waits idle_timeout.
    stream_.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(
        first ? server_->options_.read_timeout : server_->options_.idle_timeout)));
    // http::async_read's loop, but fed so that Beast 1.74's chunked parser never asserts
    // (parser_feeder.h: a body's last line in two segments aborted the server).
    AsyncReadFed(stream_, buffer_, *parser_, shared_from_this(),
                 [this](beast::error_code ec) { OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
        Close();
        return;
      }
      HttpResponse r;
      if (ec == bhttp::error::body_limit) {
        r = ErrorResponse(413, absl::StrCat("body larger than ", server_->options_.max_body_bytes,
                                            " bytes"), "INVALID_ARGUMENT");
      } else if (ec == bhttp::error::header_limit) {
        r = ErrorResponse(431, absl::StrCat("request line and headers larger than ",
                                            server_->options_.max_header_bytes, " bytes"),
                          "INVALID_ARGUMENT");
      } else if (ec == beast::error::timeout) {
        // tcp_stream has already closed the socket: a slow or idle client is simply dropped.
        Close();
        return;
      } else {
        r = ErrorResponse(400, absl::StrCat("malformed HTTP request: ", ec.message()),
                          "INVALID_ARGUMENT");
      }
      if (server_->metrics_) {
        server_->metrics_->protocol_errors.With({{"protocol", "http"}}).Inc();
      }
      Write(std::move(r), /*keep_alive=*/false, 11);
      return;
    }
    const auto& msg = parser_->get();
    HttpRequest request = RequestOf(msg);
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const absl::Time arrival = server_->clock_->MonotonicNow();
    server_->executor_->Spawn(
        "http", [self = shared_from_this(), request = std::move(request), keep_alive, version,
                 arrival] {
          HttpResponse response = HandleHttp(self->server_->context_, request);
          self->server_->Record(RouteOf(request), response.status,
                                self->server_->clock_->MonotonicNow() - arrival);
          if (request.method == "HEAD") response.body.clear();
          self->Write(std::move(response), keep_alive, version);
        });
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version) {
    if (closed_) return;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, "crema");
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(
        absl::ToInt64Milliseconds(server_->options_.read_timeout)));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) {
                           self->Close();
                           return;
                         }
                         self->Read(false);
                       });
  }

  HttpServer* server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  uint64_t id_;
  bool closed_ = false;
};

HttpServer::HttpServer(transport::AsioLoop* loop, Executor* executor, const Clock* clock,
                       HttpContext context, HttpServerOptions options,
                       metrics::FrontEndMetrics* metrics)
    : loop_(loop), executor_(executor), clock_(clock), context_(std::move(context)),
      options_(std::move(options)), metrics_(metrics) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  absl::StatusOr<tcp::endpoint> endpoint = transport::ParseHostPort(options_.listen_address);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad HTTP listen address '", options_.listen_address, "': ", endpoint.status().message()));
  }
  acceptor_ = std::make_unique<tcp::acceptor>(loop_->io_context());
  boost::system::error_code error;
  acceptor_->open(endpoint->protocol(), error);
  if (!error) acceptor_->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_->bind(*endpoint, error);
  if (!error) acceptor_->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    acceptor_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ",
                                               options_.listen_address, ": ", error.message()));
  }
  if (metrics_) metrics_->connections.With({{"protocol", "http"}}).Set(0);
  Accept();
  return absl::OkStatus();
}

std::string HttpServer::bound_address() const {
  if (!acceptor_) return "";
  boost::system::error_code ignored;
  const tcp::endpoint e = acceptor_->local_endpoint(ignored);
  return absl::StrCat(e.address().to_string(), ":", e.port());
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  auto all = connections_;
  for (auto& [id, c] : all) c->Close();
  connections_.clear();
}

void HttpServer::Accept() {
  if (stopped_ || !acceptor_) return;
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      loop_->RunAfter(absl::Milliseconds(50), [this] { Accept(); });
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      if (metrics_) {
        metrics_->connections_rejected.With({{"protocol", "http"}, {"reason", "max_clients"}}).Inc();
      }
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      auto text = std::make_shared<std::string>(
          "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 30\r\n\r\n"
          "too many connections, retry.\r\n");
      asio::async_write(*s, asio::buffer(*text), [s, text](boost::system::error_code, size_t) {
        boost::system::error_code ignored;
        s->close(ignored);
      });
      Accept();
      return;
    }
    const uint64_t id = next_id_++;
    auto c = std::make_shared<HttpConnection>(this, std::move(socket), id);
    connections_[id] = c;
    if (metrics_) {
      metrics_->connections_total.With({{"protocol", "http"}}).Inc();
      metrics_->connections.With({{"protocol", "http"}}).Set(connections_.size());
    }
    c->Start();
    Accept();
  });
}

void HttpServer::Forget(uint64_t id) {
  connections_.erase(id);
  if (metrics_) metrics_->connections.With({{"protocol", "http"}}).Set(connections_.size());
}

void HttpServer::Record(const std::string& route, int status, absl::Duration took) {
  if (!metrics_) return;
  const char* outcome = status < 400   ? "ok"
                        : status == 404 ? "not_found"
                        : status < 500  ? "invalid"
                        : status == 503 ? "unavailable"
                        : status == 504 ? "timeout"
                                        : "error";
  metrics_->Requests("http", route, outcome).Inc();
  metrics_->Latency("http", route).ObserveDuration(took);
}

}  // namespace crema::http
