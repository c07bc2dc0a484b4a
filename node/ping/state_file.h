// The ping service's durable state and its checksummed on-disk encoding.
//
// Layout (little-endian):
//   "CREMAPNG" (8 bytes) | version u32 = 1 | payload_bytes u32 | payload | XXH3-64 of all before
//   payload: entries u32, then (node u32, count u64) ascending;
//            clients u32, then (client u32, max_request_id u64, window_bits u64) ascending.
// `DecodeState` checks magic, version, exact length, checksum and every bound, returning
// DATA_LOSS for anything wrong (torn, corrupted, truncated, trailing bytes): a damaged file is never
// mistaken for valid state.
//
// `RequestWindow` remembers which of a client's last kDedupWindow request ids were applied.
// Thread safety: plain value types and pure functions, except the Disk helpers (fiber-only).
#ifndef CREMA_NODE_PING_STATE_FILE_H_
#define CREMA_NODE_PING_STATE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/disk.h"
#include "node/network.h"
#include "node/ping/g_counter.h"

namespace crema::ping {

inline constexpr uint64_t kDedupWindow = 64;
inline constexpr size_t kMaxClients = 256;
inline constexpr size_t kMaxStateFileBytes = 64 << 10;

class RequestWindow {
 public:
  enum class Verdict : uint8_t { kNew, kApplied, kTooOld };
  Verdict Check(uint64_t request_id) const;
  // Marks `request_id` applied. REQUIRES: Check(request_id) == kNew.
  void Mark(uint64_t request_id);

  uint64_t max_request_id = 0;  // 0 = nothing applied yet (request ids start at 1)
  uint64_t bits = 0;            // bit i set: request max_request_id - i was applied
  friend bool operator==(const RequestWindow&, const RequestWindow&) = default;
};

struct PersistedState {
  GCounter counter;
  absl::btree_map<NodeId, RequestWindow> clients;  // at most kMaxClients
  friend bool operator==(const PersistedState&, const PersistedState&) = default;
};

std::string EncodeState(const PersistedState& state);
[[nodiscard]] absl::StatusOr<PersistedState> DecodeState(std::string_view bytes);

// Atomically replaces `name` with `state`: writes `temp_name`, Syncs it, Renames it over `name`.
[[nodiscard]] absl::Status WriteStateFile(Disk& disk, std::string_view name,
                                          std::string_view temp_name, const PersistedState& state);
// Reads and decodes `name`: NOT_FOUND if missing, DATA_LOSS if damaged, other errors from the disk.
[[nodiscard]] absl::StatusOr<PersistedState> ReadStateFile(Disk& disk, std::string_view name);

}  // namespace crema::ping

#endif  // CREMA_NODE_PING_STATE_FILE_H_
