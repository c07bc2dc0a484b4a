// Tests of crema_server's flag parsing (server_config.h) that the shell test cannot do cheaply:
// secret files that are too long or endless are refused with a clear error (found while writing
// server_config_fuzzer: the secret was read with no bound, so --cluster_secret_file=/dev/zero
// read until memory ran out), and a good file is accepted.
#include "transport/server/server_config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace crema::server {
namespace {

class ServerConfigTest : public ::testing::Test {
 protected:
  void Set(const char* name, const std::string& value) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    ASSERT_NE(flag, nullptr) << name;
    std::string error;
    ASSERT_TRUE(flag->ParseFrom(value, &error)) << error;
  }
  void SetUp() override {
    Set("node_id", "1");
    Set("peer_address", "127.0.0.1:7001");
    Set("data_dir", ::testing::TempDir());
    Set("peers", "1=127.0.0.1:7001");
  }
  std::string WriteFile(const std::string& name, const std::string& bytes) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  absl::FlagSaver saver_;
};

TEST_F(ServerConfigTest, SecretFileIsRead) {
  Set("cluster_secret_file", WriteFile("secret", "a-good-cluster-secret-0123456789\n"));
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->runtime.cluster_secret, "a-good-cluster-secret-0123456789");
}

TEST_F(ServerConfigTest, OversizedSecretFileIsRefused) {
  Set("cluster_secret_file", WriteFile("big", std::string(kMaxSecretFileBytes + 1, 'x')));
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--cluster_secret_file"), absl::string_view::npos);
  EXPECT_NE(c.status().message().find("longer than"), absl::string_view::npos);
}

TEST_F(ServerConfigTest, EndlessSecretFileIsRefusedNotReadForever) {
  setenv("CREMA_CLUSTER_SECRET", "a-good-cluster-secret-0123456789", 1);
  Set("admin_token_file", "/dev/zero");
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--admin_token_file"), absl::string_view::npos);
  EXPECT_NE(c.status().message().find("longer than"), absl::string_view::npos);
}

}  // namespace
}  // namespace crema::server
