// The coordinator side of EventualNode: Get / Put / Delete with per-request consistency, sloppy
// quorums, read repair, and the client protocol used by simulation clients.
#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "node/eventual/driver/eventual_node.h"

namespace crema::eventual {
namespace {

// Counts a coordinated request against max_inflight_requests for its lifetime.
class InflightGuard {
 public:
  explicit InflightGuard(size_t* inflight) : inflight_(inflight) { ++*inflight_; }
  ~InflightGuard() { --*inflight_; }

 private:
  size_t* inflight_;
};

}  // namespace

absl::StatusOr<int> EventualNode::Required(const Consistency& consistency) const {
  return RequiredAnswers(consistency, config_.replication);
}

absl::StatusOr<ReadResult> EventualNode::Get(std::string_view key, const ReadOptions& options) {
  absl::Status status = CheckServing();
  if (status.ok()) status = ValidateKey(key);
  if (!status.ok()) return status;
  if (inflight_ >= config_.max_inflight_requests) {
    return absl::ResourceExhaustedError("too many requests in flight");
  }
  InflightGuard guard(&inflight_);
  ++stats_.gets;
  return Read(key, options);
}

absl::StatusOr<WriteResult> EventualNode::Put(std::string_view key, std::string_view value,
                                              const WriteOptions& options) {
  absl::Status status = CheckServing();
  if (status.ok()) status = ValidateKey(key);
  if (status.ok() && value.size() > kMaxValueBytes) {
    status = absl::InvalidArgumentError(absl::StrCat("value of ", value.size(), " bytes exceeds ", kMaxValueBytes));
  }
  if (status.ok() && options.ttl < absl::ZeroDuration()) {
    status = absl::InvalidArgumentError("negative TTL");
  }
  if (!status.ok()) return status;
  if (inflight_ >= config_.max_inflight_requests) {
    return absl::ResourceExhaustedError("too many requests in flight");
  }
  InflightGuard guard(&inflight_);
  ++stats_.puts;
  Record record;
  record.value = std::string(value);
  return Write(key, std::move(record), options);
}

absl::StatusOr<WriteResult> EventualNode::Delete(std::string_view key, const WriteOptions& options) {
  absl::Status status = CheckServing();
  if (status.ok()) status = ValidateKey(key);
  if (!status.ok()) return status;
  if (inflight_ >= config_.max_inflight_requests) {
    return absl::ResourceExhaustedError("too many requests in flight");
  }
  InflightGuard guard(&inflight_);
  ++stats_.deletes;
  Record record;
  record.tombstone = true;
  WriteOptions no_ttl = options;
  no_ttl.ttl = absl::ZeroDuration();
  return Write(key, std::move(record), no_ttl);
}

absl::StatusOr<WriteResult> EventualNode::Write(std::string_view key, Record record,
                                                const WriteOptions& options) {
  absl::StatusOr<int> required = Required(options.consistency);
  if (!required.ok()) return required.status();
  const bool sloppy = options.consistency.sloppy;
  const ShardId shard = store_.PlaceOf(key).shard;
  const std::vector<WriteTarget> targets =
      Ring().PlanWrite(shard, [this](NodeId n) { return Healthy(n); });
  const int countable = sloppy ? static_cast<int>(targets.size())
                               : static_cast<int>(std::count_if(targets.begin(), targets.end(),
                                                                [](const WriteTarget& t) { return t.home(); }));
  if (countable < *required) {
    ++stats_.op_failures;
    return absl::UnavailableError(absl::StrCat(countable, " replicas of the key reachable, ",
                                               options.consistency.ToString(), " needs ", *required,
                                               "; nothing was written"));
  }
  record.version = hlc_.Now(Wall());
  if (options.ttl > absl::ZeroDuration()) {
    record.expires_at_ns = record.version.wall_ns + absl::ToInt64Nanoseconds(options.ttl);
  }
  WriteTally tally(targets, config_.bugs.ack_after_one ? 1 : *required, sloppy);
  // Transition after a ring change: the previous owners must also hold the write (see the header).
  std::vector<WriteTally> previous = PreviousOwnersTallies(shard, *required);
  std::vector<WriteTarget> all_targets = targets;
  for (const WriteTally& p : previous) {
    for (const WriteTarget& t : p.targets()) {
      const bool known = std::any_of(all_targets.begin(), all_targets.end(),
                                     [&](const WriteTarget& x) { return x.node == t.node; });
      if (!known) all_targets.push_back(t);
    }
  }
  auto previous_satisfied = [&] {
    return std::all_of(previous.begin(), previous.end(), [](const WriteTally& p) { return p.satisfied(); });
  };
  auto previous_impossible = [&] {
    return std::any_of(previous.begin(), previous.end(), [](const WriteTally& p) { return p.impossible(); });
  };
  Waiter waiter(this);
  const uint64_t op = waiter.NewId();
  const std::string key_string(key);
  auto send = [&](const WriteTarget& target) {
    if (target.node != env_.self) {
      Send(target.node, ReplicaWrite{op, key_string, record, target.hint_for});
      return;
    }
    Mutation mutation;
    mutation.kind = target.home() ? MutationKind::kStore : MutationKind::kHint;
    mutation.key = key_string;
    mutation.record = record;
    mutation.target = target.hint_for;
    mutation.done = [this, op](ReplicaStatus status) {
      Route(op, env_.self, ReplicaWriteAck{op, status, hlc_.last()});
    };
    (void)Enqueue(std::move(mutation));
  };
  for (const WriteTarget& target : all_targets) send(target);
  const absl::Time deadline = Now() + config_.request_timeout;
  absl::Time next_retry = Now() + config_.retry_interval;
  bool full = false;
  int hinted = 0;
  while (!tally.satisfied() || !previous_satisfied()) {
    if (tally.impossible() || previous_impossible()) {
      ++stats_.op_failures;
      if (full) return absl::ResourceExhaustedError("replicas are full; the write may have been applied on some");
      return absl::AbortedError("too many replicas refused the write; it may have been applied on some");
    }
    absl::StatusOr<Incoming> in = waiter.Recv(std::min(deadline, next_retry));
    if (absl::IsCancelled(in.status()) || stopped_) return absl::CancelledError("node stopped");
    if (!in.ok()) {
      if (Now() >= deadline) {
        ++stats_.op_timeouts;
        return absl::DeadlineExceededError(absl::StrCat("write got ", tally.counted(), " of ", *required,
                                                        " acknowledgements in time; it may have been applied on some"));
      }
      next_retry = Now() + config_.retry_interval;
      std::vector<WriteTarget> pending = tally.Pending();
      for (const WriteTally& p : previous) {
        for (const WriteTarget& t : p.Pending()) pending.push_back(t);
      }
      for (const WriteTarget& target : pending) {
        if (target.node != env_.self) send(target);
      }
      continue;
    }
    const auto* ack = std::get_if<ReplicaWriteAck>(&in->message);
    if (ack == nullptr || ack->op != op) continue;
    ObserveClock(ack->clock);
    if (ack->status == ReplicaStatus::kOk) {
      for (WriteTally& p : previous) p.OnAck(in->from);
      if (tally.OnAck(in->from)) {
        for (const WriteTarget& t : targets) hinted += t.node == in->from && !t.home() ? 1 : 0;
      }
    } else if (ack->status != ReplicaStatus::kBusy) {  // busy: try again at the next retry
      full = full || ack->status == ReplicaStatus::kFull;
      tally.OnRefusal(in->from);
      for (WriteTally& p : previous) p.OnRefusal(in->from);
    }
  }
  return WriteResult{record.version, tally.acks(), hinted};
}

std::vector<WriteTally> EventualNode::PreviousOwnersTallies(ShardId shard, int required) {
  const EventualRing& ring = Ring();
  const absl::Time now = Now();
  while (!recent_rings_.empty() && now - recent_rings_.front().second >= config_.ownership_settle) {
    recent_rings_.pop_front();
  }
  std::vector<NodeId> current = ring.Owners(shard);
  std::sort(current.begin(), current.end());
  std::vector<WriteTally> tallies;
  std::vector<std::vector<NodeId>> seen;
  for (const auto& [old_ring, replaced_at] : recent_rings_) {
    std::vector<NodeId> before = old_ring.Owners(shard);
    std::sort(before.begin(), before.end());
    if (before == current || std::find(seen.begin(), seen.end(), before) != seen.end()) continue;
    seen.push_back(before);
    // Readers on the old ring read R of its owners still around (the others left); to meet every
    // such read quorum a write needs live_old − R + 1 of them, with the smallest R that still
    // satisfies R + W > N: live_old − N + W.
    std::vector<WriteTarget> live;
    for (NodeId owner : before) {
      if (ring.Contains(owner)) live.push_back({owner, kNoNode});
    }
    const int needed = static_cast<int>(live.size()) - config_.replication + required;
    if (needed > 0) tallies.emplace_back(std::move(live), needed, /*sloppy=*/false);
  }
  return tallies;
}

absl::StatusOr<ReadResult> EventualNode::Read(std::string_view key, const ReadOptions& options) {
  absl::StatusOr<int> required = Required(options.consistency);
  if (!required.ok()) return required.status();
  const int n = config_.replication;
  const bool sloppy = options.consistency.sloppy;
  const bool quorum_read = *required > n / 2;
  const ShardId shard = store_.PlaceOf(key).shard;
  const EventualRing& ring = Ring();
  const std::vector<NodeId>& list = ring.PreferenceList(shard);
  const size_t owner_count = std::min(list.size(), static_cast<size_t>(n));
  std::vector<NodeId> listed(list.begin(), list.begin() + std::min(list.size(), owner_count + 1));
  listed.erase(std::remove(listed.begin(), listed.end(), env_.self), listed.end());
  // Targets: healthy owners first (then the unhealthy ones, which may still answer); a sloppy read
  // replaces unhealthy owners by the next healthy members, which answer from their hints too.
  std::vector<ReadTarget> targets;
  std::vector<char> with_hints;  // per target: ask for hints too (sloppy stand-ins)
  std::vector<NodeId> unhealthy;
  for (size_t i = 0; i < owner_count; ++i) {
    if (Healthy(list[i])) {
      targets.push_back({list[i], true});
      with_hints.push_back(false);
    } else {
      unhealthy.push_back(list[i]);
    }
  }
  size_t next = owner_count;
  for (NodeId owner : unhealthy) {
    if (sloppy) {
      while (next < list.size() && !Healthy(list[next])) ++next;
      if (next < list.size()) {
        targets.push_back({list[next++], true});
        with_hints.push_back(true);
        continue;
      }
    }
    targets.push_back({owner, true});
    with_hints.push_back(false);
  }
  const int healthy_countable =
      static_cast<int>(targets.size() - (sloppy ? 0 : unhealthy.size()));
  if (healthy_countable < *required) {
    ++stats_.op_failures;
    return absl::UnavailableError(absl::StrCat(healthy_countable, " replicas of the key reachable, ",
                                               options.consistency.ToString(), " needs ", *required));
  }
  // Self first among healthy targets: a local answer costs no message.
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].node == env_.self && i < static_cast<size_t>(healthy_countable)) {
      std::swap(targets[0], targets[i]);
      std::swap(with_hints[0], with_hints[i]);
      break;
    }
  }
  const bool check_all = !quorum_read && config_.read_repair_one_in > 0 &&
                         !config_.bugs.no_repair && random_.OneIn(config_.read_repair_one_in);
  ReadTally tally(targets, config_.bugs.read_first_answer ? 1 : *required);
  Waiter waiter(this);
  const uint64_t op = waiter.NewId();
  const std::string key_string(key);
  auto send = [&](size_t i) {
    const NodeId node = targets[i].node;
    if (node != env_.self) {
      Send(node, ReplicaRead{op, key_string, with_hints[i] != 0, listed});
      return;
    }
    // A local answer, through the same readiness rule as a remote one.
    ReplicaReadReply reply;
    reply.op = op;
    if (leaving_ || (!with_hints[i] && !ReadyFor(shard, listed))) {
      reply.ready = false;
    } else if (const Record* stored = store_.Find(key_string);
               stored != nullptr && PurgeTime(*stored, config_.store.tombstone_grace) > Wall()) {
      reply.record = *stored;
    }
    Route(op, env_.self, std::move(reply));
  };
  size_t fanout = quorum_read || check_all ? targets.size() : static_cast<size_t>(*required);
  for (size_t i = 0; i < fanout; ++i) send(i);
  const absl::Time deadline = Now() + config_.request_timeout;
  absl::Time next_retry = Now() + config_.retry_interval;
  while (!tally.satisfied()) {
    if (tally.impossible()) {
      ++stats_.op_failures;
      return absl::UnavailableError("too many replicas are recovering or unreachable");
    }
    absl::StatusOr<Incoming> in = waiter.Recv(std::min(deadline, next_retry));
    if (absl::IsCancelled(in.status()) || stopped_) return absl::CancelledError("node stopped");
    if (!in.ok()) {
      if (Now() >= deadline) {
        ++stats_.op_timeouts;
        return absl::DeadlineExceededError(absl::StrCat("read got ", tally.counted(), " of ",
                                                        *required, " answers in time"));
      }
      next_retry = Now() + config_.retry_interval;
      fanout = targets.size();  // widen to every candidate, and ask the silent ones again
      const std::vector<NodeId> pending = tally.Pending();
      for (size_t i = 0; i < targets.size(); ++i) {
        if (std::find(pending.begin(), pending.end(), targets[i].node) != pending.end()) send(i);
      }
      continue;
    }
    const auto* reply = std::get_if<ReplicaReadReply>(&in->message);
    if (reply == nullptr || reply->op != op) continue;
    ObserveClock(reply->clock);
    if (reply->record) ObserveClock(reply->record->version);
    if (reply->ready) {
      tally.OnAnswer(in->from, reply->record);
    } else {
      tally.OnNotReady(in->from);
    }
  }
  ReadResult result;
  result.answers = tally.counted();
  if (const std::optional<Record>& newest = tally.newest()) {
    result.version = newest->version;
    result.found = IsLive(*newest, Wall());
    if (result.found) {
      result.value = newest->value;
      result.expires_at_ns = newest->expires_at_ns;
    }
    const std::vector<NodeId> stale = tally.Stale();
    if (quorum_read && !stale.empty() && !config_.bugs.no_repair) {
      // Synchronous read repair: the value returned is on the stale answerers too before the
      // caller sees it, so a later quorum read cannot return something older.
      ++stats_.read_repairs_sync;
      result.repaired = Repair(key_string, *newest, stale, deadline) > 0;
    }
  }
  if (check_all) {
    // Probabilistic read repair: check every replica in the background, fix the stale ones.
    ++stats_.read_repairs_async;
    std::vector<NodeId> all;
    for (const ReadTarget& t : targets) all.push_back(t.node);
    env_.executor->Spawn("eventual.read_repair", [this, key_string, all, listed, shard] {
      if (inflight_ >= config_.max_inflight_requests || stopped_) return;
      InflightGuard guard(&inflight_);
      std::vector<ReadTarget> everyone;
      for (NodeId node : all) everyone.push_back({node, true});
      ReadTally check(everyone, static_cast<int>(everyone.size()));
      Waiter waiter(this);
      const uint64_t op = waiter.NewId();
      for (NodeId node : all) {
        if (node != env_.self) Send(node, ReplicaRead{op, key_string, false, listed});
      }
      if (ReadyFor(shard, listed)) {
        const Record* stored = store_.Find(key_string);
        check.OnAnswer(env_.self, stored ? std::optional<Record>(*stored) : std::nullopt);
      }
      const absl::Time deadline = Now() + config_.request_timeout;
      while (!check.satisfied() && !check.impossible()) {
        absl::StatusOr<Incoming> in = waiter.Recv(deadline);
        if (!in.ok()) break;
        const auto* reply = std::get_if<ReplicaReadReply>(&in->message);
        if (reply == nullptr || reply->op != op) continue;
        if (reply->ready) check.OnAnswer(in->from, reply->record); else check.OnNotReady(in->from);
      }
      if (check.newest() && !check.Stale().empty()) {
        (void)Repair(key_string, *check.newest(), check.Stale(), Now() + config_.request_timeout);
      }
    });
  }
  return result;
}

int EventualNode::Repair(const std::string& key, const Record& record,
                         const std::vector<NodeId>& targets, absl::Time deadline) {
  if (targets.empty()) return 0;
  Waiter waiter(this);
  const uint64_t op = waiter.NewId();
  absl::btree_set<NodeId> pending(targets.begin(), targets.end());
  auto send = [&](NodeId node) {
    if (node != env_.self) {
      Send(node, ReplicaWrite{op, key, record, kNoNode});
      return;
    }
    Mutation mutation;
    mutation.kind = MutationKind::kStore;
    mutation.key = key;
    mutation.record = record;
    mutation.done = [this, op](ReplicaStatus status) {
      Route(op, env_.self, ReplicaWriteAck{op, status, hlc_.last()});
    };
    (void)Enqueue(std::move(mutation));
  };
  for (NodeId node : targets) send(node);
  int acked = 0;
  absl::Time next_retry = Now() + config_.retry_interval;
  while (!pending.empty()) {
    absl::StatusOr<Incoming> in = waiter.Recv(std::min(deadline, next_retry));
    if (absl::IsCancelled(in.status()) || stopped_) break;
    if (!in.ok()) {
      if (Now() >= deadline) break;
      next_retry = Now() + config_.retry_interval;
      for (NodeId node : pending) {
        if (node != env_.self) send(node);
      }
      continue;
    }
    const auto* ack = std::get_if<ReplicaWriteAck>(&in->message);
    if (ack == nullptr || ack->op != op || !pending.contains(in->from)) continue;
    ObserveClock(ack->clock);
    if (ack->status == ReplicaStatus::kBusy) continue;
    pending.erase(in->from);
    if (ack->status == ReplicaStatus::kOk) ++acked;
  }
  return acked;
}

void EventualNode::HandleClientRequest(NodeId from, ClientRequest request) {
  if (request.session != session_) {
    // Addressed to another incarnation (or to none yet): execute nothing (messages.h).
    ClientReply stale{request.req, static_cast<uint8_t>(absl::StatusCode::kFailedPrecondition),
                      "session of another coordinator incarnation", false, "", Version{}};
    stale.session = session_;
    Send(from, stale);
    return;
  }
  const std::pair<NodeId, uint64_t> id{from, request.req};
  if (auto seen = client_requests_.find(id); seen != client_requests_.end()) {
    if (seen->second) Send(from, *seen->second);  // a duplicate of a finished request
    return;                                       // (or of one still in flight)
  }
  if (inflight_ >= config_.max_inflight_requests) {
    ++stats_.busy_refusals;
    ClientReply busy{request.req, static_cast<uint8_t>(absl::StatusCode::kResourceExhausted),
                     "too many requests in flight", false, "", Version{}};
    busy.session = session_;
    Send(from, busy);
    return;
  }
  client_requests_.emplace(id, std::nullopt);
  client_request_order_.push_back(id);
  while (client_request_order_.size() > kMaxRememberedClientRequests) {
    client_requests_.erase(client_request_order_.front());
    client_request_order_.pop_front();
  }
  env_.executor->Spawn("eventual.client", [this, from, id, request = std::move(request)] {
    ClientReply reply;
    reply.req = request.req;
    reply.session = session_;
    absl::Status status;
    switch (request.op) {
      case ClientOp::kGet: {
        absl::StatusOr<ReadResult> r = Get(request.key, ReadOptions{request.consistency});
        status = r.status();
        if (r.ok()) {
          reply.found = r->found;
          reply.value = r->value;
          reply.version = r->version;
        }
        break;
      }
      case ClientOp::kPut:
      case ClientOp::kDelete: {
        WriteOptions options{request.consistency, absl::Milliseconds(request.ttl_ms)};
        absl::StatusOr<WriteResult> w = request.op == ClientOp::kPut
                                            ? Put(request.key, request.value, options)
                                            : Delete(request.key, options);
        status = w.status();
        if (w.ok()) reply.version = w->version;
        break;
      }
    }
    reply.code = static_cast<uint8_t>(status.code());
    reply.error = std::string(status.message().data(), std::min(status.message().size(), kMaxErrorBytes));
    if (auto seen = client_requests_.find(id); seen != client_requests_.end()) seen->second = reply;
    if (!stopped_) Send(from, reply);
  });
}

}  // namespace crema::eventual
