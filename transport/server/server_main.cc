#include "transport/server/server_main.h"

#include <sys/statvfs.h>

#include <cstdio>
#include <memory>

#include <iostream>

#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "node/metrics/crema_metrics.h"
#include "transport/http/http_server.h"
#include "transport/logging/log.h"
#include "transport/logging/log_tracer.h"
#include "transport/node_runtime.h"
#include "transport/resp/resp_server.h"
#include "transport/server/allocator.h"
#include "transport/server/server_config.h"

namespace crema::server {
namespace {

constexpr const char* kVersion = "0.1.0";

// Free and total bytes of the data directory's file system, for the disk alert.
void RefreshDiskGauges(const std::string& dir, metrics::FrontEndMetrics* m) {
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return;
  m->data_dir_free_bytes.Set(static_cast<double>(st.f_bavail) * st.f_frsize);
  m->data_dir_size_bytes.Set(static_cast<double>(st.f_blocks) * st.f_frsize);
}

// The peer transport's counters (tcp_network.h) as Prometheus counters.
void RefreshPeerMetrics(const transport::TcpNetwork::Stats& st, metrics::PeerTransportMetrics* m) {
  m->SetTotal(m->messages, {{"direction", "sent"}}, st.messages_sent);
  m->SetTotal(m->messages, {{"direction", "received"}}, st.messages_received);
  m->SetTotal(m->dropped, {{"reason", "oversize"}}, st.dropped_oversize);
  m->SetTotal(m->dropped, {{"reason", "queue_full"}}, st.dropped_queue_full);
  m->SetTotal(m->dropped, {{"reason", "no_route"}}, st.dropped_no_route);
  m->SetTotal(m->dropped, {{"reason", "unreachable"}}, st.dropped_unreachable);
  m->SetTotal(m->dropped, {{"reason", "no_handler"}}, st.dropped_no_handler);
  m->SetTotal(m->connections, {{"event", "connected"}}, st.connects);
  m->SetTotal(m->connections, {{"event", "accepted"}}, st.accepted);
  m->SetTotal(m->connections, {{"event", "connect_failed"}}, st.connect_failures);
  m->SetTotal(m->connections, {{"event", "handshake_failed"}}, st.auth_failures);
  m->SetTotal(m->connections, {{"event", "disconnected"}}, st.disconnects);
  m->SetTotal(m->connections, {{"event", "bad_frame"}}, st.bad_frames);
  m->SetTotal(m->connections, {{"event", "bad_tag"}}, st.bad_tags);
  m->SetTotal(m->connections, {{"event", "rejected"}}, st.rejected_inbound);
  m->SetTotal(m->connections, {{"event", "evicted"}}, st.evicted_unauthenticated);
}

// Each peer link's state and queue (tcp_network.h PeerLink): a link stuck in one state shows here.
void RefreshPeerLinks(const std::vector<transport::TcpNetwork::PeerLink>& links,
                      metrics::PeerTransportMetrics* m) {
  static constexpr const char* kStates[] = {"connected", "handshaking", "dialing", "backoff", "idle"};
  for (const transport::TcpNetwork::PeerLink& link : links) {
    const std::string peer = absl::StrCat(link.id);
    for (const char* state : kStates) {
      m->link_state.With({{"peer", peer}, {"state", state}}).Set(link.state == state ? 1 : 0);
    }
    m->queued.With({{"peer", peer}}).Set(static_cast<double>(link.queued_messages));
  }
}

}  // namespace

int RunServer(int argc, char** argv, const char* program, NodeStarter starter) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "one node of a Crema cluster, serving Redis clients (RESP) and HTTP.\n"
      "  ", program, " --node_id=1 --peer_address=127.0.0.1:7001 --data_dir=/var/lib/crema/1 \\\n"
      "     --peers=1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --bootstrap=1,2,3\n"
      "Secrets: $CREMA_CLUSTER_SECRET (or --cluster_secret_file), $CREMA_ADMIN_TOKEN,\n"
      "$CREMA_PASSWORD. Exit codes: 0 stopped by a signal, 1 cannot start, 2 bad flags."));
  if (absl::Status s = PrescanArgs(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n(run with --help for usage)\n", program,
                 std::string(s.message()).c_str());
    return kExitBadFlags;
  }
  // absl's own --help handling exits 1; --help is a successful run here (exit 0).
  absl::flags_internal::ParseCommandLineImpl(
      argc, argv, absl::flags_internal::ArgvListAction::kRemoveParsedArgs,
      absl::flags_internal::UsageFlagsAction::kIgnoreUsage,
      absl::flags_internal::OnUndefinedFlag::kAbortIfUndefined);
  const auto help_mode = absl::flags_internal::GetFlagsHelpMode();
  if (help_mode == absl::flags_internal::HelpMode::kShort ||
      help_mode == absl::flags_internal::HelpMode::kImportant) {
    // Show the flags of server_config.cc (where they live), not absl's own.
    absl::flags_internal::SetFlagsHelpMode(absl::flags_internal::HelpMode::kMatch);
    absl::flags_internal::SetFlagsHelpMatchSubstr("server_config");
  }
  if (absl::flags_internal::HandleUsageFlags(std::cout, absl::ProgramUsageMessage()) != -1) {
    return kExitOk;
  }
  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n(run with --help for usage)\n", program,
                 std::string(config.status().message()).c_str());
    return kExitBadFlags;
  }
  if (absl::Status s = log::Init(config->log); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, std::string(s.message()).c_str());
    return kExitCannotStart;
  }
  // Node events (Raft roles, replica lifecycle, storage failures) go to the log (log_tracer.h).
  static log::LogTracer tracer;
  config->runtime.tracer = &tracer;
  const NodeId self = config->cache.node_id;
  absl::StatusOr<std::unique_ptr<transport::NodeRuntime>> runtime =
      transport::NodeRuntime::Create(config->runtime);
  if (!runtime.ok()) {
    log::Error("cannot start", {{"reason", std::string(runtime.status().message())}});
    return kExitCannotStart;
  }
  transport::NodeRuntime& rt = **runtime;
  metrics::MetricsRegistry registry;
  metrics::FrontEndMetrics front(&registry);
  front.build_info.With({{"version", kVersion}}).Set(1);
  registry.AddCollectHook([&] { RefreshDiskGauges(config->runtime.data_dir, &front); });
  metrics::PeerTransportMetrics peer_metrics(&registry);
  registry.AddCollectHook([&] {
    RefreshPeerMetrics(rt.network().stats(), &peer_metrics);
    RefreshPeerLinks(rt.network().Links(), &peer_metrics);
  });

  std::unique_ptr<ServedNode> node;
  std::unique_ptr<resp::RespServer> resp_server;
  std::unique_ptr<http::HttpServer> http_server;
  int exit_code = kExitOk;
  bool started = false;
  Env env = rt.env();
  env.executor->Spawn("server-start", [&] {
    absl::StatusOr<std::unique_ptr<ServedNode>> n = starter(env, *config, &registry, &rt.loop());
    if (!n.ok()) {
      log::Error("cannot start the node", {{"reason", std::string(n.status().message())}});
      exit_code = kExitCannotStart;
      rt.loop().Stop();
      return;
    }
    node = std::move(*n);
    registry.AddCollectHook([&] { front.node_ready.Set(node->api()->Status().ready ? 1 : 0); });
    resp::ServerSettings settings = config->resp_settings;
    settings.version = kVersion;
    settings.mem_allocator = AllocatorName();
    settings.used_memory = AllocatedBytes;
    settings.http_address = config->http.listen_address;
    resp_server = std::make_unique<resp::RespServer>(&rt.loop(), env.executor, env.clock,
                                                     node->api(), settings, config->resp, &front);
    resp_server->set_keyspaces(node->keyspaces());
    http::HttpContext http_context;
    http_context.api = node->api();
    http_context.keyspaces = node->keyspaces();
    http_context.admin_token = config->admin_token;
    http_context.request_timeout = config->resp_settings.request_timeout;
    http_context.metrics_text = [&registry] { return registry.ExposeText(); };
    http_server = std::make_unique<http::HttpServer>(&rt.loop(), env.executor, env.clock,
                                                     http_context, config->http, &front);
    if (node->ReplicaDigests().has_value()) {
      resp_server->SetReplicaDigests([&node] { return *node->ReplicaDigests(); });
    }
    for (absl::Status s : {resp_server->Start(), http_server->Start()}) {
      if (!s.ok()) {
        log::Error("cannot start", {{"reason", std::string(s.message())}});
        exit_code = kExitCannotStart;
        rt.loop().Stop();
        return;
      }
    }
    started = true;
    log::Info("serving", {{"resp", resp_server->bound_address()},
                          {"http", http_server->bound_address()},
                          {"peer", config->cache.peer_address},
                          {"data_dir", config->runtime.data_dir},
                          {"version", kVersion},
                          {"allocator", AllocatorName()}});
  });

  const std::optional<int> signal = rt.RunUntilSignal();
  if (started) {
    log::Info("stopping", {{"signal", signal.value_or(0)}});
    resp_server->Stop();
    http_server->Stop();
    bool done = false;
    env.executor->Spawn("server-shutdown", [&] {
      node->Shutdown(config->shutdown_timeout);
      done = true;
    });
    if (!rt.loop().RunUntil([&] { return done; }, config->shutdown_timeout + absl::Seconds(2))) {
      log::Warn("graceful shutdown did not finish in time; stopping anyway");
    }
  }
  rt.Shutdown();  // unwinds fibers while the servers and the node still exist
  resp_server.reset();
  http_server.reset();
  node.reset();
  log::Info("stopped", {{"exit_code", exit_code}});
  (void)self;
  log::Flush();
  return exit_code;
}

}  // namespace crema::server
