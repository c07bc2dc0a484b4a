#include "transport/http/handler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "node/clock.h"
#include "node/executor.h"
#include "transport/asio_loop.h"
#include "node/keyspace/keyspace_node.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::http {
namespace {

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : executor_(&loop_, &clock_), api_(&clock_, &executor_) {
    context_.api = &api_;
    context_.admin_token = "secret";
    context_.metrics_text = [] { return std::string("crema_x 1\n"); };
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    std::string auth = "") {
    HttpResponse response;
    bool done = false;
    executor_.Spawn("http", [&] {
      response = HandleHttp(context_, {method, target, auth, body});
      done = true;
    });
    EXPECT_TRUE(loop_.RunUntil([&] { return done; }, absl::Seconds(5)));
    return response;
  }

  ManualClock clock_;
  transport::AsioLoop loop_;
  Executor executor_;
  crema::testing::FakeCacheApi api_;
  HttpContext context_;
};

TEST_F(HandlerTest, KvRoundTripWithTtlAndConsistency) {
  EXPECT_EQ(Call("PUT", "/kv/a%2Fb?ttl=10s", "v\x01").status, 204);
  HttpResponse got = Call("GET", "/kv/a%2Fb?consistency=linearizable");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "v\x01");
  EXPECT_EQ(api_.last_read_consistency(), ReadConsistency::kLinearizable);
  clock_.Advance(absl::Seconds(11));
  EXPECT_EQ(Call("GET", "/kv/a%2Fb").status, 404);
  EXPECT_EQ(Call("PUT", "/kv/k", "1").status, 204);
  EXPECT_EQ(Call("DELETE", "/kv/k").status, 204);
  EXPECT_EQ(Call("DELETE", "/kv/k").status, 404);
}

TEST_F(HandlerTest, BadRequestsGetClearErrors) {
  EXPECT_EQ(Call("GET", "/kv/").status, 400);
  EXPECT_EQ(Call("GET", "/kv/a/b").status, 400);
  EXPECT_EQ(Call("GET", "/kv/%zz").status, 400);
  EXPECT_EQ(Call("GET", "/kv/a%4").status, 400);
  EXPECT_EQ(Call("GET", "/kv/a?consistency=eventual").status, 400);
  EXPECT_EQ(Call("PUT", "/kv/a?ttl=-3").status, 400);
  EXPECT_EQ(Call("PUT", "/kv/a?ttl=soon").status, 400);
  EXPECT_EQ(Call("GET", "/kv/" + std::string(kMaxKeyBytes + 1, 'k')).status, 414);
  HttpResponse m = Call("POST", "/kv/a");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.headers[0].first, "Allow");
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  EXPECT_EQ(Call("GET", "nope").status, 400);
  const auto body = nlohmann::json::parse(Call("GET", "/kv/").body);
  EXPECT_EQ(body["code"], "INVALID_ARGUMENT");
}

TEST_F(HandlerTest, NodeErrorsMapToStatusCodes) {
  api_.FailNext(absl::UnavailableError("no leader"));
  HttpResponse r = Call("GET", "/kv/a");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  api_.FailNext(absl::DeadlineExceededError("slow"));
  EXPECT_EQ(Call("PUT", "/kv/a", "v").status, 504);
}

TEST_F(HandlerTest, HealthReadyMetricsCluster) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 503);
  api_.status().ready = true;
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  EXPECT_EQ(Call("GET", "/metrics").body, "crema_x 1\n");
  EXPECT_EQ(Call("PUT", "/metrics").status, 405);
  api_.status().self = 1;
  api_.status().map_version = 9;
  api_.status().nodes.push_back({1, "127.0.0.1:7001", NodeState::kActive, "alive", 0.5, true, 3, 2});
  api_.status().shards.push_back({0, {1, 2, 3}, {}, 1, 42, 0, 7});
  const auto cluster = nlohmann::json::parse(Call("GET", "/cluster").body);
  EXPECT_EQ(cluster["map_version"], 9);
  EXPECT_EQ(cluster["nodes"][0]["gossip"], "alive");
  EXPECT_EQ(cluster["nodes"][0]["phi"], 0.5);
  EXPECT_EQ(cluster["shards"][0]["voters"], nlohmann::json::array({1, 2, 3}));
  EXPECT_EQ(cluster["shards"][0]["leader"], 1);
}

TEST_F(HandlerTest, AdminNeedsTheToken) {
  api_.status().num_shards = 4;
  EXPECT_EQ(Call("POST", "/admin/nodes/4/admit").status, 401);
  EXPECT_EQ(Call("POST", "/admin/nodes/4/admit", "", "Bearer wrong").status, 403);
  EXPECT_EQ(Call("POST", "/admin/whatever").status, 401);  // unknown call, no token: 401 first
  EXPECT_EQ(Call("POST", "/admin/whatever", "", "Bearer secret").status, 404);
  EXPECT_EQ(Call("GET", "/admin/nodes/4/admit", "", "Bearer secret").status, 405);
  EXPECT_EQ(Call("POST", "/admin/nodes/x/admit", "", "Bearer secret").status, 400);
  EXPECT_EQ(Call("POST", "/admin/nodes/4/admit", "", "Bearer secret").status, 200);
  EXPECT_EQ(Call("POST", "/admin/nodes/2/drain", "", "Bearer secret").status, 200);
  EXPECT_EQ(Call("POST", "/admin/nodes/3/remove", "", "Bearer secret").status, 200);
  EXPECT_EQ(Call("POST", "/admin/shards/1/transfer-leader", "", "Bearer secret").status, 400);
  EXPECT_EQ(Call("POST", "/admin/shards/1/transfer-leader?to=2", "", "Bearer secret").status, 200);
  EXPECT_EQ(Call("POST", "/admin/shards/9/transfer-leader?to=2", "", "Bearer secret").status, 404);
  EXPECT_EQ(api_.admin_log,
            (std::vector<std::string>{"admit 4", "drain 2", "remove 3", "transfer 1 to 2"}));
  context_.admin_token.clear();
  EXPECT_EQ(Call("POST", "/admin/nodes/4/admit", "", "Bearer secret").status, 403);
}

TEST(HttpPiecesTest, PercentDecodeAndTtl) {
  EXPECT_EQ(PercentDecode("a%20b%2f"), "a b/");
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("%g0"), std::nullopt);
  EXPECT_EQ(*ParseTtl("10"), absl::Seconds(10));
  EXPECT_EQ(*ParseTtl("1500ms"), absl::Milliseconds(1500));
  EXPECT_FALSE(ParseTtl("0").ok());
  EXPECT_FALSE(ParseTtl("-1s").ok());
}

// POST /keyspaces, GET /keyspaces, DELETE /keyspaces/{name}: parsing, the admin token, the codes.
TEST_F(HandlerTest, KeyspacesAreCreatedListedAndDroppedByTheAdmin) {
  api_.EnableKeyspaces(*keyspace::ParseKeyspaces(""));
  keyspace::KeyspaceNode keyspaces(&api_, nullptr, &clock_, *keyspace::ParseKeyspaces(""));
  context_.keyspaces = &keyspaces;
  const std::string admin = "Bearer secret";
  // Only the admin creates and drops; anyone lists.
  EXPECT_EQ(Call("POST", "/keyspaces", "3:carts:strong").status, 401);
  EXPECT_EQ(Call("POST", "/keyspaces", "3:carts:strong", "Bearer wrong").status, 403);
  EXPECT_EQ(Call("DELETE", "/keyspaces/carts").status, 401);
  HttpResponse created = Call("POST", "/keyspaces", "3:carts:strong:ttl=1h\n", admin);
  ASSERT_EQ(created.status, 201) << created.body;
  nlohmann::json k = nlohmann::json::parse(created.body);
  EXPECT_EQ(k["name"], "carts");
  EXPECT_EQ(k["index"], 3);
  EXPECT_EQ(k["generation"], 1);
  HttpResponse list = Call("GET", "/keyspaces");
  ASSERT_EQ(list.status, 200);
  nlohmann::json all = nlohmann::json::parse(list.body);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["spec"], "3:carts:strong:ttl=1h");
  // The new keyspace takes data at once.
  EXPECT_EQ(Call("PUT", "/kv/k?keyspace=carts", "v").status, 204);
  EXPECT_EQ(Call("GET", "/kv/k?keyspace=3").body, "v");
  EXPECT_EQ(Call("GET", "/kv/k").status, 404);
  // Refusals with their codes, the field named.
  HttpResponse dup = Call("POST", "/keyspaces", "3:other:strong", admin);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(nlohmann::json::parse(dup.body)["code"], "ALREADY_EXISTS");
  HttpResponse bad = Call("POST", "/keyspaces", "4:Bad Name:strong", admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("name"), std::string::npos) << bad.body;
  EXPECT_EQ(Call("POST", "/keyspaces", "", admin).status, 400);
  EXPECT_EQ(Call("POST", "/keyspaces", std::string(10'000, 'x'), admin).status, 400);
  EXPECT_EQ(Call("POST", "/keyspaces", "4:ev:eventual", admin).status, 409);  // no eventual node
  EXPECT_EQ(Call("PUT", "/keyspaces", "4:x:strong", admin).status, 405);
  EXPECT_EQ(Call("GET", "/keyspaces/carts", "", admin).status, 405);
  EXPECT_EQ(Call("DELETE", "/keyspaces/a/b", "", admin).status, 404);
  EXPECT_EQ(Call("DELETE", "/keyspaces/%zz", "", admin).status, 400);
  EXPECT_EQ(Call("DELETE", "/keyspaces/0", "", admin).status, 400);
  EXPECT_EQ(Call("DELETE", "/keyspaces/nosuch", "", admin).status, 404);
  // Bytes that are not UTF-8 are echoed in error messages: the JSON still encodes (replaced).
  HttpResponse binary = Call("POST", "/keyspaces", "4:\xff\xfe:strong", admin);
  EXPECT_EQ(binary.status, 400);
  EXPECT_TRUE(nlohmann::json::accept(binary.body)) << binary.body;
  HttpResponse binary_name = Call("DELETE", "/keyspaces/%FF%C0", "", admin);
  EXPECT_EQ(binary_name.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(binary_name.body)) << binary_name.body;
  // The same for any client (no token) naming a keyspace that way: it used to end the process
  // (nlohmann's dump() threw on the echoed name).
  HttpResponse binary_kv = Call("GET", "/kv/k?keyspace=%FF");
  EXPECT_EQ(binary_kv.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(binary_kv.body)) << binary_kv.body;
  // Drop: gone at once; re-created under the same index it holds none of the old data.
  EXPECT_EQ(Call("DELETE", "/keyspaces/carts", "", admin).status, 200);
  EXPECT_EQ(Call("GET", "/kv/k?keyspace=carts").status, 404);
  EXPECT_EQ(Call("DELETE", "/keyspaces/carts", "", admin).status, 404);
  ASSERT_EQ(Call("POST", "/keyspaces", "3:carts:strong", admin).status, 201);
  EXPECT_EQ(Call("GET", "/kv/k?keyspace=carts").status, 404);
}

}  // namespace
}  // namespace crema::http
