// netdelay: delays (and so reorders) packets that iptables hands to an NFQUEUE, in user space —
// the chaos harness's stand-in for `tc netem`, whose qdisc this machine's kernel does not have
// (CONFIG_NET_SCH_NETEM is off; docs/chaos.md).
//
//   netdelay --queue=0 --delay_ms=40 --jitter_ms=30 [--max_held=20000]
//   iptables -A CREMA_DELAY -p tcp --dport 7000 -j NFQUEUE --queue-num 0 --queue-bypass
//
// Each packet is released (NF_ACCEPT) after delay + uniform[-jitter, +jitter] ms (at least 0), so
// packets with different draws overtake each other: reordering. At most --max_held packets wait;
// more are accepted at once (the queue is also fail-open in the kernel). On SIGTERM / SIGINT every
// held packet is released and the program exits 0. Runs inside the node's network namespace.
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Held {
  int64_t release_ns;
  uint32_t id;
  bool operator>(const Held& o) const { return release_ns > o.release_ns; }
};

struct State {
  nfq_q_handle* queue = nullptr;
  std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held;
  std::mt19937_64 random{std::random_device()()};
  int64_t delay_ns = 0;
  int64_t jitter_ns = 0;
  size_t max_held = 20'000;
  uint64_t passed = 0;
};

int OnPacket(nfq_q_handle* q, nfgenmsg*, nfq_data* data, void* arg) {
  State& s = *static_cast<State*>(arg);
  const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
  if (header == nullptr) return 0;
  const uint32_t id = ntohl(header->packet_id);
  if (s.held.size() >= s.max_held) return nfq_set_verdict(q, id, NF_ACCEPT, 0, nullptr);
  int64_t d = s.delay_ns;
  if (s.jitter_ns > 0) {
    d += std::uniform_int_distribution<int64_t>(-s.jitter_ns, s.jitter_ns)(s.random);
  }
  s.held.push({NowNs() + std::max<int64_t>(d, 0), id});
  return 0;
}

int64_t Flag(int argc, char** argv, const char* name, int64_t fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      char* end = nullptr;
      const long long v = std::strtoll(argv[i] + prefix.size(), &end, 10);
      if (*end != '\0' || v < 0) {
        std::fprintf(stderr, "netdelay: bad %s\n", argv[i]);
        std::exit(2);
      }
      return v;
    }
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--queue=", 0) != 0 && a.rfind("--delay_ms=", 0) != 0 &&
        a.rfind("--jitter_ms=", 0) != 0 && a.rfind("--max_held=", 0) != 0) {
      std::fprintf(stderr, "netdelay: unknown argument %s (see tools/chaos/netdelay.cc)\n", argv[i]);
      return 2;
    }
  }
  State s;
  const int queue_num = static_cast<int>(Flag(argc, argv, "queue", 0));
  s.delay_ns = Flag(argc, argv, "delay_ms", 20) * 1'000'000;
  s.jitter_ns = Flag(argc, argv, "jitter_ms", 10) * 1'000'000;
  s.max_held = static_cast<size_t>(Flag(argc, argv, "max_held", 20'000));
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::perror("netdelay: nfq_open");
    return 1;
  }
  s.queue = nfq_create_queue(h, static_cast<uint16_t>(queue_num), &OnPacket, &s);
  if (s.queue == nullptr) {
    std::perror("netdelay: nfq_create_queue");
    nfq_close(h);
    return 1;
  }
  nfq_set_mode(s.queue, NFQNL_COPY_META, 0);
  nfq_set_queue_maxlen(s.queue, static_cast<uint32_t>(s.max_held));
  nfq_set_queue_flags(s.queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
  const int fd = nfq_fd(h);
  std::vector<char> buffer(1 << 16);
  std::fprintf(stderr, "netdelay: queue %d delay %lld ms jitter %lld ms\n", queue_num,
               static_cast<long long>(s.delay_ns / 1'000'000), static_cast<long long>(s.jitter_ns / 1'000'000));
  while (!g_stop) {
    const int64_t now = NowNs();
    while (!s.held.empty() && s.held.top().release_ns <= now) {
      nfq_set_verdict(s.queue, s.held.top().id, NF_ACCEPT, 0, nullptr);
      s.held.pop();
      ++s.passed;
    }
    int timeout_ms = 100;
    if (!s.held.empty()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>((s.held.top().release_ns - now) / 1'000'000, 0, 100));
    }
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, timeout_ms) == 1) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buffer.data(), static_cast<int>(n));
    }
  }
  while (!s.held.empty()) {
    nfq_set_verdict(s.queue, s.held.top().id, NF_ACCEPT, 0, nullptr);
    s.held.pop();
    ++s.passed;
  }
  std::fprintf(stderr, "netdelay: released %llu packets\n", static_cast<unsigned long long>(s.passed));
  nfq_destroy_queue(s.queue);
  nfq_close(h);
  return 0;
}
