// ping_node: one server of the example ping protocol (node/ping/ping_service.h) on real sockets
// and files, through NodeRuntime.
//
//   ping_node --id=1 --listen=127.0.0.1:7001
//             --peers=1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003
//             --data_dir=/var/lib/crema/ping1 --cluster_secret=...   (or $CREMA_CLUSTER_SECRET)
//
// Runs until SIGINT/SIGTERM, then exits 0. Bad flags print a clear error and exit 2; a failure to
// start (port taken, data directory unusable) exits 1.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "node/ping/ping_service.h"
#include "transport/address.h"
#include "transport/handshake.h"
#include "transport/node_runtime.h"

// Values are parsed by this program (not by absl) so that every mistake exits 2 with our message.
ABSL_FLAG(std::string, id, "", "this node's id (a positive 32-bit integer)");
ABSL_FLAG(std::string, listen, "", "address to listen on for peers and clients, host:port");
ABSL_FLAG(std::string, peers, "", "all servers as id=host:port,... (self may be included)");
ABSL_FLAG(std::string, data_dir, "", "directory for this node's durable state");
ABSL_FLAG(std::string, cluster_secret, "",
          "shared cluster secret (16+ bytes); defaults to $CREMA_CLUSTER_SECRET");
ABSL_FLAG(std::string, heartbeat_interval, "100ms", "how often to gossip the counter");
ABSL_FLAG(std::string, peer_timeout, "1s", "a peer unheard for this long is not alive");
ABSL_FLAG(bool, verbose, false, "log trace records to stderr");

namespace crema::transport {
namespace {

constexpr int kExitBadFlags = 2;
constexpr int kExitStartFailed = 1;

[[noreturn]] void BadFlags(const std::string& message) {
  std::fprintf(stderr, "ping_node: %s\n(run with --help for usage)\n", message.c_str());
  std::exit(kExitBadFlags);
}

// Rejects unknown flags and "--flag value" forms before absl sees them, so they exit 2 too.
void PrescanFlags(int argc, char** argv) {
  static const std::vector<std::string_view> kKnown = {
      "id", "listen", "peers", "data_dir", "cluster_secret", "heartbeat_interval",
      "peer_timeout", "verbose", "noverbose", "help", "helpfull"};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") BadFlags(absl::StrCat("unexpected argument '", argv[i], "'"));
    std::string_view name = arg.substr(2, arg.find('=') == std::string_view::npos
                                              ? std::string_view::npos
                                              : arg.find('=') - 2);
    bool known = false;
    for (std::string_view k : kKnown) known = known || k == name;
    if (!known) BadFlags(absl::StrCat("unknown flag '--", std::string(name), "'"));
    const bool is_bool = name == "verbose" || name == "noverbose" || name == "help" ||
                         name == "helpfull";
    if (!is_bool && arg.find('=') == std::string_view::npos) {
      BadFlags(absl::StrCat("flag '--", std::string(name), "' needs a value: --", std::string(name),
                            "=..."));
    }
  }
}

absl::Duration PositiveDuration(const std::string& flag, const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    BadFlags(absl::StrCat("--", flag, "='", text, "' is not a positive duration like 100ms"));
  }
  return d;
}

NodeRuntimeOptions ParseRuntimeOptions() {
  NodeRuntimeOptions options;
  if (!absl::SimpleAtoi(absl::GetFlag(FLAGS_id), &options.self) || options.self == kNoNode) {
    BadFlags("--id must be a positive integer (got '" + absl::GetFlag(FLAGS_id) + "')");
  }
  options.listen_address = absl::GetFlag(FLAGS_listen);
  if (absl::StatusOr<boost::asio::ip::tcp::endpoint> e = ParseHostPort(options.listen_address);
      !e.ok()) {
    BadFlags(absl::StrCat("--listen: ", e.status().message()));
  }
  absl::StatusOr<absl::btree_map<NodeId, std::string>> peers =
      ParsePeerList(absl::GetFlag(FLAGS_peers));
  if (!peers.ok()) BadFlags(absl::StrCat("--peers: ", peers.status().message()));
  options.peers = std::move(*peers);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (options.data_dir.empty()) BadFlags("--data_dir is required");
  options.cluster_secret = absl::GetFlag(FLAGS_cluster_secret);
  if (options.cluster_secret.empty()) {
    if (const char* env = std::getenv("CREMA_CLUSTER_SECRET")) options.cluster_secret = env;
  }
  if (absl::Status s = ValidateClusterSecret(options.cluster_secret); !s.ok()) {
    BadFlags(absl::StrCat("--cluster_secret: ", s.message()));
  }
  options.verbose = absl::GetFlag(FLAGS_verbose);
  return options;
}

int Main(int argc, char** argv) {
  PrescanFlags(argc, argv);
  absl::ParseCommandLine(argc, argv);
  NodeRuntimeOptions options = ParseRuntimeOptions();
  ping::PingConfig config;
  config.heartbeat_interval =
      PositiveDuration("heartbeat_interval", absl::GetFlag(FLAGS_heartbeat_interval));
  config.peer_timeout = PositiveDuration("peer_timeout", absl::GetFlag(FLAGS_peer_timeout));
  for (const auto& [id, address] : options.peers) {
    if (id != options.self) config.peers.push_back(id);
  }
  const NodeId self = options.self;
  absl::StatusOr<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::Create(std::move(options));
  if (!runtime.ok()) {
    std::fprintf(stderr, "ping_node %u: cannot start: %s\n", self,
                 std::string(runtime.status().message()).c_str());
    return kExitStartFailed;
  }
  ping::PingService service((*runtime)->env(), config);
  if (absl::Status s = service.Start(); !s.ok()) {
    std::fprintf(stderr, "ping_node %u: cannot start the ping service: %s\n", self,
                 std::string(s.message()).c_str());
    return kExitStartFailed;
  }
  std::fprintf(stderr, "ping_node %u: listening on port %u with %zu peers\n", self,
               (*runtime)->network().listen_port(), config.peers.size());
  const std::optional<int> signal = (*runtime)->RunUntilSignal();
  std::fprintf(stderr, "ping_node %u: stopping (signal %d); total=%llu local=%llu\n", self,
               signal.value_or(0), static_cast<unsigned long long>(service.Total()),
               static_cast<unsigned long long>(service.LocalCount()));
  (*runtime)->Shutdown();  // fibers unwind while `service` is still alive
  return 0;
}

}  // namespace
}  // namespace crema::transport

int main(int argc, char** argv) { return crema::transport::Main(argc, argv); }
