// Peer-traffic throughput: messages per second from one TcpNetwork to another over loopback,
// each node on its own AsioLoop thread (as two processes would be), with a bounded window of
// unacknowledged messages so nothing is dropped. Measures the whole per-message path: framing,
// checksums, (since issue 12) per-frame MACs, the send queue, batched writes, socket reads,
// decoding and delivery.
//
//   bazel run -c opt //transport:tcp_network_benchmark -- --messages=200000 --sizes=64,1024,16384
//
// Prints one line per message size: messages/s, MB/s (payload), and wall time. Run the same
// binary at two commits, interleaved, to compare (docs/transport.md).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "transport/asio_loop.h"
#include "transport/tcp_network.h"

ABSL_FLAG(int64_t, messages, 200000, "messages per size");
ABSL_FLAG(std::string, sizes, "64,1024,16384", "payload sizes in bytes, comma-separated");
ABSL_FLAG(int64_t, window, 2048, "unacknowledged messages in flight");
ABSL_FLAG(int64_t, ack_every, 256, "the receiver acknowledges every N messages");

namespace crema::transport {
namespace {

constexpr char kSecret[] = "benchmark cluster secret, 16+ bytes";

std::unique_ptr<TcpNetwork> MakeNetwork(AsioLoop* loop, NodeId self,
                                        absl::btree_map<NodeId, std::string> peers) {
  TcpNetwork::Options options;
  options.self = self;
  options.listen_address = "127.0.0.1:0";
  options.peers = std::move(peers);
  options.cluster_secret = kSecret;
  absl::StatusOr<std::unique_ptr<TcpNetwork>> network = TcpNetwork::Create(loop, options);
  if (!network.ok()) {
    std::fprintf(stderr, "%s\n", network.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(network);
}

struct Result {
  double seconds = 0;
  uint64_t dropped = 0;
};

Result RunOne(size_t payload_bytes, int64_t messages, int64_t window, int64_t ack_every) {
  AsioLoop receiver_loop;
  std::unique_ptr<TcpNetwork> receiver = MakeNetwork(&receiver_loop, 2, {});
  const std::string receiver_address = "127.0.0.1:" + std::to_string(receiver->listen_port());
  int64_t received = 0;
  // The receiver's loop runs until the sender has its last acknowledgement (stopping it at the
  // last message could strand that acknowledgement in the send queue: the sender would wait
  // forever).
  receiver->SetHandler(Service::kTest, [&](NodeId from, std::string) {
    if (++received % ack_every == 0 || received == messages) {
      receiver->Send(from, Service::kTest, std::to_string(received));
    }
  });
  std::thread receiver_thread([&] { receiver_loop.Run(); });

  AsioLoop sender_loop;
  std::unique_ptr<TcpNetwork> sender = MakeNetwork(&sender_loop, 1, {{2, receiver_address}});
  const std::string payload(payload_bytes, 'p');
  int64_t sent = 0, acked = 0;
  auto fill = [&] {
    while (sent < messages && sent - acked < window) {
      sender->Send(2, Service::kTest, payload);
      ++sent;
    }
  };
  sender->SetHandler(Service::kTest, [&](NodeId, std::string message) {
    int64_t count = 0;
    if (absl::SimpleAtoi(message, &count) && count > acked) acked = count;
    if (acked == messages) {
      sender_loop.Stop();
      return;
    }
    fill();
  });
  const absl::Time start = absl::Now();
  sender_loop.Post(fill);
  sender_loop.Run();
  const absl::Duration elapsed = absl::Now() - start;
  receiver_loop.Stop();
  receiver_thread.join();
  Result result;
  result.seconds = absl::ToDoubleSeconds(elapsed);
  result.dropped = sender->stats().dropped_queue_full + sender->stats().dropped_unreachable;
  return result;
}

}  // namespace
}  // namespace crema::transport

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t messages = absl::GetFlag(FLAGS_messages);
  for (absl::string_view size_text : absl::StrSplit(absl::GetFlag(FLAGS_sizes), ',')) {
    size_t size = 0;
    if (!absl::SimpleAtoi(size_text, &size) || size > crema::kMaxMessageBytes) {
      std::fprintf(stderr, "bad --sizes entry %s\n", std::string(size_text).c_str());
      return 2;
    }
    const crema::transport::Result r = crema::transport::RunOne(
        size, messages, absl::GetFlag(FLAGS_window), absl::GetFlag(FLAGS_ack_every));
    std::printf("size=%zu messages=%lld seconds=%.3f msgs_per_s=%.0f MB_per_s=%.1f dropped=%llu\n",
                size, static_cast<long long>(messages), r.seconds, messages / r.seconds,
                messages * static_cast<double>(size) / r.seconds / 1e6,
                static_cast<unsigned long long>(r.dropped));
    std::fflush(stdout);
  }
  return 0;
}
