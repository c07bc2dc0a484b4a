// CacheNode::MultiPutEach: pipelined SETs, combined across callers into one command per shard.
//
// Every caller's entries are grouped by shard (deterministically: shard order, then position).
// A group joins the shard's *open* combined put — a kMultiPut command not yet proposed, with the
// same expiry — or opens one. An opener's fiber yields once (so the other callers running in this
// turn of the loop can join), closes the command and writes it through the normal write path
// (sessions, forwarding, retries); every caller whose entries it carries gets its outcome.
// With 50 connections pipelining 16 SETs over 64 shards, that is about one proposal per shard
// per turn instead of one per connection and shard (docs/server.md has the numbers).
//
// Why this is still linearizable: a combined command is applied atomically at one log position,
// inside every caller's invocation-to-reply window; entries keep their callers' order, and two
// callers' writes to one key are concurrent, so either order is a valid linearization. A
// caller's own entries stay in its order (the RESP pipeline never has two of one connection's
// writes to one key in flight). Outcomes are shared: a refusal, a timeout or an "unknown" of the
// command is every carried entry's outcome, which is what each would have got on its own.
//
// Deadlines: the command is written until the latest of its callers' deadlines; each caller
// waits only until its own (then its outcome is "may or may not apply").
//
// Bounds: a combined command stays under a quarter of kMaxCommandBytes and kMaxMultiKeys
// entries; a full one stays closed to joins and a new one opens.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/sync.h"

namespace crema {

using replicated::Command;
using replicated::CommandKind;

struct CacheNode::OpenPut {
  explicit OpenPut(Executor* executor) : done(executor) {}
  Command command;
  size_t bytes = 0;
  absl::Time deadline;  // the latest of its callers' deadlines
  int callers = 0;      // MultiPutEach calls carried
  Promise<bool> done;  // true once written; the write's error otherwise
};

std::vector<absl::Status> CacheNode::MultiPutEach(
    const std::vector<std::pair<std::string, std::string>>& entries,
    const Expiration& expiration, const WriteOptions& options) {
  std::vector<absl::Status> out(entries.size());
  if (entries.empty() || entries.size() > kMaxMultiKeys) {
    for (absl::Status& s : out) s = absl::InvalidArgumentError("bad number of entries");
    return out;
  }
  if (shutdown_) {
    for (absl::Status& s : out) s = absl::UnavailableError("node shutting down");
    return out;
  }
  const absl::Time deadline = env_.clock->MonotonicNow() + Clamp(options.timeout);
  const replicated::Expiry expiry = ToExpiry(expiration);
  // (shard, position) of every valid entry, in shard order, then position order (deterministic).
  std::vector<std::pair<cluster::ShardId, size_t>> order;
  order.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::StatusOr<cluster::ShardId> shard = ShardOf(entries[i].first);
    if (!shard.ok()) {
      out[i] = shard.status();
    } else if (entries[i].second.size() > kMaxValueBytes) {
      out[i] = absl::InvalidArgumentError("value too long");
    } else {
      order.emplace_back(*shard, i);
    }
  }
  std::sort(order.begin(), order.end());
  // Each run of one shard's entries goes into that shard's open combined put, or opens one (a
  // full one is left to its opener, and a new one opens). One map lookup per run; one wait per
  // put this call joined: waits[j] carries order[begin, end).
  struct Wait {
    Future<bool> done;
    size_t begin;
    size_t end;
  };
  std::vector<Wait> waits;
  constexpr size_t kMaxBytes = replicated::kMaxCommandBytes / 4;
  for (size_t begin = 0; begin < order.size();) {
    const cluster::ShardId shard = order[begin].first;
    const OpenKey open_key{cluster::GroupOfShard(shard), static_cast<int>(expiry.kind), expiry.ns};
    std::shared_ptr<OpenPut>& slot = open_puts_[open_key];  // no other insert until the run ends
    const OpenPut* joined = nullptr;  // the put this call's latest entries went into
    size_t k = begin;
    for (; k < order.size() && order[k].first == shard; ++k) {
      const auto& entry = entries[order[k].second];
      const size_t size = entry.first.size() + entry.second.size();
      if (slot == nullptr || slot->bytes + size >= kMaxBytes ||
          slot->command.entries.size() >= kMaxMultiKeys) {
        slot = OpenCombinedPut(shard, open_key, expiry, deadline);
      }
      if (slot.get() != joined) {
        joined = slot.get();
        ++slot->callers;  // this call joins (or opens) `slot`
        slot->deadline = std::max(slot->deadline, deadline);
        waits.push_back(Wait{slot->done.GetFuture(), k, k});
      }
      slot->command.entries.push_back(entry);
      slot->bytes += size;
      waits.back().end = k + 1;
    }
    begin = k;
  }
  for (const Wait& w : waits) {
    // A caller whose deadline passes first stops waiting; the command may still apply.
    const absl::Duration left = std::max(absl::ZeroDuration(), deadline - env_.clock->MonotonicNow());
    absl::StatusOr<bool> written = w.done.Wait(left);
    if (absl::IsDeadlineExceeded(written.status())) {
      written = absl::DeadlineExceededError("no answer in time; the write may or may not apply");
    }
    for (size_t k = w.begin; k < w.end; ++k) out[order[k].second] = written.status();
  }
  return out;
}

std::shared_ptr<CacheNode::OpenPut> CacheNode::OpenCombinedPut(cluster::ShardId shard,
                                                               const OpenKey& key,
                                                               const replicated::Expiry& expiry,
                                                               absl::Time deadline) {
  auto open = std::make_shared<OpenPut>(env_.executor);
  open->command.kind = CommandKind::kMultiPut;
  open->command.expiry = expiry;
  open->deadline = deadline;
  ++stats_.combined_puts;
  env_.executor->Spawn("combined-put", [this, alive = alive_, open, shard, key] {
    // One yield: the callers that run in this turn of the loop join before it closes.
    const absl::Status yielded = env_.executor->Yield();
    if (!*alive) return;  // the node is gone (its destructor ran): the promise breaks
    if (auto it = open_puts_.find(key); it != open_puts_.end() && it->second == open) {
      open_puts_.erase(it);
    }
    if (!yielded.ok()) {
      open->done.Set(yielded);
      return;
    }
    if (open->callers > 1) {  // the simulation's coverage counts these (cache scenario)
      env_.tracer->Record("cache.put_combined",
                          absl::StrCat(open->callers, " callers, ", open->command.entries.size(),
                                       " entries"));
    }
    const absl::Status written =
        Write(shard, std::move(open->command), open->deadline - env_.clock->MonotonicNow())
            .status();
    open->done.Set(written.ok() ? absl::StatusOr<bool>(true) : absl::StatusOr<bool>(written));
  });
  return open;
}

}  // namespace crema
