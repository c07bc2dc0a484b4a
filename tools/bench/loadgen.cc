// loadgen: one closed-loop load generator for Crema (RESP), Redis (RESP) and etcd (v3 JSON
// gateway), so the side-by-side benchmark measures every system the same way.
//
//   loadgen --protocol=resp|etcd --targets=127.0.0.1:6379[,host:port...] --clients=16
//           --duration=10s --op=set|get|mix --keys=100000 --value_bytes=100
//           [--consistency=local|linearizable]   (Crema: CREMA.CONSISTENCY; etcd: serializable
//                                                  range for local) [--preload]
//           [--db=N]   (RESP: SELECT N first — a Crema keyspace; with --consistency=one|quorum|all
//                       for an eventual one)
//           [--request_timeout=10]   (seconds one request may stay unanswered)
//
// Each client is a thread with one connection (clients are spread over the targets), issuing one
// request, waiting for its reply, then the next (closed loop). Prints one line:
//   protocol=resp clients=16 ops=123456 errors=0 seconds=10.00 ops_per_sec=12345.6
//   p50_ms=0.812 p99_ms=2.345 max_gap_ms=12.3
// max_gap_ms is the longest time any client went without a successful reply (failover). It is
// measured, not quantized: a request is waited for until it is answered or --request_timeout
// passes (much longer than a failover should take; the old fixed 2 s receive timeout abandoned a
// stuck write at 2 s and the next one, to another key, succeeded at once, so every gap read
// "2.0x s"), and a request still outstanding when the run ends counts up to the moment it ends.
// A client whose connection fails (its node was killed) reconnects to the next target, as a
// client with several seed addresses does, so its gap is counted too.
// Exit 0 when it ran (errors are counted, not fatal), 2 on bad flags, 3 if no target answered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "transport/resp/reply_parser.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string protocol = "resp";
  std::vector<std::string> targets = {"127.0.0.1:6379"};
  int clients = 16;
  double duration_s = 10;
  std::string op = "set";
  int64_t keys = 100000;
  size_t value_bytes = 100;
  std::string consistency;
  std::string db;  // RESP: SELECT this first (empty: none)
  bool preload = false;
  double request_timeout_s = 10;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "loadgen: %s (see the header of tools/bench/loadgen.cc)\n", why.c_str());
  std::exit(2);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || (eq == std::string::npos && a != "--preload")) Usage("bad argument " + a);
    const std::string k = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string v = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (k == "protocol") o.protocol = v;
    else if (k == "targets") o.targets = Split(v, ',');
    else if (k == "clients") o.clients = std::atoi(v.c_str());
    else if (k == "duration") o.duration_s = std::atof(v.c_str());
    else if (k == "op") o.op = v;
    else if (k == "keys") o.keys = std::atoll(v.c_str());
    else if (k == "value_bytes") o.value_bytes = static_cast<size_t>(std::atoll(v.c_str()));
    else if (k == "consistency") o.consistency = v;
    else if (k == "db") o.db = v;
    else if (k == "preload") o.preload = true;
    else if (k == "request_timeout") o.request_timeout_s = std::atof(v.c_str());
    else Usage("unknown flag --" + k);
  }
  if (o.protocol != "resp" && o.protocol != "etcd") Usage("--protocol must be resp or etcd");
  if (o.op != "set" && o.op != "get" && o.op != "mix") Usage("--op must be set, get or mix");
  if (o.clients <= 0 || o.duration_s <= 0 || o.keys <= 0 || o.targets.empty() ||
      o.request_timeout_s <= 0) {
    Usage("bad numbers");
  }
  return o;
}

int Connect(const std::string& target, double timeout_s) {
  const size_t colon = target.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(target.substr(colon + 1).c_str())));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &sa.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_s);
  tv.tv_usec = static_cast<suseconds_t>((timeout_s - static_cast<double>(tv.tv_sec)) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Resp(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

// One connection speaking one protocol; Do() returns false on any error, then reconnects to the
// next target (the targets are tried in turn from `first`).
class Conn {
 public:
  Conn(const Options& o, size_t first) : o_(o), index_(first % o.targets.size()) {}
  ~Conn() { Drop(); }

  bool Do(bool write, const std::string& key, const std::string& value) {
    const bool ok = (fd_ >= 0 || Open()) &&
                    (o_.protocol == "resp" ? RespOp(write, key, value) : EtcdOp(write, key, value));
    if (!ok) {
      Drop();
      index_ = (index_ + 1) % o_.targets.size();
    }
    return ok;
  }

 private:
  bool Open() {
    target_ = o_.targets[index_];
    fd_ = Connect(target_, o_.request_timeout_s);
    if (fd_ < 0) return false;
    parser_ = crema::resp::ReplyParser();
    buffer_.clear();
    if (o_.protocol == "resp" && !o_.db.empty()) {
      if (!SendAll(fd_, Resp({"SELECT", o_.db}))) return false;
      crema::resp::RespValue v;
      if (!ReadResp(&v) || v.is_error()) {
        std::fprintf(stderr, "loadgen: SELECT %s refused by %s\n", o_.db.c_str(), target_.c_str());
        std::exit(2);
      }
    }
    if (o_.protocol == "resp" && !o_.consistency.empty()) {
      if (!SendAll(fd_, Resp({"CREMA.CONSISTENCY", o_.consistency}))) return false;
      crema::resp::RespValue v;
      if (!ReadResp(&v) || v.is_error()) {
        std::fprintf(stderr, "loadgen: CREMA.CONSISTENCY refused by %s\n", target_.c_str());
        std::exit(2);
      }
    }
    return true;
  }
  void Drop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool ReadResp(crema::resp::RespValue* out) {
    char buf[65536];
    while (true) {
      auto v = parser_.Next();
      if (!v.ok()) return false;
      if (v->has_value()) {
        *out = std::move(**v);
        return true;
      }
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      parser_.Append(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  bool RespOp(bool write, const std::string& key, const std::string& value) {
    if (!SendAll(fd_, write ? Resp({"SET", key, value}) : Resp({"GET", key}))) return false;
    crema::resp::RespValue v;
    return ReadResp(&v) && !v.is_error();
  }
  // etcd's gRPC gateway: POST /v3/kv/put and /v3/kv/range with base64 keys, HTTP/1.1 keep-alive.
  bool EtcdOp(bool write, const std::string& key, const std::string& value) {
    std::string body, path;
    if (write) {
      path = "/v3/kv/put";
      body = "{\"key\":\"" + Base64(key) + "\",\"value\":\"" + Base64(value) + "\"}";
    } else {
      path = "/v3/kv/range";
      body = "{\"key\":\"" + Base64(key) + "\"" +
             (o_.consistency == "local" ? ",\"serializable\":true" : "") + "}";
    }
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + target_ +
                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!SendAll(fd_, req)) return false;
    // Read the status line, headers, and Content-Length bytes of body.
    char buf[65536];
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t cl = buffer_.find("Content-Length: ");
        const size_t len = cl == std::string::npos || cl > end
                               ? 0
                               : static_cast<size_t>(std::atoll(buffer_.c_str() + cl + 16));
        if (buffer_.size() >= end + 4 + len) {
          const bool ok = buffer_.compare(0, 12, "HTTP/1.1 200") == 0;
          buffer_.erase(0, end + 4 + len);
          return ok;
        }
      }
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  const Options& o_;
  size_t index_;
  std::string target_;
  int fd_ = -1;
  crema::resp::ReplyParser parser_;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const std::string value(o.value_bytes, 'x');
  if (o.preload) {
    Conn c(o, 0);
    for (int64_t k = 0; k < o.keys; ++k) {
      if (!c.Do(true, "key:" + std::to_string(k), value)) {
        std::fprintf(stderr, "loadgen: preload failed at key %lld\n", static_cast<long long>(k));
        return 3;
      }
    }
  }
  std::atomic<int64_t> ops{0}, errors{0};
  std::vector<std::vector<float>> latencies(o.clients);
  std::vector<double> max_gap_ms(o.clients, 0);
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(o.duration_s);
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      Conn conn(o, static_cast<size_t>(c));
      uint64_t x = 0x9E3779B97F4A7C15ULL * (c + 1);
      auto last_ok = Clock::now();
      latencies[c].reserve(1 << 16);
      while (Clock::now() < stop) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const std::string key = "key:" + std::to_string(x % static_cast<uint64_t>(o.keys));
        const bool write = o.op == "set" || (o.op == "mix" && (x >> 32) % 10 == 0);
        const auto t0 = Clock::now();
        if (conn.Do(write, key, value)) {
          const auto t1 = Clock::now();
          latencies[c].push_back(std::chrono::duration<float, std::milli>(t1 - t0).count());
          max_gap_ms[c] = std::max(max_gap_ms[c],
                                   std::chrono::duration<double, std::milli>(t1 - last_ok).count());
          last_ok = t1;
          ops.fetch_add(1, std::memory_order_relaxed);
        } else {
          errors.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      // Time since the last success (or the start) still counts when the run ends: a request was
      // outstanding or failing.
      max_gap_ms[c] = std::max(
          max_gap_ms[c], std::chrono::duration<double, std::milli>(Clock::now() - last_ok).count());
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<float> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  std::printf("protocol=%s clients=%d ops=%lld errors=%lld seconds=%.2f ops_per_sec=%.1f "
              "p50_ms=%.3f p99_ms=%.3f max_gap_ms=%.1f\n",
              o.protocol.c_str(), o.clients, static_cast<long long>(ops.load()),
              static_cast<long long>(errors.load()), seconds, ops.load() / seconds, pct(0.50),
              pct(0.99), *std::max_element(max_gap_ms.begin(), max_gap_ms.end()));
  return ops.load() > 0 ? 0 : 3;
}
