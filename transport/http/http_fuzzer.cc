// Fuzz target: HTTP request handling — the bytes a client sends to the HTTP port, parsed exactly
// as http_server.cc parses them (its RequestParser with the server's limits, then RequestOf), then
// routed by HandleHttp (handler.h) onto a KeyspaceNode over a FakeCacheApi (an in-memory CacheApi
// whose keyspaces follow the metadata group's own rules: the front end is what is fuzzed here; the
// cluster behind it has its own tests).
//
// Modes (first byte; bit 0):
//   0  raw: the rest is the request stream (possibly several pipelined requests), read as the
//      server reads it (ParserFeeder, parser_feeder.h) in segments of (first byte >> 1) & 15
//      bytes as they would arrive from the socket (0: the whole stream in one segment);
//   1  structured: a sequence of (method, target, authorization, body) requests sent to HandleHttp
//      directly, the targets built from fuzz bytes under /kv/, /admin/, /keyspaces/ and the other
//      routes.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); Beast
// never hands over a body over max_body_bytes; every response has a status in 200..599 and never
// 500 (bad input is the client's error, not the server's); error bodies are JSON; admin routes
// never succeed without the token; a PUT answered 204 is read back by the next GET of that key.
#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "node/clock.h"
#include "node/keyspace/keyspace_node.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"
#include "transport/http/handler.h"
#include "transport/http/http_server.h"
#include "transport/http/parser_feeder.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::http {
namespace {

namespace bhttp = boost::beast::http;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "http_fuzzer: %s\n", what);
  std::abort();
}

constexpr char kToken[] = "fuzz-admin-token";

struct World {
  ManualClock clock;
  crema::testing::FakeCacheApi api{&clock, nullptr};
  std::unique_ptr<keyspace::KeyspaceNode> keyspaces;
  HttpContext context;
  World() {
    api.EnableKeyspaces(*keyspace::ParseKeyspaces("1:sessions:strong:ttl=1h"));
    keyspaces = std::make_unique<keyspace::KeyspaceNode>(&api, nullptr, &clock,
                                                         *keyspace::ParseKeyspaces(""));
    context.keyspaces = keyspaces.get();
    context.api = &api;
    context.admin_token = kToken;
    context.metrics_text = [] { return std::string("crema_up 1\n"); };
  }
};

HttpResponse Handle(World& w, const HttpRequest& request) {
  HttpResponse r = HandleHttp(w.context, request);
  if (r.status < 200 || r.status > 599) Fail("a status outside 200..599");
  if (r.status == 500) Fail("a request made the handler answer 500");
  if (r.status >= 400 && r.content_type.find("json") != std::string::npos &&
      !nlohmann::json::accept(r.body)) {
    Fail("an error body that is not JSON");
  }
  const bool admin = request.target.rfind("/admin", 0) == 0;
  if (admin && r.status < 300 && request.authorization != std::string("Bearer ") + kToken) {
    Fail("an admin call succeeded without the token");
  }
  return r;
}

void Raw(World& w, std::string_view stream, size_t segment) {
  const HttpServerOptions limits;
  if (segment == 0) segment = std::max<size_t>(stream.size(), 1);
  boost::beast::flat_buffer buffer;
  size_t at = 0;  // of `stream`, delivered into `buffer` so far
  for (int requests = 0; requests < 16; ++requests) {
    RequestParser parser;  // exactly what http_server.cc reads requests with
    LimitRequestParser(limits, parser);
    parser.eager(true);
    ParserFeeder feeder;
    boost::beast::error_code ec;
    FeedResult result = FeedResult::kNeedMore;
    for (;;) {
      if (buffer.size() >= feeder.min_size()) {
        result = feeder.Feed(parser, buffer, ec);
        if (result != FeedResult::kNeedMore) break;
      }
      if (at == stream.size()) return;  // the client sent no more: the server would wait
      const size_t n = std::min(segment, stream.size() - at);
      boost::asio::buffer_copy(buffer.prepare(n), boost::asio::buffer(stream.data() + at, n));
      buffer.commit(n);
      at += n;
    }
    if (result == FeedResult::kError) return;  // the server answers 400/413/431 and closes
    const auto& msg = parser.get();
    const HttpRequest request = RequestOf(msg);
    if (request.body.size() > limits.max_body_bytes) Fail("a body over max_body_bytes");
    Handle(w, request);
    if (!msg.keep_alive()) return;
  }
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void Structured(World& w, fuzz::FuzzInput& in) {
  static const char* const kMethods[] = {"GET", "PUT", "DELETE", "POST", "HEAD", "PATCH", ""};
  static const char* const kRoutes[] = {"/kv/",    "/admin/nodes/", "/admin/shards/", "/healthz",
                                        "/readyz", "/metrics",      "/cluster",       "/"};
  while (!in.empty()) {
    HttpRequest request;
    request.method = kMethods[in.InRange(0, 6)];
    const uint8_t shape = in.U8();
    request.target = (shape & 128) != 0 ? "/keyspaces/" : kRoutes[shape % 8];
    std::string key = in.Bytes(64);
    request.target += (shape & 8) != 0 ? PercentEncode(key) : key;
    if ((shape & 16) != 0) request.target += in.Bytes(32);  // query, suffixes, raw garbage
    if ((shape & 32) != 0) request.authorization = std::string("Bearer ") + kToken;
    if ((shape & 64) != 0) request.authorization = in.Bytes(24);
    request.body = in.Bytes(256);
    const HttpResponse r = Handle(w, request);
    // A write that succeeded is read back (no TTL query: bit 16 off; the fake has no other writer).
    if (request.method == "PUT" && r.status == 204 && shape % 8 == 0 && (shape & 152) == 8) {
      HttpRequest get{"GET", request.target, "", ""};
      const HttpResponse back = Handle(w, get);
      if (back.status != 200 || back.body != request.body) Fail("a 204 PUT was not read back");
    }
  }
}

}  // namespace
}  // namespace crema::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::http;
  World world;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const uint8_t mode = in.U8();
  if (mode % 2 == 0) {
    Raw(world, in.Rest(), (mode >> 1) & 15);
  } else {
    Structured(world, in);
  }
  return 0;
}
