#include "transport/address.h"

#include <boost/asio/ip/address.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace crema::transport {

namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseHostPort(std::string_view std_text) {
  const absl::string_view text = Absl(std_text);
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address '", text, "' is not host:port"));
  }
  absl::string_view host = text.substr(0, colon);
  const absl::string_view port_text = text.substr(colon + 1);
  uint32_t port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in address '", text, "'"));
  }
  if (host == "localhost") host = "127.0.0.1";
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    return absl::InvalidArgumentError(absl::StrCat("unbalanced '[' in address '", text, "'"));
  }
  boost::system::error_code error;
  const boost::asio::ip::address ip = boost::asio::ip::make_address(std::string(host), error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad host in address '", text, "' (numeric IP or localhost expected)"));
  }
  return boost::asio::ip::tcp::endpoint(ip, static_cast<uint16_t>(port));
}

absl::StatusOr<absl::btree_map<NodeId, std::string>> ParsePeerList(std::string_view std_text) {
  const absl::string_view text = Absl(std_text);
  absl::btree_map<NodeId, std::string> peers;
  if (text.empty()) return peers;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    if (peers.size() >= kMaxPeers) return absl::InvalidArgumentError("too many peers");
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("peer '", entry, "' is not id=host:port"));
    }
    NodeId id = kNoNode;
    if (!absl::SimpleAtoi(entry.substr(0, eq), &id) || id == kNoNode) {
      return absl::InvalidArgumentError(absl::StrCat("bad node id in peer '", entry, "'"));
    }
    const absl::string_view address = entry.substr(eq + 1);
    absl::StatusOr<boost::asio::ip::tcp::endpoint> endpoint =
        ParseHostPort(std::string_view(address.data(), address.size()));
    if (!endpoint.ok()) return endpoint.status();
    if (!peers.emplace(id, std::string(address)).second) {
      return absl::InvalidArgumentError(absl::StrCat("node id ", id, " listed twice"));
    }
  }
  return peers;
}

}  // namespace crema::transport
