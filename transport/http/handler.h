// The HTTP API's routes, as a pure function of a request (no sockets): http_server.h reads
// requests off the wire and calls HandleHttp in a fiber.
//
//   GET    /healthz                 200 "ok" while the process serves
//   GET    /readyz                  200 when the node can serve requests, else 503
//   GET    /metrics                 Prometheus text format 0.0.4
//   GET    /cluster                 JSON: nodes (state, gossip, phi), shards (replicas, leader,
//                                   lag), map version — crema::CacheApi::Status()
//   GET    /keyspaces               JSON: the keyspaces (index, name, mode, spec, generation)
//   POST   /keyspaces               (admin token) body = a keyspace spec (keyspace_config.h),
//                                   e.g. "3:carts:strong:ttl=1h": 201 + the keyspace's JSON;
//                                   409 ALREADY_EXISTS, 400 INVALID_ARGUMENT naming the field,
//                                   503 UNAVAILABLE without a metadata quorum
//   DELETE /keyspaces/{name|index}  (admin token) drop: 200 | 404 | 400 (keyspace 0)
//   GET    /kv/{key}[?consistency=local|linearizable]     200 value | 404
//   PUT    /kv/{key}[?ttl=30s|1500ms|10]  body = value    204
//   DELETE /kv/{key}                                      204 | 404
//   POST   /admin/nodes/{id}/admit|drain|remove           (admin token)
//   POST   /admin/shards/{shard}/transfer-leader?to={id}  (admin token)
//
// Every /kv call takes ?keyspace=<name|index> (default 0) and, for eventual keyspaces, the
// request's levels: ?r=, ?w= or ?level= (both) — one|quorum|all|<n>, "~" appended for sloppy
// (%7E). Operations an eventual keyspace refuses answer 501.
// Keys are the percent-decoded path segment after /kv/ (any bytes; "/" must be sent as %2F).
// Admin calls need `Authorization: Bearer <admin token>`: none -> 401, wrong -> 403, and with no
// token configured the admin API is off (403). Errors are JSON {"error": "...", "code": "..."}
// with the status mapped from CacheApi's codes: INVALID_ARGUMENT 400, FAILED_PRECONDITION 409,
// RESOURCE_EXHAUSTED and UNAVAILABLE 503 (with Retry-After), DEADLINE_EXCEEDED 504.
//
// Thread safety: the node's loop thread; HandleHttp is fiber-only (it calls CacheApi).
#ifndef CREMA_TRANSPORT_HTTP_HANDLER_H_
#define CREMA_TRANSPORT_HTTP_HANDLER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/cache_node/cache_api.h"
#include "node/keyspace/keyspace_api.h"

namespace crema::http {

struct HttpRequest {
  std::string method;         // "GET", "PUT", ...
  std::string target;         // path and query, as sent
  std::string authorization;  // the Authorization header, if any
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct HttpContext {
  CacheApi* api = nullptr;
  keyspace::KeyspaceApi* keyspaces = nullptr;  // null: only keyspace 0 (`api`)
  std::string admin_token;  // empty: admin API disabled
  absl::Duration request_timeout = absl::Seconds(5);
  std::function<std::string()> metrics_text;  // for /metrics; null: 404
};

HttpResponse HandleHttp(HttpContext& context, const HttpRequest& request);

// --- pieces, exposed for tests ---

// Percent-decoding of a path segment or query value; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);
// "30s", "1500ms", "2m", "1h", or a bare integer of seconds; > 0.
absl::StatusOr<absl::Duration> ParseTtl(std::string_view s);
// The JSON document /cluster returns.
std::string ClusterJson(const ClusterStatus& status);
HttpResponse ErrorResponse(int status, std::string_view message, std::string_view code);
HttpResponse StatusResponse(const absl::Status& status);

}  // namespace crema::http

#endif  // CREMA_TRANSPORT_HTTP_HANDLER_H_
