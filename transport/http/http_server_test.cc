// The HTTP server on a real socket against the fake node: keep-alive, malformed requests,
// oversize bodies and headers, slow senders, a chunked body's last line split across segments,
// and `promtool check metrics` on a live /metrics; ParserFeeder on its own.
#include "transport/http/http_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/real_clock.h"
#include "transport/testing/blocking_client.h"
#include "transport/http/parser_feeder.h"
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

// Regression (http_fuzzer, raw mode): a chunked body whose last-chunk line ("0\r\n") arrives
// alone, followed by one more byte in the next segment, made Beast 1.74's parser assert
// (`n >= 5`, basic_parser.ipp) inside http::async_read and abort the server. Now it is a clean
// 400 on that connection, and the server goes on serving.
TEST_F(HttpServerTest, ChunkedLastLineSplitAcrossSegmentsGets400NotAnAbort) {
  StartServer();
  {
    BlockingClient c(address_);
    ASSERT_TRUE(c.Send("POST /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"));
    absl::SleepFor(absl::Milliseconds(100));  // the server has parsed "0\r\n" and waits
    ASSERT_TRUE(c.Send("\n"));
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\n\r\n"));
    const std::string got = c.ReadUntilClosed();
    EXPECT_EQ(StatusLine(got), "HTTP/1.1 400 Bad Request") << got;
    EXPECT_TRUE(c.closed());
  }
  // A valid chunked PUT whose last lines arrive the same way is served, and so is the next client.
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n"));
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(c.Send("\r"));
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_TRUE(c.Send("\nGET /kv/a HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = c.ReadFor(absl::Milliseconds(300));
  EXPECT_EQ(StatusLine(got), "HTTP/1.1 204 No Content") << got;
  EXPECT_EQ(got.substr(got.size() - 3), "abc") << got;
}

// ParserFeeder (parser_feeder.h) alone: fed one byte at a time — the worst segmentation — the
// bad input above ends in a parse error, never an assertion; and a valid chunked request, split
// anywhere into two segments, always completes (waiting for 2 more bytes never waits too long).
std::pair<FeedResult, std::string> FeedInSegments(std::string_view stream, size_t first_segment,
                                                  size_t later_segments) {
  RequestParser parser;
  LimitRequestParser(HttpServerOptions{}, parser);
  parser.eager(true);
  ParserFeeder feeder;
  boost::beast::flat_buffer buffer;
  size_t at = 0;
  FeedResult result = FeedResult::kNeedMore;
  boost::beast::error_code ec;
  while (result == FeedResult::kNeedMore && at < stream.size()) {
    const size_t n = std::min(stream.size() - at, at == 0 ? first_segment : later_segments);
    boost::asio::buffer_copy(buffer.prepare(n), boost::asio::buffer(stream.data() + at, n));
    buffer.commit(n);
    at += n;
    if (buffer.size() >= feeder.min_size()) result = feeder.Feed(parser, buffer, ec);
  }
  return {result, result == FeedResult::kDone ? RequestOf(parser.get()).body : ec.message()};
}

TEST(ParserFeederTest, ChunkedLastLineByteByByteIsAnErrorNotAnAssertion) {
  const std::string bad =
      "POST /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\n\r\n";
  const auto [result, why] = FeedInSegments(bad, 1, 1);
  EXPECT_EQ(result, FeedResult::kError) << why;
}

TEST(ParserFeederTest, ValidChunkedRequestCompletesHoweverItIsSplit) {
  const std::string good =
      "PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  for (size_t split = 1; split <= good.size(); ++split) {
    const auto [result, body] = FeedInSegments(good, split, good.size());
    EXPECT_EQ(result, FeedResult::kDone) << "split at " << split << ": " << body;
    EXPECT_EQ(body, "abc") << "split at " << split;
  }
  const auto [result, body] = FeedInSegments(good, 1, 1);
  EXPECT_EQ(result, FeedResult::kDone) << body;
  EXPECT_EQ(body, "abc");
}

// Regression (http_fuzzer): a declared Content-Length reserves nothing; the body grows as its
// bytes arrive. With Beast's string_body, these 60 bytes made the server reserve 4 MiB for the
// connection (4 GiB over max_connections connections that never send a body).
TEST(RequestParserTest, DeclaredContentLengthReservesNothing) {
  HttpServerOptions options;
  RequestParser parser;
  LimitRequestParser(options, parser);
  parser.eager(true);
  const std::string head = absl::StrCat("PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                                        options.max_body_bytes, "\r\n\r\nabcdefghij");
  boost::beast::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(head), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(used, head.size());
  EXPECT_FALSE(parser.is_done());
  EXPECT_LT(parser.get().body().capacity(), size_t{64 * 1024});
  // The rest of the body arrives and the request is whole.
  const std::string rest(options.max_body_bytes - 10, 'v');
  size_t at = 0;
  while (!ec && at < rest.size()) {
    at += parser.put(boost::asio::buffer(rest.data() + at, rest.size() - at), ec);
  }
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  const HttpRequest request = RequestOf(parser.get());
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.body.size(), options.max_body_bytes);
  EXPECT_EQ(request.body.substr(0, 10), "abcdefghij");
}

}  // namespace
}  // namespace crema::http
