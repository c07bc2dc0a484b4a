// The 3-process integration test: real ping_node processes on 127.0.0.1, driven by a client that
// is itself built on TcpNetwork + AsioLoop (node id 100), so the test dogfoods the adapter.
//
// Scenario: adds on every node converge; node 3 is SIGKILLed; nodes 1 and 2 keep acknowledging and
// converge; node 3 restarts on its data directory, recovers at least what it acknowledged before
// the kill, and converges with the others. Every wait is bounded; children are SIGKILLed at the end
// (also on failure) and die with the test process (PR_SET_PDEATHSIG) if it is killed.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/ping/ping_codec.h"
#include "transport/asio_loop.h"
#include "transport/real_clock.h"
#include "transport/tcp_network.h"

namespace crema::transport {
namespace {

using ping::PingMessage;

constexpr char kSecret[] = "ping cluster test secret";
constexpr NodeId kClientId = 100;
constexpr int kNodes = 3;
constexpr absl::Duration kRequestTimeout = absl::Seconds(15);   // per add/get, retries included
constexpr absl::Duration kRetryInterval = absl::Milliseconds(200);
constexpr absl::Duration kConvergeTimeout = absl::Seconds(15);

std::string TmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

std::string PingNodeBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return std::string(srcdir) + "/" + workspace + "/transport/ping_node";
  }
  return "transport/ping_node";
}

// Free ports on 127.0.0.1: bound together (so distinct), then released for the children.
std::array<uint16_t, kNodes> PickPorts(AsioLoop& loop) {
  std::vector<boost::asio::ip::tcp::acceptor> holders;
  std::array<uint16_t, kNodes> ports{};
  for (int i = 0; i < kNodes; ++i) {
    holders.emplace_back(loop.io_context(),
                         boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    ports[i] = holders.back().local_endpoint().port();
  }
  return ports;
}

// Starts, kills and finally reaps the ping_node children.
class Cluster {
 public:
  explicit Cluster(std::array<uint16_t, kNodes> ports) : ports_(ports) {
    for (int i = 0; i < kNodes; ++i) {
      if (!peers_.empty()) peers_ += ",";
      peers_ += std::to_string(i + 1) + "=127.0.0.1:" + std::to_string(ports_[i]);
    }
  }
  ~Cluster() {
    for (int i = 0; i < kNodes; ++i) Kill(i + 1);
    if (::testing::Test::HasFailure()) DumpLogs();
  }

  void Start(NodeId id) {
    const int i = static_cast<int>(id) - 1;
    ASSERT_EQ(pids_[i], 0) << "node " << id << " already running";
    std::vector<std::string> args = {
        PingNodeBinary(),
        "--id=" + std::to_string(id),
        "--listen=127.0.0.1:" + std::to_string(ports_[i]),
        "--peers=" + peers_,
        "--data_dir=" + TmpDir() + "/ping_node_" + std::to_string(id),
        std::string("--cluster_secret=") + kSecret,
        "--heartbeat_interval=50ms",
        "--peer_timeout=500ms",
    };
    const std::string log = LogPath(id);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pids_[i] = pid;
  }

  void Kill(NodeId id) {
    const int i = static_cast<int>(id) - 1;
    if (pids_[i] == 0) return;
    ::kill(pids_[i], SIGKILL);
    int status = 0;
    ::waitpid(pids_[i], &status, 0);
    pids_[i] = 0;
  }

  // True while the child has not exited on its own (a crash or a startup failure).
  bool Running(NodeId id) {
    const int i = static_cast<int>(id) - 1;
    if (pids_[i] == 0) return false;
    int status = 0;
    return ::waitpid(pids_[i], &status, WNOHANG) == 0;
  }

 private:
  static std::string LogPath(NodeId id) {
    return TmpDir() + "/ping_node_" + std::to_string(id) + ".log";
  }
  void DumpLogs() {
    for (int i = 0; i < kNodes; ++i) {
      std::ifstream in(LogPath(i + 1));
      std::stringstream text;
      text << in.rdbuf();
      std::fprintf(stderr, "---- ping_node %d log ----\n%s\n", i + 1, text.str().c_str());
    }
  }

  std::array<uint16_t, kNodes> ports_;
  std::array<pid_t, kNodes> pids_{};
  std::string peers_;
};

// A ping client over TcpNetwork: every request is retried until answered or timed out.
class Client {
 public:
  Client(AsioLoop* loop, const std::array<uint16_t, kNodes>& ports) : loop_(loop) {
    TcpNetwork::Options options;
    options.self = kClientId;
    options.cluster_secret = kSecret;
    for (int i = 0; i < kNodes; ++i) {
      options.peers[i + 1] = "127.0.0.1:" + std::to_string(ports[i]);
    }
    absl::StatusOr<std::unique_ptr<TcpNetwork>> network = TcpNetwork::Create(loop, options);
    EXPECT_TRUE(network.ok()) << network.status();
    network_ = std::move(*network);
    network_->SetHandler(Service::kPing, [this](NodeId from, std::string text) {
      absl::StatusOr<PingMessage> m = ping::DecodePing(text);
      if (m.ok()) replies_[m->request_id] = *m;
    });
  }

  // The total acknowledged by `node` for a new add, or nullopt on timeout.
  std::optional<uint64_t> Add(NodeId node) {
    std::optional<PingMessage> reply = Request(node, PingMessage::Kind::kAdd);
    if (!reply || reply->kind != PingMessage::Kind::kAck) return std::nullopt;
    return reply->total;
  }

  // {total, local_count} from `node`, or nullopt on timeout.
  std::optional<std::pair<uint64_t, uint64_t>> Get(NodeId node,
                                                   absl::Duration timeout = kRequestTimeout) {
    std::optional<PingMessage> reply = Request(node, PingMessage::Kind::kGet, timeout);
    if (!reply || reply->kind != PingMessage::Kind::kValue) return std::nullopt;
    return std::pair{reply->total, reply->local_count};
  }

  // Polls `nodes` until all report `total`; false on timeout.
  bool Converge(const std::vector<NodeId>& nodes, uint64_t total) {
    const absl::Time deadline = clock_.MonotonicNow() + kConvergeTimeout;
    while (clock_.MonotonicNow() < deadline) {
      bool all = true;
      for (NodeId node : nodes) {
        auto value = Get(node, absl::Seconds(2));
        all = all && value && value->first == total;
      }
      if (all) return true;
      loop_->RunUntil([] { return false; }, absl::Milliseconds(50));
    }
    return false;
  }

 private:
  std::optional<PingMessage> Request(NodeId node, PingMessage::Kind kind,
                                     absl::Duration timeout = kRequestTimeout) {
    PingMessage request;
    request.kind = kind;
    request.request_id = next_request_id_++;  // increasing, as the dedup window requires
    const std::string text = ping::EncodePing(request);
    const absl::Time deadline = clock_.MonotonicNow() + timeout;
    while (clock_.MonotonicNow() < deadline) {
      network_->Send(node, Service::kPing, text);  // the same id: a retry, never a second add
      const uint64_t id = request.request_id;
      if (loop_->RunUntil([&] { return replies_.contains(id); }, kRetryInterval)) {
        PingMessage reply = replies_[id];
        replies_.erase(id);
        return reply;
      }
    }
    return std::nullopt;
  }

  AsioLoop* loop_;
  RealClock clock_;
  std::unique_ptr<TcpNetwork> network_;
  absl::btree_map<uint64_t, PingMessage> replies_;  // by request id
  uint64_t next_request_id_ = 1;
};

TEST(PingClusterTest, SurvivesAKillAndRecoversAcknowledgedState) {
  AsioLoop loop;
  const std::array<uint16_t, kNodes> ports = PickPorts(loop);
  Cluster cluster(ports);
  for (NodeId id = 1; id <= kNodes; ++id) cluster.Start(id);
  Client client(&loop, ports);
  for (NodeId id = 1; id <= kNodes; ++id) {
    ASSERT_TRUE(client.Get(id).has_value()) << "node " << id << " never answered";
  }

  // Phase 1: adds on every node; the acks' totals grow; everyone converges.
  constexpr uint64_t kAddsPerNode = 5;
  std::array<uint64_t, kNodes + 1> acked{};  // by node id
  for (uint64_t round = 0; round < kAddsPerNode; ++round) {
    for (NodeId id = 1; id <= kNodes; ++id) {
      std::optional<uint64_t> total = client.Add(id);
      ASSERT_TRUE(total.has_value()) << "node " << id << " did not acknowledge an add";
      ++acked[id];
      EXPECT_GE(*total, acked[id]);
    }
  }
  uint64_t expected_total = kAddsPerNode * kNodes;
  ASSERT_TRUE(client.Converge({1, 2, 3}, expected_total));

  // Phase 2: SIGKILL node 3; the others keep acknowledging and converge.
  cluster.Kill(3);
  for (uint64_t round = 0; round < kAddsPerNode; ++round) {
    for (NodeId id : {1u, 2u}) {
      std::optional<uint64_t> total = client.Add(id);
      ASSERT_TRUE(total.has_value()) << "node " << id << " stopped acknowledging after the kill";
      ++acked[id];
    }
  }
  expected_total += 2 * kAddsPerNode;
  ASSERT_TRUE(client.Converge({1, 2}, expected_total));

  // Phase 3: node 3 restarts on the same data directory and recovers what it acknowledged.
  cluster.Start(3);
  std::optional<std::pair<uint64_t, uint64_t>> recovered = client.Get(3);
  ASSERT_TRUE(recovered.has_value()) << "node 3 did not come back";
  EXPECT_GE(recovered->second, acked[3]) << "node 3 lost acknowledged adds";
  std::printf("node 3 recovered local=%llu (acked %llu) total=%llu\n",
              static_cast<unsigned long long>(recovered->second),
              static_cast<unsigned long long>(acked[3]),
              static_cast<unsigned long long>(recovered->first));
  ASSERT_TRUE(client.Converge({1, 2, 3}, expected_total));
  ASSERT_TRUE(client.Add(3).has_value());
  ++expected_total;
  ASSERT_TRUE(client.Converge({1, 2, 3}, expected_total));
  for (NodeId id = 1; id <= kNodes; ++id) EXPECT_TRUE(cluster.Running(id)) << "node " << id;
}

}  // namespace
}  // namespace crema::transport
