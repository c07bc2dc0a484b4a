#include "transport/node_runtime.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>

#include "node/sync.h"

namespace crema::transport {
namespace {

std::string TmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

NodeRuntimeOptions Options() {
  NodeRuntimeOptions options;
  options.self = 1;
  options.listen_address = "127.0.0.1:0";
  options.peers = {{1, "127.0.0.1:1"}};  // self in the peer list is ignored
  options.data_dir = TmpDir() + "/runtime";
  options.cluster_secret = "node runtime test secret";
  return options;
}

TEST(NodeRuntimeTest, EnvRunsFibersDiskAndNetworkUntilSigterm) {
  absl::StatusOr<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::Create(Options());
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  Env env = (*runtime)->env();
  ASSERT_TRUE(env.clock && env.network && env.disk && env.random && env.executor && env.buggify &&
              env.tracer);
  EXPECT_FALSE(env.buggify->Fire("anything"));  // production: fault points never fire
  Channel<std::string> inbox(env.executor, 4);
  env.network->SetHandler(Service::kTest, [&](NodeId from, std::string m) {
    EXPECT_EQ(from, 1u);
    inbox.TrySend(std::move(m));
  });
  std::string got;
  std::string read_back;
  env.executor->Spawn("main", [&] {
    ASSERT_TRUE(env.executor->Sleep(absl::Milliseconds(5)).ok());
    env.network->Send(1, Service::kTest, "to myself");
    absl::StatusOr<std::string> m = inbox.Recv(absl::Seconds(10));
    ASSERT_TRUE(m.ok()) << m.status();
    got = *m;
    absl::StatusOr<std::unique_ptr<File>> file = env.disk->Open("a/b", OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Write(0, "durable").ok());
    ASSERT_TRUE((*file)->Sync().ok());
    read_back = *(*file)->Read(0, 100);
    ::raise(SIGTERM);  // the runtime's signal handling stops the loop; the process lives on
    (void)env.executor->Sleep(absl::Hours(1));  // unwound by Shutdown
  });
  // A bound on the test: should the fiber fail before raising SIGTERM, stop the loop anyway.
  (*runtime)->loop().RunAfter(absl::Seconds(10), [&] { (*runtime)->loop().Stop(); });
  const std::optional<int> signal = (*runtime)->RunUntilSignal();
  EXPECT_EQ(signal, SIGTERM);
  EXPECT_EQ(got, "to myself");
  EXPECT_EQ(read_back, "durable");
  EXPECT_EQ(env.executor->live_fibers(), 1u);
  (*runtime)->Shutdown();
  (*runtime)->Shutdown();  // idempotent
}

TEST(NodeRuntimeTest, BadOptionsAreErrors) {
  NodeRuntimeOptions options = Options();
  options.self = kNoNode;
  EXPECT_FALSE(NodeRuntime::Create(options).ok());
  options = Options();
  options.cluster_secret = "short";
  EXPECT_FALSE(NodeRuntime::Create(options).ok());
  options = Options();
  options.data_dir = "/proc/not/a/place/for/data";
  EXPECT_FALSE(NodeRuntime::Create(options).ok());
}

TEST(NodeRuntimeTest, OsSeedsDiffer) { EXPECT_NE(SeedFromOs(), SeedFromOs()); }

}  // namespace
}  // namespace crema::transport
