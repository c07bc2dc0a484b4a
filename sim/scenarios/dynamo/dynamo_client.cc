#include "sim/scenarios/dynamo/dynamo_client.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace crema::dynamo {

std::string KeyName(int index) { return absl::StrCat("key-", index); }

void WriteHistoryJson(const DynamoLedger& ledger, std::ostream& out) {
  static constexpr const char* kOps[] = {"get", "put", "delete"};
  static constexpr const char* kOutcomes[] = {"pending", "ok", "failed", "unknown"};
  for (const DynamoOp& op : ledger.ops) {
    nlohmann::ordered_json line;
    line["client"] = op.client;
    line["seq"] = op.seq;
    line["server"] = op.server;
    line["op"] = kOps[static_cast<int>(op.op)];
    line["key"] = op.key;
    line["value"] = op.value;
    line["ttl_ms"] = op.ttl_ms;
    line["invoke_ns"] = op.invoke_ns;
    line["complete_ns"] = op.complete_ns;
    line["outcome"] = kOutcomes[static_cast<int>(op.outcome)];
    line["version"] = op.version.ToString();
    line["found"] = op.found;
    // Errors are server text: keep the line valid JSON whatever bytes they hold.
    line["error"] = op.error;
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  out.flush();
}

DynamoClient::DynamoClient(Env env, sim::Simulator* sim, DynamoLedger* ledger,
                           DynamoClientOptions options)
    : env_(env),
      sim_(sim),
      ledger_(ledger),
      options_(std::move(options)),
      random_(env.random->Fork("dynamo-client")),
      replies_(env.executor, 16),
      next_req_(random_.Next() >> 1) {
  env_.network->SetHandler(Service::kEventual, [this](NodeId, std::string bytes) {
    absl::StatusOr<eventual::Message> m = eventual::DecodeMessage(bytes);
    if (!m.ok()) return;
    if (auto* reply = std::get_if<eventual::ClientReply>(&*m)) (void)replies_.TrySend(*reply);
  });
  Resume();
}

void DynamoClient::Resume() {
  if (running_) return;
  running_ = true;
  ++ledger_->busy_clients;
  env_.executor->Spawn("dynamo.client", [this] { Loop(); });
}

void DynamoClient::Loop() {
  while (!ledger_->stop) {
    RunOne(next_seq_++);
    if (!env_.executor->Sleep(random_.DurationBetween(absl::ZeroDuration(), options_.max_think)).ok()) break;
  }
  running_ = false;
  --ledger_->busy_clients;
}

void DynamoClient::RunOne(uint64_t seq) {
  DynamoOp op;
  op.client = env_.self;
  op.seq = seq;
  const uint64_t pick = random_.Uniform(10);
  op.op = pick < 5 ? eventual::ClientOp::kPut : pick < 9 ? eventual::ClientOp::kGet
                                                        : eventual::ClientOp::kDelete;
  op.key = KeyName(static_cast<int>(random_.Uniform(options_.keys)));
  eventual::ClientRequest request;
  request.req = ++next_req_;
  request.op = op.op;
  request.key = op.key;
  request.consistency = op.op == eventual::ClientOp::kGet ? options_.read : options_.write;
  if (op.op == eventual::ClientOp::kPut) {
    op.value = absl::StrCat("c", env_.self, "-", seq);
    request.value = op.value;
    if (random_.OneIn(4)) request.ttl_ms = op.ttl_ms = 3'600'000;
  }
  const NodeId server = options_.servers[random_.Uniform(options_.servers.size())];
  op.server = server;
  op.invoke_ns = sim_->now_ns();
  const size_t index = ledger_->ops.size();
  ledger_->ops.push_back(op);
  while (replies_.TryRecv()) {}  // stale replies of earlier calls
  uint64_t& session = sessions_[server];
  request.session = session;
  env_.network->Send(server, Service::kEventual, eventual::EncodeMessage(request));
  const absl::Time deadline = env_.clock->MonotonicNow() + options_.timeout;
  std::optional<eventual::ClientReply> reply;
  bool restarted = false;
  while (!reply) {
    const absl::Duration left = deadline - env_.clock->MonotonicNow();
    if (left <= absl::ZeroDuration()) break;
    absl::StatusOr<eventual::ClientReply> r = replies_.Recv(left);
    if (!r.ok()) break;
    if (r->req != request.req) continue;
    if (r->session != request.session &&
        static_cast<absl::StatusCode>(r->code) == absl::StatusCode::kFailedPrecondition) {
      // Sent to another incarnation of the server: nothing was executed by this one.
      session = r->session;
      if (request.session != 0) {
        restarted = true;  // an earlier incarnation may have executed a copy: outcome unknown
        break;
      }
      // First contact: no incarnation executed it; send it again, under a new id so that
      // answers to copies of the first send are not taken for answers to this one.
      request.session = session;
      request.req = ++next_req_;
      env_.network->Send(server, Service::kEventual, eventual::EncodeMessage(request));
      continue;
    }
    reply = *r;
  }
  DynamoOp& done = ledger_->ops[index];
  done.complete_ns = sim_->now_ns();
  if (!reply) {
    done.outcome = OpOutcome::kUnknown;
    done.error = restarted ? "server restarted" : "no reply";
    return;
  }
  const auto code = static_cast<absl::StatusCode>(reply->code);
  if (code == absl::StatusCode::kOk) {
    done.outcome = OpOutcome::kOk;
    done.version = reply->version;
    if (op.op == eventual::ClientOp::kGet) {
      done.found = reply->found;
      done.value = reply->value;
      ++ledger_->ok_reads;
    } else {
      ++ledger_->acked_writes;
      ++ledger_->acked_writes_since_mark;
    }
    return;
  }
  done.error = reply->error;
  const bool nothing_sent = code == absl::StatusCode::kUnavailable ||
                            code == absl::StatusCode::kFailedPrecondition ||
                            code == absl::StatusCode::kInvalidArgument;
  done.outcome = nothing_sent ? OpOutcome::kFailed : OpOutcome::kUnknown;
}

}  // namespace crema::dynamo
