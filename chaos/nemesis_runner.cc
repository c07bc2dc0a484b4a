#include "chaos/nemesis_runner.h"

#include <algorithm>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos {

using sim::NodeState;

NemesisRunner::NemesisRunner(sim::Simulator* sim, std::vector<NodeId> servers,
                             NemesisOptions options, MembershipHook membership)
    : sim_(sim), servers_(std::move(servers)), options_(options),
      membership_(std::move(membership)) {
  // Coverage (sim/coverage.h): the kinds this run may inject; the simulator counts what fired.
  const std::pair<bool, const char*> kinds[] = {
      {options_.partitions, "partition"}, {options_.clogging, "clog"},
      {options_.crashes, "crash"},         {options_.pauses, "pause"},
      {options_.clock_steps, "clock_step"}, {options_.disk_full, "disk_full"},
      {options_.disk_errors, "disk_errors"}};
  for (const auto& [on, kind] : kinds) {
    if (!on) continue;
    sim_->coverage().Declare(absl::StrCat("fault.", kind));
    sim_->coverage().Declare(absl::StrCat("effect.", kind));
  }
  if (options_.membership) sim_->coverage().Declare("fault.membership");
  if (options_.crash_at_send) sim_->coverage().Declare("fault.crash_at_send");
}

NemesisRunner::~NemesisRunner() {
  if (observing_sends_) sim_->network().SetSendObserver(nullptr);
}

void NemesisRunner::OnSend(NodeId from) {
  if (armed_.empty()) return;
  auto it = armed_.find(from);
  if (it == armed_.end() || !sim_->disk(from).HasUnsyncedChanges()) return;
  const absl::Duration downtime = it->second;
  armed_.erase(it);
  // Not inline: the sender's code is on the stack. The same instant, before any Sync completes.
  sim_->After(absl::ZeroDuration(), "nemesis.crash_at_send",
              [this, from, downtime, incarnation = sim_->incarnation(from), epoch = epoch_] {
                if (epoch != epoch_ || sim_->state(from) != NodeState::kUp ||
                    sim_->incarnation(from) != incarnation) {
                  return;
                }
                sim_->coverage().Add("fault.crash_at_send");
                sim_->Trace(from, "nemesis.crash_at_send", "after a send with unsynced changes");
                sim_->Crash(from);
                sim_->After(downtime, "nemesis.restart_after_send", [this, from, epoch] {
                  if (epoch == epoch_ && sim_->state(from) == NodeState::kDown) {
                    sim_->Restart(from);
                  }
                });
              });
}

void NemesisRunner::Start(const NemesisSchedule& schedule) {
  const std::vector<NemesisAction>& actions = schedule.actions;
  for (size_t i = 0; i < actions.size(); ++i) {
    absl::Duration downtime = absl::ZeroDuration();
    if (actions[i].kind == NemesisKind::kCrashAtSend) {
      downtime = absl::Milliseconds(100);  // no restart follows (a shrunk list)
      for (size_t j = i + 1; j < actions.size(); ++j) {
        if (actions[j].kind == NemesisKind::kRestart && actions[j].node == actions[i].node) {
          downtime = std::max(absl::Milliseconds(1), actions[j].at - actions[i].at);
          break;
        }
      }
    }
    sim_->After(actions[i].at, "nemesis.action",
                [this, action = actions[i], downtime, epoch = epoch_] {
                  if (epoch == epoch_) Apply(action, downtime);
                });
  }
}

void NemesisRunner::SaveDisk(NodeId node) {
  if (disk_defaults_.contains(node)) return;
  sim::DiskFaultConfig& c = sim_->disk(node).config();
  disk_defaults_[node] = DiskDefaults{c.capacity_bytes, c.io_error, c.read_corruption};
}

void NemesisRunner::Apply(const NemesisAction& a, absl::Duration downtime) {
  const bool known = a.node == kNoNode || sim_->HasNode(a.node);
  const NodeState state = a.node != kNoNode && known ? sim_->state(a.node) : NodeState::kUp;
  bool done = known;
  switch (a.kind) {
    case NemesisKind::kPartition:
      if (a.shape == kLeaderPartitionAfterCheckShape && a.blocked.empty() && check_ && leader_) {
        const NodeId leader = leader_();
        const std::optional<absl::Duration> wait =
            leader == kNoNode ? std::nullopt : check_(leader);
        done = wait.has_value();
        if (done) {
          sim_->After(*wait + absl::Milliseconds(1), "nemesis.leader_cut",
                      [this, shape = a.shape, epoch = epoch_, heals = heals_] {
                        if (epoch != epoch_ || heals != heals_) return;  // healed meanwhile
                        const std::vector<sim::Link> cut = LeaderMinorityCut();
                        if (!cut.empty()) sim_->network().SetPartition(cut, shape);
                      });
        }
      } else if (a.shape == kConfigSplitShape && !a.blocked.empty()) {
        sim_->network().SetPartition(ConfigSplitCut(a), a.shape);
      } else if ((a.shape == kLeaderPartitionShape || a.shape == kLeaderPartitionAfterCheckShape) &&
                 a.blocked.empty()) {
        const std::vector<sim::Link> cut = LeaderMinorityCut();
        done = !cut.empty();
        if (done) sim_->network().SetPartition(cut, a.shape);
      } else {
        sim_->network().SetPartition(a.blocked, a.shape);
      }
      break;
    case NemesisKind::kHeal:
      ++heals_;
      sim_->network().HealPartition();
      break;
    case NemesisKind::kClog:
      sim_->network().Clog(a.node, a.peer);
      break;
    case NemesisKind::kUnclog:
      sim_->network().Unclog(a.node, a.peer);
      break;
    case NemesisKind::kCrash:
      done = done && state == NodeState::kUp;
      if (done) sim_->Crash(a.node);
      break;
    case NemesisKind::kCrashAtSend:
      done = done && state == NodeState::kUp;
      done = done && !armed_.contains(a.node);
      if (done) {
        armed_[a.node] = downtime;
        if (!observing_sends_) {
          observing_sends_ = true;
          sim_->network().SetSendObserver([this](NodeId from) { OnSend(from); });
        }
      }
      break;
    case NemesisKind::kRestart:
      done = done && state == NodeState::kDown && !armed_.contains(a.node);
      if (done) sim_->Restart(a.node);
      break;
    case NemesisKind::kPause:
      done = done && state == NodeState::kUp;
      if (done) sim_->Pause(a.node);
      break;
    case NemesisKind::kResume:
      done = done && state == NodeState::kPaused;
      if (done) sim_->Resume(a.node);
      break;
    case NemesisKind::kClockStep:
      if (done) sim_->StepWallClock(a.node, a.delta);
      break;
    case NemesisKind::kDiskFull:
      if (done) {
        SaveDisk(a.node);
        sim_->disk(a.node).config().capacity_bytes = sim_->disk(a.node).UsedBytes();
        sim_->coverage().Add("fault.disk_full");
      }
      break;
    case NemesisKind::kDiskErrors:
      if (done) {
        SaveDisk(a.node);
        sim_->disk(a.node).config().io_error = options_.disk_io_error;
        sim_->disk(a.node).config().read_corruption = options_.disk_read_corruption;
        sim_->coverage().Add("fault.disk_errors");
      }
      break;
    case NemesisKind::kDiskSpace:
    case NemesisKind::kDiskHealthy: {
      auto it = disk_defaults_.find(a.node);
      done = done && it != disk_defaults_.end();
      if (done) {
        sim::DiskFaultConfig& c = sim_->disk(a.node).config();
        if (a.kind == NemesisKind::kDiskSpace) c.capacity_bytes = it->second.capacity_bytes;
        if (a.kind == NemesisKind::kDiskHealthy) {
          c.io_error = it->second.io_error;
          c.read_corruption = it->second.read_corruption;
        }
      }
      break;
    }
    case NemesisKind::kRemoveVoter:
    case NemesisKind::kAddLearner:
    case NemesisKind::kPromote:
      done = membership_ != nullptr;
      if (done) membership_(a);
      if (done) sim_->coverage().Add("fault.membership");
      break;
  }
  sim_->Trace(a.node, done ? "nemesis.apply" : "nemesis.skip", a.ToString());
  ++(done ? applied_ : skipped_);
}

std::vector<sim::Link> NemesisRunner::ConfigSplitCut(const NemesisAction& a) const {
  // The sides, from the links: whatever `a.node` may not reach, and the rest.
  absl::btree_set<NodeId> nodes, peer_side;
  for (const sim::Link& link : a.blocked) {
    nodes.insert(link.first);
    nodes.insert(link.second);
    if (link.first == a.node) peer_side.insert(link.second);
  }
  const NodeId leader = leader_ ? leader_() : kNoNode;
  if (leader == kNoNode || leader == a.node || !nodes.contains(leader) ||
      peer_side.contains(leader) || !nodes.contains(a.node) || !peer_side.contains(a.peer)) {
    return a.blocked;  // as written (no leader, or a shrunk list)
  }
  NodeId swap = kNoNode;
  for (NodeId n : peer_side) {
    if (n != a.peer) {
      swap = n;
      break;
    }
  }
  if (swap == kNoNode) return a.blocked;
  peer_side.erase(swap);
  peer_side.insert(leader);
  std::vector<sim::Link> cut;
  for (NodeId x : nodes) {
    if (peer_side.contains(x)) continue;
    for (NodeId y : peer_side) {
      cut.push_back({x, y});
      cut.push_back({y, x});
    }
  }
  return cut;
}

std::vector<sim::Link> NemesisRunner::LeaderMinorityCut() const {
  const NodeId leader = leader_ ? leader_() : kNoNode;
  if (leader == kNoNode) return {};
  std::vector<NodeId> side = {leader};
  std::vector<NodeId> rest;
  const size_t extra = servers_.size() >= 5 ? (servers_.size() - 1) / 2 - 1 : 0;
  for (NodeId id : servers_) {
    if (id == leader) continue;
    (side.size() < 1 + extra ? side : rest).push_back(id);
  }
  std::vector<sim::Link> cut;
  for (NodeId a : side) {
    for (NodeId b : rest) {
      cut.emplace_back(a, b);
      cut.emplace_back(b, a);
    }
  }
  return cut;
}

void NemesisRunner::HealAll() {
  ++epoch_;
  sim_->Trace(kNoNode, "nemesis.heal_all", "");
  sim_->network().HealPartition();
  sim_->network().UnclogAll();
  for (const auto& [node, d] : disk_defaults_) {
    sim::DiskFaultConfig& c = sim_->disk(node).config();
    c.capacity_bytes = d.capacity_bytes;
    c.io_error = d.io_error;
    c.read_corruption = d.read_corruption;
  }
  disk_defaults_.clear();
  armed_.clear();
  for (NodeId id : servers_) {
    if (!sim_->HasNode(id)) continue;
    if (sim_->state(id) == NodeState::kPaused) sim_->Resume(id);
    if (sim_->state(id) == NodeState::kDown) sim_->Restart(id);
  }
}

}  // namespace crema::chaos
