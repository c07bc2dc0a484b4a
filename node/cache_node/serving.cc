// CacheNode, the serving side: what this node's replica of a group does for a request, whether
// it came from this node (origin.cc calls these directly) or was forwarded by another.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/cache_node/payloads.h"

namespace crema {
namespace {

using forward::Reply;
using forward::ReplyStatus;
using forward::RequestKind;

Reply WithStatus(ReplyStatus status) {
  Reply r;
  r.status = status;
  return r;
}

// A proposal's failure as the origin must treat it: only a refusal is definite.
Reply FailedProposal(const absl::Status& s, Reply not_leader) {
  if (absl::IsUnavailable(s) && absl::StartsWith(s.message(), "not leader")) return not_leader;
  return WithStatus(ReplyStatus::kUnknown);
}

bool AddsWeight(replicated::CommandKind kind) {
  using replicated::CommandKind;
  return kind == CommandKind::kPut || kind == CommandKind::kCas ||
         kind == CommandKind::kIncrement || kind == CommandKind::kMultiPut;
}

}  // namespace

void CacheNode::InstallHandlers() {
  rpc_->SetHandler(RequestKind::kWrite,
                   [this](NodeId, const forward::Request& q) { return ServeWrite(q); });
  rpc_->SetHandler(RequestKind::kRead,
                   [this](NodeId, const forward::Request& q) { return ServeRead(q); });
  rpc_->SetHandler(RequestKind::kReconcile,
                   [this](NodeId, const forward::Request& q) { return ServeReconcile(q); });
  rpc_->SetHandler(RequestKind::kTransferLeader,
                   [this](NodeId, const forward::Request& q) { return ServeTransfer(q); });
  rpc_->SetHandler(RequestKind::kMetaPropose,
                   [this](NodeId, const forward::Request& q) { return ServeMetaPropose(q); });
  rpc_->SetHandler(RequestKind::kMapFetch,
                   [this](NodeId, const forward::Request& q) { return ServeMapFetch(q); });
  rpc_->SetHandler(RequestKind::kMapPush,
                   [this](NodeId, const forward::Request& q) { return ServeMapPush(q); });
  rpc_->SetHandler(RequestKind::kReport, [this](NodeId from, const forward::Request& q) {
    return ServeReport(from, q);
  });
}

Reply CacheNode::NotLeaderReply(const Hosted& hosted) const {
  Reply r = WithStatus(ReplyStatus::kNotLeader);
  if (hosted.driver != nullptr && hosted.driver->has_core()) {
    r.leader_hint = raft::NodeOfReplica(hosted.driver->core().leader());
    if (r.leader_hint == env_.self) r.leader_hint = kNoNode;
  }
  return r;
}

bool CacheNode::Readable(const Hosted* h) {
  return h != nullptr && !h->destroying && h->driver != nullptr && h->driver->has_core() &&
         !h->driver->stopped() && h->cache != nullptr;
}

absl::StatusOr<raft::Index> CacheNode::ReadIndexRound(raft::GroupId group,
                                                      absl::Duration timeout) {
  Hosted* h = Find(group);
  const uint64_t opening = h->driver->reopens();
  absl::StatusOr<raft::Index> index = h->driver->ReadIndex().Wait(timeout);
  h = Find(group);
  if (index.ok() && h != nullptr) h->MarkLocalReady(opening);
  return index;
}

bool CacheNode::CaughtUp(const Hosted& hosted, raft::Index floor) const {
  return hosted.driver != nullptr && hosted.driver->has_core() && !hosted.driver->stopped() &&
         hosted.cache != nullptr && hosted.driver->applied() >= floor &&
         hosted.driver->core().leader() != raft::kNoReplica;
}

absl::StatusOr<CacheNode::ReadOutcome> CacheNode::ReadLocal(
    Hosted& hosted, ReadOp op, const std::vector<std::string>& keys) {
  ReadOutcome out;
  out.index = hosted.driver->applied();
  const absl::Time now = env_.clock->Now();
  if (ClockOutOfBound()) {
    // clock_guard.cc: an entry with a deadline is judged by this node's wall clock; refuse it
    // (all or nothing, before any read touches the policy).
    for (const std::string& key : keys) {
      std::optional<absl::Time> d = hosted.cache->DeadlineOf(key, absl::InfinitePast());
      if (d.has_value() && *d != absl::InfiniteFuture()) return ClockRefusal();
    }
  }
  for (const std::string& key : keys) {
    ReadItem item;
    if (op == ReadOp::kGet) {
      if (std::optional<std::string> v = hosted.cache->Read(key, now)) {
        item.present = true;
        item.value = *std::move(v);
      }
      CountRead(item.present);
    } else if (std::optional<absl::Time> d = hosted.cache->DeadlineOf(key, now)) {
      item.present = true;
      item.deadline = *d;
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

Reply CacheNode::ServeWrite(const forward::Request& request) {
  Hosted* h = Find(request.group);
  if (h == nullptr || h->destroying || h->cache == nullptr) return WithStatus(ReplyStatus::kNotHosted);
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped() ||
      h->driver->core().role() != raft::Role::kLeader) {
    return NotLeaderReply(*h);
  }
  absl::StatusOr<replicated::Command> command = replicated::DecodeCommand(request.payload);
  if (!command.ok() || !replicated::IsClientCommand(command->kind)) {
    return Reply::Error(absl::InvalidArgumentError("malformed forwarded command"));
  }
  if (AddsWeight(command->kind) && h->cache->weight() > h->cache->HardCeiling()) {
    MaybeEvict(request.group, *h);
    return Reply::Error(absl::ResourceExhaustedError(
        "OOM command not allowed when used memory > 'maxmemory' (the shard is evicting)"));
  }
  // clock_guard.cc: no stamp from a clock out of bound (the maintenance pass hands over).
  if (ClockOutOfBound()) return Reply::Error(ClockRefusal());
  command->stamp_unix_ns = absl::ToUnixNanos(env_.clock->Now());
  Future<raft::Applied> applied = h->driver->Propose(replicated::EncodeCommand(*command));
  const Reply not_leader = NotLeaderReply(*h);
  absl::StatusOr<raft::Applied> result = applied.Wait(request.timeout);
  if (!result.ok()) return FailedProposal(result.status(), not_leader);
  absl::StatusOr<replicated::Result> decoded = replicated::DecodeResult(result->result);
  if (!decoded.ok()) return Reply::Error(absl::InternalError("undecodable result"));
  if (Hosted* again = Find(request.group); again != nullptr && again->cache != nullptr) {
    MaybeEvict(request.group, *again);
  }
  Reply r = WithStatus(ReplyStatus::kOk);
  r.payload = payloads::EncodeWriteReply({result->index, *std::move(decoded)});
  return r;
}

Reply CacheNode::ServeRead(const forward::Request& request) {
  if (request.group == cluster::kMetaGroup) return ServeMetaRead(request);
  Hosted* h = Find(request.group);
  if (h == nullptr || h->destroying || h->cache == nullptr) return WithStatus(ReplyStatus::kNotHosted);
  absl::StatusOr<payloads::ReadRequest> q = payloads::DecodeReadRequest(request.payload);
  if (!q.ok()) return Reply::Error(absl::InvalidArgumentError("malformed read"));
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped()) {
    return NotLeaderReply(*h);
  }
  const absl::Time deadline = env_.clock->MonotonicNow() + request.timeout;
  raft::Index at_least = q->min_index;
  if (q->consistency == ReadConsistency::kLinearizable || !h->LocalReady()) {
    absl::StatusOr<raft::Index> index = ReadIndexRound(request.group, request.timeout);
    h = Find(request.group);
    if (h == nullptr || h->cache == nullptr) return WithStatus(ReplyStatus::kNotHosted);
    if (!index.ok()) return FailedProposal(index.status(), NotLeaderReply(*h));
    at_least = std::max(at_least, *index);
  }
  // A local read must reflect what the origin already acknowledged: wait briefly to apply it.
  while (!CaughtUp(*h, at_least)) {
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= deadline || !env_.executor->Sleep(std::min(absl::Milliseconds(5),
                                                          deadline - now)).ok()) {
      return WithStatus(ReplyStatus::kUnknown);
    }
    h = Find(request.group);
    if (h == nullptr || h->cache == nullptr) return WithStatus(ReplyStatus::kNotHosted);
  }
  absl::StatusOr<ReadOutcome> out = ReadLocal(*h, static_cast<ReadOp>(q->op), q->keys);
  if (!out.ok()) return Reply::Error(out.status());
  out->index = std::max<uint64_t>(out->index, at_least);
  Reply r = WithStatus(ReplyStatus::kOk);
  r.payload = payloads::EncodeReadReply(*out);
  return r;
}

// A linearizable read of the metadata group (CacheNode::CatchUpMap): its map's version once this
// replica has applied a read index (keyspaces.cc).
Reply CacheNode::ServeMetaRead(const forward::Request& request) {
  Hosted* h = Find(cluster::kMetaGroup);
  if (h == nullptr || h->destroying || h->meta == nullptr) return WithStatus(ReplyStatus::kNotHosted);
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped()) {
    return NotLeaderReply(*h);
  }
  const absl::Time deadline = env_.clock->MonotonicNow() + request.timeout;
  absl::StatusOr<raft::Index> index = ReadIndexRound(cluster::kMetaGroup, request.timeout);
  // Looked up again after every wait: the replica may have gone meanwhile.
  h = Find(cluster::kMetaGroup);
  if (h == nullptr || h->meta == nullptr || h->driver == nullptr) {
    return WithStatus(ReplyStatus::kNotHosted);
  }
  if (!index.ok()) return FailedProposal(index.status(), NotLeaderReply(*h));
  while (h->driver->applied() < *index) {
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= deadline || !env_.executor->Sleep(std::min(absl::Milliseconds(5), deadline - now)).ok()) {
      return WithStatus(ReplyStatus::kUnknown);
    }
    h = Find(cluster::kMetaGroup);
    if (h == nullptr || h->meta == nullptr || h->driver == nullptr) {
      return WithStatus(ReplyStatus::kNotHosted);
    }
  }
  payloads::ReadReply out;
  out.index = h->meta->map().version;  // the map version as of the read index
  Reply r = WithStatus(ReplyStatus::kOk);
  r.payload = payloads::EncodeReadReply(out);
  return r;
}

Reply CacheNode::ServeReconcile(const forward::Request& request) {
  Hosted* h = Find(request.group);
  if (h == nullptr || h->destroying) return WithStatus(ReplyStatus::kNotHosted);
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped() ||
      h->driver->core().role() != raft::Role::kLeader) {
    return NotLeaderReply(*h);
  }
  absl::StatusOr<std::vector<raft::ReplicaId>> desired =
      cluster::DecodeReplicaList(request.payload);
  if (!desired.ok() || desired->empty()) {
    return Reply::Error(absl::InvalidArgumentError("bad desired replicas"));
  }
  std::sort(desired->begin(), desired->end());
  const cluster::StepDecision decision = cluster::DecideStep(h->driver->core(), *desired);
  std::string step = decision.why;
  if (decision.change) {
    const Reply not_leader = NotLeaderReply(*h);
    absl::StatusOr<raft::Index> index =
        h->driver->ProposeConfChange(*decision.change).Wait(request.timeout);
    if (!index.ok()) {
      if (absl::IsFailedPrecondition(index.status()) || absl::IsAborted(index.status())) {
        step = absl::StrCat("wait: ", index.status().message());
      } else {
        return FailedProposal(index.status(), not_leader);
      }
    }
  } else if (decision.transfer_to != raft::kNoReplica) {
    (void)h->driver->TransferLeadership(decision.transfer_to).Wait(request.timeout);
  }
  h = Find(request.group);
  if (h == nullptr || h->driver == nullptr || !h->driver->has_core()) {
    return WithStatus(ReplyStatus::kUnknown);
  }
  const raft::Raft& core = h->driver->core();
  cluster::ReconcileResult result;
  result.voters = core.conf().voters;
  result.learners = core.conf().learners;
  std::sort(result.voters.begin(), result.voters.end());
  std::sort(result.learners.begin(), result.learners.end());
  result.conf_index = core.applied();
  result.done = decision.done;
  result.step = step;
  Reply r = WithStatus(ReplyStatus::kOk);
  r.payload = cluster::EncodeReconcileResult(result);
  return r;
}

Reply CacheNode::ServeTransfer(const forward::Request& request) {
  Hosted* h = Find(request.group);
  if (h == nullptr || h->destroying) return WithStatus(ReplyStatus::kNotHosted);
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped() ||
      h->driver->core().role() != raft::Role::kLeader) {
    return NotLeaderReply(*h);
  }
  absl::StatusOr<std::vector<raft::ReplicaId>> to = cluster::DecodeReplicaList(request.payload);
  if (!to.ok() || to->size() != 1) return Reply::Error(absl::InvalidArgumentError("bad target"));
  if ((*to)[0] == h->driver->core().id()) return WithStatus(ReplyStatus::kOk);
  absl::StatusOr<raft::Term> term = h->driver->TransferLeadership((*to)[0]).Wait(request.timeout);
  if (!term.ok()) {
    return Reply::Error(absl::DeadlineExceededError(
        absl::StrCat("leadership transfer did not complete: ", term.status().message())));
  }
  ++stats_.leader_transfers;
  return WithStatus(ReplyStatus::kOk);
}

Reply CacheNode::ServeMetaPropose(const forward::Request& request) {
  Hosted* h = Find(cluster::kMetaGroup);
  if (h == nullptr || h->meta == nullptr) return WithStatus(ReplyStatus::kNotHosted);
  if (h->driver == nullptr || !h->driver->has_core() || h->driver->stopped() ||
      h->driver->core().role() != raft::Role::kLeader) {
    return NotLeaderReply(*h);
  }
  if (!cluster::DecodeMetaCommand(request.payload).ok()) {
    return Reply::Error(absl::InvalidArgumentError("malformed metadata command"));
  }
  const Reply not_leader = NotLeaderReply(*h);
  absl::StatusOr<raft::Applied> applied = h->driver->Propose(request.payload).Wait(request.timeout);
  if (!applied.ok()) return FailedProposal(applied.status(), not_leader);
  Reply r = WithStatus(ReplyStatus::kOk);
  r.payload = applied->result;
  return r;
}

Reply CacheNode::ServeReport(NodeId from, const forward::Request& request) {
  absl::StatusOr<payloads::CorruptReport> report = payloads::DecodeCorruptReport(request.payload);
  if (!report.ok()) return Reply::Error(absl::InvalidArgumentError("malformed report"));
  bool added = false;
  for (raft::ReplicaId r : report->replicas) {
    if (raft::NodeOfReplica(r) != from) continue;  // a node reports only its own replicas
    added = corrupt_reports_.insert({report->group, r}).second || added;
  }
  if (added) {
    env_.tracer->Record("cache.corrupt_reported",
                        absl::StrCat("group ", report->group, " from n", from));
    if (controller_) controller_->Invalidate();
  }
  return WithStatus(ReplyStatus::kOk);
}

}  // namespace crema
