// Address: parsing of "host:port" endpoints and "id=host:port,..." peer lists (flags, configs).
//
// Hosts are numeric IPv4 ("127.0.0.1") or bracketed IPv6 ("[::1]"), or "localhost" (= 127.0.0.1):
// no DNS, so the event loop never blocks on a resolver and no resolver thread is started.
// Every malformed input gives INVALID_ARGUMENT with the offending text; nothing crashes.
// Thread safety: pure functions.
#ifndef CREMA_TRANSPORT_ADDRESS_H_
#define CREMA_TRANSPORT_ADDRESS_H_

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "node/network.h"

namespace crema::transport {

inline constexpr size_t kMaxPeers = 4096;  // entries in one peer list

// "127.0.0.1:7001" -> endpoint. Port 0 is allowed (listen on an ephemeral port).
[[nodiscard]] absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseHostPort(std::string_view text);

// "1=127.0.0.1:7001,2=127.0.0.1:7002" -> {1: "127.0.0.1:7001", ...}. Empty text -> empty map.
// Ids must be non-zero and distinct; every address must parse with ParseHostPort.
[[nodiscard]] absl::StatusOr<absl::btree_map<NodeId, std::string>> ParsePeerList(
    std::string_view text);

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_ADDRESS_H_
