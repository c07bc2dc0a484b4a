// crema_server: the production binary. Everything but the node itself lives in server_main.cc;
// this file says which node to serve: crema::CacheNode (node/cache_node/cache_node.h) for the
// strong keyspaces and, when --keyspaces declares an eventual one, an eventual::EventualNode
// beside it on the same Env, both behind keyspace::KeyspaceNode. --membership picks the one
// membership source of both modes: `swim` (the default: the cache node's own gossip) or `etcd`
// (an EtcdMembershipSource started before the cache node, which takes its placement health from
// it — CacheNodeOptions::health — and whose view is the eventual ring's too).
//
// --testonly_plant=NAME switches on one of CacheNodeOptions' planted bugs, for the chaos harness's
// proof that it catches them (tools/chaos/, docs/chaos.md). Never set it in a deployment: the
// server logs a warning at start and the node then breaks its consistency promises on purpose.
#include <xxhash.h>

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/discovery/swim_source.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/keyspace/keyspace_node.h"
#include "node/metrics/crema_metrics.h"
#include "transport/etcd/etcd_membership_source.h"
#include "transport/logging/log.h"
#include "transport/server/server_main.h"

ABSL_FLAG(std::string, testonly_plant, "",
          "TESTS ONLY: plant a bug in the node (follower_reads = linearizable reads served by "
          "any replica without ReadIndex); empty = none");

namespace crema::server {
namespace {

class CacheNodeServed final : public ServedNode {
 public:
  // `etcd`: the etcd source the node was started with (CacheNodeOptions::health), or null.
  CacheNodeServed(std::unique_ptr<metrics::NodeMetrics> metrics,
                  std::unique_ptr<discovery::MembershipSource> etcd, std::unique_ptr<CacheNode> node,
                  const Clock* clock)
      : metrics_(std::move(metrics)), etcd_(std::move(etcd)), node_(std::move(node)), clock_(clock) {}

  // The registry's collect hook refreshes the node's gauges and Raft/cache counters at every
  // scrape, while this object lives (the registry outlives it).
  void HookMetrics(metrics::MetricsRegistry* registry) {
    registry->AddCollectHook([alive = std::weak_ptr<bool>(alive_), node = node_.get()] {
      if (alive.lock()) node->RefreshMetrics();
    });
  }

  // Starts the eventual-mode node and the keyspaces over both (fiber-only).
  absl::Status StartKeyspaces(Env env, const ServerConfig& config, transport::AsioLoop* loop) {
    const EventualServerConfig& ev = config.eventual;
    if (keyspace::AnyEventual(ev.keyspaces)) {
      discovery::MembershipSource* source = etcd_.get();
      if (source == nullptr) {
        std::vector<NodeId> seeds = config.cache.seeds;
        seeds.insert(seeds.end(), config.cache.bootstrap.begin(), config.cache.bootstrap.end());
        swim_ = std::make_unique<discovery::SwimMembershipSource>(&node_->membership(), seeds);
        // A wrapped SWIM node is already running (CacheNode started it): Start is a no-op.
        if (absl::Status s = swim_->Start(); !s.ok()) return s;
        source = swim_.get();
      }
      eventual::EventualConfig e;
      e.replication = ev.replication;
      e.store.max_bytes = ev.capacity_bytes;
      e.anti_entropy_interval = ev.anti_entropy_interval;
      e.bootstrap_new_cluster = ev.new_cluster;
      for (const auto& [id, address] : config.runtime.peers) e.initial_members.push_back(id);
      e.initial_members.push_back(env.self);
      std::sort(e.initial_members.begin(), e.initial_members.end());
      e.initial_members.erase(std::unique(e.initial_members.begin(), e.initial_members.end()),
                              e.initial_members.end());
      eventual_ = std::make_unique<eventual::EventualNode>(env, source, e);
      if (absl::Status s = eventual_->Start(); !s.ok()) return s;
      log::Info("eventual keyspaces", {{"membership", ev.membership}, {"replication", ev.replication}});
    }
    keyspaces_ = std::make_unique<keyspace::KeyspaceNode>(node_.get(), eventual_.get(), clock_, ev.keyspaces);
    // Keyspaces live in the cluster map; the flags only seed a new cluster's (docs/dynamo.md).
    keyspaces_->SetOnFlagMismatch([](std::string difference) {
      log::Warn("keyspaces differ from the cluster map's", {{"difference", difference}});
    });
    return absl::OkStatus();
  }

  CacheApi* api() override { return node_.get(); }
  keyspace::KeyspaceApi* keyspaces() override { return keyspaces_.get(); }
  void Shutdown(absl::Duration timeout) override {
    // A stop is a temporary failure for the eventual ring (stand-ins and hints cover it), not a
    // leave: the etcd lease is left to expire rather than revoked (docs/dynamo.md).
    if (eventual_) eventual_->Stop();
    node_->Shutdown(timeout);
    if (etcd_) etcd_->Stop();  // after the node, whose health it is until the end
  }

  std::optional<std::vector<resp::ReplicaDigest>> ReplicaDigests() override {
    std::vector<resp::ReplicaDigest> out;
    for (const CacheNode::ReplicaView& r : node_->Replicas()) {
      if (r.driver == nullptr || !r.driver->has_core() || r.driver->stopped()) {
        // Reported too: a convergence check must tell a replica that is down from one missing.
        resp::ReplicaDigest d;
        d.group = r.group;
        d.replica = r.replica;
        d.not_running = r.driver == nullptr || !r.driver->has_core() || r.driver->failure().ok()
                            ? "opening"
                            : absl::StrCat("stopped: ", r.driver->failure().message());
        out.push_back(std::move(d));
        continue;
      }
      resp::ReplicaDigest d;
      d.group = r.group;
      d.replica = r.replica;
      d.applied = r.driver->applied();
      d.commit = r.driver->core().commit();
      d.leader = r.driver->core().role() == raft::Role::kLeader;
      d.raft_status = r.driver->core().StatusLine();
      if (r.cache != nullptr) {
        d.digest = r.cache->Digest();
      } else if (r.meta != nullptr) {
        const std::string checkpoint = r.meta->Checkpoint();
        d.digest = XXH3_64bits(checkpoint.data(), checkpoint.size());
      } else {
        continue;
      }
      out.push_back(d);
    }
    return out;
  }

 private:
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<metrics::NodeMetrics> metrics_;  // outlives node_, which records into it
  std::unique_ptr<discovery::MembershipSource> etcd_;  // outlives node_, subscribed to it
  std::unique_ptr<CacheNode> node_;
  const Clock* clock_;
  std::unique_ptr<discovery::MembershipSource> swim_;  // wraps node_'s SWIM (--membership=swim)
  std::unique_ptr<eventual::EventualNode> eventual_;
  std::unique_ptr<keyspace::KeyspaceNode> keyspaces_;
};

absl::StatusOr<std::unique_ptr<ServedNode>> StartCacheNode(Env env, const ServerConfig& config,
                                                           metrics::MetricsRegistry* registry,
                                                           transport::AsioLoop* loop) {
  auto node_metrics = std::make_unique<metrics::NodeMetrics>(registry);
  CacheNodeOptions options;
  options.metrics = node_metrics.get();
  // The clock guard's transitions (node/cache_node/clock_guard.cc), one line each.
  options.on_clock_transition = [](bool out_of_bound, const std::string& description) {
    if (out_of_bound) {
      log::Warn("clock out of bound; refusing TTL-dependent work",
                {{"clock", description}});
    } else {
      log::Info("clock back in bound", {{"clock", description}});
    }
  };
  const std::string plant = absl::GetFlag(FLAGS_testonly_plant);
  if (plant == "follower_reads") {
    options.plant_linearizable_read_no_read_index = true;
    log::Warn("TEST ONLY planted bug on: linearizable reads without ReadIndex",
              {{"testonly_plant", plant}});
  } else if (!plant.empty()) {
    return absl::InvalidArgumentError("--testonly_plant: unknown bug '" + plant +
                                      "' (known: follower_reads)");
  }
  // --membership=etcd: etcd is the membership source of both modes, so it starts first and the
  // cache node's placement health comes from it (docs/dynamo.md, "Membership sources").
  std::unique_ptr<transport::EtcdMembershipSource> etcd;
  const EventualServerConfig& ev = config.eventual;
  if (ev.membership == "etcd") {
    transport::EtcdMembershipConfig etcd_config;
    etcd_config.host = ev.etcd_host;
    etcd_config.port = ev.etcd_port;
    etcd_config.prefix = ev.etcd_prefix;
    etcd_config.lease_ttl = ev.etcd_lease_ttl;
    etcd_config.address = config.cache.peer_address;
    etcd = std::make_unique<transport::EtcdMembershipSource>(env.self, env.executor, env.clock,
                                                             loop->io_context(), etcd_config);
    if (absl::Status s = etcd->Start(); !s.ok()) return s;
    options.health = etcd.get();
    log::Info("membership", {{"source", "etcd"}, {"prefix", ev.etcd_prefix}});
  }
  absl::StatusOr<std::unique_ptr<CacheNode>> node = CacheNode::Start(env, config.cache, options);
  if (!node.ok()) {
    if (etcd) {
      // The source's session fiber is parked on it: let it return before the source goes.
      etcd->Stop();
      for (int i = 0; i < 1000 && etcd->session_running(); ++i) {
        (void)env.executor->Sleep(absl::Milliseconds(1));
      }
    }
    return node.status();
  }
  auto served = std::make_unique<CacheNodeServed>(std::move(node_metrics), std::move(etcd),
                                                  std::move(*node), env.clock);
  served->HookMetrics(registry);
  if (absl::Status s = served->StartKeyspaces(env, config, loop); !s.ok()) return s;
  return served;
}

}  // namespace
}  // namespace crema::server

int main(int argc, char** argv) {
  return crema::server::RunServer(argc, argv, "crema_server", crema::server::StartCacheNode);
}
