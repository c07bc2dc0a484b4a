// EtcdClient: a small client for etcd v3's JSON gateway (grpc-gateway, `/v3/...` since etcd 3.4)
// over HTTP/1.1 with Boost.Beast, on one Asio io_context (production side only).
//
// etcd's gateway maps each gRPC call to `POST /v3/<service>/<method>` with a JSON body; bytes
// fields (keys, values) are base64, int64 fields are decimal strings. Streaming calls (watch,
// lease keep-alive) answer with a chunked body of newline-separated JSON objects.
//
//   EtcdClient etcd(io, {.host = "127.0.0.1", .port = 2379});
//   etcd.Call("/v3/lease/grant", {{"TTL", 10}}, [](absl::StatusOr<nlohmann::json> r) { ... });
//   auto watch = etcd.Watch({{"key", Base64("/p/")}, {"range_end", Base64("/p0")}},
//                           [](const nlohmann::json& result) { ... },   // each streamed result
//                           [](absl::Status why) { ... });              // the stream ended
//   watch->Cancel();
//
// `Call` uses a fresh connection per request (simple and indifferent to etcd restarts) with a
// deadline; a gateway error ({"error", "code"}) becomes a non-OK status with etcd's message.
// Callbacks run on the io_context's thread. A Watch handle must be cancelled (or destroyed) before
// whatever its callbacks reference goes away; after Cancel no callback runs.
//
// Bounds: a response body is at most kMaxResponseBytes; a streamed line at most kMaxLineBytes.
// Thread safety: none; everything on the io_context's single thread.
#ifndef CREMA_TRANSPORT_ETCD_ETCD_CLIENT_H_
#define CREMA_TRANSPORT_ETCD_ETCD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crema::transport {

inline constexpr size_t kMaxEtcdResponseBytes = 8 << 20;
inline constexpr size_t kMaxEtcdLineBytes = 8 << 20;

std::string Base64Encode(std::string_view bytes);
// INVALID_ARGUMENT for malformed input.
absl::StatusOr<std::string> Base64Decode(std::string_view text);
// The key just after every key with this prefix (etcd's range_end for a prefix).
std::string PrefixEnd(std::string_view prefix);

struct EtcdClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 2379;
  absl::Duration timeout = absl::Seconds(2);  // per unary call; connect+send for a watch
};

class EtcdWatch {
 public:
  virtual ~EtcdWatch() = default;
  virtual void Cancel() = 0;
};

class EtcdClient {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<nlohmann::json>)>;
  using OnResult = absl::AnyInvocable<void(const nlohmann::json& result)>;
  using OnEnd = absl::AnyInvocable<void(absl::Status why)>;

  EtcdClient(boost::asio::io_context& io, EtcdClientOptions options);

  // POSTs `body` to `path`; `done` gets the first JSON object of the answer (for a streaming
  // method, its first result), or an error.
  void Call(std::string path, const nlohmann::json& body, Done done);

  // Opens /v3/watch with {"create_request": create_request}; every result object goes to
  // `on_result` (the "result" member); `on_end` runs once when the stream ends for any reason
  // other than Cancel.
  std::shared_ptr<EtcdWatch> Watch(const nlohmann::json& create_request, OnResult on_result,
                                   OnEnd on_end);

  const EtcdClientOptions& options() const { return options_; }

 private:
  boost::asio::io_context& io_;
  EtcdClientOptions options_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_ETCD_ETCD_CLIENT_H_
