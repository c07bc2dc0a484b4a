// The HTTP server on a real socket against the fake node: keep-alive, malformed requests,
// oversize bodies and headers, slow senders, and `promtool check metrics` on a live /metrics.
#include "transport/http/http_server.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/real_clock.h"
#include "transport/testing/blocking_client.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::http {
namespace {

using crema::testing::BlockingClient;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : executor_(&loop_, &clock_), api_(&clock_, &executor_), front_(&registry_) {}
  ~HttpServerTest() override { StopServer(); }

  void StartServer(HttpServerOptions options = {}) {
    options.listen_address = "127.0.0.1:0";
    HttpContext context;
    context.api = &api_;
    context.admin_token = "secret";
    context.metrics_text = [this] { return registry_.ExposeText(); };
    server_ = std::make_unique<HttpServer>(&loop_, &executor_, &clock_, context, options, &front_);
    ASSERT_TRUE(server_->Start().ok());
    address_ = server_->bound_address();
    thread_ = std::thread([this] { loop_.Run(); });
  }
  void StopServer() {
    if (!thread_.joinable()) return;
    loop_.Stop();
    thread_.join();
    server_->Stop();
  }

  transport::RealClock clock_;
  transport::AsioLoop loop_;
  Executor executor_;
  crema::testing::FakeCacheApi api_;
  metrics::MetricsRegistry registry_;
  metrics::FrontEndMetrics front_;
  metrics::NodeMetrics node_metrics_{&registry_};
  std::unique_ptr<HttpServer> server_;
  std::string address_;
  std::thread thread_;
};

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST_F(HttpServerTest, KeepAliveRequestsInOrder) {
  StartServer();
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                     "GET /kv/a HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = c.ReadFor(absl::Milliseconds(300));
  EXPECT_EQ(StatusLine(got), "HTTP/1.1 204 No Content");
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 3), "abc");
  EXPECT_FALSE(c.closed());
}

TEST_F(HttpServerTest, MalformedHttpGets400AndClose) {
  StartServer();
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /kv/a HTTP/9.9\r\n\r\n",
                          "GET /kv/a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "\x01\x02\x03\x04\r\n\r\n"}) {
    BlockingClient c(address_);
    ASSERT_TRUE(c.Send(bad));
    const std::string got = c.ReadUntilClosed();
    EXPECT_EQ(StatusLine(got), "HTTP/1.1 400 Bad Request") << bad;
    EXPECT_NE(got.find("malformed HTTP request"), std::string::npos) << got;
    EXPECT_TRUE(c.closed());
  }
}

TEST_F(HttpServerTest, OversizeBodyAndHeaders) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  StartServer(options);
  {
    BlockingClient c(address_);
    ASSERT_TRUE(c.Send("PUT /kv/a HTTP/1.1\r\nContent-Length: 5000\r\n\r\n"));
    EXPECT_EQ(StatusLine(c.ReadUntilClosed()), "HTTP/1.1 413 Payload Too Large");
  }
  {
    BlockingClient c(address_);
    ASSERT_TRUE(c.Send("GET /kv/" + std::string(4096, 'k') + " HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(StatusLine(c.ReadUntilClosed()), "HTTP/1.1 431 Request Header Fields Too Large");
  }
}

TEST_F(HttpServerTest, SlowSenderTimesOut) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(300);
  StartServer(options);
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("GET /kv/a HTTP/1.1\r\nHo"));
  const absl::Time start = absl::Now();
  EXPECT_EQ(c.ReadUntilClosed(absl::Seconds(3)), "");  // dropped (Beast closes on timeout)
  EXPECT_TRUE(c.closed());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(HttpServerTest, LiveMetricsPassPromtool) {
  StartServer();
  {
    BlockingClient c(address_);
    ASSERT_TRUE(c.Send("GET /kv/missing HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
    c.ReadFor(absl::Milliseconds(200));
  }
  node_metrics_.ShardHasLeader(0).Set(1);
  node_metrics_.Members("alive").Set(3);
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const std::string got = c.ReadUntilClosed();
  ASSERT_EQ(StatusLine(got), "HTTP/1.1 200 OK");
  const std::string body = got.substr(got.find("\r\n\r\n") + 4);
  EXPECT_NE(body.find("crema_requests_total{command=\"kv_get\",outcome=\"not_found\",protocol=\"http\"} 1"),
            std::string::npos)
      << body;
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/metrics.txt";
  std::ofstream(path) << body;
  const std::string promtool = "/usr/bin/promtool";
  ASSERT_EQ(std::system(("test -x " + promtool).c_str()), 0)
      << "promtool missing: tools/install_deps.sh installs Debian's prometheus package";
  const int rc = std::system((promtool + " check metrics < " + path + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << "promtool check metrics failed on:\n" << body;
}

}  // namespace
}  // namespace crema::http
