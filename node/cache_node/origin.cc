// CacheNode, the origin side: this node's sessions with shards, finding a group's leader, and
// forwarding with retries. Exactly-once rests on one rule: every attempt of one write carries the
// same (session, seq); the shard's session table answers a retry from the result it kept.
//
// Failover: when the transport reports the leader's node gone, the attempt waiting on it fails at
// once (forward::Rpc), the gone node is asked last and its name in a NotLeader hint is not
// followed, and the back-off before the next attempt ends as soon as this node's own replica of
// the group follows a new leader. So a write waits for the election, not for attempt_timeout.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "xxhash.h"

namespace crema {
namespace {

using forward::ReplyStatus;
using forward::RequestKind;

}  // namespace

void CacheNode::NoteLeader(raft::GroupId group, NodeId leader) {
  if (leader == kNoNode) {
    leader_hints_.erase(group);
  } else {
    leader_hints_[group] = leader;
  }
}

void CacheNode::RaiseFloor(raft::GroupId group, raft::Index index) {
  raft::Index& floor = floors_[group];
  floor = std::max(floor, index);
}

raft::Index CacheNode::Floor(raft::GroupId group) const {
  auto it = floors_.find(group);
  return it == floors_.end() ? 0 : it->second;
}

NodeId CacheNode::LocalLeader(raft::GroupId group) const {
  const Hosted* h = Find(group);
  if (h == nullptr || h->driver == nullptr || !h->driver->has_core() || h->driver->stopped()) {
    return kNoNode;
  }
  const raft::ReplicaId leader = h->driver->core().leader();
  return leader == raft::kNoReplica ? kNoNode : raft::NodeOfReplica(leader);
}

bool CacheNode::AwaitRetry(raft::GroupId group, NodeId seen, absl::Duration wait) {
  const absl::Time until = env_.clock->MonotonicNow() + wait;
  for (int slice = 0; !shutdown_; ++slice) {  // bounded: each slice sleeps retry_backoff > 0
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= until) return true;
    const NodeId leader = LocalLeader(group);
    if (slice > 0 && leader != kNoNode && leader != seen &&
        (leader == env_.self || rpc_->PeerReachable(leader))) {
      return true;  // a new leader: ask it now
    }
    if (!env_.executor->Sleep(std::min(options_.retry_backoff, until - now)).ok()) return false;
  }
  return false;
}

std::vector<NodeId> CacheNode::LeaderCandidates(raft::GroupId group) const {
  std::vector<NodeId> out;
  auto add = [&out](NodeId n) {
    if (n != kNoNode && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  if (const Hosted* h = Find(group);
      h != nullptr && h->driver != nullptr && h->driver->has_core() && !h->driver->stopped()) {
    add(raft::NodeOfReplica(h->driver->core().leader()));
  }
  if (auto hint = leader_hints_.find(group); hint != leader_hints_.end()) add(hint->second);
  if (const cluster::ShardInfo* info = map_.Group(group)) {
    // The preferred leader (first target) first, then the other voters.
    if (targets_ != nullptr) {
      for (NodeId n : targets_->Targets(group)) {
        if (info->ReplicaOn(n) != raft::kNoReplica) add(n);
      }
    }
    for (raft::ReplicaId r : info->voters) add(raft::NodeOfReplica(r));
  }
  std::stable_partition(out.begin(), out.end(), [this](NodeId n) {
    return n == env_.self || rpc_->PeerReachable(n);
  });
  return out;
}

absl::StatusOr<forward::Reply> CacheNode::CallLeader(raft::GroupId group,
                                                     forward::Request request,
                                                     absl::Time deadline, bool* maybe_executed) {
  request.group = group;
  absl::Duration backoff = options_.retry_backoff;
  NodeId avoid = kNoNode;  // the node that just failed us
  std::string last_error = "no replica known";
  for (int attempt = 0; !shutdown_; ++attempt) {
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= deadline) break;
    if (attempt > 0) ++stats_.forward_retries;
    std::vector<NodeId> candidates = LeaderCandidates(group);
    if (candidates.empty()) {
      FetchMap(kNoNode);
      (void)env_.executor->Sleep(std::min(backoff, deadline - now));
      backoff = std::min(backoff * 2, options_.retry_backoff * 16);
      continue;
    }
    NodeId target = candidates[0];
    if (target == avoid && candidates.size() > 1) {
      // Another one in turn; among those not reported gone (a prefix), if there are others.
      const size_t live = static_cast<size_t>(std::count_if(
          candidates.begin(), candidates.end(),
          [this](NodeId n) { return n == env_.self || rpc_->PeerReachable(n); }));
      const size_t others = live > 1 ? live - 1 : candidates.size() - 1;
      target = candidates[1 + attempt % others];
    }
    // BUGGIFY: a stale leader hint — ask another replica first (it answers NotLeader or serves).
    if (candidates.size() > 1 && env_.buggify != nullptr &&
        env_.buggify->Fire("cache.forward.stale_hint")) {
      target = candidates.back();
    }
    const absl::Duration budget = std::min(options_.attempt_timeout, deadline - now);
    absl::StatusOr<forward::Reply> reply;
    if (target == env_.self) {
      request.timeout = budget;
      switch (request.kind) {
        case RequestKind::kWrite: reply = ServeWrite(request); break;
        case RequestKind::kRead: reply = ServeRead(request); break;
        case RequestKind::kReconcile: reply = ServeReconcile(request); break;
        case RequestKind::kTransferLeader: reply = ServeTransfer(request); break;
        case RequestKind::kMetaPropose: reply = ServeMetaPropose(request); break;
        case RequestKind::kReport: reply = ServeReport(env_.self, request); break;
        default: reply = forward::Reply::Error(absl::InternalError("not callable locally"));
      }
    } else {
      ++stats_.forwarded;
      const absl::Time sent = env_.clock->MonotonicNow();
      reply = rpc_->Call(target, request, budget);
      CountForward(reply, env_.clock->MonotonicNow() - sent);
    }
    if (!reply.ok()) {
      if (absl::IsCancelled(reply.status())) return reply.status();
      *maybe_executed = true;  // it may have arrived and been executed
      NoteLeader(group, kNoNode);
      avoid = target;
      last_error = std::string(reply.status().message());
    } else {
      switch (reply->status) {
        case ReplyStatus::kOk:
          NoteLeader(group, target);
          return reply;
        case ReplyStatus::kError:
          return reply;
        case ReplyStatus::kNotLeader:
          // A hint naming a node reported gone is stale (the replica has not noticed yet).
          if (reply->leader_hint != kNoNode && reply->leader_hint != target &&
              (reply->leader_hint == env_.self || rpc_->PeerReachable(reply->leader_hint))) {
            NoteLeader(group, reply->leader_hint);
            avoid = target;
            last_error = "leader moved";
            continue;  // straight to the hinted leader, no back-off
          }
          NoteLeader(group, kNoNode);
          avoid = target;
          last_error = "no leader";
          break;
        case ReplyStatus::kUnknown:
          *maybe_executed = true;
          avoid = target;
          last_error = "outcome unknown";
          break;
        case ReplyStatus::kBusy:
          last_error = "busy";
          break;
        case ReplyStatus::kNotHosted:
          if (auto hint = leader_hints_.find(group); hint != leader_hints_.end() &&
                                                     hint->second == target) {
            NoteLeader(group, kNoNode);
          }
          avoid = target;
          last_error = "not hosted there";
          break;
      }
    }
    const absl::Duration wait = std::min(backoff, deadline - env_.clock->MonotonicNow());
    const NodeId seen = LocalLeader(group);
    if (wait > absl::ZeroDuration() && !AwaitRetry(group, seen, wait)) break;
    // Our own replica follows a new leader: ask it, even if it is the node that just failed us
    // (it answered NotLeader before it won).
    if (const NodeId now_leader = LocalLeader(group); now_leader != kNoNode && now_leader != seen) {
      avoid = kNoNode;
    }
    backoff = std::min(backoff * 2, options_.retry_backoff * 16);
  }
  if (*maybe_executed) {
    return absl::DeadlineExceededError(absl::StrCat("no answer in time (", last_error,
                                                    "); the operation may or may not apply"));
  }
  return absl::UnavailableError(absl::StrCat("shard unavailable: ", last_error));
}

absl::StatusOr<CacheNode::WriteOutcome> CacheNode::ExecuteWrite(raft::GroupId group,
                                                                replicated::Command command,
                                                                absl::Time deadline) {
  // `session` is valid only until the first wait: other fibers may insert into sessions_.
  OriginSession& session = sessions_[group];
  if (session.id == 0) {
    const uint64_t parts[2] = {session_nonce_, group};
    session.id = XXH3_64bits(parts, sizeof(parts)) | 1;
  }
  command.session = session.id;
  command.seq = session.next_seq++;
  session.in_flight.insert(command.seq);
  command.ack_floor = session.floor();
  command.issued_unix_ns = absl::ToUnixNanos(env_.clock->Now());
  forward::Request request;
  request.kind = RequestKind::kWrite;
  request.payload = replicated::EncodeCommand(command);
  const uint64_t seq = command.seq;
  bool maybe_executed = false;
  absl::StatusOr<forward::Reply> reply;
  if (options_.plant_retry_new_seq) {
    // PLANTED BUG (tests only): every attempt is a new command, so a retry of a write that did
    // apply applies again.
    for (int attempt = 0; env_.clock->MonotonicNow() < deadline; ++attempt) {
      if (attempt > 0) {
        // Looked up again: the map may have moved the session while this fiber waited.
        command.seq = sessions_[group].next_seq++;
        request.payload = replicated::EncodeCommand(command);
      }
      reply = CallLeader(group, request,
                         std::min(deadline, env_.clock->MonotonicNow() + options_.attempt_timeout),
                         &maybe_executed);
      if (reply.ok()) break;
    }
    if (!reply.ok() && reply.status().ok()) reply = absl::DeadlineExceededError("timed out");
  } else {
    reply = CallLeader(group, std::move(request), deadline, &maybe_executed);
  }
  // Finished, one way or another: later duplicates of this seq will be refused as stale.
  sessions_[group].in_flight.erase(seq);
  if (!reply.ok()) return reply.status();
  // A refusal of the last attempt speaks only for that attempt: when an earlier one may have
  // been executed (its answer was lost), "nothing happened" is not known, so say so. That covers
  // the server's refusals (over the memory ceiling) and the shard's (request too old, session
  // table full: a session can expire by log time between two attempts).
  auto refused_after_retry = [&](bool refused, absl::string_view why) {
    return maybe_executed && refused
               ? absl::DeadlineExceededError(absl::StrCat(
                     "an earlier attempt may have applied; the last one was refused: ", why))
               : absl::OkStatus();
  };
  if (reply->status == ReplyStatus::kError) {
    const absl::Status refusal = reply->ErrorStatus();
    absl::Status unknown = refused_after_retry(
        absl::IsResourceExhausted(refusal) || absl::IsUnavailable(refusal), refusal.message());
    return unknown.ok() ? refusal : unknown;
  }
  absl::StatusOr<payloads::WriteReply> decoded = payloads::DecodeWriteReply(reply->payload);
  if (!decoded.ok()) return absl::InternalError(decoded.status().message());
  const replicated::ResultCode code = decoded->result.code;
  if (absl::Status unknown = refused_after_retry(
          code == replicated::ResultCode::kExpiredRequest ||
              code == replicated::ResultCode::kSessionLimit,
          "by the shard");
      !unknown.ok()) {
    return unknown;
  }
  RaiseFloor(group, decoded->index);
  return WriteOutcome{decoded->index, std::move(decoded->result)};
}

absl::StatusOr<CacheNode::ReadOutcome> CacheNode::ExecuteRead(
    raft::GroupId group, ReadOp op, const std::vector<std::string>& keys,
    ReadConsistency consistency, absl::Time deadline) {
  if (shutdown_) return absl::UnavailableError("node shutting down");
  const raft::Index floor = options_.plant_local_read_no_floor ? 0 : Floor(group);
  // BUGGIFY: this replica is not used (as if not caught up): the read is forwarded instead.
  const bool skip_local = env_.buggify != nullptr && env_.buggify->Fire("cache.read.skip_local");
  Hosted* h = skip_local ? nullptr : Find(group);
  const bool usable = Readable(h);
  const absl::Duration round_timeout =
      std::min(options_.attempt_timeout, deadline - env_.clock->MonotonicNow());
  if (consistency == ReadConsistency::kLocal) {
    ++stats_.reads_local;
    if (usable && !h->LocalReady() && !options_.plant_local_read_no_floor) {
      // First local read since this replica opened: learn what was committed before.
      (void)ReadIndexRound(group, round_timeout);
      h = Find(group);
    }
    if (h != nullptr && h->LocalReady() && CaughtUp(*h, floor)) {
      absl::StatusOr<ReadOutcome> out = ReadLocal(*h, op, keys);
      // Refused for this node's clock (clock_guard.cc): the leader's clock judges instead.
      if (out.ok() || !ClockOutOfBound()) return out;
    }
    if (options_.plant_local_read_no_floor && usable && Readable(h)) {
      return ReadLocal(*h, op, keys);
    }
  } else {
    ++stats_.reads_linearizable;
    if (usable && options_.plant_linearizable_read_no_read_index) return ReadLocal(*h, op, keys);
    if (usable) {
      absl::StatusOr<raft::Index> index = ReadIndexRound(group, round_timeout);
      h = Find(group);  // it may have gone, or begun to (driver cleared), during the round
      if (index.ok() && Readable(h)) {
        RaiseFloor(group, *index);
        absl::StatusOr<ReadOutcome> out = ReadLocal(*h, op, keys);
        if (out.ok()) out->index = std::max<uint64_t>(out->index, *index);
        return out;
      }
    }
  }
  // Forward to the leader (which serves local reads at or beyond this node's floor).
  payloads::ReadRequest q;
  q.op = static_cast<uint8_t>(op);
  q.consistency = consistency;
  q.min_index = floor;
  // No floor learned for this shard since this node started: an earlier incarnation may have
  // acknowledged writes the serving replica (any follower, after a stale hint) has not applied.
  // Its ReadIndex round gives the floor; later local reads use it (seed 5382523872098490946).
  if (!floors_.contains(group) && !options_.plant_local_read_no_floor) {
    q.consistency = ReadConsistency::kLinearizable;
  }
  q.keys = keys;
  forward::Request request;
  request.kind = RequestKind::kRead;
  request.payload = payloads::EncodeReadRequest(q);
  bool maybe_executed = false;
  absl::StatusOr<forward::Reply> reply = CallLeader(group, std::move(request), deadline,
                                                    &maybe_executed);
  if (!reply.ok()) return reply.status();
  if (reply->status == ReplyStatus::kError) return reply->ErrorStatus();
  absl::StatusOr<payloads::ReadReply> decoded =
      payloads::DecodeReadReply(reply->payload, keys.size());
  if (!decoded.ok()) return absl::InternalError(decoded.status().message());
  RaiseFloor(group, decoded->index);
  return decoded;
}

}  // namespace crema
