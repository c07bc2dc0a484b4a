// Fuzz target: crema_server's command line — PrescanArgs (unknown flags, "--flag value" forms),
// then absl's parsing of each flag's text, then ConfigFromFlags (every value crema_server parses
// itself: ids, host:port addresses, peer lists, durations, sizes, enums, the cluster secret).
//
// Input: NUL-separated arguments. Those of the form "#<i>=<text>" become "--<flag i>=<text>" for
// the i-th known flag (so the fuzzer reaches every flag's parser without guessing names); the
// others are passed as they are. A leading "$" argument sets $CREMA_CLUSTER_SECRET to the rest.
// The *_file flags are left at their defaults: reading files is not what this target fuzzes
// (server_config_test covers files, including oversized and endless ones).
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); every
// rejection is INVALID_ARGUMENT naming a flag or argument; an accepted configuration holds
// together (a valid cache configuration, parseable listen addresses, a valid cluster secret, a
// positive node id that the peer list maps, a positive request timeout).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tools/fuzz/memory_budget.h"
#include "transport/address.h"
#include "transport/handshake.h"
#include "transport/server/server_config.h"

namespace crema::server {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "server_config_fuzzer: %s\n", what);
  std::abort();
}

const char* const kFlags[] = {
    "node_id",
    "peer_address",
    "resp_address",
    "http_address",
    "data_dir",
    "peers",
    "seeds",
    "bootstrap",
    "capacity",
    "capacity_unit",
    "default_ttl",
    "shards",
    "replication_factor",
    "default_read",
    "auto_admit",
    "replace_dead_after",
    "tick_interval",
    "election_tick",
    "log_level",
    "log_file",
    "max_clients",
    "idle_timeout",
    "pipeline_window",
    "request_timeout",
    "max_bulk_bytes",
    "shutdown_timeout",
};
constexpr size_t kFlagCount = sizeof(kFlags) / sizeof(kFlags[0]);

void ResetFlags() {
  for (const char* name : kFlags) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) Fail("a flag of this target is not defined by server_config");
    std::string error;
    if (!flag->ParseFrom(flag->DefaultValue(), &error)) Fail("a default does not parse");
  }
}

void Check(const ServerConfig& c) {
  if (c.cache.node_id == kNoNode) Fail("accepted node id 0");
  if (!c.cache.Validate().ok()) Fail("accepted an invalid cache configuration");
  if (!transport::ParseHostPort(c.runtime.listen_address).ok() ||
      !transport::ParseHostPort(c.resp.listen_address).ok() ||
      !transport::ParseHostPort(c.http.listen_address).ok()) {
    Fail("accepted an address that does not parse");
  }
  if (!transport::ValidateClusterSecret(c.runtime.cluster_secret).ok()) {
    Fail("accepted an invalid cluster secret");
  }
  for (NodeId seed : c.cache.seeds) {
    if (seed != c.cache.node_id && !c.runtime.peers.contains(seed)) Fail("a seed without address");
  }
  if (c.resp_settings.request_timeout <= absl::ZeroDuration()) Fail("a non-positive timeout");
  if (c.runtime.data_dir.empty()) Fail("accepted an empty data_dir");
}

}  // namespace
}  // namespace crema::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::server;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/256, /*fixed_bytes=*/1 << 20);
  ResetFlags();
  setenv("CREMA_CLUSTER_SECRET", "fuzz-cluster-secret-0123456789abcdef", 1);
  unsetenv("CREMA_ADMIN_TOKEN");
  unsetenv("CREMA_PASSWORD");
  std::vector<std::string> args = {"crema_server"};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(input.data(), input.size()), '\0')) {
    std::string arg(part);
    if (args.size() == 1 && absl::StartsWith(arg, "$")) {
      setenv("CREMA_CLUSTER_SECRET", arg.c_str() + 1, 1);
      continue;
    }
    if (absl::StartsWith(arg, "#")) {
      const size_t eq = arg.find('=');
      size_t i = 0;
      if (eq != std::string::npos && absl::SimpleAtoi(arg.substr(1, eq - 1), &i)) {
        arg = std::string("--") + kFlags[i % kFlagCount] + arg.substr(eq);
      }
    }
    args.push_back(std::move(arg));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  const absl::Status prescan = PrescanArgs(static_cast<int>(argv.size()), argv.data());
  if (!prescan.ok()) {
    if (prescan.code() != absl::StatusCode::kInvalidArgument)
      Fail("a prescan error of another kind");
    return 0;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    std::string value = eq == std::string::npos ? "true" : arg.substr(eq + 1);
    if (name == "help" || name == "helpfull" || name == "version") continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      value = "false";
    }
    if (flag == nullptr) Fail("PrescanArgs let an unknown flag through");
    if (absl::EndsWith(flag->Name(), "_file") && flag->Name() != "log_file") continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) return 0;  // absl reports it and crema_server exits 2
  }
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) {
    if (config.status().code() != absl::StatusCode::kInvalidArgument ||
        config.status().message().empty()) {
      Fail("a rejection that is not INVALID_ARGUMENT with a message");
    }
    return 0;
  }
  Check(*config);
  return 0;
}
