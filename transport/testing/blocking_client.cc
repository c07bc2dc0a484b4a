#include "transport/testing/blocking_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace crema::testing {

BlockingClient::BlockingClient(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    std::fprintf(stderr, "bad address %s\n", address.c_str());
    std::abort();
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    std::perror("connect");
    std::abort();
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

BlockingClient::~BlockingClient() {
  if (fd_ >= 0) close(fd_);
}

bool BlockingClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

namespace {
// One read with a timeout: >0 bytes, 0 on EOF, -1 on timeout/error.
ssize_t ReadSome(int fd, char* buf, size_t size, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (poll(&p, 1, ms < 0 ? 0 : ms) <= 0) return -1;
  const ssize_t n = recv(fd, buf, size, 0);
  return n < 0 ? 0 : n;  // a reset counts as closed
}
}  // namespace

std::string BlockingClient::ReadExactly(size_t want, absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[65536];
  while (out.size() < want && absl::Now() < deadline) {
    const ssize_t n = ReadSome(fd_, buf, std::min(sizeof(buf), want - out.size()),
                               deadline - absl::Now());
    if (n == 0) {
      closed_ = true;
      break;
    }
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string BlockingClient::ReadUntilClosed(absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[65536];
  while (absl::Now() < deadline) {
    const ssize_t n = ReadSome(fd_, buf, sizeof(buf), deadline - absl::Now());
    if (n == 0) {
      closed_ = true;
      break;
    }
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string BlockingClient::ReadFor(absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[65536];
  while (absl::Now() < deadline) {
    const ssize_t n = ReadSome(fd_, buf, sizeof(buf), deadline - absl::Now());
    if (n == 0) {
      closed_ = true;
      break;
    }
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace crema::testing
