// crema_server: the production binary. Everything but the node itself lives in server_main.cc;
// this file only says which node to serve: crema::CacheNode (node/cache_node/cache_node.h).
//
// --testonly_plant=NAME switches on one of CacheNodeOptions' planted bugs, for the chaos harness's
// proof that it catches them (tools/chaos/, docs/chaos.md). Never set it in a deployment: the
// server logs a warning at start and the node then breaks its consistency promises on purpose.
#include <xxhash.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "transport/logging/log.h"
#include "transport/server/server_main.h"

ABSL_FLAG(std::string, testonly_plant, "",
          "TESTS ONLY: plant a bug in the node (follower_reads = linearizable reads served by "
          "any replica without ReadIndex); empty = none");

namespace crema::server {
namespace {

class CacheNodeServed final : public ServedNode {
 public:
  explicit CacheNodeServed(std::unique_ptr<CacheNode> node) : node_(std::move(node)) {}
  CacheApi* api() override { return node_.get(); }
  void Shutdown(absl::Duration timeout) override { node_->Shutdown(timeout); }

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
  std::unique_ptr<CacheNode> node_;
};

absl::StatusOr<std::unique_ptr<ServedNode>> StartCacheNode(Env env, const CacheConfig& config,
                                                           metrics::MetricsRegistry* registry) {
  (void)registry;  // CacheNode does not record metrics yet (docs/server.md, node-side metrics)
  CacheNodeOptions options;
  const std::string plant = absl::GetFlag(FLAGS_testonly_plant);
  if (plant == "follower_reads") {
    options.plant_linearizable_read_no_read_index = true;
    log::Warn("TEST ONLY planted bug on: linearizable reads without ReadIndex",
              {{"testonly_plant", plant}});
  } else if (!plant.empty()) {
    return absl::InvalidArgumentError("--testonly_plant: unknown bug '" + plant +
                                      "' (known: follower_reads)");
  }
  absl::StatusOr<std::unique_ptr<CacheNode>> node = CacheNode::Start(env, config, options);
  if (!node.ok()) return node.status();
  return std::make_unique<CacheNodeServed>(std::move(*node));
}

}  // namespace
}  // namespace crema::server

int main(int argc, char** argv) {
  return crema::server::RunServer(argc, argv, "crema_server", crema::server::StartCacheNode);
}
