// PingService behaviour, run inside the deterministic simulator.
#include "node/ping/ping_service.h"

#include <gtest/gtest.h>

#include "node/ping/ping_codec.h"
#include "sim/simulator.h"
#include "sim/test_node.h"

namespace crema::ping {
namespace {

using sim::Simulator;
using sim::TestNode;

constexpr NodeId kClient = 100;

class PingProgram final : public sim::NodeProgram {
 public:
  PingProgram(Env env, PingConfig config) : service(env, std::move(config)) {
    EXPECT_TRUE(service.Start().ok());
  }
  PingService service;
};

class PingServiceTest : public ::testing::Test {
 protected:
  void SetUpCluster(sim::SimOptions options, int servers) {
    sim_ = std::make_unique<Simulator>(options);
    for (NodeId id = 1; id <= static_cast<NodeId>(servers); ++id) {
      PingConfig config;
      for (NodeId peer = 1; peer <= static_cast<NodeId>(servers); ++peer) {
        if (peer != id) config.peers.push_back(peer);
      }
      sim_->AddNode(id, [config](Env env) { return std::make_unique<PingProgram>(env, config); });
    }
    sim_->AddNode(kClient, sim::TestNodeFactory());
  }
  PingService& Service(NodeId id) { return static_cast<PingProgram*>(sim_->program(id))->service; }
  TestNode& Client() { return sim::GetTestNode(*sim_, kClient); }
  void ClientSend(NodeId to, std::string message) {
    // Clients speak Service::kPing; TestNode listens on kTest, so route replies there.
    Client().env.network->Send(to, Service::kPing, std::move(message));
  }
  std::vector<std::string> ClientReplies() {
    std::vector<std::string> out;
    for (const auto& r : replies_) out.push_back(r);
    return out;
  }
  void ListenForReplies(std::function<void(const std::string&)> on_reply = nullptr) {
    Client().env.network->SetHandler(Service::kPing, [this, on_reply](NodeId, std::string m) {
      if (on_reply) on_reply(m);
      replies_.push_back(m);
    });
  }

  std::unique_ptr<Simulator> sim_;
  std::vector<std::string> replies_;
};

TEST_F(PingServiceTest, AckOnlyAfterTheStateIsSynced) {
  sim::SimOptions options{.seed = 1};
  options.disk.latency_min = absl::Milliseconds(2);
  options.disk.latency_max = absl::Milliseconds(4);
  SetUpCluster(options, 1);
  sim_->StartAll();
  bool durable_at_ack = false;
  ListenForReplies([&](const std::string& reply) {
    absl::StatusOr<std::string> synced = sim_->disk(1).SyncedContent(PingService::kStateFileName);
    if (!synced.ok() || reply.rfind("ack", 0) != 0) return;
    absl::StatusOr<PersistedState> state = DecodeState(*synced);
    durable_at_ack = state.ok() && state->counter.Get(1) == 1;
  });
  sim_->RunFor(absl::Milliseconds(50));  // recovery
  ClientSend(1, "add 1");
  sim_->RunFor(absl::Milliseconds(100));
  EXPECT_EQ(ClientReplies(), (std::vector<std::string>{"ack 1 1"}));
  EXPECT_TRUE(durable_at_ack);
}

TEST_F(PingServiceTest, MalformedMessagesAreCountedAndIgnored) {
  SetUpCluster(sim::SimOptions{.seed = 2}, 1);
  sim_->StartAll();
  ListenForReplies();
  sim_->RunFor(absl::Milliseconds(10));
  for (const char* bad : {"", "add", "add -1", "hb 0:1", "value 1 2", "\xff\xfe", "get 01"}) {
    ClientSend(1, bad);
  }
  ClientSend(1, "get 9");
  sim_->RunFor(absl::Milliseconds(100));
  EXPECT_EQ(Service(1).stats().malformed_messages, 7u);
  EXPECT_EQ(ClientReplies(), (std::vector<std::string>{"value 9 0 0"}));
}

TEST_F(PingServiceTest, DuplicatedAddsCountOnceEvenAcrossRestart) {
  sim::SimOptions options{.seed = 3};
  options.network.duplicate = {1, 1};  // every message arrives twice
  SetUpCluster(options, 1);
  sim_->StartAll();
  ListenForReplies();
  sim_->RunFor(absl::Milliseconds(10));
  ClientSend(1, "add 1");
  ClientSend(1, "add 2");
  sim_->RunFor(absl::Milliseconds(100));
  EXPECT_EQ(Service(1).LocalCount(), 2u);
  EXPECT_GE(Service(1).stats().adds_duplicate, 2u);
  sim_->Crash(1);
  sim_->Restart(1);
  sim_->RunFor(absl::Milliseconds(10));
  EXPECT_EQ(Service(1).LocalCount(), 2u);  // recovered from disk
  ClientSend(1, "add 2");                  // a very late duplicate
  sim_->RunFor(absl::Milliseconds(100));
  EXPECT_EQ(Service(1).LocalCount(), 2u);
}

TEST_F(PingServiceTest, CorruptStateFileIsNeverUsedTheNodeDegrades) {
  SetUpCluster(sim::SimOptions{.seed = 4}, 2);
  // Node 1's state file: a valid encoding of count 50 with one byte damaged.
  PersistedState state;
  state.counter.Increment(1, 50);
  std::string bytes = EncodeState(state);
  bytes[12] ^= 0x40;
  auto file = sim_->disk(1).Open(PingService::kStateFileName, OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Write(0, bytes).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  file->reset();
  sim_->StartAll();
  ListenForReplies();
  sim_->RunFor(absl::Milliseconds(50));
  EXPECT_TRUE(Service(1).degraded());
  EXPECT_EQ(Service(1).LocalCount(), 0u);
  EXPECT_GE(Service(1).stats().corrupt_reads, 1u);
  ClientSend(1, "add 1");  // refused: no ack
  ClientSend(2, "add 2");  // the healthy node acks
  sim_->RunFor(absl::Seconds(1));
  EXPECT_EQ(ClientReplies(), (std::vector<std::string>{"ack 2 1"}));
  EXPECT_EQ(Service(1).Total(), 1u);  // but it still merges peers' state
}

TEST_F(PingServiceTest, StatesConvergeAndPeersAreTracked) {
  SetUpCluster(sim::SimOptions{.seed = 5}, 3);
  sim_->StartAll();
  ListenForReplies();
  sim_->RunFor(absl::Milliseconds(10));
  ClientSend(1, "add 1");
  ClientSend(2, "add 2");
  ClientSend(2, "add 3");
  ClientSend(3, "add 4");
  sim_->RunFor(absl::Milliseconds(500));
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(Service(id).Total(), 4u) << id;
  EXPECT_EQ(Service(2).LocalCount(), 2u);
  EXPECT_EQ(Service(1).AlivePeers(), (std::vector<NodeId>{2, 3}));
  sim_->Crash(3);
  sim_->RunFor(absl::Seconds(2));
  EXPECT_EQ(Service(1).AlivePeers(), (std::vector<NodeId>{2}));
  EXPECT_TRUE(absl::IsFailedPrecondition(Service(1).Start()));
}

}  // namespace
}  // namespace crema::ping
