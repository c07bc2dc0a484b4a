// Record: what a replica stores for one key in an eventual keyspace — a value or a tombstone,
// with its version and optional expiry — and the rules every replica applies to records.
//
//   * Order: `Supersedes(a, b)` iff a.version > b.version, or the versions are equal and a's
//     content digest is greater (equal versions with different content only arise if a restarted
//     coordinator reissues a version, see hlc.h; the digest makes every replica pick the same one).
//   * Deletes are tombstones: a record with `tombstone` set and no value, ordered like any write,
//     so a delete beats every older write wherever the two meet (Cassandra's and Riak's model).
//   * TTL: `expires_at_ns` (wall time, set by the coordinator as its HLC wall time + TTL; 0 means
//     never). Once expired, a value reads as missing; the record itself stays until purged, so an
//     expired value cannot be resurrected by an older copy elsewhere.
//   * Dead records (tombstones, expired values) are purged after a grace period (Cassandra's
//     gc_grace_seconds): a tombstone at version.wall + grace, an expired value at expiry + grace.
//     Once purged, a replica that missed the delete can no longer learn it, so anti-entropy must
//     reach every replica well within the grace period (docs/dynamo.md). Records past their
//     purge time are never stored, hashed or sent.
//
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_EVENTUAL_CORE_RECORD_H_
#define CREMA_NODE_EVENTUAL_CORE_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/eventual/core/hlc.h"
#include "node/eventual/core/wire.h"

namespace crema::eventual {

inline constexpr size_t kMaxKeyBytes = 4 << 10;     // 4 KiB
inline constexpr size_t kMaxValueBytes = 1 << 20;   // 1 MiB

struct Record {
  Version version;
  bool tombstone = false;
  int64_t expires_at_ns = 0;  // wall time, ns since the Unix epoch; 0 = never
  std::string value;          // empty for tombstones

  friend bool operator==(const Record&, const Record&) = default;
};

// A value that has not expired at `now` (wall time).
bool IsLive(const Record& record, absl::Time now);
inline bool IsDead(const Record& record, absl::Time now) { return !IsLive(record, now); }

// When the record may be forgotten: InfiniteFuture for a live value without TTL.
absl::Time PurgeTime(const Record& record, absl::Duration grace);

// XXH3 digest of the record's whole content (version, flags, expiry, value).
uint64_t ContentDigest(const Record& record);

// Total order used by every replica (see the file comment).
bool Supersedes(const Record& a, const Record& b);

// The digest of (key, record) that Merkle leaves XOR together.
uint64_t LeafDigest(std::string_view key, const Record& record);

// Bytes the record occupies in memory accounting (key + value + fixed overhead).
size_t RecordBytes(std::string_view key, const Record& record);

void EncodeVersion(const Version& version, WireWriter& out);
[[nodiscard]] bool DecodeVersion(WireReader& in, Version* version);

// Encoding: flags u8 (bit 0 tombstone), version, expires_at i64, value bytes.
void EncodeRecord(const Record& record, WireWriter& out);
// INVALID_ARGUMENT on truncation, bad flags, a tombstone with a value, or a value over the bound.
[[nodiscard]] absl::Status DecodeRecord(WireReader& in, Record* record);

// Validates a key from the outside world: non-empty, at most kMaxKeyBytes.
[[nodiscard]] absl::Status ValidateKey(std::string_view key);

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_RECORD_H_
