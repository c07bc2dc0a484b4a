// Per-request consistency for eventual keyspaces: how many replicas must answer.
//
// A read waits for R replica answers, a write for W acknowledgements, out of the key's N home
// replicas (the first N distinct members clockwise on the ring, ring.h). Levels, as in Cassandra:
//   kOne     — 1
//   kQuorum  — floor(N / 2) + 1
//   kAll     — N
//   kCount   — an explicit count in [1, N] (`count`)
// With R + W > N every read quorum meets every write quorum, so a read sees the latest
// acknowledged write (or a later one) — as long as the quorums are *strict*: counted over home
// replicas only. With `sloppy` set (Dynamo's sloppy quorum), acknowledgements from stand-ins
// holding a hinted copy for an unreachable home replica count too: writes stay available while
// fewer than W home replicas are reachable, at the price of that guarantee (a later read may
// contact home replicas that have not received the hint yet). docs/dynamo.md has the trade.
//
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_EVENTUAL_CORE_CONSISTENCY_H_
#define CREMA_NODE_EVENTUAL_CORE_CONSISTENCY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crema::eventual {

inline constexpr int kMaxReplication = 7;  // N

enum class ConsistencyLevel : uint8_t { kOne = 0, kQuorum = 1, kAll = 2, kCount = 3 };

struct Consistency {
  ConsistencyLevel level = ConsistencyLevel::kQuorum;
  int count = 0;        // kCount only
  bool sloppy = false;  // count stand-ins' hinted acknowledgements / answers

  static Consistency One() { return {ConsistencyLevel::kOne}; }
  static Consistency Quorum() { return {ConsistencyLevel::kQuorum}; }
  static Consistency All() { return {ConsistencyLevel::kAll}; }
  static Consistency Count(int n) { return {ConsistencyLevel::kCount, n}; }
  std::string ToString() const;  // "ONE", "QUORUM", "ALL", "2", with "~" appended when sloppy
  friend bool operator==(const Consistency&, const Consistency&) = default;
};

// How many answers the level needs with replication factor `n`. INVALID_ARGUMENT for n outside
// [1, kMaxReplication] or an explicit count outside [1, n].
[[nodiscard]] absl::StatusOr<int> RequiredAnswers(const Consistency& consistency, int n);

// Parses "one", "quorum", "all" or a decimal count, case-insensitive, optionally suffixed "~"
// for sloppy. nullopt for anything else.
std::optional<Consistency> ParseConsistency(std::string_view text);

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_CONSISTENCY_H_
