// Anti-entropy for EventualNode: Merkle-tree exchanges that move only the keys that differ.
//
// An exchange with one peer over a set of shards (the initiator drives; the peer answers every
// request from its current trees and keeps no session):
//   1. AeRoots: compare the shards' root hashes; equal shards are done.
//   2. AeChildren, level by level: for every differing node, compare its 16 children; descend
//      into the differing ones only, down to the leaves.
//   3. AeLeafKeys: for every differing leaf, compare (key, version, content digest) lists.
//   4. AePush the initiator's newer records; AePull the peer's newer ones (not in push-only mode,
//      used by hand-off and decommission).
// Every request is retried on silence (messages may be lost), and every byte in both directions
// is charged to the anti_entropy_bytes_per_second budget. The report counts bytes and keys moved:
// docs/dynamo.md measures bytes per repaired key with it. A leaf must list in one reply
// (kMaxAeKeys keys): size tree_depth so leaves stay far below that.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/eventual/driver/exchange_runner.h"

namespace crema::eventual {
namespace {

constexpr uint32_t kLeavesPerRequest = 64;
constexpr int kMaxLeafRounds = 64;

uint64_t& IdOf(Message& message) {
  return std::visit(
      [](auto& m) -> uint64_t& {
        if constexpr (requires { m.req; }) {
          return m.req;
        } else if constexpr (requires { m.xid; }) {
          return m.xid;
        } else {
          return m.op;
        }
      },
      message);
}

// (version, content digest) order: the same as Supersedes on whole records.
bool Newer(const Version& a, uint64_t a_digest, const Version& b, uint64_t b_digest) {
  return a != b ? a > b : a_digest > b_digest;
}

struct Digest {
  Version version;
  uint64_t digest = 0;
};

}  // namespace

absl::StatusOr<std::vector<Message>> ExchangeRunner::Call(std::vector<Message> requests) {
  const size_t n = requests.size();
  std::vector<std::string> encoded(n);
  absl::btree_map<uint64_t, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t id = waiter_.NewId();
    IdOf(requests[i]) = id;
    index[id] = i;
    encoded[i] = EncodeMessage(requests[i]);
  }
  std::vector<std::optional<Message>> replies(n);
  size_t missing = n;
  for (int attempt = 0; attempt < ExchangeRunner::kCallAttempts && missing > 0; ++attempt) {
    uint64_t sending = 0;
    for (size_t i = 0; i < n; ++i) sending += replies[i] ? 0 : encoded[i].size();
    absl::Status throttled = node_->Throttle(sending);
    if (!throttled.ok()) return throttled;
    for (size_t i = 0; i < n; ++i) {
      if (replies[i]) continue;
      bytes_ += encoded[i].size();
      node_->env_.network->Send(peer_, Service::kEventual, encoded[i]);
    }
    const absl::Time deadline = node_->Now() + node_->config_.exchange_step_timeout;
    while (missing > 0) {
      absl::StatusOr<EventualNode::Incoming> in = waiter_.Recv(deadline);
      if (absl::IsCancelled(in.status()) || node_->stopped_) return absl::CancelledError("stopped");
      if (!in.ok()) break;
      if (in->from != peer_) continue;
      auto it = index.find(IdOf(in->message));
      if (it == index.end() || replies[it->second]) continue;
      const size_t i = it->second;
      if (in->message.index() != requests[i].index() + 1) continue;  // not the matching reply
      bytes_ += EncodeMessage(in->message).size();
      replies[i] = std::move(in->message);
      --missing;
    }
  }
  if (missing > 0) {
    return absl::DeadlineExceededError(absl::StrCat(missing, " anti-entropy requests unanswered"));
  }
  std::vector<Message> out;
  out.reserve(n);
  for (std::optional<Message>& r : replies) out.push_back(std::move(*r));
  return out;
}

absl::Status EventualNode::Throttle(uint64_t bytes) {
  const uint64_t rate = std::max<uint64_t>(config_.anti_entropy_bytes_per_second, 1);
  const absl::Time now = Now();
  const absl::Duration cost = absl::Nanoseconds(static_cast<double>(bytes) * 1e9 / rate);
  throttle_until_ = std::max(throttle_until_, now) + cost;
  const absl::Duration burst = absl::Seconds(1);  // up to one second of budget at once
  if (throttle_until_ - now > burst) return env_.executor->Sleep(throttle_until_ - now - burst);
  return absl::OkStatus();
}

absl::StatusOr<ExchangeReport> EventualNode::Exchange(NodeId peer, std::vector<ShardId> shards,
                                                      ExchangeMode mode) {
  ExchangeReport report;
  report.initiator = env_.self;
  report.peer = peer;
  report.shards = static_cast<uint32_t>(shards.size());
  ExchangeRunner run(this, peer);
  const uint64_t exchange = ++stats_.exchanges;
  if (observer_ != nullptr) observer_->ExchangeStarted(env_.self, exchange);
  auto fail = [&](const absl::Status& status) -> absl::StatusOr<ExchangeReport> {
    ++stats_.exchanges_failed;
    stats_.exchange_bytes += run.bytes();
    return status;
  };
  // 1. Roots.
  std::vector<Message> requests;
  for (size_t i = 0; i < shards.size(); i += kMaxAeShards) {
    const size_t end = std::min(shards.size(), i + kMaxAeShards);
    requests.push_back(AeRoots{0, std::vector<ShardId>(shards.begin() + i, shards.begin() + end)});
  }
  absl::StatusOr<std::vector<Message>> replies = run.Call(std::move(requests));
  if (!replies.ok()) return fail(replies.status());
  absl::btree_map<ShardId, uint64_t> theirs;
  for (const Message& m : *replies) {
    for (const auto& [shard, root] : std::get<AeRootsReply>(m).roots) theirs[shard] = root;
  }
  // 2. Descend through the differing subtrees.
  const int depth = config_.store.tree_depth;
  absl::btree_map<ShardId, std::vector<uint32_t>> frontier;
  for (ShardId shard : shards) {
    if (store_.Hash(shard, 0, 0) != theirs[shard]) frontier[shard] = {0};
  }
  report.differing_shards = static_cast<uint32_t>(frontier.size());
  for (int level = 0; level < depth && !frontier.empty(); ++level) {
    std::vector<Message> asks;
    std::vector<std::pair<ShardId, std::vector<uint32_t>>> asked;
    for (const auto& [shard, nodes] : frontier) {
      for (size_t i = 0; i < nodes.size(); i += kMaxAeNodes) {
        std::vector<uint32_t> chunk(nodes.begin() + i, nodes.begin() + std::min(nodes.size(), i + kMaxAeNodes));
        asks.push_back(AeChildren{0, shard, static_cast<uint8_t>(level), chunk});
        asked.emplace_back(shard, std::move(chunk));
      }
    }
    absl::StatusOr<std::vector<Message>> answers = run.Call(std::move(asks));
    if (!answers.ok()) return fail(answers.status());
    absl::btree_map<ShardId, std::vector<uint32_t>> next;
    for (size_t a = 0; a < asked.size(); ++a) {
      const auto& reply = std::get<AeChildrenReply>((*answers)[a]);
      const auto& [shard, nodes] = asked[a];
      if (reply.hashes.size() != nodes.size() * kTreeFanout) {
        return fail(absl::DataLossError("anti-entropy: malformed children reply"));
      }
      const RangeTree* tree = store_.Tree(shard);
      for (size_t j = 0; j < nodes.size(); ++j) {
        const std::vector<uint64_t> their_children(reply.hashes.begin() + j * kTreeFanout,
                                                   reply.hashes.begin() + (j + 1) * kTreeFanout);
        for (int c = 0; c < kTreeFanout; ++c) {
          const uint32_t child = nodes[j] * kTreeFanout + c;
          const uint64_t mine = tree == nullptr ? 0 : tree->Hash(level + 1, child);
          if (mine != their_children[c]) next[shard].push_back(child);
        }
      }
    }
    frontier = std::move(next);
  }
  if (env_.buggify != nullptr && env_.buggify->Fire("eventual.abort_exchange")) {
    return fail(absl::AbortedError("buggify: exchange abandoned"));
  }
  // 3. Compare the keys of the differing leaves.
  bool complete = true;
  std::vector<KeyedRecord> to_push;
  std::vector<std::string> to_pull;
  for (int round = 0; !frontier.empty(); ++round) {
    if (round >= kMaxLeafRounds) {
      complete = false;
      break;
    }
    std::vector<Message> asks;
    std::vector<std::pair<ShardId, std::vector<uint32_t>>> asked;
    for (const auto& [shard, leaves] : frontier) {
      report.differing_leaves += round == 0 ? leaves.size() : 0;
      for (size_t i = 0; i < leaves.size(); i += kLeavesPerRequest) {
        std::vector<uint32_t> chunk(leaves.begin() + i, leaves.begin() + std::min(leaves.size(), i + kLeavesPerRequest));
        asks.push_back(AeLeafKeys{0, shard, chunk});
        asked.emplace_back(shard, std::move(chunk));
      }
    }
    absl::StatusOr<std::vector<Message>> answers = run.Call(std::move(asks));
    if (!answers.ok()) return fail(answers.status());
    absl::btree_map<ShardId, std::vector<uint32_t>> again;
    for (size_t a = 0; a < asked.size(); ++a) {
      const auto& reply = std::get<AeLeafKeysReply>((*answers)[a]);
      const auto& [shard, leaves] = asked[a];
      const size_t covered = std::min<size_t>(reply.leaves_covered, leaves.size());
      absl::btree_map<std::string, Digest> their_keys;
      for (const KeyDigest& d : reply.keys) their_keys[d.key] = Digest{d.version, d.digest};
      // A partially listed single leaf: compare only up to its last listed key.
      const bool partial = covered == 0 && !reply.keys.empty();
      const std::string last_listed = partial ? reply.keys.back().key : std::string();
      if (partial) complete = false;
      const size_t compare = partial ? 1 : covered;
      for (size_t l = 0; l < compare; ++l) {
        store_.ForEachInLeaf(shard, leaves[l], [&](const std::string& key, const Record& record) {
          if (partial && key > last_listed) return;
          const uint64_t digest = ContentDigest(record);
          auto it = their_keys.find(key);
          const bool may_push = mode != ExchangeMode::kPullOnly;
          if (it == their_keys.end()) {
            if (may_push) to_push.push_back({key, record});
            return;
          }
          const Digest& other = it->second;
          if (may_push && (Newer(record.version, digest, other.version, other.digest) ||
                           config_.bugs.ae_push_whole_leaves)) {
            to_push.push_back({key, record});
          }
          if (Newer(other.version, other.digest, record.version, digest)) to_pull.push_back(key);
          their_keys.erase(it);
        });
      }
      // Keys only the peer has (within what was compared).
      for (const auto& [key, digest] : their_keys) {
        const KeyPlace place = store_.PlaceOf(key);
        const bool compared = std::find(leaves.begin(), leaves.begin() + compare, place.leaf) !=
                              leaves.begin() + compare;
        if (compared && (!partial || key <= last_listed)) to_pull.push_back(key);
      }
      if (!partial) {
        for (size_t l = covered; l < leaves.size(); ++l) again[shard].push_back(leaves[l]);
      }
    }
    frontier = std::move(again);
  }
  // 4. Push ours, pull theirs, in bounded batches.
  size_t i = 0;
  while (i < to_push.size()) {
    AePush push;
    size_t batch_bytes = 0;
    while (i < to_push.size() && push.records.size() < kMaxBatchRecords &&
           (push.records.empty() || batch_bytes + BatchBytes(to_push[i]) <= kMaxBatchBytes)) {
      batch_bytes += BatchBytes(to_push[i]);
      if (observer_ != nullptr) observer_->RecordTransferred(env_.self, exchange, env_.self, peer, to_push[i].key, to_push[i].record);
      push.records.push_back(std::move(to_push[i++]));
    }
    const size_t count = push.records.size();
    absl::StatusOr<std::vector<Message>> acks = run.Call({Message(std::move(push))});
    if (!acks.ok()) return fail(acks.status());
    const auto& ack = std::get<AePushAck>((*acks)[0]);
    report.keys_pushed += count;
    if (ack.statuses.size() != count) complete = false;
    for (ReplicaStatus s : ack.statuses) {
      if (s == ReplicaStatus::kOk) continue;
      complete = false;
      env_.tracer->Record("eventual.push_refused", absl::StrCat("peer=", peer, " ", ReplicaStatusName(s)));
    }
  }
  if (mode != ExchangeMode::kPushOnly) {
    for (size_t j = 0; j < to_pull.size(); j += kMaxBatchRecords) {
      AePull pull;
      pull.keys.assign(to_pull.begin() + j, to_pull.begin() + std::min(to_pull.size(), j + kMaxBatchRecords));
      const size_t asked = pull.keys.size();
      absl::StatusOr<std::vector<Message>> got = run.Call({Message(std::move(pull))});
      if (!got.ok()) return fail(got.status());
      std::vector<KeyedRecord> records = std::move(std::get<AePullReply>((*got)[0]).records);
      if (records.size() != asked) complete = false;  // gone meanwhile, or did not fit
      for (const KeyedRecord& r : records) {
        ObserveClock(r.record.version);
        if (observer_ != nullptr) observer_->RecordTransferred(env_.self, exchange, peer, env_.self, r.key, r.record);
      }
      report.keys_pulled += records.size();
      auto outcome = std::make_shared<Promise<std::vector<ReplicaStatus>>>(env_.executor);
      Future<std::vector<ReplicaStatus>> applied = outcome->GetFuture();
      ApplyRecords(std::move(records), [outcome](std::vector<ReplicaStatus> statuses) {
        outcome->Set(std::move(statuses));
      });
      absl::StatusOr<std::vector<ReplicaStatus>> statuses = applied.Wait();
      if (!statuses.ok()) return fail(statuses.status());
      for (ReplicaStatus s : *statuses) complete = complete && s == ReplicaStatus::kOk;
    }
  } else if (!to_pull.empty()) {
    // Push-only: the peer holds newer versions of some keys; that is fine for a hand-off.
  }
  report.bytes = run.bytes();
  report.complete = complete;
  stats_.exchange_bytes += report.bytes;
  stats_.ae_keys_pushed += report.keys_pushed;
  stats_.ae_keys_pulled += report.keys_pulled;
  if (observer_ != nullptr) observer_->ExchangeDone(report);
  if (report.keys_pushed + report.keys_pulled > 0) {
    env_.tracer->Record("eventual.exchange",
                        absl::StrCat("peer=", peer, " shards=", report.differing_shards, "/",
                                     report.shards, " leaves=", report.differing_leaves,
                                     " pushed=", report.keys_pushed, " pulled=", report.keys_pulled,
                                     " bytes=", report.bytes));
  }
  return report;
}

// ---- The peer's side: answers from the current trees, no session state. ----

void EventualNode::HandleAeRoots(NodeId from, const AeRoots& m) {
  AeRootsReply reply;
  reply.xid = m.xid;
  for (ShardId shard : m.shards) {
    if (shard >= config_.store.num_shards) return;  // malformed for this cluster: ignore
    reply.roots.emplace_back(shard, store_.Hash(shard, 0, 0));
  }
  Send(from, reply);
}

void EventualNode::HandleAeChildren(NodeId from, const AeChildren& m) {
  if (m.shard >= config_.store.num_shards || m.level >= config_.store.tree_depth) return;
  AeChildrenReply reply{m.xid, m.shard, m.level, {}};
  const RangeTree* tree = store_.Tree(m.shard);
  for (uint32_t node : m.nodes) {
    if (node >= NodesAtLevel(m.level)) return;
    if (tree == nullptr) {
      reply.hashes.insert(reply.hashes.end(), kTreeFanout, 0);
    } else {
      const std::vector<uint64_t> children = tree->ChildHashes(m.level, node);
      reply.hashes.insert(reply.hashes.end(), children.begin(), children.end());
    }
  }
  Send(from, reply);
}

void EventualNode::HandleAeLeafKeys(NodeId from, const AeLeafKeys& m) {
  if (m.shard >= config_.store.num_shards) return;
  const uint32_t leaves = NodesAtLevel(config_.store.tree_depth);
  AeLeafKeysReply reply{m.xid, m.shard, {}, 0};
  size_t bytes = 0;
  for (uint32_t leaf : m.leaves) {
    if (leaf >= leaves) return;
    std::vector<KeyDigest> listed;
    size_t leaf_bytes = 0;
    store_.ForEachInLeaf(m.shard, leaf, [&](const std::string& key, const Record& record) {
      listed.push_back({key, record.version, ContentDigest(record)});
      leaf_bytes += key.size() + 32;
    });
    if (reply.keys.size() + listed.size() > kMaxAeKeys || bytes + leaf_bytes > kMaxBatchBytes) {
      if (reply.leaves_covered == 0) {  // a single leaf too big to list: send its first keys
        for (KeyDigest& d : listed) {
          if (reply.keys.size() >= kMaxAeKeys || bytes + d.key.size() + 32 > kMaxBatchBytes) break;
          bytes += d.key.size() + 32;
          reply.keys.push_back(std::move(d));
        }
      }
      break;
    }
    bytes += leaf_bytes;
    for (KeyDigest& d : listed) reply.keys.push_back(std::move(d));
    ++reply.leaves_covered;
  }
  Send(from, reply);
}

void EventualNode::HandleAePull(NodeId from, const AePull& m) {
  AePullReply reply;
  reply.xid = m.xid;
  size_t bytes = 0;
  for (const std::string& key : m.keys) {
    const Record* record = store_.Find(key);
    if (record == nullptr) continue;
    KeyedRecord r{key, *record};
    if (!reply.records.empty() && bytes + BatchBytes(r) > kMaxBatchBytes) break;
    bytes += BatchBytes(r);
    reply.records.push_back(std::move(r));
  }
  Send(from, reply);
}

}  // namespace crema::eventual
