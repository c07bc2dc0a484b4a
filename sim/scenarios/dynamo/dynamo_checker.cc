#include "sim/scenarios/dynamo/dynamo_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace crema::dynamo {
namespace {

bool IsWrite(const DynamoOp& op) { return op.op != eventual::ClientOp::kGet; }

std::string Describe(const DynamoOp& op) {
  const char* names[] = {"get", "put", "delete"};
  return absl::StrCat("client ", op.client, " #", op.seq, " via n", op.server, " ", names[static_cast<int>(op.op)], " ",
                      op.key, op.value.empty() ? "" : absl::StrCat("=", op.value), " [",
                      op.invoke_ns / 1000000, "ms..", op.complete_ns / 1000000, "ms] version ",
                      op.version.ToString());
}

}  // namespace

DynamoChecker::DynamoChecker(absl::Duration hint_window,
                             absl::btree_map<NodeId, absl::Duration> clock_slack)
    : hint_window_(hint_window), clock_slack_(std::move(clock_slack)) {}

void DynamoChecker::Fail(std::string why) {
  if (violation_.empty()) violation_ = std::move(why);
}

int64_t DynamoChecker::Now() const { return cluster_ == nullptr ? 0 : cluster_->sim().now_ns(); }

void DynamoChecker::DiskWiped(NodeId node) {
  wiped_.insert(node);
  for (auto it = pending_hints_.begin(); it != pending_hints_.end();) {
    it = std::get<0>(it->first) == node ? pending_hints_.erase(it) : std::next(it);
  }
  for (auto it = stamped_hints_.begin(); it != stamped_hints_.end();) {
    it = std::get<0>(it->first) == node ? stamped_hints_.erase(it) : std::next(it);
  }
  for (auto it = staged_removals_.begin(); it != staged_removals_.end();) {
    it = std::get<0>(it->first) == node ? staged_removals_.erase(it) : std::next(it);
  }
}

void DynamoChecker::HintStamped(NodeId stand_in, const eventual::Hint& hint) {
  // A later stamp of the same hint (an earlier commit failed) is the one in memory.
  stamped_hints_.insert_or_assign({stand_in, hint.target, hint.key, hint.record.version}, Now());
}

void DynamoChecker::HintStored(NodeId stand_in, const eventual::Hint& hint) {
  ++hints_stored_;
  const HintKey key{stand_in, hint.target, hint.key, hint.record.version};
  int64_t stamped_ns = Now();
  if (auto it = stamped_hints_.find(key); it != stamped_hints_.end()) {
    stamped_ns = it->second;
    stamped_hints_.erase(it);
  } else {
    Fail(absl::StrCat("HINTS: node ", stand_in, " stored hint ", hint.key, " for node ", hint.target,
                      " that it never stamped"));
  }
  pending_hints_.try_emplace(key, stamped_ns);
}

void DynamoChecker::HintEnded(NodeId stand_in, const eventual::Hint& hint,
                              eventual::HintOutcome outcome) {
  const HintKey key{stand_in, hint.target, hint.key, hint.record.version};
  staged_removals_.erase(key);
  EndHint(key, hint, outcome, Now());
  if (outcome == eventual::HintOutcome::kDelivered) CheckDelivered(stand_in, hint);
}

void DynamoChecker::EndHint(const HintKey& key, const eventual::Hint& hint,
                            eventual::HintOutcome outcome, int64_t at_ns) {
  const NodeId stand_in = std::get<0>(key);
  ++hints_ended_;
  auto it = pending_hints_.find(key);
  if (it == pending_hints_.end()) {
    return Fail(absl::StrCat("HINTS: node ", stand_in, " ended a hint it never stored: ", hint.key,
                             " for node ", hint.target, " (", eventual::HintOutcomeName(outcome), ")"));
  }
  const int64_t stored_ns = it->second;
  pending_hints_.erase(it);
  if (outcome == eventual::HintOutcome::kExpired) {
    auto slack = clock_slack_.find(stand_in);
    const absl::Duration allowed =
        hint_window_ - (slack == clock_slack_.end() ? absl::ZeroDuration() : slack->second);
    const absl::Duration age = absl::Nanoseconds(at_ns - stored_ns);
    if (age < allowed) {
      Fail(absl::StrCat("HINTS: node ", stand_in, " expired a hint for node ", hint.target, " ",
                        absl::FormatDuration(age), " after stamping it, before the window (",
                        absl::FormatDuration(hint_window_), " less clock slack)"));
    }
  }
}

void DynamoChecker::CheckDelivered(NodeId stand_in, const eventual::Hint& hint) {
  if (cluster_ == nullptr) return;
  eventual::EventualNode* target = cluster_->node(hint.target);
  if (target != nullptr && target->recovered()) {
    const eventual::Record* held = target->store().Find(hint.key);
    if (held == nullptr || held->version < hint.record.version) {
      Fail(absl::StrCat("HINTS: node ", stand_in, " reports hint ", hint.key, "@",
                        hint.record.version.ToString(), " delivered, but node ", hint.target,
                        " holds ", held ? held->version.ToString() : std::string("nothing")));
    }
  }
}

void DynamoChecker::HintRemovalStaged(NodeId stand_in, const eventual::Hint& hint,
                                      eventual::HintOutcome outcome) {
  const HintKey key{stand_in, hint.target, hint.key, hint.record.version};
  staged_removals_.insert_or_assign(key, StagedRemoval{hint, outcome, Now()});
  // A delivery is acknowledged by the target before its removal is staged: it holds it now.
  if (outcome == eventual::HintOutcome::kDelivered) CheckDelivered(stand_in, hint);
}

void DynamoChecker::HintsRecovered(NodeId stand_in, const std::vector<eventual::Hint>& hints) {
  absl::btree_set<HintKey> found;
  absl::btree_map<std::pair<NodeId, std::string>, eventual::Version> newest_found;
  for (const eventual::Hint& h : hints) {
    const HintKey key{stand_in, h.target, h.key, h.record.version};
    found.insert(key);
    newest_found[{h.target, h.key}] = h.record.version;
    // A hint on disk we were not told about: a failed commit left it behind. It is a hint now,
    // from its stamp if we saw it.
    auto stamped = stamped_hints_.find(key);
    pending_hints_.try_emplace(key, stamped != stamped_hints_.end() ? stamped->second : Now());
  }
  std::vector<HintKey> pending_here;
  for (const auto& [key, stored] : pending_hints_) {
    if (std::get<0>(key) == stand_in && !found.contains(key)) pending_here.push_back(key);
  }
  for (const HintKey& key : pending_here) {
    const auto& [node, target, hint_key, version] = key;
    // A removal whose commit the crash interrupted after its write reached the disk.
    if (auto staged = staged_removals_.find(key); staged != staged_removals_.end()) {
      const StagedRemoval removal = staged->second;
      staged_removals_.erase(staged);
      EndHint(key, removal.hint, removal.outcome, removal.staged_ns);
      continue;
    }
    // Replaced on disk by a newer hint for the same target and key whose commit the crash
    // interrupted (the newer one is pending now).
    if (auto newer = newest_found.find({target, hint_key});
        newer != newest_found.end() && version < newer->second) {
      eventual::Hint hint;
      hint.target = target;
      hint.key = hint_key;
      hint.record.version = version;
      EndHint(key, hint, eventual::HintOutcome::kSuperseded, Now());
      continue;
    }
    return Fail(absl::StrCat("HINTS: node ", stand_in, " lost durable hint ", hint_key, "@",
                             version.ToString(), " for node ", target, " across a restart"));
  }
  // Staged removals the crash cut off before they were durable: the hints are still pending.
  for (auto it = staged_removals_.begin(); it != staged_removals_.end();) {
    it = std::get<0>(it->first) == stand_in ? staged_removals_.erase(it) : std::next(it);
  }
}

void DynamoChecker::HintsLost(NodeId stand_in) {
  for (auto it = pending_hints_.begin(); it != pending_hints_.end();) {
    it = std::get<0>(it->first) == stand_in ? pending_hints_.erase(it) : std::next(it);
  }
  for (auto it = staged_removals_.begin(); it != staged_removals_.end();) {
    it = std::get<0>(it->first) == stand_in ? staged_removals_.erase(it) : std::next(it);
  }
}

void DynamoChecker::ExchangeStarted(NodeId initiator, uint64_t exchange) {
  if (checking_transfers_) {
    judged_exchanges_.insert({initiator, exchange});
  } else {
    judged_exchanges_.erase({initiator, exchange});  // a number reused by a new incarnation
  }
}

void DynamoChecker::RecordTransferred(NodeId initiator, uint64_t exchange, NodeId from, NodeId to,
                                      const std::string& key, const eventual::Record& record) {
  if (!checking_transfers_) return;
  if (!judged_exchanges_.contains({initiator, exchange})) {
    ++transfers_exempt_;
    return;
  }
  ++transfers_checked_;
  bool unknown = down_at_snapshot_.contains(from) || down_at_snapshot_.contains(to);
  if (!unknown && snapshot_ring_ && cluster_ != nullptr) {
    eventual::EventualNode* any = cluster_->node(from) ? cluster_->node(from) : cluster_->node(to);
    if (any != nullptr) {
      for (NodeId owner : snapshot_ring_->Owners(any->store().PlaceOf(key).shard)) {
        unknown = unknown || down_at_snapshot_.contains(owner);
      }
    }
  }
  if (!unknown && !divergent_.contains(key)) {
    const eventual::EventualNode* receiver = cluster_ == nullptr ? nullptr : cluster_->node(to);
    const eventual::Record* held = receiver == nullptr ? nullptr : receiver->store().Find(key);
    Fail(absl::StrCat("ANTI-ENTROPY: node ", from, " sent ", key, "@", record.version.ToString(),
                      " to node ", to, " (which holds ", held ? held->version.ToString() : std::string("nothing"),
                      "), but that key was not divergent at the snapshot: ", snapshot_holders_[key]));
  }
}

void DynamoChecker::ExchangeDone(const eventual::ExchangeReport& report) {
  exchange_bytes_ += report.bytes;
  exchange_keys_ += report.keys_pushed + report.keys_pulled;
}

std::string DynamoChecker::CheckReads(const DynamoLedger& ledger, int64_t from_ns) const {
  // Per key: acknowledged writes by completion time, with the running maximum version.
  struct Acked {
    int64_t complete_ns;
    eventual::Version version;
  };
  absl::btree_map<std::string, std::vector<Acked>> acked;
  absl::btree_map<std::pair<std::string, std::string>, const DynamoOp*> puts;  // (key, value)
  for (const DynamoOp& op : ledger.ops) {
    if (IsWrite(op) && op.outcome == OpOutcome::kOk) acked[op.key].push_back({op.complete_ns, op.version});
    if (op.op == eventual::ClientOp::kPut) puts[{op.key, op.value}] = &op;
  }
  for (auto& [key, writes] : acked) {
    std::sort(writes.begin(), writes.end(), [](const Acked& a, const Acked& b) { return a.complete_ns < b.complete_ns; });
    for (size_t i = 1; i < writes.size(); ++i) writes[i].version = std::max(writes[i].version, writes[i - 1].version);
  }
  for (const DynamoOp& read : ledger.ops) {
    if (read.op != eventual::ClientOp::kGet || read.outcome != OpOutcome::kOk) continue;
    if (read.found) {
      auto it = puts.find({read.key, read.value});
      if (it == puts.end() || it->second->invoke_ns > read.complete_ns) {
        return absl::StrCat("READS: invented value: ", Describe(read));
      }
      const DynamoOp& put = *it->second;
      if (put.outcome == OpOutcome::kFailed) {
        return absl::StrCat("READS: returned a write that was refused: ", Describe(read), " <- ", Describe(put));
      }
      if (put.outcome == OpOutcome::kOk && put.version != read.version) {
        return absl::StrCat("READS: version mismatch: ", Describe(read), " <- ", Describe(put));
      }
    }
    if (read.invoke_ns < from_ns) continue;
    auto writes = acked.find(read.key);
    if (writes == acked.end()) continue;
    // The newest acknowledged version among writes completed before the read began.
    auto after = std::lower_bound(writes->second.begin(), writes->second.end(), read.invoke_ns,
                                  [](const Acked& a, int64_t t) { return a.complete_ns < t; });
    if (after == writes->second.begin()) continue;
    const eventual::Version required = std::prev(after)->version;
    if (read.version < required) {
      return absl::StrCat("READS: stale read: ", Describe(read), " but version ", required.ToString(),
                          " was acknowledged before it began");
    }
  }
  return "";
}

std::string DynamoChecker::CheckDurability(const DynamoLedger& ledger) {
  absl::btree_map<std::string, eventual::Version> newest;
  for (const DynamoOp& op : ledger.ops) {
    if (IsWrite(op) && op.outcome == OpOutcome::kOk) newest[op.key] = std::max(newest[op.key], op.version);
  }
  const std::vector<NodeId> up = cluster_->UpNodes();
  for (const auto& [key, version] : newest) {
    for (NodeId id : up) {
      eventual::EventualNode* n = cluster_->node(id);
      const eventual::EventualRing& ring = n->Ring();
      const ShardId shard = n->store().PlaceOf(key).shard;
      if (!ring.IsOwner(shard, id)) continue;
      const eventual::Record* held = n->store().Find(key);
      if (held == nullptr || held->version < version) {
        return absl::StrCat("DURABILITY: key ", key, " was acknowledged at ", version.ToString(),
                            " but owner ", id, " holds ",
                            held ? held->version.ToString() : std::string("nothing"), " after convergence");
      }
    }
  }
  return "";
}

std::string DynamoChecker::CheckHintsSettled() const {
  if (!violation_.empty()) return violation_;
  if (!pending_hints_.empty()) {
    const auto& [key, stored] = *pending_hints_.begin();
    return absl::StrCat("HINTS: ", pending_hints_.size(), " hints never ended, e.g. node ",
                        std::get<0>(key), " holding ", std::get<2>(key), "@", std::get<3>(key).ToString(),
                        " for node ", std::get<1>(key), " (stamped at ", stored / 1000000, " ms)");
  }
  return "";
}

void DynamoChecker::SnapshotDivergence() {
  divergent_.clear();
  down_at_snapshot_.clear();
  const eventual::EventualConfig& config = cluster_->options().eventual;
  std::vector<NodeId> members, up;
  for (NodeId id : cluster_->all_ids()) {
    if (cluster_->sim().state(id) == sim::NodeState::kDown) {
      if (std::find(cluster_->servers().begin(), cluster_->servers().end(), id) != cluster_->servers().end()) {
        down_at_snapshot_.insert(id);
        members.push_back(id);
      }
      continue;
    }
    eventual::EventualNode* n = cluster_->node(id);
    if (n == nullptr || !n->recovered()) {  // up, but its contents not loaded yet: unknown
      down_at_snapshot_.insert(id);
      members.push_back(id);
      continue;
    }
    up.push_back(id);
    if (!n->leaving()) members.push_back(id);
  }
  snapshot_ring_.emplace(members, config.replication, config.vnodes, config.store.num_shards);
  absl::btree_set<std::string> keys;
  for (NodeId id : up) {
    cluster_->node(id)->store().ForEach([&](const std::string& key, const eventual::Record&) { keys.insert(key); });
    // A hinted copy not yet handed off is divergence too: its target lacks it.
    for (const eventual::Hint& hint : cluster_->node(id)->hints().All()) {
      keys.insert(hint.key);
      divergent_.insert(hint.key);
    }
  }
  for (const std::string& key : keys) {
    const ShardId shard = cluster_->node(up.front())->store().PlaceOf(key).shard;
    const std::vector<NodeId> owners = snapshot_ring_->Owners(shard);
    const eventual::Record* first = nullptr;
    bool divergent = false;
    for (NodeId id : up) {
      const eventual::Record* held = cluster_->node(id)->store().Find(key);
      const bool owner = std::find(owners.begin(), owners.end(), id) != owners.end();
      if (!owner) {
        divergent = divergent || held != nullptr;
        continue;
      }
      if (held == nullptr || (first != nullptr && *held != *first)) divergent = true;
      if (first == nullptr) first = held;
    }
    if (divergent) divergent_.insert(key);
    std::string& holders = snapshot_holders_[key];
    for (NodeId id : up) {
      const eventual::Record* held = cluster_->node(id)->store().Find(key);
      if (held != nullptr) absl::StrAppend(&holders, "n", id, ":", held->version.ToString(), " ");
    }
    absl::StrAppend(&holders, "owners:");
    for (NodeId owner : owners) absl::StrAppend(&holders, " n", owner);
  }
  checking_transfers_ = true;
}

}  // namespace crema::dynamo
