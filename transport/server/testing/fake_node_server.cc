// crema_server_fake_node: crema_server's shell (flags, logs, RESP, HTTP, metrics, signals)
// serving the in-memory FakeCacheApi TEST DOUBLE instead of a cache node. testonly: it exists so
// the front ends can be tested end to end with real clients (redis-cli, curl, promtool) before
// and independently of the real node. Nothing measured on it is reported as Crema's.
#include "transport/server/server_main.h"
#include "transport/testing/fake_cache_api.h"

namespace crema::server {
namespace {

class FakeServed final : public ServedNode {
 public:
  explicit FakeServed(Env env) : fake_(env.clock, env.executor) {
    fake_.status().self = env.self;
    fake_.status().ready = true;
    fake_.status().num_shards = 1;
    fake_.status().replication_factor = 1;
    fake_.status().nodes.push_back(
        {env.self, "127.0.0.1:0", NodeState::kActive, "alive", 0.0, true, 1, 1});
    fake_.status().shards.push_back({0, {env.self}, {}, env.self, 1, 0, 0});
  }
  CacheApi* api() override { return &fake_; }
  void Shutdown(absl::Duration) override {}

 private:
  crema::testing::FakeCacheApi fake_;
};

}  // namespace
}  // namespace crema::server

int main(int argc, char** argv) {
  return crema::server::RunServer(
      argc, argv, "crema_server_fake_node",
      [](crema::Env env, const crema::server::ServerConfig&, crema::metrics::MetricsRegistry*,
         crema::transport::AsioLoop*)
          -> absl::StatusOr<std::unique_ptr<crema::server::ServedNode>> {
        return std::make_unique<crema::server::FakeServed>(env);
      });
}
