#include "chaos/history.h"

#include <cassert>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos {
namespace {

// Longest string FormatOperation prints in full.
constexpr size_t kMaxFormattedBytes = 40;

std::string Quote(absl::string_view bytes) {
  if (bytes.size() <= kMaxFormattedBytes) return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, kMaxFormattedBytes)), "\"...(",
                      bytes.size(), " bytes)");
}

bool OutcomeAllowed(OpKind kind, Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
    case Outcome::kIndeterminate:
    case Outcome::kError:
      return true;
    case Outcome::kAbsent:
      return kind == OpKind::kGet;
    case Outcome::kFail:
      return kind == OpKind::kCas || kind == OpKind::kIncr || kind == OpKind::kExpire;
  }
  return false;
}

}  // namespace

Operation PutOp(int64_t client, std::string key, std::string value, int64_t invoke_ns,
                int64_t return_ns) {
  return Operation{.client = client,
                   .kind = OpKind::kPut,
                   .key = std::move(key),
                   .value = std::move(value),
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = Outcome::kOk};
}

Operation GetOp(int64_t client, std::string key, std::optional<std::string> read,
                int64_t invoke_ns, int64_t return_ns) {
  const Outcome outcome = read.has_value() ? Outcome::kOk : Outcome::kAbsent;
  return Operation{.client = client,
                   .kind = OpKind::kGet,
                   .key = std::move(key),
                   .value = std::move(read).value_or(""),
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = outcome};
}

Operation DeleteOp(int64_t client, std::string key, int64_t invoke_ns, int64_t return_ns) {
  return Operation{.client = client,
                   .kind = OpKind::kDelete,
                   .key = std::move(key),
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = Outcome::kOk};
}

Operation CasOp(int64_t client, std::string key, std::optional<std::string> expected,
                std::string new_value, bool swapped, int64_t invoke_ns, int64_t return_ns) {
  return Operation{.client = client,
                   .kind = OpKind::kCas,
                   .key = std::move(key),
                   .value = std::move(new_value),
                   .expected = std::move(expected),
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = swapped ? Outcome::kOk : Outcome::kFail};
}

Operation IncrOp(int64_t client, std::string key, int64_t delta, std::optional<int64_t> result,
                 int64_t invoke_ns, int64_t return_ns) {
  return Operation{.client = client,
                   .kind = OpKind::kIncr,
                   .key = std::move(key),
                   .value = result.has_value() ? absl::StrCat(*result) : "",
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = result.has_value() ? Outcome::kOk : Outcome::kFail,
                   .delta = delta};
}

Operation ExpireOp(int64_t client, std::string key, bool ttl, bool applied, int64_t invoke_ns,
                   int64_t return_ns) {
  return Operation{.client = client,
                   .kind = OpKind::kExpire,
                   .key = std::move(key),
                   .invoke_ns = invoke_ns,
                   .return_ns = return_ns,
                   .outcome = applied ? Outcome::kOk : Outcome::kFail,
                   .ttl = ttl};
}

Operation Indeterminate(Operation op) {
  op.outcome = Outcome::kIndeterminate;
  op.return_ns.reset();
  if (op.kind == OpKind::kGet || op.kind == OpKind::kIncr) op.value.clear();
  return op;
}

absl::Status ValidateOperation(const Operation& op) {
  if (!OutcomeAllowed(op.kind, op.outcome)) {
    return absl::InvalidArgumentError(absl::StrCat("outcome \"", OutcomeName(op.outcome),
                                                   "\" is not allowed for ", OpKindName(op.kind)));
  }
  if (op.key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key is ", op.key.size(), " bytes; the limit is ", kMaxKeyBytes));
  }
  if (op.value.size() > kMaxValueBytes ||
      (op.expected.has_value() && op.expected->size() > kMaxValueBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is larger than the limit of ", kMaxValueBytes, " bytes"));
  }
  if (op.expected.has_value() && op.kind != OpKind::kCas) {
    return absl::InvalidArgumentError("only cas has an expected value");
  }
  const bool has_value = op.kind == OpKind::kPut || op.kind == OpKind::kCas ||
                         ((op.kind == OpKind::kGet || op.kind == OpKind::kIncr) &&
                          op.outcome == Outcome::kOk);
  if (op.ttl && op.kind != OpKind::kPut && op.kind != OpKind::kCas &&
      op.kind != OpKind::kExpire) {
    return absl::InvalidArgumentError("only put, cas and expire have a ttl");
  }
  if (op.delta != 0 && op.kind != OpKind::kIncr) {
    return absl::InvalidArgumentError("only incr has a delta");
  }
  if (op.local && op.kind != OpKind::kGet) {
    return absl::InvalidArgumentError("only a get can be local");
  }
  if (op.kind == OpKind::kIncr && op.outcome == Outcome::kOk) {
    int64_t unused;
    if (!absl::SimpleAtoi(absl::string_view(op.value), &unused)) {
      return absl::InvalidArgumentError("an incr's result must be a decimal integer");
    }
  }
  if (!has_value && !op.value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(OpKindName(op.kind), " with outcome ",
                                                   OutcomeName(op.outcome), " has no value"));
  }
  if (op.invoke_ns < 0) return absl::InvalidArgumentError("invoke_ns is negative");
  if (op.indeterminate() == op.return_ns.has_value()) {
    return absl::InvalidArgumentError(
        op.indeterminate() ? "an indeterminate operation has no return_ns"
                           : "a completed operation needs a return_ns");
  }
  if (op.return_ns.has_value() && *op.return_ns < op.invoke_ns) {
    return absl::InvalidArgumentError(absl::StrCat("return_ns ", *op.return_ns,
                                                   " is before invoke_ns ", op.invoke_ns));
  }
  return absl::OkStatus();
}

absl::Status ValidateHistory(const History& history) {
  if (history.size() > kMaxHistoryOperations) {
    return absl::InvalidArgumentError(absl::StrCat("history has ", history.size(),
                                                   " operations; the limit is ",
                                                   kMaxHistoryOperations));
  }
  for (size_t i = 0; i < history.size(); ++i) {
    const absl::Status status = ValidateOperation(history[i]);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("operation #", i, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
      return "put";
    case OpKind::kGet:
      return "get";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kCas:
      return "cas";
    case OpKind::kIncr:
      return "incr";
    case OpKind::kExpire:
      return "expire";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kAbsent:
      return "absent";
    case Outcome::kFail:
      return "fail";
    case Outcome::kIndeterminate:
      return "indeterminate";
    case Outcome::kError:
      return "error";
  }
  return "?";
}

std::string FormatOperation(const Operation& op, size_t index) {
  std::string call;
  switch (op.kind) {
    case OpKind::kPut:
      call = absl::StrCat("put(", Quote(op.key), ", ", Quote(op.value), ")");
      break;
    case OpKind::kGet:
      call = absl::StrCat("get(", Quote(op.key), ")");
      break;
    case OpKind::kDelete:
      call = absl::StrCat("delete(", Quote(op.key), ")");
      break;
    case OpKind::kCas:
      call = absl::StrCat("cas(", Quote(op.key), ", expect ",
                          op.expected.has_value() ? Quote(*op.expected) : "absent", ", new ",
                          Quote(op.value), ")");
      break;
    case OpKind::kIncr:
      call = absl::StrCat("incr(", Quote(op.key), ", ", op.delta, ")");
      break;
    case OpKind::kExpire:
      call = absl::StrCat(op.ttl ? "expire(" : "persist(", Quote(op.key), ")");
      break;
  }
  if (op.ttl && (op.kind == OpKind::kPut || op.kind == OpKind::kCas)) {
    absl::StrAppend(&call, " ttl");
  }
  if (op.local) absl::StrAppend(&call, " local");
  std::string result(OutcomeName(op.outcome));
  if ((op.kind == OpKind::kGet || op.kind == OpKind::kIncr) && op.outcome == Outcome::kOk) {
    result = Quote(op.value);
  }
  const std::string until =
      op.return_ns.has_value() ? absl::StrCat(*op.return_ns) : std::string("inf");
  return absl::StrCat("#", index, " client ", op.client, " ", call, " -> ", result, " [",
                      op.invoke_ns, ", ", until, "]");
}

HistoryRecorder::OpId HistoryRecorder::Invoke(Operation op, absl::Time now) {
  op.invoke_ns = absl::ToUnixNanos(now);
  op.outcome = Outcome::kIndeterminate;
  op.return_ns.reset();
  ops_.push_back(std::move(op));
  completed_.push_back(false);
  return ops_.size() - 1;
}

HistoryRecorder::OpId HistoryRecorder::InvokePut(int64_t client, std::string key,
                                                 std::string value, absl::Time now) {
  return Invoke(PutOp(client, std::move(key), std::move(value), 0, 0), now);
}

HistoryRecorder::OpId HistoryRecorder::InvokeGet(int64_t client, std::string key,
                                                 absl::Time now) {
  return Invoke(GetOp(client, std::move(key), std::nullopt, 0, 0), now);
}

HistoryRecorder::OpId HistoryRecorder::InvokeDelete(int64_t client, std::string key,
                                                    absl::Time now) {
  return Invoke(DeleteOp(client, std::move(key), 0, 0), now);
}

HistoryRecorder::OpId HistoryRecorder::InvokeCas(int64_t client, std::string key,
                                                 std::optional<std::string> expected,
                                                 std::string new_value, absl::Time now) {
  return Invoke(
      CasOp(client, std::move(key), std::move(expected), std::move(new_value), true, 0, 0), now);
}

Operation& HistoryRecorder::Open(OpId id, absl::Time now) {
  assert(id < ops_.size() && "unknown operation id");
  assert(!completed_[id] && "operation completed twice");
  Operation& op = ops_[id];
  const int64_t now_ns = absl::ToUnixNanos(now);
  assert(now_ns >= op.invoke_ns && "completion before invocation");
  completed_[id] = true;
  op.return_ns = now_ns;
  return op;
}

void HistoryRecorder::CompleteOk(OpId id, absl::Time now) {
  Operation& op = Open(id, now);
  assert(op.kind != OpKind::kGet && "use CompleteRead for a get");
  op.outcome = Outcome::kOk;
}

void HistoryRecorder::CompleteIncr(OpId id, std::optional<int64_t> result, absl::Time now) {
  Operation& op = Open(id, now);
  assert(op.kind == OpKind::kIncr && "CompleteIncr is for incr");
  op.outcome = result.has_value() ? Outcome::kOk : Outcome::kFail;
  op.value = result.has_value() ? absl::StrCat(*result) : "";
}

void HistoryRecorder::CompleteRead(OpId id, std::optional<std::string> read, absl::Time now) {
  Operation& op = Open(id, now);
  assert(op.kind == OpKind::kGet && "CompleteRead is for gets");
  op.outcome = read.has_value() ? Outcome::kOk : Outcome::kAbsent;
  op.value = std::move(read).value_or("");
}

void HistoryRecorder::CompleteCasFailed(OpId id, absl::Time now) {
  Operation& op = Open(id, now);
  assert((op.kind == OpKind::kCas || op.kind == OpKind::kExpire) &&
         "CompleteCasFailed is for cas and expire");
  op.outcome = Outcome::kFail;
}

void HistoryRecorder::CompleteError(OpId id, absl::Time now) {
  Operation& op = Open(id, now);
  op.outcome = Outcome::kError;
  if (op.kind == OpKind::kGet || op.kind == OpKind::kIncr) op.value.clear();
}

void HistoryRecorder::CompleteIndeterminate(OpId id) {
  assert(id < ops_.size() && "unknown operation id");
  assert(!completed_[id] && "operation completed twice");
  completed_[id] = true;  // Stays kIndeterminate with no return time.
}

History HistoryRecorder::Finish() && {
  completed_.clear();
  return std::move(ops_);
}

}  // namespace crema::chaos
