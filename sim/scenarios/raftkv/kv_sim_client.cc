#include "sim/scenarios/raftkv/kv_sim_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/op_trace.h"

namespace crema::kvsim {

using kv::CommandKind;
using kv::ResultCode;

namespace {

// Short texts for the run viewer's operation spans (sim/op_trace.h).
std::string Describe(const kv::Call& call) {
  std::string out = absl::StrCat(kv::CommandKindName(call.kind), " ", call.key);
  if (call.kind == CommandKind::kCas) {
    absl::StrAppend(&out, " ", call.expected.value_or("<absent>"), "->", call.value);
  } else if (call.kind == CommandKind::kPut) {
    absl::StrAppend(&out, "=", call.value);
  }
  return out;
}

std::string Describe(const kv::KvClient::Outcome& outcome) {
  switch (outcome.kind) {
    case kv::KvClient::Outcome::kIndeterminate: return "indeterminate";
    case kv::KvClient::Outcome::kError: return "error";
    default: break;
  }
  std::string out = kv::ResultCodeName(outcome.result.code);
  if (outcome.result.value) absl::StrAppend(&out, " ", *outcome.result.value);
  return out;
}

}  // namespace

KvSimClient::KvSimClient(Env env, const sim::Simulator* sim, KvSimLedger* ledger,
                         KvSimClientOptions options)
    : env_(env), sim_(sim), ledger_(ledger), options_(std::move(options)),
      client_(env, options_.servers, /*session=*/env.self, options_.client) {
  ++ledger_->busy_clients;
  env_.executor->Spawn("kvsim.client", [this] {
    Run();
    --ledger_->busy_clients;
  });
}

void KvSimClient::Run() {
  Random& random = *env_.random;
  while (!ledger_->stop) {
    if (!env_.executor->Sleep(random.DurationBetween(absl::Milliseconds(1),
                                                     absl::Milliseconds(20))).ok()) {
      return;
    }
    if (ledger_->stop) break;
    const std::string key = absl::StrCat("k", random.Uniform(options_.keys));
    const std::string value = absl::StrCat("c", env_.self, ".", ++calls_);
    const uint64_t dice = random.Uniform(10);
    kv::Call call;
    if (options_.reads_only) {
      call = kv::GetCall(key);
    } else if (dice < 4) {
      call = kv::PutCall(key, value);
    } else if (dice < 7) {
      call = kv::GetCall(key);
    } else if (dice < 9) {
      // Expect what this client last saw there (absent if nothing): often right, sometimes not.
      auto seen = last_seen_.find(key);
      call = kv::CasCall(key, seen == last_seen_.end() ? std::nullopt : seen->second, value);
    } else {
      call = kv::DeleteCall(key);
    }
    if (!Record(call)) return;
  }
  if (!options_.final_reads) return;
  for (int k = 0; k < options_.keys; ++k) {
    if (!Record(kv::GetCall(absl::StrCat("k", k)))) return;
  }
}

bool KvSimClient::Record(const kv::Call& call) {
  chaos::HistoryRecorder& h = ledger_->history;
  const int64_t client = env_.self;
  const int64_t invoke_ns = sim_->now_ns();
  chaos::HistoryRecorder::OpId id = 0;
  switch (call.kind) {
    case CommandKind::kPut: id = h.InvokePut(client, call.key, call.value, Now()); break;
    case CommandKind::kGet: id = h.InvokeGet(client, call.key, Now()); break;
    case CommandKind::kDelete: id = h.InvokeDelete(client, call.key, Now()); break;
    case CommandKind::kCas:
      id = h.InvokeCas(client, call.key, call.expected, call.value, Now());
      break;
  }
  sim::TraceOpInvoke(*env_.tracer, id, Describe(call));
  const kv::KvClient::Outcome outcome = client_.Call(call);
  sim::TraceOpReturn(*env_.tracer, id, Describe(outcome));
  if (outcome.kind == kv::KvClient::Outcome::kIndeterminate) {
    h.CompleteIndeterminate(id);
    ++ledger_->indeterminate;
    // A cancelled fiber (the simulation is over) also lands here; the caller's next Sleep stops.
    return true;
  }
  if (outcome.kind == kv::KvClient::Outcome::kError) {
    h.CompleteError(id, Now());
    ++ledger_->errors;
    return true;
  }
  ++ledger_->done;
  const kv::Result& r = outcome.result;
  const bool is_write = call.kind != CommandKind::kGet;
  if (is_write && ledger_->liveness_start_ns >= 0 && invoke_ns >= ledger_->liveness_start_ns &&
      r.code == ResultCode::kOk) {
    ++ledger_->acked_writes_after_heal;
  }
  if (r.code == ResultCode::kOk || r.code == ResultCode::kNotFound) {
    last_seen_[call.key] = call.kind == CommandKind::kGet      ? r.value
                           : call.kind == CommandKind::kDelete ? std::nullopt
                                                               : std::optional(call.value);
  }
  switch (call.kind) {
    case CommandKind::kGet:
      if (r.code == ResultCode::kOk && r.value) {
        h.CompleteRead(id, r.value, Now());
        return true;
      }
      if (r.code == ResultCode::kNotFound) {
        h.CompleteRead(id, std::nullopt, Now());
        return true;
      }
      break;
    case CommandKind::kPut:
    case CommandKind::kDelete:
      if (r.code == ResultCode::kOk) {
        h.CompleteOk(id, Now());
        return true;
      }
      break;
    case CommandKind::kCas:
      if (r.code == ResultCode::kOk || r.code == ResultCode::kCasFailed) {
        r.code == ResultCode::kOk ? h.CompleteOk(id, Now()) : h.CompleteCasFailed(id, Now());
        return true;
      }
      break;
  }
  // e.g. kStale for the call in progress: the store lost track of this session.
  ledger_->Violation(absl::StrCat("client ", client, ": ", kv::CommandKindName(call.kind),
                                  " answered ", kv::ResultCodeName(r.code)));
  h.CompleteIndeterminate(id);
  return true;
}

}  // namespace crema::kvsim
