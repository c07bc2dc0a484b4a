// Oracles for cache histories beyond linearizability (the `cache` scenario, and real-process
// chaos runs): what local reads and TTLs promise.
//
// Local reads (Operation::local) are not linearizable by design, but they promise:
//   * never invented: a value read was written to that key by a write invoked before the read
//     returned (a put, or a cas's new value);
//   * read-your-writes through one node: if client C's write W of key K through node N was
//     acknowledged before C's local read R of K through N began, R does not return a value
//     written by a write that completed before W was invoked (older than W). With
//     `lose_nothing` (no capacity eviction), R may also not miss W's value when W set no TTL and
//     no delete, expire or TTL'd write of K was invoked between W's invocation and R's return.
// TTLs: no read (local or linearizable) invoked later than W.return + W's TTL + `max_skew`
// returns W's value — unless the key's expiry may have been changed in between (an expire or a
// put/cas with keep-TTL of K invoked between W's invocation and the read's return).
// Expiry set by EXPIRE (for a local read: an EXPIRE through the read's own node, since local reads
// may be stale; see below): no read invoked later than E.return + E's TTL + `max_skew` of a key whose
// acknowledged, applied EXPIRE E set a TTL returns a value — unless another operation of K
// (other than a read, or an increment that surely returned before E.invoke + TTL - `max_skew`,
// which keeps the deadline) may have taken effect between E's invocation and the read's return.
// Without `lose_nothing` the key may also have been evicted after E: then an increment that
// returned its own delta (it may have found the key absent) counts as such an operation, since
// it started a new key with no deadline.
//
// Operations carry what the oracles need through `OracleInfo`, indexed like the history: the node
// a client used, and the TTL a write asked for. Values written must be unique per write (the
// scenario's workload makes them so); integer values of increment keys are not checked for
// invention (an indeterminate increment may have produced any of them).
//
// Thread safety: pure functions.
#ifndef CREMA_CHAOS_CACHE_ORACLES_H_
#define CREMA_CHAOS_CACHE_ORACLES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chaos/history.h"

namespace crema::chaos {

struct OracleInfo {
  uint32_t node = 0;          // the node the client sent the operation to
  int64_t ttl_ns = 0;         // put / cas / expire: the TTL asked for (0: none)
  bool keeps_ttl = false;     // put / cas that kept the key's current deadline (KEEPTTL)
};

struct CacheOracleOptions {
  absl::Duration max_skew = absl::Milliseconds(500);  // the cluster's clock-skew bound
  bool lose_nothing = false;  // no capacity eviction in this run
  size_t max_reported = 5;    // violations described in full
};

struct CacheOracleResult {
  size_t local_reads_checked = 0;
  size_t ttl_reads_checked = 0;
  size_t expire_reads_checked = 0;  // reads checked against an EXPIRE's deadline
  std::vector<std::string> violations;  // the first max_reported, described
  size_t violation_count = 0;
};

// REQUIRES: info.size() == history.size().
CacheOracleResult CheckCacheOracles(const History& history, const std::vector<OracleInfo>& info,
                                    const CacheOracleOptions& options);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_CACHE_ORACLES_H_
