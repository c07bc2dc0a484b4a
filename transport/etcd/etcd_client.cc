#include "transport/etcd/etcd_client.h"

#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>

#include "absl/strings/str_cat.h"
#include "transport/http/parser_feeder.h"

namespace crema::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

absl::Status FromError(const beast::error_code& ec, std::string_view what) {
  return absl::UnavailableError(absl::StrCat("etcd ", std::string(what), ": ", ec.message()));
}

// The first JSON object of a gateway answer, unwrapped from {"result": ...} when streamed, with
// {"error", "code"} turned into a status.
absl::StatusOr<nlohmann::json> ParseAnswer(std::string_view body) {
  const size_t end = body.find('\n');
  nlohmann::json j = nlohmann::json::parse(body.substr(0, end), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat("etcd: not JSON: ", std::string(body.substr(0, 200))));
  }
  if (j.contains("error")) {
    const nlohmann::json& e = j["error"];
    const std::string message = e.is_string() ? e.get<std::string>()
                                : e.is_object() && e.contains("message") ? e["message"].dump()
                                                                         : e.dump();
    return absl::FailedPreconditionError(absl::StrCat("etcd: ", message));
  }
  if (j.contains("result") && j["result"].is_object()) return j["result"];
  return j;
}

http::request<http::string_body> MakeRequest(const EtcdClientOptions& o, std::string path,
                                             std::string body) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, absl::StrCat(o.host, ":", o.port));
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

class UnaryCall : public std::enable_shared_from_this<UnaryCall> {
 public:
  UnaryCall(boost::asio::io_context& io, const EtcdClientOptions& o, std::string path,
            std::string body, EtcdClient::Done done)
      : options_(o), resolver_(io), stream_(io), done_(std::move(done)) {
    request_ = MakeRequest(o, std::move(path), std::move(body));
    parser_.body_limit(kMaxEtcdResponseBytes);
  }

  void Start() {
    stream_.expires_after(ToChrono(options_.timeout));
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              if (ec) return self->Finish(FromError(ec, "resolve"));
                              self->stream_.async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
                                if (ec) return self->Finish(FromError(ec, "connect"));
                                self->Send();
                              });
                            });
  }

 private:
  void Send() {
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Finish(FromError(ec, "write"));
      // Not http::async_read: Beast 1.74 asserts on some chunked bodies (parser_feeder.h).
      crema::http::AsyncReadFed(self->stream_, self->buffer_, self->parser_, self,
                                [raw = self.get()](beast::error_code ec) {
                                  if (ec) return raw->Finish(FromError(ec, "read"));
                                  raw->Finish(ParseAnswer(raw->parser_.get().body()));
                                });
    });
  }

  void Finish(absl::StatusOr<nlohmann::json> result) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (done_) {
      EtcdClient::Done done = std::move(done_);
      done(std::move(result));
    }
  }

  EtcdClientOptions options_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response_parser<http::string_body> parser_;
  EtcdClient::Done done_;
};

class WatchStream : public EtcdWatch, public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(boost::asio::io_context& io, const EtcdClientOptions& o, std::string body,
              EtcdClient::OnResult on_result, EtcdClient::OnEnd on_end)
      : options_(o), resolver_(io), stream_(io), on_result_(std::move(on_result)), on_end_(std::move(on_end)) {
    request_ = MakeRequest(o, "/v3/watch", std::move(body));
    parser_.body_limit(boost::none);  // an endless stream; lines are bounded below
  }

  void Start() {
    stream_.expires_after(ToChrono(options_.timeout));
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              if (ec) return self->End(FromError(ec, "resolve"));
                              self->stream_.async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
                                if (ec) return self->End(FromError(ec, "connect"));
                                self->Send();
                              });
                            });
  }

  void Cancel() override {
    if (cancelled_) return;
    cancelled_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void Send() {
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->End(FromError(ec, "write"));
      self->stream_.expires_never();  // the stream lasts; a dead etcd closes it or the owner cancels
      // Beast keeps a reference to the callback: it lives in this object, beside the parser.
      self->on_chunk_ = [raw = self.get()](uint64_t, beast::string_view data, beast::error_code& ec) {
        raw->Consume(std::string_view(data.data(), data.size()), ec);
        return data.size();
      };
      self->parser_.on_chunk_body(self->on_chunk_);
      // Not http::async_read: Beast 1.74 asserts on some chunked bodies (parser_feeder.h).
      crema::http::AsyncReadFed(self->stream_, self->buffer_, self->parser_, self,
                                [raw = self.get()](beast::error_code ec) {
        raw->End(ec ? FromError(ec, "watch") : absl::UnavailableError("etcd watch stream ended"));
      });
    });
  }

  void Consume(std::string_view data, beast::error_code& ec) {
    if (cancelled_) return;
    pending_.append(data.data(), data.size());
    size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      const std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      if (line.empty()) continue;
      absl::StatusOr<nlohmann::json> result = ParseAnswer(line);
      if (!result.ok()) {
        ec = http::error::bad_chunk;
        return;
      }
      if (!cancelled_ && on_result_) on_result_(*result);
    }
    if (pending_.size() > kMaxEtcdLineBytes) ec = http::error::body_limit;
  }

  void End(absl::Status why) {
    if (cancelled_ || ended_) return;
    ended_ = true;
    if (on_end_) on_end_(std::move(why));
  }

  EtcdClientOptions options_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response_parser<http::empty_body> parser_;
  std::function<size_t(uint64_t, beast::string_view, beast::error_code&)> on_chunk_;
  EtcdClient::OnResult on_result_;
  EtcdClient::OnEnd on_end_;
  std::string pending_;
  bool cancelled_ = false;
  bool ended_ = false;
};

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("base64: length not a multiple of 4");
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("base64: malformed");
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(boost::asio::io_context& io, EtcdClientOptions options)
    : io_(io), options_(std::move(options)) {}

void EtcdClient::Call(std::string path, const nlohmann::json& body, Done done) {
  std::make_shared<UnaryCall>(io_, options_, std::move(path), body.dump(), std::move(done))->Start();
}

std::shared_ptr<EtcdWatch> EtcdClient::Watch(const nlohmann::json& create_request, OnResult on_result,
                                             OnEnd on_end) {
  nlohmann::json body = {{"create_request", create_request}};
  auto watch = std::make_shared<WatchStream>(io_, options_, body.dump(), std::move(on_result),
                                             std::move(on_end));
  watch->Start();
  return watch;
}

}  // namespace crema::transport
