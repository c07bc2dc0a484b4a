#include "transport/http/handler.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace crema::http {
namespace {

using nlohmann::json;

absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Target {
  std::vector<std::string> segments;  // raw (still percent-encoded)
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  bool ok = true;
};

Target SplitTarget(std::string_view target) {
  Target t;
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') {
    t.ok = false;
    return t;
  }
  for (absl::string_view seg : absl::StrSplit(Av(path.substr(1)), '/')) {
    t.segments.emplace_back(seg);
  }
  if (q != std::string_view::npos) {
    for (absl::string_view kv : absl::StrSplit(Av(target.substr(q + 1)), '&', absl::SkipEmpty())) {
      const size_t eq = kv.find('=');
      std::optional<std::string> k = PercentDecode(std::string_view(kv.data(), std::min(eq, kv.size())));
      std::optional<std::string> v =
          eq == absl::string_view::npos
              ? std::optional<std::string>("")
              : PercentDecode(std::string_view(kv.data() + eq + 1, kv.size() - eq - 1));
      if (!k || !v) {
        t.ok = false;
        return t;
      }
      t.query.emplace_back(*k, *v);
    }
  }
  return t;
}

std::optional<std::string> QueryValue(const Target& t, std::string_view key) {
  for (const auto& [k, v] : t.query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  // Messages may echo client bytes that are not UTF-8 (a key, a keyspace name, a spec): replaced
  // (U+FFFD), not thrown — dump()'s default throws, and an exception here ends the process.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r = ErrorResponse(405, "method not allowed", "METHOD_NOT_ALLOWED");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

HttpResponse Kv(HttpContext& ctx, const HttpRequest& req, const Target& t) {
  if (t.segments.size() != 2) {
    return ErrorResponse(400, "the key must be one path segment (encode '/' as %2F)",
                         "INVALID_ARGUMENT");
  }
  std::optional<std::string> key = PercentDecode(t.segments[1]);
  if (!key) return ErrorResponse(400, "malformed percent-encoding in key", "INVALID_ARGUMENT");
  if (key->empty()) return ErrorResponse(400, "empty key", "INVALID_ARGUMENT");
  if (key->size() > kMaxKeyBytes) {
    return ErrorResponse(414, absl::StrCat("key longer than ", kMaxKeyBytes, " bytes"),
                         "INVALID_ARGUMENT");
  }
  // The keyspace (?keyspace=<name|index>) and eventual levels (?r=, ?w=, ?level= for both).
  CacheApi* api = ctx.api;
  keyspace::KeyspaceHandle handle;
  if (ctx.keyspaces != nullptr) {
    keyspace::RequestLevels levels;
    static constexpr std::pair<const char*, int> kLevelParams[] = {{"level", 0}, {"r", 1}, {"w", 2}};
    for (const auto& [name, slot] : kLevelParams) {
      std::optional<std::string> text = QueryValue(t, name);
      if (!text) continue;
      std::optional<eventual::Consistency> level = keyspace::ParseLevel(*text);
      if (!level) {
        return ErrorResponse(400, absl::StrCat(name, " must be one, quorum, all or a replica count"),
                             "INVALID_ARGUMENT");
      }
      if (slot != 2) levels.read = level;
      if (slot != 1) levels.write = level;
    }
    const std::string ks = QueryValue(t, "keyspace").value_or("0");
    uint32_t index = 0;
    absl::StatusOr<keyspace::KeyspaceHandle> h = absl::SimpleAtoi(ks, &index)
                                                     ? ctx.keyspaces->Open(index, levels)
                                                     : ctx.keyspaces->OpenByName(ks, levels);
    if (!h.ok()) return StatusResponse(h.status());
    handle = *std::move(h);
    api = handle.api;
  } else if (QueryValue(t, "keyspace").value_or("0") != "0") {
    return ErrorResponse(404, "this server has only keyspace 0", "NOT_FOUND");
  }
  if (req.method == "GET") {
    ReadOptions options;
    options.timeout = ctx.request_timeout;
    if (std::optional<std::string> c = QueryValue(t, "consistency")) {
      if (*c == "local") {
        options.consistency = ReadConsistency::kLocal;
      } else if (*c == "linearizable") {
        options.consistency = ReadConsistency::kLinearizable;
      } else {
        return ErrorResponse(400, "consistency must be local or linearizable", "INVALID_ARGUMENT");
      }
    }
    absl::StatusOr<std::optional<std::string>> v = api->Get(*key, options);
    if (!v.ok()) return StatusResponse(v.status());
    if (!v->has_value()) return ErrorResponse(404, "no such key", "NOT_FOUND");
    HttpResponse r;
    r.content_type = "application/octet-stream";
    r.body = std::move(**v);
    return r;
  }
  if (req.method == "PUT") {
    PutOptions options;
    options.timeout = ctx.request_timeout;
    if (std::optional<std::string> ttl = QueryValue(t, "ttl")) {
      absl::StatusOr<absl::Duration> d = ParseTtl(*ttl);
      if (!d.ok()) return ErrorResponse(400, std::string(d.status().message()), "INVALID_ARGUMENT");
      options.expiration = Expiration::After(*d);
    }
    if (req.body.size() > kMaxValueBytes) {
      return ErrorResponse(413, absl::StrCat("value larger than ", kMaxValueBytes, " bytes"),
                           "INVALID_ARGUMENT");
    }
    absl::StatusOr<PutResult> r = api->Put(*key, req.body, options);
    if (!r.ok()) return StatusResponse(r.status());
    return Text(204, "");
  }
  if (req.method == "DELETE") {
    WriteOptions options;
    options.timeout = ctx.request_timeout;
    absl::StatusOr<std::optional<std::string>> v = api->Delete(*key, options);
    if (!v.ok()) return StatusResponse(v.status());
    if (!v->has_value()) return ErrorResponse(404, "no such key", "NOT_FOUND");
    return Text(204, "");
  }
  return MethodNotAllowed("GET, PUT, DELETE");
}

bool TokenMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) != kBearer) return false;
  std::string_view given = header.substr(kBearer.size());
  return given.size() == token.size() && CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

std::optional<uint32_t> ParseU32(std::string_view s) {
  uint32_t v = 0;
  if (s.empty() || s.size() > 10 || !absl::SimpleAtoi(Av(s), &v)) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return v;
}

// The refusal of an admin call without the right token; nullopt: the caller is the admin.
std::optional<HttpResponse> AdminRefusal(const HttpContext& ctx, const HttpRequest& req) {
  if (ctx.admin_token.empty()) {
    return ErrorResponse(403, "the admin API is disabled (start the server with an admin token)",
                         "PERMISSION_DENIED");
  }
  if (req.authorization.empty()) {
    HttpResponse r = ErrorResponse(401, "admin calls need 'Authorization: Bearer <admin token>'",
                                   "UNAUTHENTICATED");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!TokenMatches(req.authorization, ctx.admin_token)) {
    return ErrorResponse(403, "wrong admin token", "PERMISSION_DENIED");
  }
  return std::nullopt;
}

json KeyspaceJson(const keyspace::Keyspace& k) {
  const keyspace::KeyspaceSpec& s = k.spec;
  json one = {{"index", s.index}, {"name", s.name}, {"mode", keyspace::ModeName(s.mode)},
              {"spec", s.ToString()}, {"generation", k.generation}};
  if (s.mode == keyspace::Mode::kEventual) {
    one["read"] = s.read.ToString();
    one["write"] = s.write.ToString();
  }
  return one;
}

// GET /keyspaces (anyone), POST /keyspaces (admin; body: the spec), DELETE /keyspaces/{name or
// index} (admin).
HttpResponse Keyspaces(HttpContext& ctx, const HttpRequest& req, const Target& t) {
  const bool collection = t.segments.size() == 1;
  if (collection && (req.method == "GET" || req.method == "HEAD")) {
    json list = json::array();
    if (ctx.keyspaces == nullptr) {
      list.push_back({{"index", 0}, {"name", "default"}, {"mode", "strong"}, {"generation", 0}});
    } else {
      for (const keyspace::Keyspace& k : ctx.keyspaces->List()) list.push_back(KeyspaceJson(k));
    }
    return JsonResponse(200, list);
  }
  if (t.segments.size() > 2) return ErrorResponse(404, "no such endpoint", "NOT_FOUND");
  if (collection ? req.method != "POST" : req.method != "DELETE") {
    return MethodNotAllowed(collection ? "GET, HEAD, POST" : "DELETE");
  }
  if (std::optional<HttpResponse> refused = AdminRefusal(ctx, req)) return *refused;
  if (ctx.keyspaces == nullptr) {
    return ErrorResponse(501, "this server cannot create or drop keyspaces", "UNIMPLEMENTED");
  }
  if (collection) {
    absl::StatusOr<keyspace::Keyspace> created = ctx.keyspaces->Create(req.body, ctx.request_timeout);
    if (!created.ok()) return StatusResponse(created.status());
    return JsonResponse(201, KeyspaceJson(*created));
  }
  std::optional<std::string> name = PercentDecode(t.segments[1]);
  if (!name || name->empty()) return ErrorResponse(400, "malformed keyspace name", "INVALID_ARGUMENT");
  if (absl::Status st = ctx.keyspaces->Drop(*name, ctx.request_timeout); !st.ok()) {
    return StatusResponse(st);
  }
  return JsonResponse(200, json{{"ok", true}, {"dropped", *name}});
}

HttpResponse Admin(HttpContext& ctx, const HttpRequest& req, const Target& t) {
  if (std::optional<HttpResponse> refused = AdminRefusal(ctx, req)) return *refused;
  if (req.method != "POST") return MethodNotAllowed("POST");
  WriteOptions options;
  options.timeout = ctx.request_timeout;
  const auto& s = t.segments;
  if (s.size() == 4 && s[1] == "nodes") {
    std::optional<uint32_t> id = ParseU32(s[2]);
    if (!id || *id == 0) return ErrorResponse(400, "node id must be a positive integer", "INVALID_ARGUMENT");
    absl::Status st;
    if (s[3] == "admit") {
      st = ctx.api->AdmitNode(*id, options);
    } else if (s[3] == "drain") {
      st = ctx.api->DrainNode(*id, options);
    } else if (s[3] == "remove") {
      st = ctx.api->RemoveNode(*id, options);
    } else {
      return ErrorResponse(404, "unknown node action (admit, drain, remove)", "NOT_FOUND");
    }
    if (!st.ok()) return StatusResponse(st);
    return JsonResponse(200, json{{"ok", true}, {"node", *id}, {"action", s[3]}});
  }
  if (s.size() == 4 && s[1] == "shards" && s[3] == "transfer-leader") {
    std::optional<uint32_t> shard = ParseU32(s[2]);
    std::optional<std::string> to_text = QueryValue(t, "to");
    std::optional<uint32_t> to = to_text ? ParseU32(*to_text) : std::nullopt;
    if (!shard) return ErrorResponse(400, "shard must be a non-negative integer", "INVALID_ARGUMENT");
    if (!to || *to == 0) return ErrorResponse(400, "?to=<node id> is required", "INVALID_ARGUMENT");
    absl::Status st = ctx.api->TransferShardLeader(*shard, *to, options);
    if (!st.ok()) return StatusResponse(st);
    return JsonResponse(200, json{{"ok", true}, {"shard", *shard}, {"to", *to}});
  }
  return ErrorResponse(404, "unknown admin call", "NOT_FOUND");
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;  // needs two hex digits
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseTtl(std::string_view s) {
  int64_t n = 0;
  if (absl::SimpleAtoi(Av(s), &n)) {
    if (n <= 0 || n > 100LL * 365 * 24 * 3600) {
      return absl::InvalidArgumentError("ttl must be > 0 (and under 100 years)");
    }
    return absl::Seconds(n);
  }
  absl::Duration d;
  if (!absl::ParseDuration(Av(s), &d) || d <= absl::ZeroDuration() ||
      d > absl::Hours(24 * 365 * 100)) {
    return absl::InvalidArgumentError(
        "ttl must be a positive duration such as 30s, 1500ms, 2m, 1h, or whole seconds");
  }
  return d;
}

std::string ClusterJson(const ClusterStatus& st) {
  json nodes = json::array();
  for (const NodeStatus& n : st.nodes) {
    nodes.push_back({{"id", n.id}, {"address", n.address}, {"state", NodeStateName(n.state)},
                     {"gossip", n.gossip_state}, {"phi", n.phi}, {"available", n.available},
                     {"replicas", n.replicas}, {"leaders", n.leaders}});
  }
  json shards = json::array();
  for (const ShardStatus& s : st.shards) {
    shards.push_back({{"shard", s.shard}, {"voters", s.voters}, {"learners", s.learners},
                      {"leader", s.leader}, {"commit_index", s.commit_index},
                      {"max_apply_lag", s.max_apply_lag}, {"entries", s.entries}});
  }
  json doc = {{"self", st.self},           {"ready", st.ready},
              {"map_version", st.map_version}, {"num_shards", st.num_shards},
              {"replication_factor", st.replication_factor},
              {"meta_leader", st.meta_leader}, {"nodes", nodes},
              {"shards", shards}};
  doc["clock"] = {{"monitored", st.clock.monitored},
                  {"out_of_bound", st.clock.out_of_bound},
                  {"median_offset_ms", st.clock.median_offset_ms},
                  {"max_offset_ms", st.clock.max_offset_ms},
                  {"peers_estimated", st.clock.peers_estimated},
                  {"peers_beyond", st.clock.peers_beyond},
                  {"description", st.clock.description}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

HttpResponse ErrorResponse(int status, std::string_view message, std::string_view code) {
  return JsonResponse(status, json{{"error", std::string(message)}, {"code", std::string(code)}});
}

HttpResponse StatusResponse(const absl::Status& s) {
  int status = 500;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: status = 400; break;
    case absl::StatusCode::kFailedPrecondition: status = 409; break;
    case absl::StatusCode::kAlreadyExists: status = 409; break;
    case absl::StatusCode::kNotFound: status = 404; break;
    case absl::StatusCode::kPermissionDenied: status = 403; break;
    case absl::StatusCode::kResourceExhausted: status = 503; break;
    case absl::StatusCode::kUnavailable: status = 503; break;
    case absl::StatusCode::kDeadlineExceeded: status = 504; break;
    case absl::StatusCode::kUnimplemented: status = 501; break;
    default: break;
  }
  HttpResponse r = ErrorResponse(status, std::string_view(s.message().data(), s.message().size()),
                                 absl::StatusCodeToString(s.code()));
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse HandleHttp(HttpContext& ctx, const HttpRequest& req) {
  const Target t = SplitTarget(req.target);
  if (!t.ok) return ErrorResponse(400, "malformed request target", "INVALID_ARGUMENT");
  const std::string first = t.segments.empty() ? "" : t.segments[0];
  const bool single = t.segments.size() == 1;
  if (first == "kv") return Kv(ctx, req, t);
  if (first == "keyspaces") return Keyspaces(ctx, req, t);
  if (first == "admin") return Admin(ctx, req, t);
  if (single && (first == "healthz" || first == "readyz" || first == "metrics" ||
                 first == "cluster")) {
    if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed("GET, HEAD");
    if (first == "healthz") return Text(200, "ok\n");
    if (first == "readyz") {
      return ctx.api->Status().ready ? Text(200, "ready\n") : Text(503, "not ready\n");
    }
    if (first == "cluster") {
      HttpResponse r;
      r.content_type = "application/json";
      r.body = ClusterJson(ctx.api->Status());
      return r;
    }
    if (!ctx.metrics_text) return ErrorResponse(404, "metrics are not enabled", "NOT_FOUND");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = ctx.metrics_text();
    return r;
  }
  return ErrorResponse(404, "no such endpoint (see /healthz, /readyz, /metrics, /cluster, /kv/{key})",
                       "NOT_FOUND");
}

}  // namespace crema::http
