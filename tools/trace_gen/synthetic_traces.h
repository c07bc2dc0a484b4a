// Synthetic cache traces: seeded generators of access shapes that real traces mix, for judging an
// eviction policy on workloads the project does not ship (docs/cache.md, "Hit ratio on every
// shape").
//
// Every shape is a deterministic function of (shape, length, seed): the same arguments give the
// same keys on every machine (integer arithmetic and crema::Random only; Zipf ranks come from an
// integer-scaled table). Keys are non-negative integers; disjoint key ranges keep the parts of a
// mixed shape from colliding.
//
// Shapes (name: what it stresses):
//   pairs       recency-dominated: 3 of 4 keys are used exactly twice, the second use 1..100
//               requests after the first; the others once. No frequency signal at all.
//   pairs_far   the same with second uses 1..2,000 requests later (reuse beyond small caches).
//   stack       LRU stack model: 1 in 8 requests is a new key, the others re-use the key at a
//               Pareto-like stack depth (heavy-tailed recency; LRU is near optimal).
//   zipf        frequency-dominated: Zipf(0.9) over 100,000 keys.
//   zipf_drift  Zipf(0.9) over 20,000 keys whose identities shift by one key every 8 requests
//               (popularity that moves: needs recency and frequency).
//   scan        scan-heavy: Zipf(0.9) over 20,000 hot keys; 40% of requests are long runs of
//               never-repeated sequential keys.
//   loop        a loop over 5,000 keys with 20% one-time noise keys (LRU thrashes below 5,000).
//   mixture     Zipf(0.8) over 10,000 keys for half the requests, pairs 1..5,000 requests apart
//               for the other half (popular content plus session-scoped re-reads).
//   phases      alternates every 100,000 requests between pairs and zipf (the optimum moves).
//
// Thread safety: pure functions.
#ifndef CREMA_TOOLS_TRACE_GEN_SYNTHETIC_TRACES_H_
#define CREMA_TOOLS_TRACE_GEN_SYNTHETIC_TRACES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace crema::tools {

// Names of every shape, in the order of the file comment.
const std::vector<std::string>& SyntheticShapeNames();

// `length` requests of `shape`. REQUIRES nothing: an unknown shape or a length outside
// [1, kMaxSyntheticLength] is InvalidArgument.
inline constexpr int64_t kMaxSyntheticLength = int64_t{1} << 28;
absl::StatusOr<std::vector<uint64_t>> GenerateSyntheticTrace(std::string_view shape,
                                                             int64_t length, uint64_t seed);

}  // namespace crema::tools

#endif  // CREMA_TOOLS_TRACE_GEN_SYNTHETIC_TRACES_H_
