// crema_server: the production binary. Everything but the node itself lives in server_main.cc;
// this file only says which node to serve.
//
// The cache node (node/cache_node/cache_node.h, crema::CacheNode) has not landed in this branch
// yet: until it does, StartCacheNode refuses to start (exit 1) with a clear message. Plugging it
// in is the commented block below.
#include "transport/server/server_main.h"

namespace crema::server {
namespace {

absl::StatusOr<std::unique_ptr<ServedNode>> StartCacheNode(Env env, const CacheConfig& config,
                                                           metrics::MetricsRegistry* registry) {
  (void)env;
  (void)config;
  (void)registry;
  // When CacheNode lands:
  //   class CacheNodeServed final : public ServedNode {
  //    public:
  //     explicit CacheNodeServed(std::unique_ptr<CacheNode> n) : node_(std::move(n)) {}
  //     CacheApi* api() override { return node_.get(); }
  //     void Shutdown(absl::Duration timeout) override { node_->Shutdown(timeout); }
  //     std::unique_ptr<CacheNode> node_;
  //   };
  //   absl::StatusOr<std::unique_ptr<CacheNode>> node = CacheNode::Start(env, config);
  //   if (!node.ok()) return node.status();
  //   return std::make_unique<CacheNodeServed>(std::move(*node));
  return absl::UnimplementedError(
      "this build has no cache node yet (crema::CacheNode has not landed on this branch)");
}

}  // namespace
}  // namespace crema::server

int main(int argc, char** argv) {
  return crema::server::RunServer(argc, argv, "crema_server", crema::server::StartCacheNode);
}
