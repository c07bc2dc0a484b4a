// The shared log's record bodies (shared_log.h). Framing, checksums and the torn-tail rules are
// the WAL's (wal_format.h); this file adds what differs:
//
//   kLogHeader      magic u64 "CREMALOG" | version u32 | segment seq u64
//   every other     group u64 | body
//     kGroupEntries, kGroupCopy   body = EncodeEntries (wal_format.h)
//     kGroupHardState             body = EncodeHardState
//     kGroupReset                 body = EncodeReset
//     kGroupDestroy               body = the group's storage prefix (<= kMaxFileNameBytes bytes)
// All integers little-endian, fixed width.
//
// Thread safety: pure functions.
#ifndef CREMA_CONSENSUS_STORAGE_SHARED_LOG_FORMAT_H_
#define CREMA_CONSENSUS_STORAGE_SHARED_LOG_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "consensus/storage/wal_format.h"
#include "consensus/types.h"

namespace crema::raft::storage {

inline constexpr char kLogSegmentPrefix[] = "log-";
inline constexpr uint64_t kLogMagic = 0x474f4c414d455243;  // "CREMALOG"
inline constexpr uint32_t kLogVersion = 1;

std::string EncodeLogHeader(uint64_t seq);
[[nodiscard]] absl::Status DecodeLogHeader(std::string_view body, uint64_t* seq);

// Bytes a group record with a body of `body_bytes` takes on disk (framing, synced_offset, tag).
inline uint64_t GroupRecordBytes(size_t body_bytes) {
  return kRecordOverheadBytes + 8 + 8 + body_bytes;
}

// Splits a group record's body (RecordView::body) into its group and the rest.
[[nodiscard]] absl::Status SplitGroupBody(std::string_view body, GroupId* group,
                                          std::string_view* rest);

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_SHARED_LOG_FORMAT_H_
