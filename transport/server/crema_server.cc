// crema_server: the production binary. Everything but the node itself lives in server_main.cc;
// this file only says which node to serve: crema::CacheNode (node/cache_node/cache_node.h).
#include "node/cache_node/cache_node.h"
#include "transport/server/server_main.h"

namespace crema::server {
namespace {

class CacheNodeServed final : public ServedNode {
 public:
  explicit CacheNodeServed(std::unique_ptr<CacheNode> node) : node_(std::move(node)) {}
  CacheApi* api() override { return node_.get(); }
  void Shutdown(absl::Duration timeout) override { node_->Shutdown(timeout); }

 private:
  std::unique_ptr<CacheNode> node_;
};

absl::StatusOr<std::unique_ptr<ServedNode>> StartCacheNode(Env env, const CacheConfig& config,
                                                           metrics::MetricsRegistry* registry) {
  (void)registry;  // CacheNode does not record metrics yet (docs/server.md, node-side metrics)
  absl::StatusOr<std::unique_ptr<CacheNode>> node = CacheNode::Start(env, config);
  if (!node.ok()) return node.status();
  return std::make_unique<CacheNodeServed>(std::move(*node));
}

}  // namespace
}  // namespace crema::server

int main(int argc, char** argv) {
  return crema::server::RunServer(argc, argv, "crema_server", crema::server::StartCacheNode);
}
