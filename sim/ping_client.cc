#include "sim/ping_client.h"

#include "absl/strings/str_cat.h"
#include "node/ping/ping_codec.h"
#include "sim/op_trace.h"

namespace crema::sim {

using ping::PingMessage;

uint64_t PingLedger::acked() const {
  uint64_t total = 0;
  for (const auto& [server, count] : acked_by_server) total += count;
  return total;
}

uint64_t PingLedger::indeterminate() const {
  uint64_t total = 0;
  for (const auto& [server, count] : indeterminate_by_server) total += count;
  return total;
}

void PingLedger::Violation(std::string what) {
  if (violations.size() < kMaxViolations) violations.push_back(std::move(what));
}

PingClient::PingClient(Env env, std::vector<NodeId> servers, PingLedger* ledger,
                       absl::Duration timeout, const bool* stop)
    : env_(env), servers_(std::move(servers)), ledger_(ledger), timeout_(timeout), stop_(stop),
      replies_(env.executor, kMaxQueuedReplies) {
  env_.network->SetHandler(Service::kPing, [this](NodeId, std::string message) {
    replies_.TrySend(std::move(message));  // a full queue drops, like a lossy network
  });
  ++ledger_->busy_clients;
  env_.executor->Spawn("ping.client", [this] {
    Run();
    --ledger_->busy_clients;
  });
}

void PingClient::Run() {
  for (uint64_t request_id = 1; !*stop_; ++request_id) {
    if (!env_.executor->Sleep(env_.random->DurationBetween(absl::Milliseconds(5),
                                                           absl::Milliseconds(50))).ok()) {
      return;
    }
    if (*stop_) return;
    const NodeId server = servers_[env_.random->Uniform(servers_.size())];
    const bool is_add = !env_.random->OneIn(4);
    PingMessage request;
    request.kind = is_add ? PingMessage::Kind::kAdd : PingMessage::Kind::kGet;
    request.request_id = request_id;
    if (is_add) ++ledger_->adds_sent;
    TraceOpInvoke(*env_.tracer, request_id, absl::StrCat(is_add ? "add" : "get", " -> n", server));
    env_.network->Send(server, Service::kPing, ping::EncodePing(request));
    if (!AwaitReply(request_id, server, is_add)) {
      if (is_add) ++ledger_->indeterminate_by_server[server];
      TraceOpReturn(*env_.tracer, request_id, "timeout");
    }
  }
}

bool PingClient::AwaitReply(uint64_t request_id, NodeId server, bool is_add) {
  const absl::Time deadline = env_.clock->MonotonicNow() + timeout_;
  while (true) {
    const absl::Duration left = deadline - env_.clock->MonotonicNow();
    if (left <= absl::ZeroDuration()) return false;
    absl::StatusOr<std::string> reply = replies_.Recv(left);
    if (!reply.ok()) return false;
    absl::StatusOr<PingMessage> decoded = ping::DecodePing(*reply);
    if (!decoded.ok()) {
      ledger_->Violation(absl::StrCat("server sent a malformed reply: ", *reply));
      continue;
    }
    if (decoded->request_id != request_id) continue;  // a late reply to an earlier request
    const PingMessage::Kind want = is_add ? PingMessage::Kind::kAck : PingMessage::Kind::kValue;
    if (decoded->kind != want) continue;
    TraceOpReturn(*env_.tracer, request_id,
                  absl::StrCat(is_add ? "ack" : "value", " total=", decoded->total));
    if (decoded->total > ledger_->adds_sent) {
      const std::string what = absl::StrCat("server ", server, " reported total ", decoded->total,
                                            " but only ", ledger_->adds_sent, " adds were ever sent");
      env_.tracer->Record("violation", what);
      ledger_->Violation(what);
    }
    if (is_add) {
      ++ledger_->acked_by_server[server];
      if (ledger_->network != nullptr && !ledger_->network->blocked_links().empty()) {
        ++ledger_->acked_during_partition;
      }
    } else {
      ++ledger_->gets_answered;
    }
    return true;
  }
}

}  // namespace crema::sim
