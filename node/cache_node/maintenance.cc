// CacheNode, the node's own duties: what a shard leader proposes on its own (evictions chosen by
// its W-TinyLFU policy, expiry ticks, leadership hand-offs to the preferred replica), the health
// view (SWIM, or CacheNodeOptions::health) and the transport's reachability hints into Raft,
// corrupt-replica reports, and the placement controller while this node leads the metadata
// group. Nothing here blocks the loop: proposals are fire-and-forget or
// waited in their own fibers.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/cache_node/payloads.h"

namespace crema {
namespace {

using forward::ReplyStatus;
using forward::RequestKind;

bool Leads(const raft::GroupDriver* d) {
  return d != nullptr && d->has_core() && !d->stopped() && d->core().role() == raft::Role::kLeader;
}

}  // namespace

void CacheNode::OnMembershipEvent(const membership::MembershipEvent& e) {
  if (e.member.id == env_.self || host_ == nullptr) return;
  if (!e.member.address.empty()) env_.network->LearnAddress(e.member.id, e.member.address);
  if (options_.health == nullptr) OnHealthEvent(e);  // SWIM is the health view
}

void CacheNode::OnHealthEvent(const membership::MembershipEvent& e) {
  using membership::MembershipEventKind;
  if (e.member.id == env_.self || host_ == nullptr || shutdown_) return;
  if (!e.member.address.empty()) env_.network->LearnAddress(e.member.id, e.member.address);
  switch (e.kind) {
    case MembershipEventKind::kSuspected:
    case MembershipEventKind::kDead:
    case MembershipEventKind::kLeft:
      if (!PeerAvailable(e.member.id)) host_->ReportNodeDown(e.member.id);
      break;
    case MembershipEventKind::kJoined:
    case MembershipEventKind::kAliveAgain:
      host_->ReportNodeUp(e.member.id);
      break;
    case MembershipEventKind::kUpdated:
      break;
  }
}

bool CacheNode::PeerAvailable(NodeId node) const {
  if (node == env_.self) return true;
  return options_.health != nullptr ? options_.health->IsAvailable(node)
                                    : membership_->IsAvailable(node);
}

std::vector<NodeId> CacheNode::LivePeers() const {
  if (options_.health == nullptr) return membership_->LiveMembers();
  std::vector<NodeId> live;
  for (const membership::Member& m : options_.health->Members()) {  // sorted by id
    if (membership::IsLive(m.state)) live.push_back(m.id);
  }
  return live;
}

bool CacheNode::HealthJoined() const {
  return options_.health == nullptr || options_.health->Joined();
}

std::optional<std::string> CacheNode::KnownAddress(NodeId node) const {
  if (std::optional<membership::Member> m = membership_->Find(node); m.has_value()) {
    return m->address;
  }
  if (options_.health == nullptr) return std::nullopt;
  for (const membership::Member& m : options_.health->Members()) {
    if (m.id == node) return m.address;
  }
  return std::nullopt;
}

void CacheNode::OnPeerHint(NodeId peer, bool reachable) {
  if (shutdown_ || peer == env_.self || host_ == nullptr || rpc_ == nullptr) return;
  rpc_->SetPeerReachable(peer, reachable);
  if (reachable) {
    host_->ReportNodeBack(peer);
  } else {
    host_->ReportLeaderGone(peer);
  }
}

void CacheNode::MaybeEvict(raft::GroupId group, Hosted& h) {
  if (h.cache == nullptr || evicting_.contains(group) || !Leads(h.driver)) return;
  if (h.cache->weight() <= h.cache->capacity()) return;
  std::vector<std::string> victims = h.cache->EvictionCandidates(options_.max_evict_keys);
  if (victims.empty()) return;
  replicated::Command evict;
  evict.kind = replicated::CommandKind::kEvict;
  evict.keys = std::move(victims);
  // Out of bound, this node's clock must not move log time; an eviction needs no time.
  evict.stamp_unix_ns = absl::ToUnixNanos(ClockOutOfBound() ? h.cache->log_time()
                                                            : env_.clock->Now());
  Future<raft::Applied> applied = h.driver->Propose(replicated::EncodeCommand(evict));
  ++stats_.evictions_proposed;
  evicting_.insert(group);
  env_.executor->Spawn("evict-wait", [this, alive = alive_, group, applied] {
    const bool done = applied.Wait(options_.attempt_timeout * 5).ok();
    if (!*alive) return;
    evicting_.erase(group);
    // Applied: keep up with the writes at once. Refused (leadership moving, proposals full):
    // the maintenance loop tries again — retrying here would spin at one instant.
    if (!done) return;
    if (Hosted* again = Find(group)) MaybeEvict(group, *again);
  });
}

void CacheNode::LeaderDuties(raft::GroupId group, Hosted& h, absl::Time now) {
  const raft::Raft& core = h.driver->core();
  if (h.cache != nullptr && ClockOutOfBound()) {
    // clock_guard.cc: no stamps from this clock; hand the shard to a voter with a good one
    // (retried every attempt_timeout until a transfer takes).
    MaybeEvict(group, h);  // stamped with log time
    absl::Time& last = clock_handoff_at_[group];
    if (now - last >= options_.attempt_timeout && HandOffForClock(group, h)) last = now;
    return;
  }
  if (h.cache != nullptr) {
    MaybeEvict(group, h);
    // Idle shards: advance log time now and then so replicas drop expired entries.
    const absl::Time wall = env_.clock->Now();
    absl::Time& last_tick = last_tick_[group];
    if (h.cache->may_expire() && wall - h.cache->log_time() > options_.tick_every &&
        now - last_tick > options_.tick_every) {
      last_tick = now;
      replicated::Command tick;
      tick.kind = replicated::CommandKind::kTick;
      tick.stamp_unix_ns = absl::ToUnixNanos(wall);
      (void)h.driver->Propose(replicated::EncodeCommand(tick));
      ++stats_.ticks_proposed;
    }
  }
  // Leadership balance: hand over to the preferred replica (the first available target voter).
  auto [it, first_seen] = last_balance_.try_emplace(group, now);
  if (first_seen || now - it->second < options_.balance_every || targets_ == nullptr) return;
  it->second = now;
  const cluster::ShardInfo* info = map_.Group(group);
  if (info == nullptr) return;
  for (NodeId node : targets_->Targets(group)) {
    const raft::ReplicaId r = info->ReplicaOn(node);
    if (r == raft::kNoReplica || !raft::IsVoter(core.conf(), r)) continue;
    if (!PeerAvailable(node)) continue;
    if (PeerClockOut(node)) continue;  // never balance leadership to a node whose clock is out
    if (r == core.id()) return;  // we are the preferred leader
    auto p = core.progress().find(r);
    if (p == core.progress().end() || p->second.match < core.commit()) return;
    (void)h.driver->TransferLeadership(r);
    ++stats_.leader_transfers;
    return;
  }
}

void CacheNode::SendReport() {
  absl::btree_map<raft::GroupId, std::vector<raft::ReplicaId>> corrupt;
  // Corrupt drivers the maintenance pass noticed (at once if active, else within a full pass).
  for (auto it = corrupt_drivers_.begin(); it != corrupt_drivers_.end();) {
    const Hosted* h = Find(*it);
    if (h == nullptr || h->driver == nullptr || !h->driver->corrupt()) {
      it = corrupt_drivers_.erase(it);
      continue;
    }
    corrupt[*it].push_back(h->replica);
    ++it;
  }
  for (const auto& [group, replica] : corrupt_local_) corrupt[group].push_back(replica);
  if (corrupt.empty()) return;
  for (auto& [group, replicas] : corrupt) {
    forward::Request q;
    q.kind = RequestKind::kReport;
    // The group goes in the payload: CallLeader routes by q.group (the metadata group).
    q.payload = payloads::EncodeCorruptReport({.group = group, .replicas = replicas});
    env_.executor->Spawn("corrupt-report", [this, alive = alive_, q = std::move(q)]() mutable {
      if (!*alive) return;
      bool maybe = false;
      (void)CallLeader(cluster::kMetaGroup, std::move(q),
                       env_.clock->MonotonicNow() + options_.attempt_timeout, &maybe);
    });
  }
}

std::unique_ptr<cluster::PlacementController::Context> CacheNode::MakeControllerContext() {
  class Context final : public cluster::PlacementController::Context {
   public:
    explicit Context(CacheNode* node) : node_(node) {}
    const cluster::ClusterMap& map() const override { return node_->map_; }
    const cluster::TargetPlacement& targets() const override { return *node_->targets_; }
    bool IsAvailable(NodeId node) const override {
      return node_->PeerAvailable(node);
    }
    absl::Time Now() const override { return node_->env_.clock->MonotonicNow(); }
    absl::Status ProposeMeta(const cluster::MetaCommand& command) override {
      Hosted* h = node_->Find(cluster::kMetaGroup);
      if (h == nullptr || !Leads(h->driver)) return absl::UnavailableError("not the meta leader");
      absl::StatusOr<raft::Applied> applied =
          h->driver->Propose(cluster::EncodeMetaCommand(command))
              .Wait(node_->options_.attempt_timeout * 2);
      return applied.status();
    }
    absl::StatusOr<cluster::ReconcileResult> Reconcile(raft::GroupId group,
                                                       const std::vector<raft::ReplicaId>& desired,
                                                       absl::Duration timeout) override {
      forward::Request q;
      q.kind = RequestKind::kReconcile;
      q.payload = cluster::EncodeReplicaList(desired);
      bool maybe = false;
      absl::StatusOr<forward::Reply> reply = node_->CallLeader(
          group, std::move(q), node_->env_.clock->MonotonicNow() + timeout, &maybe);
      if (!reply.ok()) return reply.status();
      if (reply->status == ReplyStatus::kError) return reply->ErrorStatus();
      return cluster::DecodeReconcileResult(reply->payload);
    }
    bool IsCorrupt(raft::GroupId group, raft::ReplicaId replica) const override {
      return node_->corrupt_reports_.contains({group, replica});
    }

   private:
    CacheNode* node_;
  };
  return std::make_unique<Context>(this);
}

void CacheNode::MaintenanceLoop() {
  cluster::PlacementController::Options controller_options;
  controller_options.replace_dead_after = config_.replace_dead_after;
  controller_options.max_moves_in_flight = config_.max_moves_in_flight;
  controller_options.step_timeout = options_.attempt_timeout * 2;
  controller_ = std::make_unique<cluster::PlacementController>(env_, MakeControllerContext(),
                                                               controller_options);
  absl::Time last_persist = absl::InfinitePast();
  while (!shutdown_ && env_.executor->Sleep(options_.maintenance_interval).ok() && !shutdown_) {
    const absl::Time now = env_.clock->MonotonicNow();
    PersistFounderIdentity();
    // Leader duties, on the shards where something happened (writes to evict for, a new
    // leadership to balance) and, every full_pass_every, on all: thousands of dormant shards cost
    // one look each per full pass, not one per interval. Nothing below waits, so references into
    // hosted_ stay valid.
    auto duties = [&](raft::GroupId group, Hosted& h) {
      if (h.driver != nullptr && h.driver->corrupt()) corrupt_drivers_.insert(group);
      if (h.destroying || group == cluster::kMetaGroup || !Leads(h.driver)) return;
      LeaderDuties(group, h, now);
    };
    std::vector<raft::GroupId> active = host_->TakeActiveGroups();
    if (now - last_full_pass_ >= options_.full_pass_every) {
      last_full_pass_ = now;
      for (auto& [group, h] : hosted_) duties(group, h);
    } else {
      for (raft::GroupId group : active) {
        if (Hosted* h = Find(group)) duties(group, *h);
      }
    }
    const Hosted* meta_hosted = Find(cluster::kMetaGroup);
    const bool meta_leader =
        meta_hosted != nullptr && !meta_hosted->destroying && Leads(meta_hosted->driver);
    // A new cluster: the first metadata leader writes the founders' initial map into the log.
    if (meta_leader) {
      Hosted* meta = Find(cluster::kMetaGroup);
      if (meta->meta != nullptr && !meta->meta->map().bootstrapped() && map_.bootstrapped() &&
          now - bootstrap_proposed_at_ >= absl::Seconds(1)) {
        // Idempotent: the log ignores a second bootstrap, so retrying a lost one is safe.
        cluster::MetaCommand boot{.kind = cluster::MetaCommandKind::kBootstrap, .map = map_};
        (void)meta->driver->Propose(cluster::EncodeMetaCommand(boot));
        bootstrap_proposed_at_ = now;
      }
    }
    // The metadata leader: push map deltas, admit (if auto_admit), run the controller.
    if (meta_leader && targets_ != nullptr && map_.bootstrapped() &&
        Find(cluster::kMetaGroup)->meta->map().bootstrapped()) {
      PushMap();
      controller_->SetActive(true);
      MaybePurgeKeyspaces();
      if (config_.auto_admit) {
        for (NodeId n : LivePeers()) {
          auto it = map_.nodes.find(n);
          if (it != map_.nodes.end() && it->second.state == NodeState::kActive) continue;
          if (it != map_.nodes.end() && it->second.state == NodeState::kDraining) continue;
          if (!PeerAvailable(n)) continue;
          env_.executor->Spawn("auto-admit", [this, alive = alive_, n] {
            if (*alive) (void)AdmitNode(n, WriteOptions{.timeout = options_.attempt_timeout});
          });
          break;  // one at a time
        }
      }
      // A health view not yet synchronised (etcd's first listing not in) says nothing about
      // who is dead: no verdicts from it.
      if (HealthJoined()) controller_->Step();
      // Forget corrupt reports about replicas the map no longer lists.
      absl::erase_if(corrupt_reports_, [this](const auto& entry) {
        const cluster::ShardInfo* info = map_.Group(entry.first);
        return info == nullptr || !info->Has(entry.second);
      });
    } else {
      controller_->SetActive(false);
      pushed_version_ = 0;  // a future tenure pushes from its own window
      // A metadata replica that follows a leader learns the map from its log. One without a
      // leader must ask like a node without one: a node removed from the metadata group while
      // it was down comes back with a replica nobody replicates to any more (cache seed
      // 11551124591604082587: stuck at map v1 while the cluster was at v58).
      const bool meta_follows_leader =
          meta_hosted != nullptr && meta_hosted->driver != nullptr &&
          meta_hosted->driver->has_core() &&
          meta_hosted->driver->core().leader() != raft::kNoReplica;
      if (!meta_follows_leader && now - last_map_news_ > options_.map_refresh_every) {
        last_map_news_ = now;
        FetchMap(kNoNode);
      }
    }
    if (now - last_report_ >= options_.report_every) {
      last_report_ = now;
      SendReport();
    }
    if (map_.version > persisted_version_ && now - last_persist >= absl::Seconds(5)) {
      last_persist = now;
      (void)PersistMap();
    }
  }
}

}  // namespace crema
