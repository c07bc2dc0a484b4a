#include "cache/replicated/session_table.h"

#include <cassert>

namespace crema::replicated {

std::optional<Result> SessionTable::Admit(const Command& command, int64_t now_ns) {
  assert(IsClientCommand(command.kind));
  auto it = sessions_.find(command.session);
  if (it != sessions_.end()) {
    Session& session = it->second;
    if (command.seq < session.floor) return Result{ResultCode::kStale};
    auto kept = session.results.find(command.seq);
    if (kept != session.results.end()) {
      absl::StatusOr<Result> again = DecodeResult(kept->second);
      assert(again.ok());
      Touch(command.session, session, now_ns);
      RaiseFloor(session, command.ack_floor);
      return again.ok() ? *again : Result{ResultCode::kInvalid};
    }
  }
  // Issue times come from other nodes' clocks: compute the age without overflow.
  int64_t age_ns = 0;
  const bool overflow = __builtin_sub_overflow(now_ns, command.issued_unix_ns, &age_ns);
  const bool too_old = overflow ? command.issued_unix_ns < 0 : age_ns > max_request_age_ns_;
  if (too_old) return Result{ResultCode::kExpiredRequest};
  if (it == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions) return Result{ResultCode::kSessionLimit};
    it = sessions_.emplace(command.session, Session{}).first;
    it->second.last_active_ns = now_ns;
    by_activity_.insert({now_ns, command.session});
  }
  Session& session = it->second;
  RaiseFloor(session, command.ack_floor);  // may make room for this command's result
  if (session.results.size() >= kMaxResultsPerSession) return Result{ResultCode::kSessionLimit};
  Touch(command.session, session, now_ns);
  return std::nullopt;
}

void SessionTable::Record(const Command& command, const Result& result) {
  auto it = sessions_.find(command.session);
  assert(it != sessions_.end());
  Session& session = it->second;
  if (command.seq >= command.ack_floor) {
    if (session.results.emplace(command.seq, EncodeResult(result)).second) ++kept_results_;
  }
  RaiseFloor(session, command.ack_floor);
}

void SessionTable::Touch(uint64_t id, Session& session, int64_t now_ns) {
  if (now_ns <= session.last_active_ns) return;
  by_activity_.erase({session.last_active_ns, id});
  session.last_active_ns = now_ns;
  by_activity_.insert({now_ns, id});
}

void SessionTable::RaiseFloor(Session& session, uint64_t floor) {
  if (floor <= session.floor) return;
  session.floor = floor;
  while (!session.results.empty() && session.results.begin()->first < floor) {
    session.results.erase(session.results.begin());
    --kept_results_;
  }
}

void SessionTable::Expire(int64_t now_ns) {
  while (!by_activity_.empty()) {
    const auto [last_active_ns, id] = *by_activity_.begin();
    if (now_ns - last_active_ns <= session_ttl_ns_) break;
    by_activity_.erase(by_activity_.begin());
    auto it = sessions_.find(id);
    kept_results_ -= it->second.results.size();
    sessions_.erase(it);
  }
}

void SessionTable::Encode(WireWriter& out) const {
  out.PutVarint(sessions_.size());
  for (const auto& [id, s] : sessions_) {
    out.PutVarint(id);
    out.PutVarint(s.floor);
    out.PutSigned(s.last_active_ns);
    out.PutVarint(s.results.size());
    for (const auto& [seq, result] : s.results) {
      out.PutVarint(seq);
      out.PutBytes(result);
    }
  }
}

absl::Status SessionTable::Decode(WireReader& in) {
  sessions_.clear();
  by_activity_.clear();
  kept_results_ = 0;
  auto bad = [this](const char* what) {
    sessions_.clear();
    by_activity_.clear();
    kept_results_ = 0;
    return absl::InvalidArgumentError(std::string("session table: ") + what);
  };
  uint64_t count;
  if (!in.GetVarint(&count, kMaxSessions)) return bad("bad session count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id, results;
    Session s;
    if (!in.GetVarint(&id) || id == 0 || !in.GetVarint(&s.floor) || s.floor == 0 ||
        !in.GetSigned(&s.last_active_ns) || !in.GetVarint(&results, kMaxResultsPerSession)) {
      return bad("truncated session");
    }
    for (uint64_t j = 0; j < results; ++j) {
      uint64_t seq;
      std::string result;
      if (!in.GetVarint(&seq) || seq < s.floor || !in.GetBytes(&result, kMaxValueBytes + 64) ||
          !DecodeResult(result).ok() || !s.results.emplace(seq, std::move(result)).second) {
        return bad("bad kept result");
      }
    }
    kept_results_ += s.results.size();
    by_activity_.insert({s.last_active_ns, id});
    if (!sessions_.emplace(id, std::move(s)).second) return bad("duplicate session");
  }
  return absl::OkStatus();
}

}  // namespace crema::replicated
