#include "consensus/driver/raft_host.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/message_codec.h"

namespace crema::raft {

RaftHost::RaftHost(Env env, const RaftHostOptions& options)
    : env_(env),
      options_(options),
      kick_(env.executor, 1),
      log_open_lock_(env.executor),
      log_backoff_(options.log_reopen_backoff) {}

std::shared_ptr<RaftHost> RaftHost::Start(Env env, const RaftHostOptions& options) {
  std::shared_ptr<RaftHost> host(new RaftHost(env, options));
  RaftHost* self = host.get();
  env.network->SetHandler(Service::kRaft, [self](NodeId from, std::string bytes) {
    self->OnEnvelope(from, std::move(bytes));
  });
  host->fiber_ = env.executor->Spawn(
      absl::StrCat("raft-host-", env.self),
      [host, guard = LoopGuard(host->loop_)] { host->Run(); });
  return host;
}

RaftHost::~RaftHost() {
  if (executor_gone()) {
    for (auto& [id, g] : groups_) g->Abandon();
    for (auto& [id, promise] : to_destroy_) {
      new Promise<bool>(std::move(promise));  // its waiter was unwound: do not wake it
    }
    to_destroy_.clear();
    return;
  }
  Shutdown();
}

void RaftHost::Shutdown() {
  if (loop_->shutdown) return;
  loop_->shutdown = true;
  env_.network->SetHandler(Service::kRaft, [](NodeId, std::string) {});
  if (fiber_ != 0) env_.executor->Cancel(fiber_);
  fiber_ = 0;
  for (GroupDriver* g : Groups()) g->Stop(absl::CancelledError("raft host shut down"));
  for (auto& [id, promise] : to_destroy_) promise.Set(true);
  to_destroy_.clear();
}

// --- groups -------------------------------------------------------------------------------------

absl::StatusOr<GroupDriver*> RaftHost::CreateGroup(GroupOptions options,
                                                   StateMachine* state_machine) {
  const GroupId id = options.raft.group;
  if (loop_->shutdown) return absl::FailedPreconditionError("raft host shut down");
  if (groups_.contains(id) || opening_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("raft group ", id, " already hosted"));
  }
  if (groups_.size() + opening_.size() >= kMaxGroups) {
    return absl::ResourceExhaustedError("too many raft groups on this node");
  }
  if (options.raft.max_bytes_per_msg > kMaxBytesPerMessage) {
    return absl::InvalidArgumentError(absl::StrCat(
        "raft group ", id, ": max_bytes_per_msg over kMaxBytesPerMessage (one network envelope)"));
  }
  if (options.raft.id == kNoReplica) options.raft.id = env_.self;
  if (NodeOfReplica(options.raft.id) != env_.self) {
    return absl::InvalidArgumentError(
        absl::StrCat("replica ", options.raft.id, " is not on node ", env_.self));
  }
  options.raft.tick_interval = options_.tick_interval;  // one timer ticks every group
  opening_.insert(id);
  if (absl::Status s = EnsureLog(); !s.ok()) {
    opening_.erase(id);
    return s;
  }
  absl::StatusOr<std::unique_ptr<GroupDriver>> g =
      GroupDriver::Open(env_, options, state_machine, Hooks(id));
  opening_.erase(id);
  if (!g.ok()) return g.status();
  if (loop_->shutdown) return absl::FailedPreconditionError("raft host shut down");
  GroupDriver* raw = g->get();
  // Inserting is safe at any time: the loop iterates over snapshots (AwakeGroups()), and
  // removals happen only at the top of its iteration.
  groups_.emplace(id, *std::move(g));
  awake_.insert(id);
  Kick();
  return raw;
}

absl::Status RaftHost::DestroyGroup(GroupId group, bool delete_data) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return absl::NotFoundError(absl::StrCat("raft group ", group));
  const std::string prefix = std::string(it->second->storage_prefix());
  Promise<bool> done(env_.executor);
  Future<bool> removed = done.GetFuture();
  to_destroy_.emplace_back(group, std::move(done));
  Kick();
  if (absl::StatusOr<bool> r = removed.Wait(); !r.ok()) return r.status();
  if (!delete_data) return absl::OkStatus();
  return DestroyGroupData(group, prefix);
}

void RaftHost::RemoveDestroyedGroups() {
  for (auto& [id, promise] : to_destroy_) {
    auto it = groups_.find(id);
    if (it != groups_.end()) {
      it->second->Stop(absl::CancelledError("raft group destroyed"));
      groups_.erase(it);
    }
    awake_.erase(id);
    waking_.erase(id);
    woken_since_taken_.erase(id);
    promise.Set(true);
  }
  to_destroy_.clear();
}

GroupDriver* RaftHost::group(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second.get();
}

std::vector<GroupId> RaftHost::group_ids() const {
  std::vector<GroupId> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  return ids;
}

void RaftHost::Wake(GroupDriver* g) {
  if (!awake_.insert(g->group()).second) return;
  woken_since_taken_.insert(g->group());
  waking_.erase(g->group());
  // A dormant group was not ticked: its core's clock (leases, timers) moves to now before
  // anything steps it. It is quiet, so the tick only moves the clock.
  g->Tick(env_.clock->MonotonicNow());
}

void RaftHost::WakeLater(GroupId group) {
  if (!awake_.contains(group)) waking_.insert(group);
  Kick();
}

std::vector<GroupId> RaftHost::TakeActiveGroups() {
  absl::btree_set<GroupId> active;
  active.swap(woken_since_taken_);
  active.insert(awake_.begin(), awake_.end());
  active.insert(waking_.begin(), waking_.end());
  return std::vector<GroupId>(active.begin(), active.end());
}

std::vector<GroupDriver*> RaftHost::AwakeGroups() {
  absl::btree_set<GroupId> waking;
  waking.swap(waking_);  // Wake erases from waking_
  for (GroupId id : waking) {
    if (GroupDriver* g = group(id); g != nullptr) Wake(g);
  }
  std::vector<GroupDriver*> out;
  out.reserve(awake_.size());
  for (GroupId id : awake_) {
    if (GroupDriver* g = group(id); g != nullptr) out.push_back(g);
  }
  return out;
}

void RaftHost::SettleDormant(const std::vector<GroupDriver*>& awake) {
  // Only groups looked at in this iteration: one woken meanwhile is not in `awake`.
  for (GroupDriver* g : awake) {
    // A follower that just went quiet behind a leader reported gone: wake it (ReportLeaderGone).
    if (!leaders_gone_.empty() && g->has_core() && !g->stopped() && g->core().quiesced() &&
        g->core().role() != Role::kLeader && g->core().leader() != kNoReplica &&
        leaders_gone_.contains(NodeOfReplica(g->core().leader()))) {
      g->ReportPeerDown(g->core().leader());
    }
    if (g->Dormant()) awake_.erase(g->group());
  }
  stats_.awake_groups = awake_.size();
}

std::vector<GroupDriver*> RaftHost::Groups() const {
  std::vector<GroupDriver*> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) out.push_back(g.get());
  return out;
}

void RaftHost::ReportNodeDown(NodeId node) {
  health_reports_.emplace_back(node, Health::kDown);
  Kick();
}

void RaftHost::ReportNodeUp(NodeId node) {
  health_reports_.emplace_back(node, Health::kUp);
  Kick();
}

void RaftHost::ReportLeaderGone(NodeId node) {
  health_reports_.emplace_back(node, Health::kLeaderGone);
  Kick();
}

void RaftHost::ReportNodeBack(NodeId node) {
  health_reports_.emplace_back(node, Health::kBack);
  Kick();
}

namespace {

// Calls fn(replica) for each replica of the group's configuration hosted on `node`.
template <typename Fn>
void ForReplicasOn(const GroupDriver& g, NodeId node, Fn fn) {
  if (!g.has_core() || g.stopped()) return;
  const ConfState& conf = g.core().conf();
  for (const auto* list : {&conf.voters, &conf.learners, &conf.voters_outgoing}) {
    for (ReplicaId r : *list) {
      if (NodeOfReplica(r) == node) fn(r);
    }
  }
}

}  // namespace

GroupDriver::HostHooks RaftHost::Hooks(GroupId group) {
  return GroupDriver::HostHooks{.kick = [this, group] { WakeLater(group); },
                                .send_now = [this](Message m) { SendNow(std::move(m)); },
                                .shared_log = log_.get(),
                                .counters = &stats_.groups};
}

// --- network ------------------------------------------------------------------------------------

void RaftHost::OnEnvelope(NodeId from, std::string bytes) {
  if (inbox_.size() >= options_.inbox_capacity) {
    ++stats_.dropped;  // Raft retries; overload sheds here
    return;
  }
  inbox_.emplace_back(from, std::move(bytes));
  Kick();
}

void RaftHost::DrainInbox() {
  for (size_t n = 0; n < kMaxEnvelopesPerWake && !inbox_.empty(); ++n) {
    auto [from, bytes] = std::move(inbox_.front());
    inbox_.pop_front();
    absl::StatusOr<std::vector<Message>> batch = DecodeBatch(bytes);
    if (!batch.ok()) {
      ++stats_.dropped;
      continue;
    }
    ++stats_.envelopes_received;
    for (Message& m : *batch) {
      GroupDriver* g = group(m.group);  // looked up each time: the map may change meanwhile
      if (NodeOfReplica(m.from) != from || NodeOfReplica(m.to) != env_.self || g == nullptr) {
        ++stats_.dropped;
        continue;
      }
      ++stats_.messages_received;
      Wake(g);
      g->OnMessage(std::move(m));
    }
  }
  if (!inbox_.empty()) Kick();
}

bool RaftHost::FitsAnEnvelope(const std::string& encoded) {
  if (encoded.size() <= kMaxEnvelopedMessageBytes) return true;
  ++stats_.dropped_oversize;  // unreachable with the bounds in group_driver.h; never sent
  return false;
}

void RaftHost::Route(Message m) {
  std::string encoded = EncodeMessage(m);
  if (!FitsAnEnvelope(encoded)) return;
  ++stats_.messages_sent;
  if (!options_.coalesce) {
    BatchBuilder one;
    one.Add(std::move(encoded));
    ++stats_.envelopes_sent;
    env_.network->Send(NodeOfReplica(m.to), Service::kRaft, one.Take());
    return;
  }
  const NodeId to = NodeOfReplica(m.to);
  BatchBuilder& batch = batches_[to];
  if (batch.WouldOverflow(encoded.size())) {
    ++stats_.envelopes_sent;
    env_.network->Send(to, Service::kRaft, batch.Take());
  }
  batch.Add(std::move(encoded));
}

void RaftHost::FlushBatches() {
  for (auto& [to, batch] : batches_) {
    if (batch.empty()) continue;
    ++stats_.envelopes_sent;
    env_.network->Send(to, Service::kRaft, batch.Take());
  }
}

void RaftHost::SendNow(Message m) {
  if (loop_->shutdown) return;
  std::string encoded = EncodeMessage(m);
  if (!FitsAnEnvelope(encoded)) return;
  BatchBuilder one;
  one.Add(std::move(encoded));
  ++stats_.messages_sent;
  ++stats_.envelopes_sent;
  env_.network->Send(NodeOfReplica(m.to), Service::kRaft, one.Take());
}

// --- the loop -----------------------------------------------------------------------------------

void RaftHost::Run() {
  const absl::Duration tick = options_.tick_interval;
  absl::Time next_tick = env_.clock->MonotonicNow() + tick;
  while (true) {
    const absl::Duration wait =
        std::max(absl::ZeroDuration(), next_tick - env_.clock->MonotonicNow());
    absl::StatusOr<char> kicked = kick_.Recv(wait);
    if (absl::IsCancelled(kicked.status()) || loop_->shutdown) return;
    RemoveDestroyedGroups();
    if (!health_reports_.empty()) {
      for (const auto& report : health_reports_) {
        const Health health = report.second;  // a plain local: lambdas may not capture bindings
        if (health == Health::kLeaderGone) {
          leaders_gone_.insert(report.first);
        } else if (health == Health::kUp || health == Health::kBack) {
          leaders_gone_.erase(report.first);
          if (health == Health::kBack) continue;  // nothing to wake
        }
        for (GroupDriver* g : Groups()) {
          ForReplicasOn(*g, report.first, [&](ReplicaId r) {
            if (health == Health::kLeaderGone &&
                (g->core().role() == Role::kLeader || g->core().leader() != r)) {
              return;  // only a follower of that node's replica
            }
            Wake(g);
            if (health == Health::kUp) {
              g->Unquiesce();
            } else {
              g->ReportPeerDown(r);
            }
          });
        }
      }
      health_reports_.clear();
    }
    DrainInbox();
    const std::vector<GroupDriver*> groups = AwakeGroups();
    for (GroupDriver* g : groups) g->ProcessRequests();
    const absl::Time now = env_.clock->MonotonicNow();
    if (now >= next_tick) {
      for (GroupDriver* g : groups) g->Tick(now);
      MaybeReopenLog(now);
      for (GroupDriver* g : groups) g->MaybeReopen(now);
      next_tick = std::max(next_tick + tick, now);
    }
    if (loop_->shutdown) return;
    // BUGGIFY: a slow loop (a busy node): Readies wait a little before they are persisted, and
    // more inputs pile into the next cycle.
    if (env_.buggify != nullptr && env_.buggify->Fire("raft.host.slow_cycle")) {
      if (!env_.executor->Sleep(absl::Milliseconds(5)).ok() || loop_->shutdown) return;
    }
    RunCycles(groups);
    if (loop_->shutdown) return;
    SettleDormant(groups);
    MaybeMaintainLog();
  }
}

void RaftHost::RunCycles(const std::vector<GroupDriver*>& groups) {
  std::vector<GroupDriver*> ready;
  for (int cycle = 0; cycle < kMaxCyclesPerWake; ++cycle) {
    ready.clear();
    for (GroupDriver* g : groups) {
      if (g->HasReady()) ready.push_back(g);
    }
    if (ready.empty()) return;
    ++stats_.cycles;
    // 1. Persist every group's Ready: one Sync of the shared log for all of them.
    PersistAll(ready);
    if (loop_->shutdown) return;
    // 2. Send, only now that everything they promise is durable; one envelope per destination.
    for (GroupDriver* g : ready) {
      for (Message& m : g->TakeMessages()) Route(std::move(m));
    }
    FlushBatches();
    // 3. Apply and Advance.
    for (GroupDriver* g : ready) g->ApplyAndAdvance();
    if (loop_->shutdown) return;
  }
  Kick();  // more work than one wake-up may do: continue after others had a turn
}

}  // namespace crema::raft
