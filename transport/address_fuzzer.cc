// Fuzz target: addresses and peer lists from flags and config (address.h ParseHostPort,
// ParsePeerList), and cluster secrets (handshake.h ValidateClusterSecret).
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a
// parsed peer list has at most kMaxPeers distinct non-zero ids, each address parses on its own.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tools/fuzz/memory_budget.h"
#include "transport/address.h"
#include "transport/handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::transport;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseHostPort(text);
  (void)ValidateClusterSecret(text);
  absl::StatusOr<absl::btree_map<crema::NodeId, std::string>> peers = ParsePeerList(text);
  if (!peers.ok()) return 0;
  if (peers->size() > kMaxPeers) {
    std::fprintf(stderr, "a peer list over kMaxPeers was accepted\n");
    std::abort();
  }
  for (const auto& [id, address] : *peers) {
    if (id == crema::kNoNode || !ParseHostPort(address).ok()) {
      std::fprintf(stderr, "a peer list with a bad entry was accepted\n");
      std::abort();
    }
  }
  return 0;
}
