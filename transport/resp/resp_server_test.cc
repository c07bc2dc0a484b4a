// The RESP server on a real socket, against the fake node: pipelining and ordering, concurrency
// across keys, limits (clients, idle, half-sent requests, output buffers, fiber budget) and bad
// input. The loop runs on a background thread; the test thread is the client.
#include "transport/resp/resp_server.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <boost/asio/post.hpp>

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "node/keyspace/keyspace_node.h"
#include "node/metrics/crema_metrics.h"
#include "transport/real_clock.h"
#include "transport/testing/blocking_client.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::resp {
namespace {

using crema::testing::BlockingClient;

class RespServerTest : public ::testing::Test {
 protected:
  RespServerTest() : executor_(&loop_, &clock_), api_(&clock_, &executor_), front_(&registry_) {}
  ~RespServerTest() override { StopServer(); }

  void StartServer(RespServerOptions options = {}, ServerSettings settings = {}) {
    options.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<RespServer>(&loop_, &executor_, &clock_, &api_, settings, options,
                                           &front_);
    ASSERT_TRUE(server_->Start().ok());
    address_ = server_->bound_address();
    thread_ = std::thread([this] { loop_.Run(); });
  }
  // Runs `read` on the server's loop thread and returns its result (the server is loop-thread
  // only: reading it from the test's thread is a data race, which TSan reported).
  template <typename F>
  auto OnLoop(F read) {
    std::promise<decltype(read())> result;
    boost::asio::post(loop_.io_context(), [&] { result.set_value(read()); });
    return result.get_future().get();
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
  std::unique_ptr<RespServer> server_;
  std::string address_;
  std::thread thread_;
};

TEST_F(RespServerTest, PipelinedRepliesInOrderAcrossSplitWrites) {
  StartServer();
  BlockingClient c(address_);
  const std::string stream =
      "SET a 1\r\nGET a\r\n*2\r\n$4\r\nECHO\r\n$4\r\nx\r\ny\r\nFOO\r\nGET\r\nINCR a\r\nPING\r\n";
  for (char ch : stream) ASSERT_TRUE(c.Send(std::string(1, ch)));
  const std::string expected =
      "+OK\r\n$1\r\n1\r\n$4\r\nx\r\ny\r\n"
      "-ERR unknown command 'FOO', with args beginning with: \r\n"
      "-ERR wrong number of arguments for 'get' command\r\n:2\r\n+PONG\r\n";
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
}

TEST_F(RespServerTest, SameKeyInOrderOtherKeysConcurrent) {
  api_.set_delay(absl::Milliseconds(100));
  StartServer();
  BlockingClient c(address_);
  std::string request;
  for (int i = 0; i < 20; ++i) absl::StrAppend(&request, "GET k", i, "\r\n");
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c.Send(request));
  std::string expected;
  for (int i = 0; i < 20; ++i) expected += "$-1\r\n";
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(20 * 100 / 2));  // not one at a time
  ASSERT_TRUE(c.Send("SET k 1\r\nGET k\r\nSET k 2\r\nGET k\r\nINCR k\r\nGET k\r\n"));
  const std::string ordered = "+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n:3\r\n$1\r\n3\r\n";
  EXPECT_EQ(c.ReadExactly(ordered.size()), ordered);
  StopServer();
  EXPECT_GT(api_.max_concurrent_calls(), 1);
}

TEST_F(RespServerTest, PipelinedPlainSetsBecomeOneMultiPut) {
  api_.set_delay(absl::Milliseconds(30));  // keeps the first SET in flight while the rest arrive
  StartServer();
  BlockingClient c(address_);
  std::string request = "GET warmup\r\n";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&request, "SET b", i, " v", i, "\r\n");
  absl::StrAppend(&request, "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nx\r\n");  // empty key
  absl::StrAppend(&request, "SET b0 again EX 100\r\nGET b0\r\nGET b19\r\n");
  ASSERT_TRUE(c.Send(request));
  std::string expected = "$-1\r\n";
  for (int i = 0; i < 20; ++i) expected += "+OK\r\n";
  expected += "-ERR key must be 1..65536 bytes\r\n+OK\r\n$5\r\nagain\r\n$3\r\nv19\r\n";
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  StopServer();
  int multi_puts = 0, puts = 0;
  for (const std::string& call : api_.calls()) {
    multi_puts += call == "MultiPutEach";
    puts += call == "Put";
  }
  EXPECT_GE(multi_puts, 1);
  EXPECT_LE(multi_puts, 3);
  EXPECT_EQ(puts, 2);  // the empty key alone, and SET with options
  for (int i = 1; i < 20; ++i) EXPECT_EQ(api_.writes_of(absl::StrCat("b", i)), 1) << i;
  EXPECT_EQ(api_.writes_of("b0"), 2);  // the batch, then SET b0 again EX 100
}

// Each SET of a pipelined batch gets its own outcome, in order, and is applied exactly once: a
// failing entry answers its own error without failing (or re-running) the others.
TEST_F(RespServerTest, PipelinedSetBatchRepliesPerCommandAndAppliesEachOnce) {
  api_.set_delay(absl::Milliseconds(20));
  api_.FailKey("s7", absl::UnavailableError("shard 3 has no leader"));
  StartServer();
  BlockingClient c(address_);
  std::string request;
  for (int i = 0; i < 40; ++i) absl::StrAppend(&request, "SET s", i, " v", i, "\r\n");
  absl::StrAppend(&request, "GET s7\r\nGET s39\r\n");
  ASSERT_TRUE(c.Send(request));
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    expected += i == 7 ? "-CLUSTERDOWN shard 3 has no leader\r\n" : "+OK\r\n";
  }
  expected += "$-1\r\n$3\r\nv39\r\n";
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  StopServer();
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(api_.writes_of(absl::StrCat("s", i)), i == 7 ? 0 : 1) << "s" << i;
  }
  int batches = 0;
  for (const std::string& call : api_.calls()) {
    EXPECT_NE(call, "Put");  // no SET ran alone as well as in a batch
    batches += call == "MultiPutEach";
  }
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, 2);
}

// GETs the node can answer without waiting are answered inline (no fiber, CacheApi::TryGetNow),
// yet replies still leave in request order behind slower commands, and a GET still waits for an
// earlier write of its key.
TEST_F(RespServerTest, InlineReadsKeepReplyOrderBehindSlowCommands) {
  api_.set_inline_reads(true);
  api_.set_delay(absl::Milliseconds(50));  // every call but TryGetNow
  StartServer();
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("SET a 1\r\nGET b\r\nGET a\r\nINCR b\r\nGET b\r\nGET c\r\nPING\r\n"));
  const std::string expected = "+OK\r\n$-1\r\n$1\r\n1\r\n:1\r\n$1\r\n1\r\n$-1\r\n+PONG\r\n";
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  StopServer();
  int inline_reads = 0, fiber_reads = 0;
  for (const std::string& call : api_.calls()) {
    inline_reads += call == "TryGetNow";
    fiber_reads += call == "Get";
  }
  EXPECT_EQ(inline_reads, 4);
  EXPECT_EQ(fiber_reads, 0);
}

// More pipelined inline reads than the window holds: the answered head is popped and parsing
// goes on with what is buffered (no fiber completion comes to restart it).
TEST_F(RespServerTest, InlineReadsBeyondTheWindowAreAllAnswered) {
  api_.set_inline_reads(true);
  RespServerOptions options;
  options.pipeline_window = 4;
  StartServer(options);
  BlockingClient c(address_);
  std::string request, expected;
  for (int i = 0; i < 50; ++i) {
    absl::StrAppend(&request, "GET w", i, "\r\n");
    expected += "$-1\r\n";
  }
  ASSERT_TRUE(c.Send(request));
  EXPECT_EQ(c.ReadExactly(expected.size(), absl::Seconds(3)), expected);
}

// A read batch that can be answered at once leaves in one socket write, not one per reply.
TEST_F(RespServerTest, PipelinedInlineReadsShareOneWrite) {
  api_.set_inline_reads(true);
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(api_.Put(absl::StrCat("r", i), absl::StrCat("v", i), PutOptions{}).ok());
  }
  StartServer();
  BlockingClient c(address_);
  std::string request, expected;
  for (int i = 0; i < 16; ++i) {
    absl::StrAppend(&request, "GET r", i, "\r\n");
    const std::string v = absl::StrCat("v", i);
    absl::StrAppend(&expected, "$", v.size(), "\r\n", v, "\r\n");
  }
  const absl::Time sent = clock_.MonotonicNow();
  ASSERT_TRUE(c.Send(request));
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  StopServer();
  EXPECT_EQ(server_->context().counters.reply_writes, 1u);
  EXPECT_EQ(server_->context().counters.commands_processed, 16u);
  // Recorded as 16 requests, however they were batched into the metrics.
  EXPECT_EQ(front_.Requests("resp", "get", "ok").value(), 16);
  EXPECT_EQ(front_.Latency("resp", "get").count(), 16u);
  // The window's reads were decided with one reading of the clocks, taken after they arrived.
  ASSERT_EQ(api_.inline_readings().size(), 16u);
  ASSERT_TRUE(api_.inline_readings()[0].has_value());
  EXPECT_GE(api_.inline_readings()[0]->monotonic, sent);
  for (const std::optional<ClockReading>& r : api_.inline_readings()) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->monotonic, api_.inline_readings()[0]->monotonic);
    EXPECT_EQ(r->wall, api_.inline_readings()[0]->wall);
  }
}

// A window of inline GETs opens the session's keyspace once (InlineWindow); a later window after
// a SELECT reads the newly selected keyspace, not the handle of an earlier window.
TEST_F(RespServerTest, InlineReadsReadTheKeyspaceSelectedWhenTheirWindowOpens) {
  api_.set_inline_reads(true);
  const std::vector<keyspace::KeyspaceSpec> specs = *keyspace::ParseKeyspaces("3:carts:strong");
  api_.EnableKeyspaces(specs);
  keyspace::KeyspaceNode keyspaces(&api_, nullptr, &clock_, specs);
  StartServer();
  OnLoop([&] {
    server_->set_keyspaces(&keyspaces);
    return true;
  });
  BlockingClient c(address_);
  const std::string setup = "SET k zero\r\nSELECT 3\r\nSET k three\r\nSELECT 0\r\n";
  ASSERT_TRUE(c.Send(setup));
  EXPECT_EQ(c.ReadExactly(20), "+OK\r\n+OK\r\n+OK\r\n+OK\r\n");
  ASSERT_TRUE(c.Send("GET k\r\nGET k\r\nSELECT 3\r\n"));
  EXPECT_EQ(c.ReadExactly(25), "$4\r\nzero\r\n$4\r\nzero\r\n+OK\r\n");
  ASSERT_TRUE(c.Send("GET k\r\nGET k\r\n"));
  EXPECT_EQ(c.ReadExactly(22), "$5\r\nthree\r\n$5\r\nthree\r\n");
  ASSERT_TRUE(c.Send("SELECT 0\r\nGET k\r\n"));
  EXPECT_EQ(c.ReadExactly(15), "+OK\r\n$4\r\nzero\r\n");
  StopServer();
  EXPECT_GE(std::count(api_.calls().begin(), api_.calls().end(), "TryGetNow"), 4);
}

TEST_F(RespServerTest, StateChangesApplyToLaterPipelinedCommandsOnly) {
  api_.set_delay(absl::Milliseconds(20));
  ServerSettings settings;
  settings.password = "pw";
  StartServer({}, settings);
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("GET a\r\nAUTH pw\r\nGET a\r\nHELLO 3\r\nGET a\r\n"));
  const std::string head = "-NOAUTH Authentication required.\r\n+OK\r\n$-1\r\n";
  EXPECT_EQ(c.ReadExactly(head.size()), head);
  const std::string rest = c.ReadFor(absl::Milliseconds(500));
  ASSERT_GE(rest.size(), 3u);
  EXPECT_EQ(rest.substr(0, 2), "%8");
  EXPECT_EQ(rest.substr(rest.size() - 3), "_\r\n");  // RESP3 null after HELLO 3
}

TEST_F(RespServerTest, ProtocolErrorAnswersAfterEarlierRepliesThenCloses) {
  StartServer();
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("PING\r\n*1\r\n$-5\r\nPING\r\n"));
  EXPECT_EQ(c.ReadUntilClosed(), "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(c.closed());
  BlockingClient other(address_);  // the server is fine
  ASSERT_TRUE(other.Send("PING\r\n"));
  EXPECT_EQ(other.ReadExactly(7), "+PONG\r\n");
}

TEST_F(RespServerTest, QuitRepliesThenClosesAndDropsTheRest) {
  StartServer();
  BlockingClient c(address_);
  ASSERT_TRUE(c.Send("SET q 1\r\nQUIT\r\nSET q 2\r\n"));
  EXPECT_EQ(c.ReadUntilClosed(), "+OK\r\n+OK\r\n");
  BlockingClient check(address_);
  ASSERT_TRUE(check.Send("GET q\r\n"));
  EXPECT_EQ(check.ReadExactly(7), "$1\r\n1\r\n");
}

TEST_F(RespServerTest, MaxClients) {
  RespServerOptions options;
  options.max_clients = 1;
  StartServer(options);
  BlockingClient first(address_);
  ASSERT_TRUE(first.Send("PING\r\n"));
  EXPECT_EQ(first.ReadExactly(7), "+PONG\r\n");
  BlockingClient second(address_);
  EXPECT_EQ(second.ReadUntilClosed(), "-ERR max number of clients reached\r\n");
}

TEST_F(RespServerTest, IdleAndHalfSentConnectionsAreClosed) {
  RespServerOptions options;
  options.idle_timeout = absl::Milliseconds(300);
  options.max_command_receive_time = absl::Milliseconds(300);
  options.sweep_interval = absl::Milliseconds(50);
  StartServer(options);
  BlockingClient idle(address_);
  BlockingClient slow(address_);
  ASSERT_TRUE(slow.Send("*2\r\n$3\r\nGET\r\n$10\r\nabc"));  // never finished
  EXPECT_EQ(idle.ReadUntilClosed(absl::Seconds(3)), "");
  EXPECT_TRUE(idle.closed());
  EXPECT_EQ(slow.ReadUntilClosed(absl::Seconds(3)), "");
  EXPECT_TRUE(slow.closed());
}

TEST_F(RespServerTest, ClientThatNeverReadsHitsTheOutputLimit) {
  RespServerOptions options;
  options.output_buffer_soft_bytes = 1024;
  options.output_buffer_hard_bytes = 2 * 1024 * 1024;
  options.pipeline_window = 16;
  StartServer(options);
  {
    BlockingClient writer(address_);
    const std::string value(512 * 1024, 'v');
    ASSERT_TRUE(writer.Send(absl::StrCat("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$", value.size(),
                                         "\r\n", value, "\r\n")));
    EXPECT_EQ(writer.ReadExactly(5), "+OK\r\n");
  }
  BlockingClient reader(address_);
  std::string gets;
  for (int i = 0; i < 200; ++i) gets += "GET big\r\n";
  reader.Send(gets);  // may fail part-way once the server closes
  // Closed for its output (counted as rejected), not buffered without end; then nothing is left
  // open. (Waiting for "no connections" alone passed before the reader was even accepted.)
  auto closed = [&] {
    return OnLoop([&] { return server_->context().counters.connections_rejected; }) == 1 &&
           OnLoop([&] { return server_->connections(); }) == 0;
  };
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && !closed()) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(closed());
}

TEST_F(RespServerTest, FiberBudgetIsSharedAndEveryoneProgresses) {
  api_.set_delay(absl::Milliseconds(10));
  RespServerOptions options;
  options.max_inflight_commands = 2;
  StartServer(options);
  std::vector<std::unique_ptr<BlockingClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<BlockingClient>(address_));
    std::string req;
    for (int j = 0; j < 10; ++j) absl::StrAppend(&req, "INCR c", i, "\r\n");
    ASSERT_TRUE(clients.back()->Send(req));
  }
  for (int i = 0; i < 5; ++i) {
    std::string expected;
    for (int j = 1; j <= 10; ++j) absl::StrAppend(&expected, ":", j, "\r\n");
    EXPECT_EQ(clients[i]->ReadExactly(expected.size()), expected);
  }
  StopServer();
  EXPECT_LE(api_.max_concurrent_calls(), 2);
}

TEST_F(RespServerTest, GarbageNeverCrashesTheServer) {
  StartServer();
  uint64_t x = 12345;
  for (int round = 0; round < 50; ++round) {
    BlockingClient c(address_);
    std::string junk;
    for (int i = 0; i < 2000; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      junk.push_back(static_cast<char>(x >> 56));
    }
    if (round % 3 == 0) junk = "*3\r\n$3\r\nSET\r\n" + junk;
    c.Send(junk);
    c.ReadFor(absl::Milliseconds(5));
  }
  BlockingClient ok(address_);
  ASSERT_TRUE(ok.Send("PING\r\n"));
  EXPECT_EQ(ok.ReadExactly(7), "+PONG\r\n");
  StopServer();
  const std::string text = registry_.ExposeText();
  EXPECT_NE(text.find("crema_protocol_errors_total{protocol=\"resp\"}"), std::string::npos);
  EXPECT_NE(text.find("crema_requests_total{command=\"ping\",outcome=\"ok\",protocol=\"resp\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace crema::resp
