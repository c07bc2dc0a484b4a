#include "sim/scenarios/dynamo/dynamo_cluster.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace crema::dynamo {

eventual::EventualConfig SimEventualConfig() {
  eventual::EventualConfig c;
  c.replication = 3;
  c.vnodes = 32;
  c.store.num_shards = 64;
  c.store.tree_depth = 2;
  c.store.tombstone_grace = absl::Minutes(10);
  c.hints.window = absl::Seconds(30);
  c.request_timeout = absl::Seconds(1);
  c.retry_interval = absl::Milliseconds(100);
  c.anti_entropy_interval = absl::Seconds(1);
  c.anti_entropy_bytes_per_second = uint64_t{4} << 20;
  c.exchange_step_timeout = absl::Milliseconds(200);
  c.hint_replay_interval = absl::Milliseconds(500);
  c.purge_interval = absl::Seconds(2);
  c.ring_removal_delay = absl::Minutes(10);
  c.recovery_skip_after = absl::Seconds(20);
  c.ownership_settle = absl::Seconds(3);
  c.leave_settle = absl::Seconds(1);
  c.max_forward_skew = absl::Seconds(30);
  return c;
}

membership::MembershipNodeConfig SimMembershipConfig() {
  membership::MembershipNodeConfig c;
  c.swim.probe_interval = absl::Milliseconds(500);
  c.swim.probe_timeout = absl::Milliseconds(200);
  c.swim.push_pull_interval = absl::Seconds(5);
  c.swim.join_retry_interval = absl::Milliseconds(500);
  c.seed_reconnect_interval = absl::Seconds(5);
  return c;
}

DynamoServer::DynamoServer(Env env, const DynamoClusterOptions& options) : env(env) {
  membership::MembershipNodeConfig membership = options.membership;
  membership.seeds.clear();
  for (int i = 1; i <= std::min(3, options.servers); ++i) membership.seeds.push_back(static_cast<NodeId>(i));
  membership.address = absl::StrCat("sim:", env.self);
  source = std::make_unique<discovery::SwimMembershipSource>(env, membership);
  node = std::make_unique<eventual::EventualNode>(env, source.get(), options.eventual, options.observer);
  const absl::Status started = source->Start();
  const absl::Status node_started = node->Start();
  assert(started.ok() && node_started.ok());
  (void)started;
  (void)node_started;
}

DynamoCluster::DynamoCluster(DynamoClusterOptions options) : options_(std::move(options)) {
  sim_ = std::make_unique<sim::Simulator>(options_.sim);
  for (int i = 1; i <= options_.servers; ++i) servers_.push_back(static_cast<NodeId>(i));
  all_ids_ = servers_;
  all_ids_.insert(all_ids_.end(), options_.spares.begin(), options_.spares.end());
  for (NodeId id : all_ids_) {
    const bool founding = id <= static_cast<NodeId>(options_.servers);
    sim_->AddNode(id, [this, founding](Env env) {
      // Founding servers bootstrap a new cluster on their first start only; a later start (a
      // restart, possibly on a wiped disk) and every joining spare recover from their peers.
      DynamoClusterOptions options = options_;
      options.eventual.bootstrap_new_cluster = founding && sim_->incarnation(env.self) == 1;
      options.eventual.initial_members = servers_;
      return std::make_unique<DynamoServer>(env, options);
    });
  }
  for (NodeId id : servers_) sim_->Start(id);
}

DynamoCluster::~DynamoCluster() = default;

DynamoServer* DynamoCluster::server(NodeId id) {
  if (!sim_->HasNode(id) || sim_->state(id) == sim::NodeState::kDown) return nullptr;
  return static_cast<DynamoServer*>(sim_->program(id));
}

eventual::EventualNode* DynamoCluster::node(NodeId id) {
  DynamoServer* s = server(id);
  return s == nullptr ? nullptr : s->node.get();
}

std::vector<NodeId> DynamoCluster::UpNodes() const {
  std::vector<NodeId> up;
  for (NodeId id : all_ids_) {
    if (sim_->state(id) == sim::NodeState::kUp) up.push_back(id);
  }
  return up;
}

template <typename Result>
absl::StatusOr<Result> DynamoCluster::RunCall(
    NodeId at, std::function<absl::StatusOr<Result>(eventual::EventualNode&)> call,
    absl::Duration limit) {
  DynamoServer* s = server(at);
  if (s == nullptr) return absl::UnavailableError(absl::StrCat("node ", at, " is down"));
  auto result = std::make_shared<std::optional<absl::StatusOr<Result>>>();
  const uint64_t incarnation = sim_->incarnation(at);
  eventual::EventualNode* node = s->node.get();
  s->env.executor->Spawn("test.call", [result, node, call] { *result = call(*node); });
  sim_->RunUntil([&] { return result->has_value() || sim_->incarnation(at) != incarnation ||
                              sim_->state(at) == sim::NodeState::kDown; },
                 limit);
  if (!result->has_value()) return absl::AbortedError("the call did not finish");
  return std::move(**result);
}

bool DynamoCluster::RunFiber(NodeId at, std::function<void(eventual::EventualNode&, const Env&)> body,
                             absl::Duration limit) {
  absl::StatusOr<bool> done = RunCall<bool>(
      at, [this, at, body](eventual::EventualNode& n) -> absl::StatusOr<bool> {
        body(n, server(at)->env);
        return true;
      },
      limit);
  return done.ok();
}

absl::StatusOr<eventual::WriteResult> DynamoCluster::Put(NodeId at, const std::string& key,
                                                         const std::string& value,
                                                         eventual::WriteOptions options,
                                                         absl::Duration limit) {
  return RunCall<eventual::WriteResult>(
      at, [key, value, options](eventual::EventualNode& n) { return n.Put(key, value, options); }, limit);
}

absl::StatusOr<eventual::WriteResult> DynamoCluster::Delete(NodeId at, const std::string& key,
                                                            eventual::WriteOptions options,
                                                            absl::Duration limit) {
  return RunCall<eventual::WriteResult>(
      at, [key, options](eventual::EventualNode& n) { return n.Delete(key, options); }, limit);
}

absl::StatusOr<eventual::ReadResult> DynamoCluster::Get(NodeId at, const std::string& key,
                                                        eventual::ReadOptions options,
                                                        absl::Duration limit) {
  return RunCall<eventual::ReadResult>(
      at, [key, options](eventual::EventualNode& n) { return n.Get(key, options); }, limit);
}

bool DynamoCluster::RunUntil(const std::function<bool()>& done, absl::Duration limit,
                             absl::Duration poll) {
  const absl::Duration end = sim_->elapsed() + limit;
  while (!done()) {
    if (sim_->elapsed() >= end) return false;
    sim_->RunFor(std::min(poll, end - sim_->elapsed()));
  }
  return true;
}

bool DynamoCluster::MembershipAgrees() {
  const std::vector<NodeId> up = UpNodes();
  for (NodeId id : up) {
    DynamoServer* s = server(id);
    if (s == nullptr || !s->node->recovered() || s->node->leaving()) return false;
    std::vector<NodeId> live = s->source->node().LiveMembers();
    std::vector<NodeId> expected;
    for (NodeId other : up) {
      if (!server(other)->node->leaving()) expected.push_back(other);
    }
    if (live != expected) return false;
    // Live includes suspects: a coordinator that still suspects a home replica sends its writes
    // to stand-ins and, with sloppy quorums, its reads too — the cluster has not healed for it.
    for (NodeId other : expected) {
      if (!s->source->IsAvailable(other)) return false;
    }
  }
  return true;
}

bool DynamoCluster::AllTrusted() {
  for (NodeId id : UpNodes()) {
    eventual::EventualNode* n = node(id);
    if (n == nullptr || !n->recovered()) return false;
    const eventual::EventualRing& ring = n->Ring();
    for (ShardId shard = 0; shard < n->config().store.num_shards; ++shard) {
      if (ring.IsOwner(shard, id) && !n->Trusted(shard)) return false;
    }
  }
  return true;
}

bool DynamoCluster::Converged(std::string* why) {
  const std::vector<NodeId> up = UpNodes();
  if (up.empty()) return true;
  eventual::EventualRing ring(up, options_.eventual.replication, options_.eventual.vnodes,
                              options_.eventual.store.num_shards);
  auto fail = [&](std::string reason) {
    if (why != nullptr) *why = std::move(reason);
    return false;
  };
  for (NodeId id : up) {
    eventual::EventualNode* n = node(id);
    if (n == nullptr) return fail(absl::StrCat("node ", id, " not running"));
    const absl::Time wall = server(id)->env.clock->Now();
    std::string problem;
    n->store().ForEach([&](const std::string& key, const eventual::Record& record) {
      if (!problem.empty()) return;
      if (eventual::PurgeTime(record, options_.eventual.store.tombstone_grace) <= wall) return;
      const ShardId shard = n->store().PlaceOf(key).shard;
      if (!ring.IsOwner(shard, id)) {
        problem = absl::StrCat("node ", id, " holds ", key, " but does not own shard ", shard);
        return;
      }
      for (NodeId owner : ring.Owners(shard)) {
        const eventual::Record* theirs = node(owner)->store().Find(key);
        if (theirs == nullptr || *theirs != record) {
          problem = absl::StrCat("key ", key, ": node ", id, " has ", record.version.ToString(),
                                 ", node ", owner, " has ",
                                 theirs ? theirs->version.ToString() : std::string("nothing"));
          return;
        }
      }
    });
    if (!problem.empty()) return fail(problem);
  }
  return true;
}

}  // namespace crema::dynamo
