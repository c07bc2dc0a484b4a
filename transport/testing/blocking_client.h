// BlockingClient: a plain blocking TCP client with timeouts, for tests that drive a server running
// on another thread. Test-only.
#ifndef CREMA_TRANSPORT_TESTING_BLOCKING_CLIENT_H_
#define CREMA_TRANSPORT_TESTING_BLOCKING_CLIENT_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace crema::testing {

class BlockingClient {
 public:
  // Connects to "ip:port"; fails the process if it cannot (tests only).
  explicit BlockingClient(const std::string& address);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  bool Send(std::string_view bytes);
  // Reads until `n` bytes arrived, EOF, or the timeout. Returns what arrived.
  std::string ReadExactly(size_t n, absl::Duration timeout = absl::Seconds(5));
  // Reads until the connection is closed by the peer (or the timeout); returns what arrived.
  std::string ReadUntilClosed(absl::Duration timeout = absl::Seconds(5));
  // Reads whatever arrives within `timeout`.
  std::string ReadFor(absl::Duration timeout);
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

}  // namespace crema::testing

#endif  // CREMA_TRANSPORT_TESTING_BLOCKING_CLIENT_H_
