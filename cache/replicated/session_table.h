// SessionTable: exactly-once application of client commands that may be retried or duplicated,
// part of a shard's replicated state (after Ongaro's thesis §6.3 and RIFL, Lee et al., SOSP 2015).
//
// A session is one origin's stream of commands to one shard (in Crema: one node incarnation per
// shard). The origin numbers its commands 1, 2, 3, ... and may have many in flight at once; each
// command also carries the origin's `ack_floor`: every seq below it is finished at the origin
// (answered, or given up). Per session the table keeps the results of applied commands at or above
// the floor. Deciding a command (`Admit`):
//   1. seq below the session's floor: a late duplicate of a finished call — kStale, not applied.
//   2. a result for seq is kept: a retry — answer it again, not applied.
//   3. the command is older than max_request_age (by log time vs the origin's issue time) — refuse
//      (kExpiredRequest). This is what makes expiring sessions safe: a session is dropped only
//      after session_ttl > max_request_age of inactivity, so a command whose session (and cached
//      result) is gone is too old to be applied again.
//   4. too many sessions or too many kept results — kSessionLimit, not applied.
//   5. otherwise apply it, then `Record` the result.
// After deciding, the session's floor rises to the command's ack_floor and results below it are
// dropped. Sessions idle (by log time) longer than session_ttl are dropped by `Expire`.
//
// Everything is a deterministic function of the applied commands and log time, so every replica
// holds the same table; it is part of the shard's checkpoint (`Encode`/`Decode`, sorted).
//
// Bounds: kMaxSessions sessions, kMaxResultsPerSession kept results per session.
// Thread safety: none (the shard's state machine).
#ifndef CREMA_CACHE_REPLICATED_SESSION_TABLE_H_
#define CREMA_CACHE_REPLICATED_SESSION_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "cache/replicated/command.h"
#include "node/wire.h"

namespace crema::replicated {

class SessionTable {
 public:
  static constexpr size_t kMaxSessions = 16'384;
  static constexpr size_t kMaxResultsPerSession = 1'024;

  SessionTable(int64_t session_ttl_ns, int64_t max_request_age_ns)
      : session_ttl_ns_(session_ttl_ns), max_request_age_ns_(max_request_age_ns) {}

  // Decides a client command at log time `now_ns` (see the file comment): a result to answer
  // without applying, or nullopt to apply it (then call Record). REQUIRES: a client command.
  std::optional<Result> Admit(const Command& command, int64_t now_ns);
  // Keeps the result of an applied command. REQUIRES: Admit returned nullopt for it just before.
  void Record(const Command& command, const Result& result);
  // Drops sessions idle longer than session_ttl at log time `now_ns`.
  void Expire(int64_t now_ns);

  size_t size() const { return sessions_.size(); }
  size_t kept_results() const { return kept_results_; }

  void Encode(WireWriter& out) const;
  // Replaces the table; InvalidArgument on garbage (the table is then empty).
  [[nodiscard]] absl::Status Decode(WireReader& in);

 private:
  struct Session {
    uint64_t floor = 1;
    int64_t last_active_ns = 0;
    absl::btree_map<uint64_t, std::string> results;  // seq -> EncodeResult
  };
  void Touch(uint64_t id, Session& session, int64_t now_ns);
  void RaiseFloor(Session& session, uint64_t floor);

  int64_t session_ttl_ns_;
  int64_t max_request_age_ns_;
  absl::btree_map<uint64_t, Session> sessions_;
  absl::btree_set<std::pair<int64_t, uint64_t>> by_activity_;  // (last_active_ns, id)
  size_t kept_results_ = 0;
};

}  // namespace crema::replicated

#endif  // CREMA_CACHE_REPLICATED_SESSION_TABLE_H_
