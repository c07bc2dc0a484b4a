// CacheNode: keyspaces created at run time (cache_api.h, "keyspaces created at run time").
//
// Create and drop are metadata commands (node/cluster/meta_command.h) proposed at the metadata
// group's leader like AdmitNode's; the outcome carries the version the map reached, or why the
// command was refused. The caller then waits until this node's own map has that version, so the
// creator's next request through this node finds the keyspace (read-your-writes).
//
// Purging a dropped keyspace (MaybePurgeKeyspaces, at the metadata leader): a strong keyspace's
// data goes by one replicated delete-prefix command per shard (cache/replicated/command.h;
// exactly-once like every write, so a retry after a leader change is harmless); then the leader
// proposes forget-keyspace and the record leaves the map. A new metadata leader simply starts the
// purge again. An eventual keyspace is forgotten at once: every eventual node erases the records
// of keyspaces its map no longer has live (KeyspaceNode as eventual::DeadKeys), whenever it is. A node whose map had not yet heard of the drop may still write into the
// dropped keyspace after the purge passed its shard: such keys are unreadable too, and the cache
// evicts them like any cold entry.
//
// Catching up (CatchUpMap): a linearizable read of the metadata group — a ReadIndex round at one
// of its replicas, which answers with its map's version once it has applied that index
// (ServeMetaRead) — then a wait until this node's map has that version (fetches and pushes of
// deltas, replica_set.cc). So a keyspace created through node 1 is found through node 2 right
// after the create returned, even if node 2 had not heard of it yet.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"

namespace crema {

using forward::Reply;
using forward::ReplyStatus;
using forward::RequestKind;

namespace {

absl::Duration ClampTimeout(absl::Duration timeout) {
  return std::clamp(timeout, absl::Milliseconds(1), absl::Minutes(1));
}

constexpr absl::Duration kMapPoll = absl::Milliseconds(5);  // while waiting for the map

}  // namespace

std::optional<KeyspaceTable> CacheNode::Keyspaces() {
  if (!map_.bootstrapped() || map_.keyspaces.empty()) return std::nullopt;
  KeyspaceTable table;
  table.version = map_.version;
  table.next_generation = map_.next_keyspace_generation;
  for (const auto& [key, record] : map_.keyspaces) {
    if (record.state == cluster::KeyspaceState::kLive) {
      table.live.push_back(keyspace::Keyspace{record.spec, record.generation});
    }
  }
  return table;
}

absl::StatusOr<cluster::MetaStateMachine::Outcome> CacheNode::MetaPropose(
    cluster::MetaCommand command, absl::Duration timeout) {
  forward::Request q;
  q.kind = RequestKind::kMetaPropose;
  q.group = cluster::kMetaGroup;
  q.payload = cluster::EncodeMetaCommand(command);
  bool maybe = false;
  absl::StatusOr<Reply> reply = CallLeader(
      cluster::kMetaGroup, std::move(q), env_.clock->MonotonicNow() + ClampTimeout(timeout), &maybe);
  if (!reply.ok()) return reply.status();
  if (reply->status == ReplyStatus::kError) return reply->ErrorStatus();
  absl::StatusOr<cluster::MetaStateMachine::Outcome> outcome =
      cluster::MetaStateMachine::DecodeOutcome(reply->payload);
  if (!outcome.ok()) return absl::InternalError(outcome.status().message());
  return outcome;
}

absl::Status CacheNode::WaitForMap(uint64_t version, absl::Time deadline) {
  while (map_.version < version) {
    OnMetaChange();  // this node's metadata replica may already be there
    if (map_.version >= version || shutdown_) break;
    FetchMap(kNoNode);  // no-op while a fetch runs
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "this node's cluster map is at version ", map_.version, ", not yet ", version));
    }
    if (absl::Status s = env_.executor->Sleep(std::min(kMapPoll, deadline - now)); !s.ok()) {
      return s;
    }
  }
  if (shutdown_) return absl::UnavailableError("node shutting down");
  return absl::OkStatus();
}

absl::Status CacheNode::CatchUpMap(absl::Duration timeout) {
  const absl::Time deadline = env_.clock->MonotonicNow() + ClampTimeout(timeout);
  if (!map_.bootstrapped()) return absl::UnavailableError("the node is not serving yet");
  payloads::ReadRequest read;
  read.op = static_cast<uint8_t>(ReadOp::kGet);
  read.consistency = ReadConsistency::kLinearizable;
  forward::Request q;
  q.kind = RequestKind::kRead;
  q.payload = payloads::EncodeReadRequest(read);
  bool maybe = false;
  absl::StatusOr<Reply> reply = CallLeader(cluster::kMetaGroup, std::move(q), deadline, &maybe);
  if (!reply.ok()) return absl::UnavailableError(reply.status().message());
  if (reply->status == ReplyStatus::kError) return reply->ErrorStatus();
  absl::StatusOr<payloads::ReadReply> version = payloads::DecodeReadReply(reply->payload, 0);
  if (!version.ok()) return absl::InternalError(version.status().message());
  return WaitForMap(version->index, deadline);
}

absl::StatusOr<keyspace::Keyspace> CacheNode::CreateKeyspace(std::string_view text,
                                                           const WriteOptions& options) {
  absl::StatusOr<keyspace::KeyspaceSpec> spec = keyspace::ParseKeyspaceSpec(text);
  if (!spec.ok()) return spec.status();
  if (!ready()) return absl::UnavailableError("the node is not serving yet");
  if (map_.keyspaces.empty()) {
    return absl::FailedPreconditionError(
        "this cluster was bootstrapped before keyspaces were kept in its map: its keyspaces come "
        "from --keyspaces");
  }
  const absl::Time deadline = env_.clock->MonotonicNow() + ClampTimeout(options.timeout);
  cluster::MetaCommand c;
  c.kind = cluster::MetaCommandKind::kCreateKeyspace;
  c.keyspace_spec = spec->ToString();
  absl::StatusOr<cluster::MetaStateMachine::Outcome> outcome = MetaPropose(std::move(c), options.timeout);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->changed) {
    if (!outcome->refusal.ok()) return outcome->refusal;
    return absl::InternalError("the metadata group refused the command without a reason");
  }
  if (absl::Status s = WaitForMap(outcome->version, deadline); !s.ok()) return s;
  const cluster::KeyspaceRecord* record = map_.LiveKeyspace(spec->index);
  if (record == nullptr || record->spec != *spec) {
    return absl::AbortedError("the keyspace was created, then changed again before this node saw it");
  }
  return keyspace::Keyspace{record->spec, record->generation};
}

absl::Status CacheNode::DropKeyspace(uint32_t index, uint64_t generation,
                                     const WriteOptions& options) {
  if (index >= keyspace::kMaxKeyspaces) {
    return absl::InvalidArgumentError(absl::StrCat("index: must be 0..", keyspace::kMaxKeyspaces - 1));
  }
  if (!ready()) return absl::UnavailableError("the node is not serving yet");
  const absl::Time deadline = env_.clock->MonotonicNow() + ClampTimeout(options.timeout);
  cluster::MetaCommand c;
  c.kind = cluster::MetaCommandKind::kDropKeyspace;
  c.keyspace_index = index;
  c.keyspace_generation = generation;
  absl::StatusOr<cluster::MetaStateMachine::Outcome> outcome = MetaPropose(std::move(c), options.timeout);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->changed) {
    if (!outcome->refusal.ok()) return outcome->refusal;
    return absl::InternalError("the metadata group refused the command without a reason");
  }
  return WaitForMap(outcome->version, deadline);
}

void CacheNode::MaybePurgeKeyspaces() {
  if (purging_keyspace_ || shutdown_ || env_.clock->MonotonicNow() < next_purge_attempt_) return;
  for (const auto& [key, record] : map_.keyspaces) {
    if (record.state != cluster::KeyspaceState::kDropping) continue;
    // Copies: the map may change while the fiber waits.
    const uint32_t index = key.first;
    const uint64_t generation = key.second;
    const keyspace::Mode mode = record.spec.mode;
    purging_keyspace_ = true;
    env_.executor->Spawn("keyspace-purge", [this, alive = alive_, index, generation, mode] {
      if (!*alive) return;
      const absl::Status s = PurgeKeyspace(index, generation, mode);
      if (!*alive) return;
      purging_keyspace_ = false;
      env_.tracer->Record("cache.keyspace_purge",
                          absl::StrCat("ks", index, "/", generation, " ", s.ToString()));
      if (!s.ok()) next_purge_attempt_ = env_.clock->MonotonicNow() + absl::Seconds(1);
    });
    return;
  }
}

absl::Status CacheNode::PurgeKeyspace(uint32_t index, uint64_t generation, keyspace::Mode mode) {
  if (mode == keyspace::Mode::kStrong) {
    const std::string prefix = keyspace::StrongKeyspacePrefix(index, generation);
    // num_shards is fixed at bootstrap: reading it after each wait is safe.
    for (cluster::ShardId shard = 0; shard < map_.params.num_shards; ++shard) {
      replicated::Command c;
      c.kind = replicated::CommandKind::kDeletePrefix;
      c.key = prefix;
      absl::StatusOr<WriteOutcome> out = Write(shard, std::move(c), options_.attempt_timeout * 5);
      if (!out.ok()) return out.status();
    }
  }
  cluster::MetaCommand forget;
  forget.kind = cluster::MetaCommandKind::kForgetKeyspace;
  forget.keyspace_index = index;
  forget.keyspace_generation = generation;
  return MetaPropose(std::move(forget), options_.attempt_timeout * 5).status();
}

}  // namespace crema
