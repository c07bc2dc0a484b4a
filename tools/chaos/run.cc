#include "tools/chaos/run.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "chaos/history_json.h"
#include "chaos/real/real_check.h"
#include "chaos/real/real_plan.h"
#include "node/random.h"
#include "tools/chaos/cluster.h"
#include "tools/chaos/proc.h"
#include "tools/chaos/sandbox.h"
#include "tools/chaos/workload.h"

namespace crema::chaos_tool {
namespace {

using chaos::NemesisAction;
using chaos::RealStep;

// One timed thing to do in the fault phase.
struct Event {
  absl::Duration at;
  enum class Kind { kNemesis, kMembership, kNetOn, kNetOff } kind;
  size_t index = 0;  // into the schedule's list of that kind
};

// A wipe-and-readmit in progress: short admin steps, one per poll, so faults keep their times.
struct Readmit {
  chaos::RealMembershipAction action;
  enum class Phase { kDrain, kWaitDrained, kRemove, kRejoin, kAdmit, kDone } phase = Phase::kDrain;
  int64_t phase_started_ns = 0;
  std::string last_error;  // the last refusal of an admin step, said when a phase gives up
  std::future<absl::StatusOr<std::string>> call;  // the phase's admin call, while it runs
};

class Runner {
 public:
  explicit Runner(const RunOptions& o) : o_(o), s_(o.schedule) {}
  RunReport Run();

 private:
  std::ostream& Log() { return *o_.log; }
  bool Interrupted() const { return o_.interrupted != nullptr && o_.interrupted->load(); }
  double Since(int64_t t0) const { return (MonotonicNanos() - t0) / 1e9; }
  void Apply(const chaos::RealPlan& plan, const std::string& kind, const std::string& what);
  void ApplyStep(const RealStep& step);
  void StartMembership(const chaos::RealMembershipAction& m);
  void NetFault(const chaos::RealNetFault& f, bool on);
  void StopDelays();
  void PollReadmit();
  bool Converged(std::string* why);
  // On a convergence failure: every reported replica, one node's view of the map, log tails.
  void DumpReplicas();
  std::vector<uint64_t> unconverged_;  // groups the last failed convergence check named
  void Fail(std::string why) {
    Log() << "chaos: FAILURE: " << why << "\n";
    report_.failures.push_back(std::move(why));
  }

  const RunOptions& o_;
  const chaos::RealSchedule& s_;
  RunReport report_;
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<RealCluster> cluster_;
  std::unique_ptr<chaos::RealPlanner> planner_;
  std::optional<Readmit> readmit_;
  absl::btree_map<int, pid_t> netdelay_;  // slot -> its netdelay process
  std::string last_fault_;
};

void Runner::ApplyStep(const RealStep& step) {
  const int slot = cluster_->SlotOf(step.node);
  if (slot == 0) return;
  switch (step.kind) {
    case RealStep::Kind::kIptables: {
      std::vector<std::string> argv = {"iptables"};
      argv.insert(argv.end(), step.args.begin(), step.args.end());
      CommandResult r = RunInNetns(sandbox_->netns(slot), argv, absl::Seconds(10));
      if (!r.ok()) Log() << "chaos: warning: " << step.ToString() << ": " << r.output << "\n";
      break;
    }
    case RealStep::Kind::kSignal:
      cluster_->Signal(slot, step.signal);
      break;
    case RealStep::Kind::kStart:
      if (absl::Status s = cluster_->StartNode(slot); !s.ok()) {
        Log() << "chaos: warning: " << step.ToString() << ": " << s << "\n";
      }
      break;
    case RealStep::Kind::kClockOffset:
      if (absl::Status s = cluster_->SetClockOffset(slot, step.clock_offset); !s.ok()) {
        Log() << "chaos: warning: " << step.ToString() << ": " << s << "\n";
      }
      break;
    case RealStep::Kind::kFillDisk:
      if (absl::Status s = cluster_->FillDisk(slot); !s.ok()) {
        Log() << "chaos: warning: " << step.ToString() << ": " << s << "\n";
      }
      break;
    case RealStep::Kind::kFreeDisk:
      cluster_->FreeDisk(slot);
      break;
  }
}

void Runner::Apply(const chaos::RealPlan& plan, const std::string& kind, const std::string& what) {
  if (!plan.skipped.empty()) {
    ++report_.skipped_by_kind[kind];
    return;
  }
  for (const RealStep& step : plan.steps) ApplyStep(step);
  ++report_.applied_by_kind[kind];
  ++report_.faults_applied;
  last_fault_ = what;
}

void Runner::StartMembership(const chaos::RealMembershipAction& m) {
  const int slot = cluster_->SlotOf(m.node);
  if (slot == 0 || !planner_->up(m.node)) {
    ++report_.skipped_by_kind[m.kind];
    return;
  }
  if (m.kind == "graceful-restart") {
    // Stop (hands leaderships away, flushes) and start again on the same data directory.
    chaos::RealPlan resume = planner_->Plan({.kind = chaos::NemesisKind::kResume, .node = m.node});
    for (const RealStep& step : resume.steps) ApplyStep(step);
    cluster_->StopGracefully(slot);
    if (absl::Status s = cluster_->StartNode(slot); !s.ok()) Fail("graceful restart: " + s.ToString());
    ++report_.applied_by_kind[m.kind];
    ++report_.faults_applied;
    last_fault_ = absl::StrCat("graceful-restart n", m.node);
    return;
  }
  if (readmit_.has_value()) {
    ++report_.skipped_by_kind[m.kind];
    return;
  }
  readmit_ = Readmit{.action = m, .phase_started_ns = MonotonicNanos()};
  last_fault_ = absl::StrCat("wipe-readmit n", m.node, " -> n", m.new_id, " (draining)");
}

// The readmit's admin calls block for seconds when nodes are paused or cut off, so each runs on
// its own thread (RealCluster::Admin and ReplicasOf are thread-safe) and this poll only looks at
// whether it has answered: the fault loop never waits on them. The wipe itself (signals, files,
// a process start) runs here, on the harness's thread.
void Runner::PollReadmit() {
  if (!readmit_.has_value()) return;
  Readmit& r = *readmit_;
  const NodeId old_id = r.action.node;
  const double in_phase = Since(r.phase_started_ns);
  auto next = [&](Readmit::Phase p) {
    r.phase = p;
    r.phase_started_ns = MonotonicNanos();
  };
  // Starts `call` if none runs; true (with its answer in *out) once it has answered.
  auto answered = [&](std::function<absl::StatusOr<std::string>()> call,
                      absl::StatusOr<std::string>* out) {
    if (!r.call.valid()) {
      r.call = std::async(std::launch::async, std::move(call));
      return false;
    }
    if (r.call.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    *out = r.call.get();
    if (!out->ok()) r.last_error = std::string(out->status().message());
    return true;
  };
  auto admin = [this](std::vector<std::string> args) {
    return [this, args = std::move(args)] { return cluster_->Admin(args, absl::Seconds(2)); };
  };
  absl::StatusOr<std::string> s;
  switch (r.phase) {
    case Readmit::Phase::kDrain:
      if (!answered(admin({"CREMA.NODE", "DRAIN", absl::StrCat(old_id)}), &s)) break;
      if (s.ok() || in_phase > 30) {
        if (!s.ok()) Log() << "chaos: n" << old_id << " could not be drained within 30s (" << r.last_error << ")\n";
        next(Readmit::Phase::kWaitDrained);
      }
      break;
    case Readmit::Phase::kWaitDrained: {
      auto replicas = [this, old_id]() -> absl::StatusOr<std::string> {
        absl::StatusOr<int64_t> left = cluster_->ReplicasOf(old_id);
        if (!left.ok()) return left.status();
        return absl::StrCat(*left);
      };
      if (!answered(replicas, &s)) break;
      if (s.ok() && *s == "0") {
        next(Readmit::Phase::kRemove);
      } else if (in_phase > 60) {
        // Removed with replicas left: the cluster must replace them from the other replicas
        // (a node lost with its disk). Said, so a run's reader knows which fault it got.
        Log() << "chaos: n" << old_id << " still hosts " << (s.ok() ? *s : "?")
              << " replicas 60s into its drain; removing it anyway\n";
        next(Readmit::Phase::kRemove);
      }
      break;
    }
    case Readmit::Phase::kRemove:
      if (!answered(admin({"CREMA.NODE", "REMOVE", absl::StrCat(old_id)}), &s)) break;
      if (s.ok()) {
        next(Readmit::Phase::kRejoin);
      } else if (in_phase > 30) {
        Log() << "chaos: n" << old_id << " could not be removed within 30s (" << r.last_error
              << "); wiping it anyway\n";
        next(Readmit::Phase::kRejoin);
      }
      break;
    case Readmit::Phase::kRejoin: {
      const int slot = cluster_->SlotOf(old_id);
      planner_->Forget(old_id);
      if (absl::Status st = cluster_->WipeAndRejoin(slot, r.action.new_id); !st.ok()) {
        Fail("wipe-readmit: " + st.ToString());
        readmit_.reset();
        return;
      }
      planner_->Add({r.action.new_id, sandbox_->ip(slot)});
      next(Readmit::Phase::kAdmit);
      break;
    }
    case Readmit::Phase::kAdmit:
      if (!answered(admin({"CREMA.NODE", "ADMIT", absl::StrCat(r.action.new_id)}), &s)) break;
      if (s.ok()) {
        ++report_.applied_by_kind[r.action.kind];
        ++report_.faults_applied;
        Log() << "chaos: n" << old_id << " drained, removed, wiped and re-admitted as n"
              << r.action.new_id << "\n";
        last_fault_ = absl::StrCat("wipe-readmit n", old_id, " -> n", r.action.new_id, " (done)");
        readmit_.reset();
      } else if (in_phase > 60) {
        Fail(absl::StrCat("n", r.action.new_id, " could not be admitted within 60s (",
                          r.last_error, ")"));
        readmit_.reset();
      }
      break;
    case Readmit::Phase::kDone:
      readmit_.reset();
      break;
  }
}

void Runner::NetFault(const chaos::RealNetFault& f, bool on) {
  const int slot = cluster_->SlotOf(f.node);
  if (slot == 0) {
    if (on) ++report_.skipped_by_kind[f.kind];
    return;
  }
  auto iptables = [&](const std::vector<std::string>& rule) {
    std::vector<std::string> argv = {"iptables"};
    argv.insert(argv.end(), rule.begin(), rule.end());
    CommandResult r = RunInNetns(sandbox_->netns(slot), argv, absl::Seconds(10));
    if (!r.ok()) Log() << "chaos: warning: iptables " << absl::StrJoin(rule, " ") << ": " << r.output << "\n";
  };
  if (f.kind == "loss") {
    iptables(chaos::RealPlanner::LossRule(on ? f.percent : 0));
  } else if (f.kind == "delay") {
    auto running = netdelay_.find(slot);
    if (on && running == netdelay_.end()) {
      absl::StatusOr<pid_t> pid = SpawnInNetns(
          sandbox_->netns_path(slot),
          {o_.netdelay_bin, absl::StrCat("--queue=", chaos::kDelayQueue),
           absl::StrCat("--delay_ms=", f.delay_ms), absl::StrCat("--jitter_ms=", f.jitter_ms)},
          {"PATH=/usr/bin:/bin"}, absl::StrCat(sandbox_->slot_dir(slot), "/netdelay.out"));
      if (!pid.ok()) {
        Log() << "chaos: warning: netdelay: " << pid.status() << "\n";
        ++report_.skipped_by_kind[f.kind];
        return;
      }
      netdelay_[slot] = *pid;
      for (const auto& rule : chaos::RealPlanner::DelayRules(true, kPeerPort)) iptables(rule);
    } else if (!on && running != netdelay_.end()) {
      for (const auto& rule : chaos::RealPlanner::DelayRules(false, kPeerPort)) iptables(rule);
      StopProcess(running->second, absl::Seconds(5));
      netdelay_.erase(running);
    } else {
      if (on) ++report_.skipped_by_kind[f.kind];
      return;
    }
  }
  if (on) {
    ++report_.applied_by_kind[f.kind];
    ++report_.faults_applied;
    last_fault_ = f.kind == "loss"
                      ? absl::StrCat("loss ", f.percent, "% into n", f.node)
                      : absl::StrCat("delay ", f.delay_ms, "+-", f.jitter_ms, "ms out of n", f.node);
  }
}

void Runner::StopDelays() {
  for (const auto& [slot, pid] : netdelay_) StopProcess(pid, absl::Seconds(5));
  netdelay_.clear();
}

bool Runner::Converged(std::string* why) {
  unconverged_.clear();
  absl::StatusOr<std::vector<ReplicaState>> all = cluster_->Digests(absl::Seconds(5));
  if (!all.ok()) {
    *why = std::string(all.status().message());
    return false;
  }
  absl::btree_map<uint64_t, std::vector<ReplicaState>> groups;
  for (const ReplicaState& r : *all) groups[r.group].push_back(r);
  if (groups.size() < static_cast<size_t>(s_.shards) + 1) {
    *why = absl::StrCat("only ", groups.size(), " groups have replicas");
    return false;
  }
  for (const auto& [group, replicas] : groups) {
    uint64_t max_commit = 0;
    for (const ReplicaState& r : replicas) max_commit = std::max(max_commit, r.commit);
    if (replicas.size() < 3) {
      unconverged_ = {group};
      *why = absl::StrCat("group ", group, " has ", replicas.size(), " replicas");
      return false;
    }
    for (const ReplicaState& r : replicas) {
      if (!r.not_running.empty()) {
        unconverged_ = {group};
        *why = absl::StrCat("group ", group, ": n", r.node, "'s replica is ", r.not_running);
        return false;
      }
    }
    for (const ReplicaState& r : replicas) {
      if (r.applied != replicas[0].applied || r.digest != replicas[0].digest || r.applied < max_commit) {
        unconverged_ = {group};
        *why = r.applied < max_commit
                   ? absl::StrCat("group ", group, ": n", r.node, " applied ", r.applied,
                                  " behind the group's commit ", max_commit)
                   : absl::StrCat("group ", group, ": n", r.node, " applied ", r.applied,
                                  " digest ", r.digest, " vs n", replicas[0].node, " applied ",
                                  replicas[0].applied, " digest ", replicas[0].digest);
        return false;
      }
    }
  }
  return true;
}

void Runner::DumpReplicas() {
  absl::StatusOr<std::vector<ReplicaState>> all = cluster_->Digests(absl::Seconds(5));
  if (all.ok()) {
    for (const ReplicaState& r : *all) {
      Log() << absl::StrFormat("chaos:   group %d n%d replica %d applied %d commit %d digest %s%s%s [%s]\n",
                               r.group, r.node, r.replica, r.applied, r.commit, r.digest,
                               r.leader ? " leader" : "", r.not_running.empty() ? "" : " " + r.not_running,
                               r.raft_status);
    }
  } else {
    Log() << "chaos:   digests: " << all.status() << "\n";
  }
  absl::StatusOr<std::string> status = cluster_->Admin({"CREMA.STATUS"}, absl::Seconds(5));
  Log() << "chaos:   CREMA.STATUS: " << (status.ok() ? *status : status.status().ToString()) << "\n";
  for (int slot = 1; slot <= s_.nodes; ++slot) {
    // Firewall rules still in place (after the heal there should be none): a rule left behind
    // cuts a link for good and looks exactly like a node bug.
    CommandResult rules = RunInNetns(sandbox_->netns(slot), {"iptables", "-w", "-S"}, absl::Seconds(10));
    std::vector<std::string> crema_rules;
    for (absl::string_view line : absl::StrSplit(rules.output, '\n')) {
      if (absl::StartsWith(line, "-A CREMA_")) crema_rules.emplace_back(line);
    }
    Log() << "chaos:   slot " << slot << " firewall rules: "
          << (crema_rules.empty() ? std::string("none") : absl::StrJoin(crema_rules, " | ")) << "\n";
    // Each peer link's state as the node sees it (crema_peer_link_state / _queued_messages):
    // a link that never reconnects shows which stage it is stuck in.
    CommandResult metrics = RunCommand(
        {"curl", "-s", "--max-time", "5",
         absl::StrCat("http://", sandbox_->ip(slot), ":", kHttpPort, "/metrics")},
        absl::Seconds(10));
    std::vector<std::string> links;
    for (absl::string_view line : absl::StrSplit(metrics.output, '\n')) {
      if ((absl::StartsWith(line, "crema_peer_link_state{") && absl::EndsWith(line, " 1")) ||
          (absl::StartsWith(line, "crema_peer_queued_messages{") && !absl::EndsWith(line, " 0"))) {
        links.emplace_back(line);
      }
    }
    Log() << "chaos:   slot " << slot << " peer links: "
          << (links.empty() ? std::string("(no metrics)") : absl::StrJoin(links, " | ")) << "\n";
    Log() << "chaos:   log tail of slot " << slot << " (n" << cluster_->id(slot) << "):\n"
          << cluster_->LogTail(slot, 8) << "\n";
    if (!unconverged_.empty()) {
      Log() << "chaos:   warnings and events of groups " << absl::StrJoin(unconverged_, ",")
            << " on slot " << slot << ":\n"
            << cluster_->LogLinesAbout(slot, unconverged_, 40) << "\n";
    }
  }
}

RunReport Runner::Run() {
  SandboxOptions so;
  so.slots = s_.nodes;
  so.workdir = o_.workdir;
  so.keep_workdir = o_.keep_workdir;
  sandbox_ = std::make_unique<Sandbox>(so);
  if (absl::Status s = sandbox_->Create(); !s.ok()) {
    Fail(s.ToString());
    return report_;
  }
  ClusterOptions co;
  co.server_bin = o_.server_bin;
  co.timer_shim = o_.timer_shim;
  co.shards = s_.shards;
  co.plant = o_.plant;
  co.rate_ppm = ClockRatesPpm(s_.seed, s_.nodes);
  cluster_ = std::make_unique<RealCluster>(sandbox_.get(), co);
  Log() << "chaos: starting " << s_.nodes << " crema_server processes in " << o_.workdir << "\n";
  if (absl::Status s = cluster_->Start(o_.start_bound); !s.ok()) {
    Fail("cluster start: " + s.ToString());
    return report_;
  }
  std::vector<chaos::RealNode> nodes;
  for (int slot = 1; slot <= s_.nodes; ++slot) nodes.push_back({cluster_->id(slot), sandbox_->ip(slot)});
  planner_ = std::make_unique<chaos::RealPlanner>(
      nodes, chaos::RealPlannerOptions{.max_clock_offset = o_.max_clock_offset > absl::ZeroDuration()
                                                               ? o_.max_clock_offset
                                                               : s_.max_clock_skew / 4});

  std::vector<Event> events;
  for (size_t i = 0; i < s_.nemesis.actions.size(); ++i) {
    events.push_back({s_.nemesis.actions[i].at, Event::Kind::kNemesis, i});
  }
  for (size_t i = 0; i < s_.membership.size(); ++i) {
    events.push_back({s_.membership[i].at, Event::Kind::kMembership, i});
  }
  for (size_t i = 0; i < s_.net.size(); ++i) {
    events.push_back({s_.net[i].at, Event::Kind::kNetOn, i});
    events.push_back({s_.net[i].end, Event::Kind::kNetOff, i});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });

  WorkloadOptions wo;
  wo.clients = s_.clients;
  wo.seed = s_.seed;
  Workload workload(wo, [this] { return cluster_->Endpoints(); });
  workload.Start();
  Log() << "chaos: cluster serving; " << s_.clients << " clients; fault phase of "
        << absl::FormatDuration(s_.duration) << " with " << events.size() << " events\n";
  const int64_t t0 = MonotonicNanos();
  int64_t next_progress = t0 + absl::ToInt64Nanoseconds(o_.progress_every);
  size_t next_event = 0;
  const double total = absl::ToDoubleSeconds(s_.duration);
  // Every event of the schedule is applied, in order, even when the harness runs late (a graceful
  // stop or an admin call blocks this loop for seconds): a pause whose resume were dropped would
  // leave a node stopped for the rest of the run, which is not the schedule the simulator replays.
  absl::Duration max_lateness;
  int64_t next_readmit_poll = t0;
  while (!Interrupted()) {
    const absl::Duration now = absl::Nanoseconds(MonotonicNanos() - t0);
    if (now >= s_.duration && next_event >= events.size()) break;
    while (next_event < events.size() && events[next_event].at <= now) {
      const Event& e = events[next_event++];
      max_lateness = std::max(max_lateness, now - e.at);
      switch (e.kind) {
        case Event::Kind::kNemesis: {
          const NemesisAction& a = s_.nemesis.actions[e.index];
          Apply(planner_->Plan(a), chaos::NemesisKindName(a.kind), a.ToString());
          break;
        }
        case Event::Kind::kMembership:
          StartMembership(s_.membership[e.index]);
          break;
        case Event::Kind::kNetOn:
        case Event::Kind::kNetOff:
          NetFault(s_.net[e.index], e.kind == Event::Kind::kNetOn);
          break;
      }
    }
    if (MonotonicNanos() >= next_readmit_poll) {
      PollReadmit();
      next_readmit_poll = MonotonicNanos() + 200'000'000;
    }
    if (MonotonicNanos() >= next_progress) {
      const WorkloadCounts c = workload.counts();
      Log() << absl::StrFormat("chaos: t=%.0fs/%.0fs ops=%d ok=%d indeterminate=%d errors=%d faults=%d last=[%s]\n",
                               Since(t0), total, workload.operations(), c.ok, c.indeterminate,
                               c.errors, report_.faults_applied, last_fault_);
      next_progress += absl::ToInt64Nanoseconds(o_.progress_every);
    }
    Nap(absl::Milliseconds(50));
  }
  if (max_lateness > absl::Seconds(1)) {
    Log() << "chaos: schedule events were applied up to " << absl::FormatDuration(max_lateness)
          << " late (the harness blocked on a stop or an admin call)\n";
  }
  // A wipe-and-readmit still running finishes (bounded by its phases' limits).
  for (int64_t until = MonotonicNanos() + 190'000'000'000; readmit_.has_value() && !Interrupted() &&
                                                           MonotonicNanos() < until;) {
    PollReadmit();
    Nap(absl::Milliseconds(200));
  }
  if (readmit_.has_value() && !Interrupted()) {
    Fail(absl::StrCat("the wipe-readmit of n", readmit_->action.node,
                      " did not finish within 190s of the fault phase's end (last refusal: ",
                      readmit_->last_error, ")"));
    readmit_.reset();
  }
  const int64_t heal = MonotonicNanos();
  Log() << "chaos: healing everything\n";
  for (const RealStep& step : planner_->HealAll().steps) ApplyStep(step);
  StopDelays();
  // Recovery: every node serves a linearizable write.
  bool recovered = false;
  while (!Interrupted() && Since(heal) < absl::ToDoubleSeconds(o_.recovery_bound)) {
    recovered = true;
    for (int slot = 1; slot <= s_.nodes && recovered; ++slot) {
      recovered = cluster_->Probe(slot, absl::Seconds(3)).ok();
    }
    if (recovered) break;
    Nap(absl::Milliseconds(200));
  }
  if (recovered) {
    report_.recovery_seconds = Since(heal);
    Log() << absl::StrFormat("chaos: every node serves again %.2fs after the heal\n", report_.recovery_seconds);
  } else if (!Interrupted()) {
    Fail(absl::StrCat("LIVENESS: not every node serves within ", absl::FormatDuration(o_.recovery_bound),
                      " of the heal"));
  }
  Nap(absl::Seconds(3));  // some traffic on the healed cluster
  workload.Stop();
  {
    std::string kinds;
    for (const auto& [why, n] : workload.error_kinds()) absl::StrAppend(&kinds, " ", why, "=", n);
    Log() << "chaos: failed or unknown outcomes by kind:" << kinds << "\n";
  }
  if (!Interrupted()) {
    const std::vector<std::string> unread = workload.FinalReads(o_.final_read_bound);
    if (!unread.empty()) Fail("LIVENESS: no final read of " + absl::StrJoin(unread, ","));
  }
  std::string why;
  bool converged = false;
  while (!Interrupted() && Since(heal) < absl::ToDoubleSeconds(o_.recovery_bound + o_.convergence_bound)) {
    if ((converged = Converged(&why))) break;
    Nap(absl::Milliseconds(500));
  }
  if (converged) {
    report_.convergence_seconds = Since(heal);
    Log() << absl::StrFormat("chaos: every group's replicas identical %.2fs after the heal\n",
                             report_.convergence_seconds);
  } else if (!Interrupted()) {
    Fail("CONVERGENCE: replicas still differ: " + why);
    DumpReplicas();
  }
  if (Interrupted()) Fail("interrupted");
  // Processes and namespaces go before the (CPU-heavy) check.
  StopDelays();
  cluster_.reset();
  sandbox_->Teardown();
  chaos::History history = workload.TakeHistory();
  std::vector<chaos::OracleInfo> info = workload.TakeInfo();
  if (!o_.history_out.empty()) {
    std::ofstream(o_.history_out) << chaos::HistoryToJsonLines(history);
    Log() << "chaos: history written to " << o_.history_out << "\n";
  }
  report_.operations = history.size();
  Log() << "chaos: checking " << history.size() << " operations\n";
  const chaos::RealCheckResult check =
      chaos::CheckRealHistory(history, info, {.max_skew = s_.max_clock_skew});
  Log() << check.Describe();
  report_.violations = check.violations();
  return report_;
}

}  // namespace

std::vector<int> ClockRatesPpm(uint64_t seed, int nodes) {
  Random random = Random(seed).Fork("real.clock_rates");
  std::vector<int> rates;
  for (int i = 0; i < nodes; ++i) rates.push_back(static_cast<int>(random.Range(-100, 100)));
  return rates;
}

RunReport RunChaos(const RunOptions& options) {
  Runner runner(options);
  return runner.Run();
}

}  // namespace crema::chaos_tool
