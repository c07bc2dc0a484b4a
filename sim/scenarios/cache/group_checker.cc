#include "sim/scenarios/cache/group_checker.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "xxhash.h"

namespace crema::sim {
namespace {

uint64_t XXH3Of(const std::string& bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace

CacheNode* GroupChecker::Node(NodeId id) {
  if (!sim_->HasNode(id) || sim_->state(id) != NodeState::kUp) return nullptr;
  auto* program = static_cast<CacheNodeProgram*>(sim_->program(id));
  return program == nullptr ? nullptr : program->node();
}

bool GroupChecker::AfterEvent() {
  if (!violation_.ok()) return false;
  absl::btree_map<raft::GroupId, bool> changed_groups;
  for (NodeId id : nodes_) {
    CacheNode* node = nullptr;
    if (sim_->HasNode(id) && sim_->state(id) != NodeState::kDown) {
      auto* program = static_cast<CacheNodeProgram*>(sim_->program(id));
      node = program == nullptr ? nullptr : program->node();
    }
    if (node == nullptr) {
      if (node_marks_.erase(id) > 0) {
        // Its replicas are gone from the views: their groups count as changed.
        for (auto it = signatures_.begin(); it != signatures_.end();) {
          if (it->first.node == id) {
            changed_groups[it->first.group] = true;
            checked_commit_.erase(it->first);
            it = signatures_.erase(it);
          } else {
            ++it;
          }
        }
      }
      continue;
    }
    const std::pair<uint64_t, uint64_t> mark{
        sim_->incarnation(id), node->raft_host().stats().cycles * 1'000'003 +
                                   node->raft_host().group_ids().size()};
    auto [mit, fresh] = node_marks_.try_emplace(id, mark);
    if (!fresh && mit->second == mark) continue;  // no Raft core on this node changed
    mit->second = mark;
    absl::btree_map<raft::GroupId, bool> present;
    for (const CacheNode::ReplicaView& r : node->Replicas()) {
      if (r.driver == nullptr || !r.driver->has_core() || r.driver->stopped()) continue;
      present[r.group] = true;
      const raft::Raft& core = r.driver->core();
      const Signature sig{sim_->incarnation(id), r.driver->reopens(), static_cast<int>(core.role()),
                          core.term(), core.log().last_index(), core.log().last_term(),
                          core.commit(), core.applied()};
      const ReplicaKey key{id, r.group};
      auto [it, inserted] = signatures_.emplace(key, sig);
      if (!inserted && (std::get<0>(it->second) != std::get<0>(sig) ||
                        std::get<1>(it->second) != std::get<1>(sig))) {
        checked_commit_.erase(key);  // restarted or reopened: the next view is full
      }
      if (inserted || it->second != sig) {
        it->second = sig;
        changed_groups[r.group] = true;
      }
    }
    for (auto it = signatures_.begin(); it != signatures_.end();) {
      if (it->first.node == id && !present.contains(it->first.group)) {
        changed_groups[it->first.group] = true;
        checked_commit_.erase(it->first);
        it = signatures_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& [group, unused] : changed_groups) {
    std::vector<raft::ReplicaView> views;
    for (NodeId id : nodes_) {
      if (!sim_->HasNode(id) || sim_->state(id) == NodeState::kDown) continue;
      auto* program = static_cast<CacheNodeProgram*>(sim_->program(id));
      CacheNode* node = program == nullptr ? nullptr : program->node();
      if (node == nullptr) continue;
      for (const CacheNode::ReplicaView& r : node->Replicas()) {
        if (r.group != group || r.driver == nullptr || !r.driver->has_core() ||
            r.driver->stopped()) {
          continue;
        }
        views.push_back(View({id, group}, r.driver->core()));
      }
    }
    ++checks_;
    violation_ = invariants_[group].Check(views);
    if (!violation_.ok()) {
      violation_ = absl::InternalError(absl::StrCat("group ", group, ": ", violation_.message()));
      return false;
    }
  }
  return true;
}

raft::ReplicaView GroupChecker::View(const ReplicaKey& key, const raft::Raft& core) {
  const raft::RaftLog& log = core.log();
  raft::Index from = log.first_index();
  auto checked = checked_commit_.find(key);
  const bool new_leader = core.role() == raft::Role::kLeader && led_term_[key] != core.term();
  if (checked != checked_commit_.end() && !new_leader) {
    const raft::Index low = std::min(checked->second, core.commit());
    from = std::max(from, low > kWindowMargin ? low - kWindowMargin : raft::Index{0});
  }
  if (core.role() == raft::Role::kLeader) led_term_[key] = core.term();
  checked_commit_[key] = core.commit();
  raft::ReplicaView v;
  v.id = core.id();
  v.is_leader = raft::LeadsDurably(core);
  v.term = core.term();
  v.commit = core.commit();
  v.log_offset = from - 1;
  for (raft::Index i = from; i <= log.last_index(); ++i) v.entries.push_back(log.At(i));
  return v;
}

const cluster::ClusterMap* GroupChecker::LeaderMap() {
  for (NodeId id : nodes_) {
    CacheNode* node = Node(id);
    if (node == nullptr) continue;
    for (const CacheNode::ReplicaView& r : node->Replicas()) {
      if (r.meta != nullptr && r.driver != nullptr && r.driver->has_core() &&
          !r.driver->stopped() && r.driver->core().role() == raft::Role::kLeader) {
        return &r.meta->map();
      }
    }
  }
  return nullptr;
}

bool GroupChecker::Converged(std::string* why) {
  const cluster::ClusterMap* map = LeaderMap();
  if (map == nullptr || !map->bootstrapped()) {
    *why = "no metadata leader";
    return false;
  }
  for (const auto& [id, info] : map->nodes) {
    if (info.state == crema::NodeState::kRemoved) continue;
    CacheNode* node = Node(id);
    if (node == nullptr) {
      *why = absl::StrCat("node ", id, " (", NodeStateName(info.state), ") is not running");
      return false;
    }
    if (node->map().version != map->version) {
      *why = absl::StrCat("node ", id, " has map v", node->map().version, ", leader v",
                          map->version);
      return false;
    }
  }
  const cluster::TargetPlacement targets(*map);
  std::vector<raft::GroupId> groups = {cluster::kMetaGroup};
  for (uint32_t s = 0; s < map->params.num_shards; ++s) groups.push_back(cluster::GroupOfShard(s));
  for (raft::GroupId g : groups) {
    const cluster::ShardInfo* info = map->Group(g);
    std::vector<NodeId> have = info->VoterNodes();
    std::vector<NodeId> want = targets.Targets(g);
    std::sort(have.begin(), have.end());
    std::sort(want.begin(), want.end());
    if (have != want || !info->learners.empty() || !info->adding.empty()) {
      *why = absl::StrCat("group ", g, " not on its targets: voters (", absl::StrJoin(have, ","),
                          ") learners ", info->learners.size(), " adding ", info->adding.size(),
                          " targets (", absl::StrJoin(want, ","), ")");
      return false;
    }
    std::optional<uint64_t> digest;
    std::optional<raft::Index> applied;
    raft::Index max_commit = 0;
    for (raft::ReplicaId replica : info->voters) {
      CacheNode* node = Node(raft::NodeOfReplica(replica));
      const CacheNode::ReplicaView* found = nullptr;
      std::vector<CacheNode::ReplicaView> replicas;
      if (node != nullptr) replicas = node->Replicas();
      for (const CacheNode::ReplicaView& r : replicas) {
        if (r.group == g && r.replica == replica) found = &r;
      }
      if (found == nullptr || found->driver == nullptr || !found->driver->has_core() ||
          found->driver->stopped()) {
        *why = absl::StrCat("group ", g, " replica ", replica, " is not running");
        return false;
      }
      const raft::Raft& core = found->driver->core();
      max_commit = std::max(max_commit, core.commit());
      const uint64_t d = found->cache != nullptr ? found->cache->Digest()
                                                 : XXH3Of(found->meta->Checkpoint());
      if (applied && (*applied != found->driver->applied() || *digest != d)) {
        *why = absl::StrCat("group ", g, " replicas differ (applied ", *applied, " vs ",
                            found->driver->applied(), ", digest ", *digest == d ? "same" : "differs",
                            ")");
        return false;
      }
      applied = found->driver->applied();
      digest = d;
    }
    if (!applied || *applied < max_commit) {
      *why = absl::StrCat("group ", g, " has not applied its commit index yet");
      return false;
    }
  }
  return true;
}

std::string GroupChecker::Describe() {
  std::string out;
  for (NodeId id : nodes_) {
    CacheNode* node = Node(id);
    absl::StrAppend(&out, out.empty() ? "" : "; ", "n", id, ":");
    if (node == nullptr) {
      absl::StrAppend(&out, sim_->HasNode(id) && sim_->state(id) == NodeState::kPaused ? "paused"
                                                                                       : "down");
      continue;
    }
    int leaders = 0, replicas = 0, stopped = 0;
    for (const CacheNode::ReplicaView& r : node->Replicas()) {
      ++replicas;
      if (r.driver == nullptr || !r.driver->has_core() || r.driver->stopped()) {
        ++stopped;
      } else if (r.driver->core().role() == raft::Role::kLeader) {
        ++leaders;
      }
    }
    absl::StrAppend(&out, "map v", node->map().version, " replicas ", replicas, " leading ",
                    leaders, stopped > 0 ? absl::StrCat(" stopped ", stopped) : "");
  }
  return out;
}

std::string GroupChecker::DescribeGroup(raft::GroupId group) {
  std::string out = absl::StrCat("group ", group, ":");
  for (NodeId id : nodes_) {
    CacheNode* node = Node(id);
    if (node == nullptr) continue;
    for (const CacheNode::ReplicaView& r : node->Replicas()) {
      if (r.group != group) continue;
      absl::StrAppend(&out, " n", id, "=");
      if (r.driver == nullptr || !r.driver->has_core() || r.driver->stopped()) {
        absl::StrAppend(&out, "stopped");
        continue;
      }
      const raft::Raft& core = r.driver->core();
      absl::StrAppend(&out, raft::RoleName(core.role()), "/t", core.term(), "/L",
                      core.leader(), "/last", core.log().last_index(), "/c", core.commit(),
                      "/a", r.driver->applied(), core.quiesced() ? "/q" : "", r.driver->HasReady() ? "/ready" : "");
    }
  }
  return out;
}

}  // namespace crema::sim
