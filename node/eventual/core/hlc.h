// Versions for eventual keyspaces: hybrid logical clock timestamps, last writer wins.
//
// Every write (value or tombstone) is stamped by its coordinator with a `Version`
// (wall_ns, logical, node): the pair (wall_ns, logical) is a hybrid logical clock timestamp
// (Kulkarni, Demirbas et al., "Logical Physical Clocks", OPODIS 2014) and `node`, the
// coordinator's id, breaks ties, so versions are totally ordered and two coordinators never issue
// the same one (while each keeps its clock state; see "restarts" below). Replicas keep, per key,
// the record with the greatest version: last writer wins (LWW), as Cassandra does with its cell
// timestamps. Every replica decides the same winner from the same records, whatever the order of
// arrival, so replicas converge once they have seen the same writes.
//
// HLC rules (l = wall part, c = logical part, pt = this node's wall clock):
//   Now(pt):        l' = max(l, pt); c' = (l' == l) ? c + 1 : 0.
//   Observe(m, pt): l' = max(l, m.l, pt); c' follows the paper (max of the equal parts, + 1).
// Every message that carries a version is observed, so a write that causally follows another
// (the coordinator has seen it, e.g. read it) always gets a greater version, even if the two
// coordinators' wall clocks disagree. l stays within the clock skew of real time: a timestamp more
// than `max_forward_skew` ahead of our own clock is not merged (the record is still stored; only
// our clock refuses to jump), so one node with a runaway clock cannot drag everyone's forward.
//
// What LWW loses (documented in docs/dynamo.md): concurrent writes are not merged — one wins,
// the others vanish though they were acknowledged; and between writes that are *not* causally
// related, "later" means "later HLC", not later in real time: if coordinator A's wall clock runs
// 2 s ahead of B's, a write through B up to 2 s after one through A loses to it. Dynamo's vector
// clocks keep siblings instead and push the merge to the application; for a cache, LWW's
// simplicity (one value per key, no read-side merge) is the better trade.
//
// Restarts: the clock state is not persisted; a restarted node seeds it from the greatest version
// it recovers from its store (`Observe`). Should a stepped-back wall clock still make it reissue a
// version it issued before, replicas break the tie between two different records of equal version
// by content digest (record.h), so they still converge.
//
// Thread safety: values; an HlcClock belongs to one node's event loop.
#ifndef CREMA_NODE_EVENTUAL_CORE_HLC_H_
#define CREMA_NODE_EVENTUAL_CORE_HLC_H_

#include <compare>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "node/network.h"

namespace crema::eventual {

struct Version {
  int64_t wall_ns = 0;    // HLC l: nanoseconds since the Unix epoch
  uint32_t logical = 0;   // HLC c
  NodeId node = kNoNode;  // the coordinator that issued it (tie-break)

  bool IsZero() const { return wall_ns == 0 && logical == 0 && node == kNoNode; }
  std::string ToString() const;  // "wall_ns.logical@node"
  friend auto operator<=>(const Version&, const Version&) = default;
  friend bool operator==(const Version&, const Version&) = default;
};

inline constexpr size_t kVersionWireBytes = 16;

class HlcClock {
 public:
  // `max_forward_skew`: timestamps further ahead of our wall clock than this are not merged.
  HlcClock(NodeId self, absl::Duration max_forward_skew)
      : self_(self), max_forward_skew_(max_forward_skew) {}

  // A fresh version for a local write; strictly greater than every version issued or observed.
  Version Now(absl::Time wall);

  // Merges a version seen in a message or recovered from disk. Returns false (and does not merge)
  // if it is more than max_forward_skew ahead of `wall`.
  bool Observe(const Version& seen, absl::Time wall);

  // The greatest (l, c) issued or merged so far, as a version of this node.
  Version last() const { return Version{l_, c_, self_}; }
  uint64_t rejected() const { return rejected_; }

 private:
  void Bump(int64_t l, uint32_t c);

  NodeId self_;
  absl::Duration max_forward_skew_;
  int64_t l_ = 0;
  uint32_t c_ = 0;
  uint64_t rejected_ = 0;
};


}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_HLC_H_
