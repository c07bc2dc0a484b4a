// A node flooded with hostile connections keeps serving its real peers.
//
// kAttackers raw connections (more than kMaxUnauthenticatedInbound) each play one part, over and
// over, reconnecting the moment they are closed: garbage bytes; a valid hello and then silence (a
// half handshake, held until the handshake timeout or eviction); a data-frame header claiming an
// 8 MiB payload, then a trickle; nothing at all. Meanwhile node 1 (connected before the flood)
// keeps asking node 2 and must get every answer, and node 3 (dialing in the middle of the flood)
// must get through. Unauthenticated connections on node 2 never exceed the bound.
#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "transport/frame.h"
#include "transport/handshake.h"
#include "transport/tcp_network.h"

namespace crema::transport {
namespace {

using boost::asio::ip::tcp;

constexpr char kSecret[] = "flood test cluster secret";
constexpr int kAttackers = 300;
constexpr int kPings = 200;

class Attacker : public std::enable_shared_from_this<Attacker> {
 public:
  Attacker(boost::asio::io_context& io, uint16_t port, int part)
      : io_(io), socket_(io), target_(boost::asio::ip::make_address("127.0.0.1"), port),
        part_(part) {}

  void Start() {
    socket_ = tcp::socket(io_);
    socket_.async_connect(target_, [self = shared_from_this()](boost::system::error_code e) {
      if (self->stopped_) return;
      if (e) return self->Start();
      ++self->connections;
      self->Speak();
      self->Listen();
    });
  }
  void Stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  uint64_t connections = 0;

 private:
  void Speak() {
    std::string bytes;
    switch (part_) {
      case 0:
        bytes.assign(1024, '\0');
        for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + connections);
        break;
      case 1: {
        DialerHandshake dialer("not the cluster's secret!", 66, 2, RandomNonce());
        bytes = EncodeFrame(FrameKind::kHello, 0, 66, dialer.HelloPayload());
        break;
      }
      case 2: {
        bytes = EncodeFrame(FrameKind::kData, 250, 66, "");
        const uint32_t huge = kMaxFramePayloadBytes;
        for (int i = 0; i < 4; ++i) bytes[12 + i] = static_cast<char>((huge >> (8 * i)) & 0xff);
        bytes += std::string(4096, 'x');
        break;
      }
      default:
        return;  // silent
    }
    boost::asio::async_write(socket_, boost::asio::buffer(bytes_ = std::move(bytes)),
                             [](boost::system::error_code, size_t) {});
  }
  // Reads until the node closes us, then comes back.
  void Listen() {
    socket_.async_read_some(boost::asio::buffer(sink_),
                            [self = shared_from_this()](boost::system::error_code e, size_t) {
                              if (self->stopped_) return;
                              if (!e) return self->Listen();
                              boost::system::error_code ignored;
                              self->socket_.close(ignored);
                              self->Start();
                            });
  }

  boost::asio::io_context& io_;
  tcp::socket socket_;
  tcp::endpoint target_;
  const int part_;
  bool stopped_ = false;
  std::string bytes_;
  char sink_[4096];
};

TEST(FloodTest, RealPeersAreServedWhileManyConnectionsSendGarbage) {
  AsioLoop loop;
  auto make = [&](NodeId self, absl::btree_map<NodeId, std::string> peers, std::string listen) {
    TcpNetwork::Options options;
    options.self = self;
    options.listen_address = std::move(listen);
    options.peers = std::move(peers);
    options.cluster_secret = kSecret;
    options.handshake_timeout = absl::Milliseconds(500);
    options.reconnect_backoff_min = absl::Milliseconds(5);
    options.reconnect_backoff_max = absl::Milliseconds(50);
    return *TcpNetwork::Create(&loop, options);
  };
  std::unique_ptr<TcpNetwork> server = make(2, {}, "127.0.0.1:0");
  const std::string address = "127.0.0.1:" + std::to_string(server->listen_port());
  server->SetHandler(Service::kTest, [&](NodeId from, std::string m) {
    server->Send(from, Service::kTest, "re:" + m);
  });
  std::unique_ptr<TcpNetwork> peer = make(1, {{2, address}}, "");
  int answers = 0;
  peer->SetHandler(Service::kTest, [&](NodeId, std::string m) {
    EXPECT_EQ(m, "re:" + std::to_string(answers));
    ++answers;
  });
  peer->Send(2, Service::kTest, "0");
  ASSERT_TRUE(loop.RunUntil([&] { return answers == 1; }, absl::Seconds(10)));

  std::vector<std::shared_ptr<Attacker>> attackers;
  for (int i = 0; i < kAttackers; ++i) {
    attackers.push_back(std::make_shared<Attacker>(loop.io_context(), server->listen_port(), i % 4));
    attackers.back()->Start();
  }
  size_t max_unauthenticated = 0;
  auto sample = [&] {
    max_unauthenticated =
        std::max(max_unauthenticated, server->unauthenticated_inbound_connections());
  };
  // One request at a time, each answered before the next: a round trip under flood.
  const absl::Time start = absl::Now();
  for (int i = 1; i <= kPings; ++i) {
    peer->Send(2, Service::kTest, std::to_string(i));
    ASSERT_TRUE(loop.RunUntil([&] { sample(); return answers == i + 1; }, absl::Seconds(10)))
        << "ping " << i << " unanswered under flood";
  }
  const absl::Duration pinging = absl::Now() - start;
  // A node that was never connected joins in the middle of the flood.
  std::unique_ptr<TcpNetwork> newcomer = make(3, {{2, address}}, "");
  bool welcomed = false;
  newcomer->SetHandler(Service::kTest, [&](NodeId, std::string) { welcomed = true; });
  for (int attempt = 0; attempt < 200 && !welcomed; ++attempt) {
    newcomer->Send(2, Service::kTest, "hello");
    loop.RunUntil([&] { sample(); return welcomed; }, absl::Milliseconds(50));
  }
  EXPECT_TRUE(welcomed) << "a new peer could not get through the flood";

  uint64_t attacks = 0;
  for (auto& a : attackers) {
    attacks += a->connections;
    a->Stop();
  }
  const TcpNetwork::Stats& s = server->stats();
  std::printf("flood: %d attackers, %llu attacking connections; %d round trips in %.0f ms "
              "(%.0f/s); newcomer welcomed: %d; server: bad_frames=%llu auth_failures=%llu "
              "evicted_unauthenticated=%llu max unauthenticated=%zu, inbound now %zu\n",
              kAttackers, static_cast<unsigned long long>(attacks), kPings,
              absl::ToDoubleMilliseconds(pinging), kPings / absl::ToDoubleSeconds(pinging), welcomed,
              static_cast<unsigned long long>(s.bad_frames),
              static_cast<unsigned long long>(s.auth_failures),
              static_cast<unsigned long long>(s.evicted_unauthenticated), max_unauthenticated,
              server->inbound_connections());
  EXPECT_LE(max_unauthenticated, kMaxUnauthenticatedInbound);
  EXPECT_GT(attacks, static_cast<uint64_t>(kAttackers));  // the attackers did come back
  EXPECT_GT(s.bad_frames, 0u);
  EXPECT_GT(s.evicted_unauthenticated, 0u);
  EXPECT_EQ(s.bad_tags, 0u);
  EXPECT_EQ(peer->stats().disconnects, 0u);  // the real peer's connection was never disturbed
}

}  // namespace
}  // namespace crema::transport
