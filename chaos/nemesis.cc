#include "chaos/nemesis.h"

#include <algorithm>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/partitions.h"

namespace crema::chaos {
namespace {

std::string Seconds(absl::Duration d) {
  return absl::StrCat(absl::ToDoubleMilliseconds(d) / 1000.0, "s");
}

// The generator's view of the cluster, so undo actions pair with their faults and membership
// actions stay sensible (remove only voters, promote only learners, keep >= 3 voters).
struct Model {
  std::vector<NodeId> voters;    // sorted
  std::vector<NodeId> learners;  // sorted
  std::vector<NodeId> spares;    // never-used ids, in order
  absl::Duration partition_until;
  absl::btree_map<NodeId, absl::Duration> busy_until;  // node-level fault in progress
  absl::Duration membership_until;
};

bool Free(const Model& m, NodeId node, absl::Duration at) {
  auto it = m.busy_until.find(node);
  return it == m.busy_until.end() || it->second <= at;
}

}  // namespace

const char* NemesisKindName(NemesisKind kind) {
  switch (kind) {
    case NemesisKind::kPartition: return "partition";
    case NemesisKind::kHeal: return "heal";
    case NemesisKind::kClog: return "clog";
    case NemesisKind::kUnclog: return "unclog";
    case NemesisKind::kCrash: return "crash";
    case NemesisKind::kRestart: return "restart";
    case NemesisKind::kPause: return "pause";
    case NemesisKind::kResume: return "resume";
    case NemesisKind::kClockStep: return "clock-step";
    case NemesisKind::kDiskFull: return "disk-full";
    case NemesisKind::kDiskSpace: return "disk-space";
    case NemesisKind::kDiskErrors: return "disk-errors";
    case NemesisKind::kDiskHealthy: return "disk-healthy";
    case NemesisKind::kRemoveVoter: return "remove-voter";
    case NemesisKind::kAddLearner: return "add-learner";
    case NemesisKind::kPromote: return "promote";
    case NemesisKind::kCrashAtSend: return "crash-at-send";
  }
  return "?";
}

std::string NemesisAction::ToString() const {
  std::string out = absl::StrCat(Seconds(at), " ", NemesisKindName(kind));
  if (kind == NemesisKind::kPartition) {
    std::vector<std::string> links;
    for (const auto& [from, to] : blocked) links.push_back(absl::StrCat(from, ">", to));
    absl::StrAppend(&out, " ", shape, " cut=[", absl::StrJoin(links, " "), "]");
  } else if (kind == NemesisKind::kClog || kind == NemesisKind::kUnclog) {
    absl::StrAppend(&out, " n", node, ">n", peer);
  } else if (node != kNoNode) {
    absl::StrAppend(&out, " n", node);
  }
  if (kind == NemesisKind::kClockStep) {
    absl::StrAppend(&out, " by ", absl::FormatDuration(delta));
  }
  return out;
}

std::string NemesisSchedule::ToString() const {
  std::string out;
  for (const NemesisAction& a : actions) absl::StrAppend(&out, "  ", a.ToString(), "\n");
  return out;
}

size_t NemesisSchedule::Count(NemesisKind kind) const {
  return static_cast<size_t>(std::count_if(actions.begin(), actions.end(),
                                           [kind](const NemesisAction& a) { return a.kind == kind; }));
}

std::string NemesisOptions::Describe() const {
  const std::pair<bool, const char*> switches[] = {
      {partitions, "partitions"}, {clogging, "clogging"},   {crashes, "crashes"},
      {pauses, "pauses"},         {clock_steps, "clock_steps"}, {disk_full, "disk_full"},
      {disk_errors, "disk_errors"}, {membership, "membership"}, {crash_at_send, "crash_at_send"}};
  std::string out;
  for (const auto& [on, name] : switches) {
    if (on) absl::StrAppend(&out, out.empty() ? "" : " ", name);
  }
  if (out.empty()) out = "none";
  absl::StrAppend(&out, " every~", absl::FormatDuration(mean_interval),
                  " max=", absl::FormatDuration(max_fault_duration));
  return out;
}

NemesisOptions SwarmNemesisOptions(Random random) {
  NemesisOptions o;
  o.partitions = random.OneIn(2);
  o.clogging = random.OneIn(2);
  o.crashes = random.OneIn(2);
  o.pauses = random.OneIn(2);
  o.clock_steps = random.OneIn(2);
  o.disk_full = random.OneIn(2);
  o.disk_errors = random.OneIn(2);
  o.mean_interval = absl::Milliseconds(random.Range(100, 1500));
  o.max_fault_duration = absl::Milliseconds(random.Range(200, 4000));
  o.max_clock_step = absl::Milliseconds(random.Range(1, 10'000));
  o.disk_io_error = sim::Ratio{1, 20u << random.Uniform(4)};
  o.disk_read_corruption = sim::Ratio{1, 100u << random.Uniform(4)};
  return o;
}

bool DrawCrashAtSend(const Random& root) { return root.Fork("crash-at-send").OneIn(2); }

NemesisOptions NemesisFromFaults(sim::FaultConfig& faults) {
  NemesisOptions n;
  n.partitions = faults.partitions;
  n.clogging = faults.clogging || faults.swizzle;
  n.crashes = faults.crashes;
  n.pauses = faults.pauses;
  n.clock_steps = faults.clock_steps;
  n.disk_full = faults.disk_full;
  n.disk_errors = !faults.disk.io_error.never() || !faults.disk.read_corruption.never();
  if (!faults.disk.io_error.never()) n.disk_io_error = faults.disk.io_error;
  if (!faults.disk.read_corruption.never()) n.disk_read_corruption = faults.disk.read_corruption;
  n.mean_interval = faults.mean_fault_interval;
  n.max_fault_duration = faults.max_fault_duration;
  n.max_clock_step = faults.max_clock_step;
  faults.disk.io_error = sim::Ratio{0, 1};
  faults.disk.read_corruption = sim::Ratio{0, 1};
  return n;
}

NemesisSchedule GenerateNemesis(const NemesisOptions& options, std::vector<NodeId> servers,
                                std::vector<NodeId> spares, absl::Duration duration,
                                Random random) {
  NemesisSchedule schedule;
  std::sort(servers.begin(), servers.end());
  if (!options.any() || servers.empty()) return schedule;
  std::vector<NemesisKind> kinds;
  if (options.partitions && servers.size() >= 2) kinds.push_back(NemesisKind::kPartition);
  if (options.clogging && servers.size() >= 2) kinds.push_back(NemesisKind::kClog);
  if (options.crashes) kinds.push_back(NemesisKind::kCrash);
  if (options.pauses) kinds.push_back(NemesisKind::kPause);
  if (options.clock_steps) kinds.push_back(NemesisKind::kClockStep);
  if (options.disk_full) kinds.push_back(NemesisKind::kDiskFull);
  if (options.disk_errors) kinds.push_back(NemesisKind::kDiskErrors);
  if (options.membership) kinds.push_back(NemesisKind::kRemoveVoter);
  if (kinds.empty()) return schedule;
  Model m;
  m.voters = servers;
  m.spares = std::move(spares);
  const size_t max_actions = std::min(options.max_actions, kMaxNemesisActions);
  auto add = [&](NemesisAction a) { schedule.actions.push_back(std::move(a)); };
  auto fault_duration = [&] {
    return random.DurationBetween(absl::Milliseconds(10),
                                  std::max(absl::Milliseconds(10), options.max_fault_duration));
  };
  Random at_send = random.Fork("crash-at-send");  // its own stream: see NemesisOptions
  Random after_check = random.Fork("leader-after-check");  // likewise
  Random racing_cut = random.Fork("racing-cut");            // likewise
  absl::Duration at = absl::ZeroDuration();
  while (schedule.actions.size() + 3 <= max_actions) {
    at += random.DurationBetween(absl::ZeroDuration(), 2 * options.mean_interval);
    if (at >= duration) break;
    const NemesisKind kind = kinds[random.Uniform(kinds.size())];
    const absl::Duration until = at + fault_duration();
    const NodeId node = m.voters[random.Uniform(m.voters.size())];
    NemesisAction a{.at = at, .kind = kind, .node = node};
    switch (kind) {
      case NemesisKind::kPartition: {
        if (at < m.partition_until || m.voters.size() < 2) break;
        a.node = kNoNode;
        if (options.leader_partitions && random.OneIn(2)) {
          // Its links are chosen when applied; half of them just after the leader's check.
          a.shape = after_check.OneIn(2) ? kLeaderPartitionAfterCheckShape : kLeaderPartitionShape;
        } else {
          sim::Partition p = sim::RandomPartition(m.voters, random);
          a.shape = p.kind;
          a.blocked = std::move(p.blocked);
        }
        add(a);
        add({.at = until, .kind = NemesisKind::kHeal});
        m.partition_until = until;
        break;
      }
      case NemesisKind::kClog: {
        NodeId peer = m.voters[random.Uniform(m.voters.size())];
        if (peer == node) break;
        a.peer = peer;
        add(a);
        add({.at = until, .kind = NemesisKind::kUnclog, .node = node, .peer = peer});
        break;
      }
      case NemesisKind::kCrash:
      case NemesisKind::kPause:
      case NemesisKind::kDiskFull:
      case NemesisKind::kDiskErrors: {
        if (!Free(m, node, at)) break;
        if (kind == NemesisKind::kCrash && options.crash_at_send && at_send.OneIn(2)) {
          a.kind = NemesisKind::kCrashAtSend;
        }
        const NemesisKind undo = kind == NemesisKind::kCrash   ? NemesisKind::kRestart
                                 : kind == NemesisKind::kPause ? NemesisKind::kResume
                                 : kind == NemesisKind::kDiskFull ? NemesisKind::kDiskSpace
                                                                  : NemesisKind::kDiskHealthy;
        add(a);
        add({.at = until, .kind = undo, .node = node});
        m.busy_until[node] = until;
        break;
      }
      case NemesisKind::kClockStep: {
        const absl::Duration magnitude =
            random.DurationBetween(absl::Milliseconds(1), options.max_clock_step);
        a.delta = random.OneIn(2) ? magnitude : -magnitude;
        add(a);
        break;
      }
      case NemesisKind::kRemoveVoter: {
        // Replace a voter: remove it, add a fresh spare as learner, then promote it — or add the
        // learner first, then remove and promote at once (racing changes). Keeps the voter count
        // (so quorums stay as large) and never reuses an id.
        if (at < m.membership_until || m.spares.empty() || m.voters.size() < 3) break;
        const NodeId fresh = m.spares.front();
        m.spares.erase(m.spares.begin());
        absl::Duration promote_at;
        const bool racing = random.OneIn(2);
        if (racing) {
          // Racing changes: add the spare first; once it had time to catch up, remove the voter
          // and promote the spare at the same moment (a correct leader takes one at a time).
          promote_at = at + fault_duration();
          add({.at = at, .kind = NemesisKind::kAddLearner, .node = fresh});
          a.at = promote_at;
          add(a);
        } else {
          add(a);
          const absl::Duration learner_at = at + fault_duration();
          promote_at = learner_at + fault_duration();
          add({.at = learner_at, .kind = NemesisKind::kAddLearner, .node = fresh});
        }
        add({.at = promote_at, .kind = NemesisKind::kPromote, .node = fresh});
        if (racing && options.partitions && m.partition_until <= promote_at) {
          // Cut the old configuration's majority holding the removed voter from the new one's
          // holding the promoted spare, just after both changes were asked for (see
          // kConfigSplitShape): without it, conf-change-while-pending survived 1,000 seeds.
          std::vector<NodeId> old_side = {node};
          std::vector<NodeId> new_side = {fresh};
          const size_t old_majority = m.voters.size() / 2 + 1;
          for (NodeId v : m.voters) {
            if (v == node) continue;
            (old_side.size() < old_majority ? old_side : new_side).push_back(v);
          }
          NemesisAction cut{.at = promote_at + racing_cut.DurationBetween(absl::Milliseconds(1),
                                                                          absl::Milliseconds(30)),
                            .kind = NemesisKind::kPartition,
                            .node = node,
                            .peer = fresh,
                            .shape = kConfigSplitShape};
          for (NodeId a : old_side) {
            for (NodeId b : new_side) {
              cut.blocked.push_back({a, b});
              cut.blocked.push_back({b, a});
            }
          }
          const absl::Duration heal_at =
              cut.at + racing_cut.DurationBetween(absl::Seconds(1), absl::Seconds(3));
          add(std::move(cut));
          add({.at = heal_at, .kind = NemesisKind::kHeal});
          m.partition_until = heal_at;
        }
        m.voters.erase(std::find(m.voters.begin(), m.voters.end(), node));
        m.voters.push_back(fresh);
        std::sort(m.voters.begin(), m.voters.end());
        m.membership_until = promote_at;
        break;
      }
      default:
        break;
    }
  }
  std::stable_sort(schedule.actions.begin(), schedule.actions.end(),
                   [](const NemesisAction& x, const NemesisAction& y) { return x.at < y.at; });
  return schedule;
}

}  // namespace crema::chaos
