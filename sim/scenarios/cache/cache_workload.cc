#include "sim/scenarios/cache/cache_workload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/membership/placement.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/sim_clock.h"
#include "sim/simulator.h"

namespace crema::sim {
namespace {

// Nothing happened (the API's contract): record an error, which the checkers ignore.
bool DefinitelyNothing(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsResourceExhausted(s) || absl::IsUnavailable(s);
}

}  // namespace

struct CacheWorkload::Op {
  enum class Kind { kPut, kPutIfAbsent, kGet, kGetLocal, kDelete, kCas, kIncr, kExpire, kPersist };
  Kind kind = Kind::kGet;
  int client = 0;
  std::string key;
  std::string value;
  std::optional<std::string> expected;
  int64_t delta = 0;
  absl::Duration ttl = absl::ZeroDuration();
  chaos::HistoryRecorder::OpId id = 0;
  bool closed = false;  // completed or abandoned: recorded once
};

namespace {

// The run viewer (//tools:trace_view) draws each client's operations as spans on a lane of the
// client's own (sim/op_trace.h's format), as raft-kv's clients have; the serving node is named in
// the span. Client lanes are numbered from here, above every node id a cache scenario uses.
constexpr NodeId kClientLaneBase = 1000;

const char* KindName(int kind) {
  static constexpr const char* kNames[] = {"put",    "putnx", "get",    "getlocal", "delete",
                                           "cas",    "incr",  "expire", "persist"};
  return kNames[kind];
}

}  // namespace

CacheWorkload::CacheWorkload(Simulator* sim, std::vector<NodeId> nodes,
                             CacheWorkloadOptions options, Random random)
    : sim_(sim), nodes_(std::move(nodes)), options_(options), random_(std::move(random)) {
  op_token_.assign(options_.clients, 0);
  writes_.assign(options_.clients, 0);
  for (int i = 0; i < options_.keys; ++i) all_keys_.push_back(absl::StrCat("k", i));
  for (int i = 0; i < options_.counters; ++i) all_keys_.push_back(absl::StrCat("n", i));
}

void CacheWorkload::Start() {
  for (int c = 0; c < options_.clients; ++c) {
    ++busy_;
    sim_->After(absl::Milliseconds(random_.Uniform(50)), "cache.client", [this, c] { Next(c); });
  }
}

NodeId CacheWorkload::PickNode() {
  std::vector<NodeId> up;
  for (NodeId id : nodes_) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    if (p != nullptr && p->node() != nullptr && p->node()->ready()) up.push_back(id);
  }
  if (up.empty()) return kNoNode;
  return up[random_.Uniform(up.size())];
}

std::string CacheWorkload::Value(int client) {
  if (writes_.size() <= static_cast<size_t>(client)) writes_.resize(client + 1, 0);
  std::string v = absl::StrCat("c", client, ".", ++writes_[client], ".");
  const size_t size = random_.OneIn(4) ? random_.Uniform(options_.max_value_bytes) : 0;
  v.append(size, 'x');
  return v;
}

std::shared_ptr<CacheWorkload::Op> CacheWorkload::Draw(int client) {
  auto op = std::make_shared<Op>();
  op->client = client;
  const bool counter = options_.counters > 0 && random_.OneIn(5);
  if (counter) {
    op->key = absl::StrCat("n", random_.Uniform(options_.counters));
    switch (random_.Uniform(7)) {
      case 0: op->kind = Op::Kind::kGet; break;
      case 1: op->kind = Op::Kind::kGetLocal; break;
      case 2: op->kind = Op::Kind::kDelete; break;
      case 3:
        if (options_.ttls) {  // a counter with a deadline: increments must keep it
          op->kind = Op::Kind::kExpire;
          op->ttl = absl::Milliseconds(500 + random_.Uniform(3500));
          break;
        }
        [[fallthrough]];
      default:
        op->kind = Op::Kind::kIncr;
        op->delta = static_cast<int64_t>(random_.Uniform(7)) - 2;
    }
    return op;
  }
  const int key = random_.OneIn(2) ? random_.Uniform(std::max(1, options_.hot_keys))
                                   : random_.Uniform(std::max(1, options_.keys));
  op->key = absl::StrCat("k", key);
  const uint64_t roll = random_.Uniform(100);
  if (roll < 28) {
    op->kind = Op::Kind::kPut;
  } else if (roll < 34) {
    op->kind = Op::Kind::kPutIfAbsent;
  } else if (roll < 56) {
    op->kind = Op::Kind::kGet;
  } else if (roll < 78) {
    op->kind = Op::Kind::kGetLocal;
  } else if (roll < 84) {
    op->kind = Op::Kind::kDelete;
  } else if (roll < 94) {
    op->kind = Op::Kind::kCas;
    auto seen = last_seen_.find({client, op->key});
    if (seen != last_seen_.end() && !random_.OneIn(4)) op->expected = seen->second;
  } else {
    op->kind = options_.ttls ? (random_.OneIn(3) ? Op::Kind::kPersist : Op::Kind::kExpire)
                             : Op::Kind::kGet;
  }
  const bool writes = op->kind == Op::Kind::kPut || op->kind == Op::Kind::kPutIfAbsent ||
                      op->kind == Op::Kind::kCas;
  if (writes) op->value = Value(client);
  if ((writes && options_.ttls && random_.OneIn(3)) || op->kind == Op::Kind::kExpire) {
    op->ttl = absl::Milliseconds(500 + random_.Uniform(3500));
  }
  return op;
}

void CacheWorkload::Next(int client) {
  if (stopped_) {
    --busy_;
    return;
  }
  std::shared_ptr<Op> op = Draw(client);
  Issue(client, op, [this, client](bool) {
    sim_->After(absl::Nanoseconds(1 + random_.Uniform(absl::ToInt64Nanoseconds(options_.think_max))),
                "cache.client", [this, client] { Next(client); });
  });
}

void CacheWorkload::Issue(int client, std::shared_ptr<Op> op,
                          std::function<void(bool acked)> then) {
  const NodeId node_id = PickNode();
  if (node_id == kNoNode) {  // nothing serves right now: try again a little later
    sim_->After(absl::Milliseconds(50), "cache.client.wait",
                [this, client, op, then] { Issue(client, op, then); });
    return;
  }
  chaos::Operation invoked;
  using chaos::Operation;
  switch (op->kind) {
    case Op::Kind::kPut: invoked = chaos::PutOp(client, op->key, op->value, 0, 0); break;
    case Op::Kind::kPutIfAbsent:
      invoked = chaos::CasOp(client, op->key, std::nullopt, op->value, true, 0, 0);
      break;
    case Op::Kind::kGet:
    case Op::Kind::kGetLocal:
      invoked = chaos::GetOp(client, op->key, std::nullopt, 0, 0);
      invoked.local = op->kind == Op::Kind::kGetLocal;
      break;
    case Op::Kind::kDelete: invoked = chaos::DeleteOp(client, op->key, 0, 0); break;
    case Op::Kind::kCas:
      invoked = chaos::CasOp(client, op->key, op->expected, op->value, true, 0, 0);
      break;
    case Op::Kind::kIncr:
      invoked = chaos::IncrOp(client, op->key, op->delta, 0, 0, 0);
      invoked.value.clear();
      break;
    case Op::Kind::kExpire:
    case Op::Kind::kPersist:
      invoked = chaos::ExpireOp(client, op->key, op->kind == Op::Kind::kExpire, true, 0, 0);
      break;
  }
  if (op->ttl > absl::ZeroDuration() && op->kind != Op::Kind::kExpire) invoked.ttl = true;
  const absl::Time now = absl::FromUnixNanos(sim_->now_ns());
  op->id = recorder_.InvokeOp(std::move(invoked), now);
  op->closed = false;
  // Which node serves which history operation (the history itself does not say), as a span.
  const NodeId lane = kClientLaneBase + static_cast<NodeId>(client);
  sim_->Trace(lane, "app.op.invoke",
              absl::StrCat("id=", op->id, " ", KindName(static_cast<int>(op->kind)), " ", op->key,
                           " -> n", node_id));
  info_.push_back({.node = node_id, .ttl_ns = absl::ToInt64Nanoseconds(op->ttl)});
  if (op_token_.size() <= static_cast<size_t>(client)) {
    op_token_.resize(client + 1, 0);
    writes_.resize(client + 1, 0);
  }
  const uint64_t token = ++op_token_[client];
  CacheNode* node = GetCacheNodeProgram(*sim_, node_id)->node();
  GetCacheNodeProgram(*sim_, node_id)->Run("cache-client", [this, op, node, node_id, token,
                                                            client, lane, then] {
    const absl::Duration timeout = options_.op_timeout;
    const WriteOptions w{.timeout = timeout};
    absl::Status status;
    std::optional<std::string> read;
    bool applied = false;
    int64_t number = 0;
    const Expiration expiration = op->ttl > absl::ZeroDuration() ? Expiration::After(op->ttl)
                                                                : Expiration::Never();
    switch (op->kind) {
      case Op::Kind::kPut: {
        if (op->id % 3 == 0) {
          // The pipelined-SET path (MultiPutEach, what the RESP front end batches into): this
          // key plus an unread companion key in another namespace, so the parts usually go to
          // different shards and run concurrently. Only this key's outcome is recorded.
          if (op->id % 2 == 0) {
            // Another connection's pipelined SET of a key on this key's shard, in the same turn
            // of the loop: the two calls share one combined command (combined_puts.cc), whose
            // outcome is this key's. Its key is never read.
            std::string sibling;
            const uint32_t shard = membership::ShardOfKey(op->key, options_.num_shards);
            for (int i = 0; i < 10'000 && sibling.empty(); ++i) {
              std::string k = absl::StrCat("s", op->key, "#", i);
              if (membership::ShardOfKey(k, options_.num_shards) == shard) sibling = std::move(k);
            }
            GetCacheNodeProgram(*sim_, node_id)->Run(
                "cache-sibling", [node, sibling, value = op->value, expiration, w] {
                  (void)node->MultiPutEach({{sibling, value}}, expiration, w);
                });
          }
          std::vector<absl::Status> r = node->MultiPutEach(
              {{op->key, op->value}, {absl::StrCat("m", op->key), op->value}}, expiration, w);
          status = r[0];
          break;
        }
        absl::StatusOr<PutResult> r =
            node->Put(op->key, op->value, PutOptions{.expiration = expiration, .timeout = timeout});
        status = r.status();
        break;
      }
      case Op::Kind::kPutIfAbsent: {
        absl::StatusOr<PutResult> r = node->Put(
            op->key, op->value,
            PutOptions{.expiration = expiration, .condition = PutCondition::kIfAbsent,
                       .timeout = timeout});
        status = r.status();
        applied = r.ok() && r->written;
        break;
      }
      case Op::Kind::kGet:
      case Op::Kind::kGetLocal: {
        const ReadOptions options{.consistency = op->kind == Op::Kind::kGet
                                                     ? ReadConsistency::kLinearizable
                                                     : ReadConsistency::kLocal,
                                  .timeout = timeout};
        // Every other read first tries the inline path the RESP front end uses for pipelined
        // GETs (TryGetNow: answered without waiting, or not at all), with the same oracles;
        // half of those pass the node's clocks read just before, as the front end passes one
        // reading for a window of GETs (ReadOptions::now).
        std::optional<absl::StatusOr<std::optional<std::string>>> now;
        bool with_reading = false;
        if (op->id % 2 == 0) {
          ReadOptions inline_options = options;
          if (op->id % 4 == 0) {
            const sim::SimClock& clock = sim_->clock(node_id);
            inline_options.now = ClockReading{clock.MonotonicNow(), clock.Now()};
            with_reading = true;
          }
          now = node->TryGetNow(op->key, inline_options);
        }
        const bool answered_inline = now.has_value();
        if (answered_inline) ++reads_inline_;
        if (answered_inline && with_reading) ++reads_inline_with_reading_;
        absl::StatusOr<std::optional<std::string>> r =
            answered_inline ? *std::move(now) : node->Get(op->key, options);
        status = r.status();
        if (r.ok()) read = *r;
        break;
      }
      case Op::Kind::kDelete: status = node->Delete(op->key, w).status(); break;
      case Op::Kind::kCas: {
        absl::StatusOr<bool> r =
            node->CompareAndSet(op->key, op->expected, op->value, expiration, w);
        status = r.status();
        applied = r.ok() && *r;
        break;
      }
      case Op::Kind::kIncr: {
        absl::StatusOr<int64_t> r = node->Increment(op->key, op->delta, w);
        status = r.status();
        if (r.ok()) number = *r;
        break;
      }
      case Op::Kind::kExpire:
      case Op::Kind::kPersist: {
        absl::StatusOr<bool> r = node->Expire(op->key, expiration, w);
        status = r.status();
        applied = r.ok() && *r;
        break;
      }
    }
    if (op->closed || op_token_[client] != token) return;  // abandoned by the watchdog
    op->closed = true;
    if (!status.ok()) last_error_[client] = status.ToString();
    const absl::Time now = absl::FromUnixNanos(sim_->now_ns());
    ++ops_done_;
    const bool is_read = op->kind == Op::Kind::kGet || op->kind == Op::Kind::kGetLocal;
    bool acked = false;
    if (status.ok()) {
      acked = true;
      switch (op->kind) {
        case Op::Kind::kGet:
        case Op::Kind::kGetLocal:
          recorder_.CompleteRead(op->id, read, now);
          if (read) last_seen_[{client, op->key}] = *read;
          break;
        case Op::Kind::kIncr: recorder_.CompleteIncr(op->id, number, now); break;
        case Op::Kind::kPutIfAbsent:
        case Op::Kind::kCas:
        case Op::Kind::kExpire:
        case Op::Kind::kPersist:
          if (applied) {
            recorder_.CompleteOk(op->id, now);
          } else {
            recorder_.CompleteFailed(op->id, now);
          }
          if (applied && op->kind != Op::Kind::kExpire && op->kind != Op::Kind::kPersist) {
            last_seen_[{client, op->key}] = op->value;
          }
          break;
        default:
          recorder_.CompleteOk(op->id, now);
          if (op->kind == Op::Kind::kPut) last_seen_[{client, op->key}] = op->value;
      }
    } else if (op->kind == Op::Kind::kIncr && absl::IsFailedPrecondition(status)) {
      recorder_.CompleteIncr(op->id, std::nullopt, now);
    } else if (is_read || DefinitelyNothing(status)) {
      ++errors_;
      recorder_.CompleteError(op->id, now);
    } else {
      ++indeterminate_;
      recorder_.CompleteIndeterminate(op->id);
    }
    const bool conditional = op->kind == Op::Kind::kPutIfAbsent || op->kind == Op::Kind::kCas ||
                             op->kind == Op::Kind::kExpire || op->kind == Op::Kind::kPersist;
    std::string result = "ok";
    if (!status.ok()) {
      result = absl::StrCat("error: ", absl::StatusCodeToString(status.code()));
    } else if (is_read && !read) {
      result = "absent";
    } else if (conditional && !applied) {
      result = "not applied";
    } else if (op->kind == Op::Kind::kIncr) {
      result = absl::StrCat("ok ", number);
    }
    sim_->Trace(lane, "app.op.return", absl::StrCat("id=", op->id, " ", result));
    ++op_token_[client];
    then(acked);
  });
  // Watchdog: a node that crashed (or stalls) never answers; the client gives up and moves on.
  sim_->After(options_.op_timeout + absl::Seconds(2), "cache.client.watchdog",
              [this, op, token, client, then] {
                if (op->closed || op_token_[client] != token) return;
                op->closed = true;
                ++indeterminate_;
                recorder_.CompleteIndeterminate(op->id);
                sim_->Trace(kClientLaneBase + static_cast<NodeId>(client), "app.op.return",
                            absl::StrCat("id=", op->id, " indeterminate (no answer)"));
                last_error_[client] = "no answer (the client's watchdog gave up)";
                ++op_token_[client];
                then(false);
              });
}

void CacheWorkload::StartLiveness(uint32_t num_shards) {
  liveness_started_ = true;
  liveness_pending_ = num_shards;
  // One key of every shard (found by search: deterministic), each written by its own client.
  std::vector<std::string> keys(num_shards);
  uint32_t found = 0;
  for (int i = 0; found < num_shards && i < 1'000'000; ++i) {
    std::string key = absl::StrCat("live", i);
    const uint32_t shard = membership::ShardOfKey(key, num_shards);
    if (keys[shard].empty()) {
      keys[shard] = std::move(key);
      ++found;
    }
  }
  for (uint32_t s = 0; s < num_shards; ++s) {
    const int client = options_.clients + 1 + static_cast<int>(s);
    liveness_keys_[client] = keys[s];
    LivenessWrite(client, keys[s]);
  }
}

void CacheWorkload::LivenessWrite(int client, std::string key) {
  auto op = std::make_shared<Op>();
  op->client = client;
  op->kind = Op::Kind::kPut;
  op->key = key;
  op->value = Value(client);
  Issue(client, op, [this, client, key](bool acked) {
    if (acked) {
      --liveness_pending_;
      liveness_keys_.erase(client);
      return;
    }
    sim_->After(absl::Milliseconds(100), "cache.liveness",
                [this, client, key] { LivenessWrite(client, key); });
  });
}

std::string CacheWorkload::LivenessReport() const {
  std::string out;
  for (const auto& [client, key] : liveness_keys_) {
    auto error = last_error_.find(client);
    absl::StrAppend(&out, out.empty() ? "" : "; ", key, ": ",
                    error == last_error_.end() ? "no answer yet" : error->second);
  }
  return out;
}

std::vector<std::string> CacheWorkload::LivenessKeysPending() const {
  std::vector<std::string> keys;
  for (const auto& [client, key] : liveness_keys_) keys.push_back(key);
  return keys;
}

void CacheWorkload::StartFinalReads() {
  ++busy_;
  FinalRead(0);
}

void CacheWorkload::FinalRead(size_t index) {
  if (index >= all_keys_.size()) {
    --busy_;
    return;
  }
  auto op = std::make_shared<Op>();
  op->client = options_.clients;  // the final reader is a client of its own
  op->kind = Op::Kind::kGet;
  op->key = all_keys_[index];
  Issue(op->client, op, [this, index](bool acked) {
    sim_->After(absl::Milliseconds(acked ? 1 : 100), "cache.final_read",
                [this, index, acked] { FinalRead(acked ? index + 1 : index); });
  });
}

}  // namespace crema::sim
