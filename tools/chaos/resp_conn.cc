#include "tools/chaos/resp_conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace crema::chaos_tool {
namespace {

// Milliseconds left until `deadline` (by absl::Now(): the harness's own clock is not faked).
int LeftMs(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms <= 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 60'000));
}

}  // namespace

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

void RespConn::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  parser_ = resp::ReplyParser();
}

bool RespConn::Connect(absl::Time deadline, std::string* error) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    *error = std::string("connect: ") + std::strerror(errno);
    Close();
    return false;
  }
  pollfd p{.fd = fd_, .events = POLLOUT, .revents = 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (poll(&p, 1, LeftMs(deadline)) != 1 || getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
      err != 0) {
    *error = err != 0 ? std::string("connect: ") + std::strerror(err) : "connect: timed out";
    Close();
    return false;
  }
  return true;
}

bool RespConn::SendAll(const std::string& bytes, absl::Time deadline, std::string* error) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    pollfd p{.fd = fd_, .events = POLLOUT, .revents = 0};
    if (poll(&p, 1, LeftMs(deadline)) != 1) {
      *error = "send: timed out";
      return false;
    }
  }
  return true;
}

std::optional<resp::RespValue> RespConn::ReadReply(absl::Time deadline, std::string* error) {
  char buffer[16384];
  for (;;) {
    absl::StatusOr<std::optional<resp::RespValue>> next = parser_.Next();
    if (!next.ok()) {
      *error = std::string("bad reply: ") + std::string(next.status().message());
      return std::nullopt;
    }
    if (next->has_value()) return std::move(**next);
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    const int ready = poll(&p, 1, LeftMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 1) {
      *error = "no reply in time";
      return std::nullopt;
    }
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      *error = n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno);
      return std::nullopt;
    }
    parser_.Append(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

CallResult RespConn::Call(const std::vector<std::string>& args, absl::Duration timeout) {
  CallResult result;
  const absl::Time deadline = absl::Now() + timeout;
  if (fd_ < 0) {
    if (!Connect(deadline, &result.error)) return result;
    for (const auto& command : prelude_) {
      std::string error;
      std::optional<resp::RespValue> r;
      if (SendAll(EncodeCommand(command), deadline, &error)) r = ReadReply(deadline, &error);
      if (!r || r->is_error()) {
        result.error = "prelude " + command[0] + ": " + (r ? r->str : error);
        Close();
        return result;
      }
    }
  }
  result.sent = true;
  if (!SendAll(EncodeCommand(args), deadline, &result.error)) {
    Close();
    return result;
  }
  result.reply = ReadReply(deadline, &result.error);
  if (!result.reply) Close();
  return result;
}

}  // namespace crema::chaos_tool
