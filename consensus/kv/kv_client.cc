#include "consensus/kv/kv_client.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace crema::kv {

Call PutCall(std::string key, std::string value) {
  return Call{CommandKind::kPut, std::move(key), std::move(value), std::nullopt};
}
Call GetCall(std::string key) { return Call{CommandKind::kGet, std::move(key), "", std::nullopt}; }
Call DeleteCall(std::string key) {
  return Call{CommandKind::kDelete, std::move(key), "", std::nullopt};
}
Call CasCall(std::string key, std::optional<std::string> expected, std::string value) {
  return Call{CommandKind::kCas, std::move(key), std::move(value), std::move(expected)};
}

KvClient::KvClient(Env env, std::vector<NodeId> servers, uint64_t session,
                   KvClientOptions options)
    : env_(env), servers_(std::move(servers)), session_(session), options_(options),
      replies_(env.executor, kMaxQueuedReplies) {
  assert(!servers_.empty() && session_ != 0);
  std::sort(servers_.begin(), servers_.end());
  env_.network->SetHandler(kKvService, [this](NodeId, std::string bytes) {
    (void)replies_.TrySend(std::move(bytes));  // a full queue drops, like the network would
  });
}

NodeId KvClient::PickServer(NodeId avoid) {
  if (servers_.size() == 1) return servers_[0];
  NodeId pick = avoid;
  while (pick == avoid) pick = servers_[env_.random->Uniform(servers_.size())];
  return pick;
}

KvClient::Outcome KvClient::Call(const kv::Call& call) {
  Command command;
  command.kind = call.kind;
  command.session = session_;
  command.seq = next_seq_++;
  command.key = call.key;
  command.value = call.value;
  command.expected = call.expected;
  Outcome outcome;
  const absl::Time deadline = env_.clock->MonotonicNow() + options_.call_timeout;
  NodeId server = preferred_ != kNoNode ? preferred_ : PickServer(kNoNode);
  absl::Duration attempt_timeout = options_.attempt_timeout;
  while (env_.clock->MonotonicNow() < deadline) {
    ++outcome.attempts;
    const uint64_t request_id = next_request_id_++;
    env_.network->Send(server, kKvService, EncodeRequest(Request{request_id, command}));
    bool cancelled = false;
    const absl::Time attempt_deadline =
        std::min(deadline, env_.clock->MonotonicNow() + attempt_timeout);
    std::optional<Reply> reply = AwaitReply(request_id, attempt_deadline, &cancelled);
    if (cancelled) return outcome;
    if (reply && reply->status == ReplyStatus::kResult) {
      preferred_ = server;
      const ResultCode code = reply->result.code;
      if (code == ResultCode::kSessionLimit || code == ResultCode::kInvalid) {
        outcome.kind = Outcome::kError;
      } else {
        outcome.kind = Outcome::kDone;
      }
      outcome.result = std::move(reply->result);
      return outcome;
    }
    preferred_ = kNoNode;
    const NodeId hint = reply ? static_cast<NodeId>(reply->leader_hint) : kNoNode;
    const bool hint_known = std::find(servers_.begin(), servers_.end(), hint) != servers_.end();
    server = hint_known && hint != server ? hint : PickServer(server);
    // No answer in time: the cluster is slow or the server gone. Each timed-out attempt doubles
    // the next one's timeout (TCP's retransmission backoff): retrying a slow log at a fixed pace
    // adds a copy of the command per attempt and no answer ever arrives in time (congestion
    // collapse: raft-kv seed 14885547583438522173, where retries went to other servers and so
    // could not join the proposal in flight).
    if (!reply) attempt_timeout = std::min(attempt_timeout * 2, options_.call_timeout);
    if (reply) {  // a quick refusal: back off a little before the next attempt
      const absl::Duration backoff =
          env_.random->DurationBetween(options_.retry_backoff_min, options_.retry_backoff_max);
      if (!env_.executor->Sleep(backoff).ok()) return outcome;
    }
  }
  return outcome;
}

std::optional<Reply> KvClient::AwaitReply(uint64_t request_id, absl::Time deadline,
                                          bool* cancelled) {
  while (true) {
    const absl::Duration left = deadline - env_.clock->MonotonicNow();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    absl::StatusOr<std::string> bytes = replies_.Recv(left);
    if (absl::IsCancelled(bytes.status())) {
      *cancelled = true;
      return std::nullopt;
    }
    if (!bytes.ok()) return std::nullopt;
    absl::StatusOr<Reply> reply = DecodeReply(*bytes);
    if (!reply.ok() || reply->request_id != request_id) continue;  // garbage or a late reply
    return *std::move(reply);
  }
}

}  // namespace crema::kv
