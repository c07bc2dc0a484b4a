#include "tools/chaos/workload.h"

#include <map>
#include <memory>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/chaos/proc.h"
#include "tools/chaos/resp_conn.h"

namespace crema::chaos_tool {
namespace {

using chaos::OpKind;
using chaos::Operation;

absl::Time Now() { return absl::FromUnixNanos(MonotonicNanos()); }

// -CLUSTERDOWN / -OOM: the server's contract says nothing happened.
bool DefinitelyNotDone(const resp::RespValue& v) {
  return v.is_error() && (absl::StartsWith(v.str, "CLUSTERDOWN") || absl::StartsWith(v.str, "OOM"));
}

constexpr int64_t kFinalReader = 1'000'000;  // the client label of final reads

}  // namespace

struct Workload::Client {
  int index = 0;
  std::mt19937_64 random;
  uint64_t writes = 0;
  // (node, local?) -> connection
  std::map<std::pair<NodeId, bool>, std::unique_ptr<RespConn>> conns;

  RespConn& Conn(const Endpoint& e, bool local) {
    std::unique_ptr<RespConn>& c = conns[{e.id, local}];
    if (c == nullptr) {
      c = std::make_unique<RespConn>(e.ip, e.port);
      c->SetPrelude({{"CREMA.CONSISTENCY", local ? "local" : "linearizable"}});
    }
    return *c;
  }
  uint64_t Uniform(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(random); }
};

Workload::Workload(WorkloadOptions options, Endpoints endpoints)
    : options_(options), endpoints_(std::move(endpoints)) {}

Workload::~Workload() { Stop(); }

void Workload::Start() {
  stop_ = false;
  start_ns_ = MonotonicNanos();
  for (int i = 0; i < options_.clients; ++i) threads_.emplace_back([this, i] { Run(i); });
}

void Workload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

absl::btree_map<std::string, uint64_t> Workload::error_kinds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return why_;
}

WorkloadCounts Workload::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

chaos::History Workload::TakeHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(recorder_).Finish();
}

std::vector<chaos::OracleInfo> Workload::TakeInfo() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(info_);
}

namespace {
std::string KeyName(bool counter, int index, int generation) {
  return generation == 0 ? absl::StrCat(counter ? "n" : "k", index)
                         : absl::StrCat(counter ? "n" : "k", index, "g", generation);
}
}  // namespace

int Workload::Generation() const {
  if (options_.key_lifetime <= absl::ZeroDuration() || start_ns_ == 0) return 0;
  return static_cast<int>((MonotonicNanos() - start_ns_) /
                          absl::ToInt64Nanoseconds(options_.key_lifetime));
}

std::vector<std::string> Workload::AllKeys() const {
  std::vector<std::string> keys;
  for (int g = 0; g <= max_generation_.load(); ++g) {
    for (int i = 0; i < options_.keys; ++i) keys.push_back(KeyName(false, i, g));
    for (int i = 0; i < options_.counters; ++i) keys.push_back(KeyName(true, i, g));
  }
  return keys;
}

bool Workload::Execute(Client& client, const Endpoint& endpoint, Operation op, int64_t ttl_ms,
                       int64_t expire_ms) {
  std::vector<std::string> args;
  bool local = false;
  switch (op.kind) {
    case OpKind::kPut:
      args = {"SET", op.key, op.value};
      if (ttl_ms > 0) args.insert(args.end(), {"PX", absl::StrCat(ttl_ms)});
      break;
    case OpKind::kCas:  // only-if-absent
      args = {"SET", op.key, op.value, "NX"};
      if (ttl_ms > 0) args.insert(args.end(), {"PX", absl::StrCat(ttl_ms)});
      break;
    case OpKind::kGet:
      args = {"GET", op.key};
      local = op.local;
      break;
    case OpKind::kDelete:
      args = {"DEL", op.key};
      break;
    case OpKind::kIncr:
      args = {"INCRBY", op.key, absl::StrCat(op.delta)};
      break;
    case OpKind::kExpire:
      args = op.ttl ? std::vector<std::string>{"PEXPIRE", op.key, absl::StrCat(expire_ms)}
                    : std::vector<std::string>{"PERSIST", op.key};
      break;
  }
  chaos::OracleInfo info{.node = endpoint.id, .ttl_ns = ttl_ms * 1'000'000};
  chaos::HistoryRecorder::OpId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = recorder_.InvokeOp(op, Now());
    info_.push_back(info);
  }
  const CallResult r = client.Conn(endpoint, local).Call(args, options_.op_timeout);
  const absl::Time done = Now();
  operations_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mu_);
  if (!r.reply || r.reply->is_error()) {
    // What went wrong, by kind (the reply's first word, or the connection's trouble).
    std::string why = r.reply ? r.reply->str.substr(0, r.reply->str.find(' '))
                              : (r.sent ? "no-reply" : "not-sent");
    if (why_.size() < kMaxErrorKinds || why_.contains(why)) ++why_[why];
  }
  if (!r.reply) {
    if (r.sent) {
      recorder_.CompleteIndeterminate(id);
      ++counts_.indeterminate;
    } else {
      recorder_.CompleteError(id, done);
      ++counts_.errors;
    }
    return false;
  }
  const resp::RespValue& v = *r.reply;
  if (v.is_error()) {
    if (op.kind == OpKind::kIncr && absl::StrContains(v.str, "not an integer")) {
      recorder_.CompleteIncr(id, std::nullopt, done);
      ++counts_.ok;
      return true;
    }
    if (DefinitelyNotDone(v) || op.kind == OpKind::kGet) {
      recorder_.CompleteError(id, done);  // a failed read constrains nothing either way
      ++counts_.errors;
    } else {
      recorder_.CompleteIndeterminate(id);
      ++counts_.indeterminate;
    }
    return false;
  }
  using Type = resp::RespValue::Type;
  bool understood = true;
  switch (op.kind) {
    case OpKind::kPut:
    case OpKind::kDelete:
      understood = v.type == Type::kSimple || v.type == Type::kInteger;
      if (understood) recorder_.CompleteOk(id, done);
      break;
    case OpKind::kCas:
      if (v.type == Type::kSimple) {
        recorder_.CompleteOk(id, done);
      } else if (v.is_null()) {
        recorder_.CompleteCasFailed(id, done);
      } else {
        understood = false;
      }
      break;
    case OpKind::kGet:
      if (v.type == Type::kBulk) {
        recorder_.CompleteRead(id, v.str, done);
      } else if (v.is_null()) {
        recorder_.CompleteRead(id, std::nullopt, done);
      } else {
        understood = false;
      }
      break;
    case OpKind::kIncr:
      understood = v.type == Type::kInteger;
      if (understood) recorder_.CompleteIncr(id, v.integer, done);
      break;
    case OpKind::kExpire:
      understood = v.type == Type::kInteger;
      if (understood && v.integer == 1) recorder_.CompleteOk(id, done);
      if (understood && v.integer != 1) recorder_.CompleteFailed(id, done);
      break;
  }
  if (!understood) {
    recorder_.CompleteIndeterminate(id);
    ++counts_.indeterminate;
    return false;
  }
  ++counts_.ok;
  return true;
}

void Workload::Run(int index) {
  Client c;
  c.index = index;
  c.random.seed(options_.seed * 1'000'003 + static_cast<uint64_t>(index));
  const int64_t client = index + 1;
  while (!stop_) {
    const std::vector<Endpoint> eps = endpoints_();
    if (eps.empty()) {
      Nap(absl::Milliseconds(100));
      continue;
    }
    const Endpoint& e = eps[c.Uniform(eps.size())];
    const bool counter = c.Uniform(5) == 0;
    const int key_index = counter ? static_cast<int>(c.Uniform(options_.counters))
                          : c.Uniform(2) == 0 ? static_cast<int>(c.Uniform(options_.hot_keys))
                                              : static_cast<int>(c.Uniform(options_.keys));
    Operation op;
    op.client = client;
    const int generation = Generation();
    for (int seen = max_generation_.load(); seen < generation &&
                                            !max_generation_.compare_exchange_weak(seen, generation);) {
    }
    op.key = KeyName(counter, key_index, generation);
    int64_t ttl_ms = 0, expire_ms = 0;
    const uint64_t dice = c.Uniform(100);
    if (counter) {
      if (dice < 50) {
        op.kind = OpKind::kIncr;
        op.delta = 1 + static_cast<int64_t>(c.Uniform(5));
      } else if (dice < 90) {
        op.kind = OpKind::kGet;
        op.local = dice >= 80;
      } else {
        op.kind = OpKind::kDelete;
      }
    } else if (dice < 30) {
      op.kind = OpKind::kGet;
    } else if (dice < 42) {
      op.kind = OpKind::kGet;
      op.local = true;
    } else if (dice < 72 || (!options_.ttls && dice < 90)) {
      op.kind = dice < 66 ? OpKind::kPut : OpKind::kCas;
      op.value = absl::StrCat("c", client, ".", ++c.writes, ".",
                              std::string(c.Uniform(options_.max_value_bytes), 'x'));
      if (options_.ttls && c.Uniform(3) == 0) {
        ttl_ms = 500 + static_cast<int64_t>(c.Uniform(3500));
        op.ttl = true;
      }
    } else if (dice < 82 || !options_.ttls) {
      op.kind = OpKind::kDelete;
    } else {
      op.kind = OpKind::kExpire;
      op.ttl = dice < 92;
      expire_ms = 500 + static_cast<int64_t>(c.Uniform(3500));
    }
    Execute(c, e, std::move(op), ttl_ms, expire_ms);
    Nap(absl::Nanoseconds(
        c.Uniform(static_cast<uint64_t>(absl::ToInt64Nanoseconds(options_.think_max)) + 1)));
  }
}

std::vector<std::string> Workload::FinalReads(absl::Duration bound) {
  Client c;
  c.random.seed(options_.seed ^ 0xf1a1);
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(bound);
  std::vector<std::string> unread;
  for (const std::string& key : AllKeys()) {
    bool done = false;
    while (!done && MonotonicNanos() < deadline) {
      const std::vector<Endpoint> eps = endpoints_();
      if (eps.empty()) break;
      Operation op;
      op.client = kFinalReader;
      op.kind = OpKind::kGet;
      op.key = key;
      done = Execute(c, eps[c.Uniform(eps.size())], std::move(op), 0, 0);
      if (!done) Nap(absl::Milliseconds(100));
    }
    if (!done) unread.push_back(key);
  }
  return unread;
}

}  // namespace crema::chaos_tool
