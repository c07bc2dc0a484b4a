#include "consensus/testing/random_run.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace crema::raft::testing {

RandomRun::RandomRun(uint64_t seed, Schedule schedule) : rng_(seed), schedule_(schedule) {
  const bool churn = schedule == Schedule::kLeaderChurn;
  const int voters = churn ? (rng_.OneIn(2) ? 3 : 5) : static_cast<int>(rng_.Range(3, 5));
  const int joiners = churn ? 0 : static_cast<int>(rng_.Range(0, 2));
  Config base;
  base.pre_vote = churn ? rng_.OneIn(2) : !rng_.OneIn(4);
  base.check_quorum = churn ? rng_.OneIn(2) : !rng_.OneIn(4);
  base.max_inflight_msgs = rng_.Range(1, 4);
  base.max_entries_per_msg = churn ? 1 : rng_.Range(1, 3);
  base.compaction_keep_entries = rng_.Range(0, 3);
  base.lease_based_reads = rng_.OneIn(2);
  base.max_clock_drift = absl::Milliseconds(50);
  base.quiesce = rng_.OneIn(3);
  // Half the runs keep what live followers need at compaction (Config), half only the snapshot.
  base.compaction_follower_keep_entries = rng_.OneIn(2) ? 1024 : 0;
  tick_interval_ = base.tick_interval;
  lockstep_clock_ = base.lease_based_reads && base.check_quorum;
  description_ = absl::StrCat(churn ? "churn" : "mixed", " voters=", voters, " joiners=", joiners,
                              " pre_vote=", base.pre_vote, " check_quorum=", base.check_quorum,
                              " leases=", lockstep_clock_, " quiesce=", base.quiesce,
                              " max_entries=", base.max_entries_per_msg,
                              " follower_keep=", base.compaction_follower_keep_entries);
  ConfState conf;
  for (int i = 1; i <= voters; ++i) conf.voters.push_back(i);
  for (int i = 1; i <= voters + joiners; ++i) {
    Config c = base;
    c.id = i;
    c.random_seed = rng_.Next();
    cluster_.AddNode(c, conf, /*join=*/i > voters);
    rate_ppm_[i] = rng_.Range(-kMaxClockRatePpm, kMaxClockRatePpm);
    next_tick_at_[i] = rng_.DurationBetween(absl::ZeroDuration(), tick_interval_);
  }
  ids_ = cluster_.ids();
  if (churn) cluster_.SetFixedVoters(conf.voters);  // churn proposes no membership changes
}

ReplicaId RandomRun::Leader() {
  ReplicaId best = kNoReplica;
  Term best_term = 0;
  for (ReplicaId id : ids_) {
    const Raft& r = cluster_.raft(id);
    if (r.role() == Role::kLeader && r.term() >= best_term) {
      best = id;
      best_term = r.term();
    }
  }
  return best;
}

absl::Status RandomRun::Run(int steps) {
  for (int step = 0; step < steps; ++step) {
    if (schedule_ == Schedule::kLeaderChurn) {
      StepLeaderChurn();
    } else {
      StepMixed();
    }
    if (absl::Status st = CheckStep(); !st.ok()) {
      return absl::InternalError(absl::StrCat("step ", step, ": ", st.message()));
    }
  }
  return Liveness();
}

absl::Status RandomRun::CheckStep() {
  for (ReplicaId id : ids_) max_commit_seen_ = std::max(max_commit_seen_, cluster_.raft(id).commit());
  if (absl::Status st = cluster_.CheckInvariants(); !st.ok()) return st;
  return CheckReads();
}

absl::Status RandomRun::CheckReads() {
  for (ReplicaId id : ids_) {
    const std::vector<ReadState>& served = cluster_.node(id).read_states;
    for (size_t& i = reads_checked_[id]; i < served.size(); ++i) {
      auto it = read_floor_.find(served[i].context);
      if (it == read_floor_.end()) {
        return absl::InternalError(absl::StrCat("replica ", id, " served unknown read ",
                                                served[i].context));
      }
      ++reads_served_;
      if (served[i].index < it->second) {
        return absl::InternalError(absl::StrCat(
            "linearizability: replica ", id, " served read ", served[i].context, " at index ",
            served[i].index, " but index ", it->second, " was committed before it was issued"));
      }
    }
  }
  return absl::OkStatus();
}

void RandomRun::Deliver(uint64_t drop_pct) {
  const size_t in_flight = cluster_.in_flight().size();
  if (in_flight == 0) return;
  cluster_.DeliverAt(rng_.Uniform(in_flight), /*drop=*/rng_.Chance(drop_pct, 100));
}

void RandomRun::AdvanceTime(absl::Duration d) {
  global_time_ += d;
  for (ReplicaId id : ids_) {
    // Bounded: a tick every tick_interval * (1 +- 2%) of global time.
    while (next_tick_at_[id] <= global_time_) {
      cluster_.Tick(id);
      next_tick_at_[id] += tick_interval_ * (1'000'000 + rate_ppm_[id]) / 1'000'000;
    }
  }
}

void RandomRun::TickOrAdvance() {
  if (lockstep_clock_) {
    AdvanceTime(tick_interval_ / 2);
  } else {
    cluster_.Tick(AnyNode());
  }
}

void RandomRun::Stall(ReplicaId id, absl::Duration d) {
  // A stall (GC pause): the clock moves on, the missed ticks never happen.
  cluster_.Sleep(id, d);
  if (lockstep_clock_) next_tick_at_[id] += d;
}

void RandomRun::Propose(ReplicaId id) {
  (void)cluster_.raft(id).Propose(absl::StrCat("v", ++proposals_));
}

void RandomRun::Read(ReplicaId id) {
  // Half of the reads go to a replica that believes it leads, stale or not: a deposed leader
  // that still answers reads is what this oracle is for.
  std::vector<ReplicaId> leaders;
  for (ReplicaId x : ids_) {
    if (cluster_.raft(x).role() == Role::kLeader) leaders.push_back(x);
  }
  if (!leaders.empty() && rng_.OneIn(2)) id = leaders[rng_.Uniform(leaders.size())];
  std::string context = absl::StrCat("r", ++reads_);
  read_floor_[context] = max_commit_seen_;
  (void)cluster_.raft(id).ReadIndex(std::move(context), cluster_.node(id).now);
}

void RandomRun::IsolateLeaderMidBroadcast() {
  // The leader persists and sends what it has, some of it arrives, then it is cut off: the
  // partial replication that sets up Figure 8.
  const ReplicaId leader = Leader();
  if (leader == kNoReplica) return;
  cluster_.ProcessReady(leader);
  for (size_t i = 0; i < cluster_.in_flight().size();) {
    const Message& m = cluster_.in_flight()[i];
    if (m.from == leader && m.type == MessageType::kApp && rng_.OneIn(2)) {
      cluster_.DeliverAt(i, /*drop=*/false);
    } else {
      ++i;
    }
  }
  cluster_.Isolate(leader);
}

bool RandomRun::DriveElection(ReplicaId candidate) {
  // Bounded: each round handles every Ready and delivers (or loses) every message in flight.
  for (int round = 0; round < kMaxEpochRounds; ++round) {
    bool progressed = false;
    for (ReplicaId id : ids_) progressed |= cluster_.ProcessReady(id);
    for (size_t n = cluster_.in_flight().size(); n > 0; --n) {
      cluster_.DeliverAt(rng_.Uniform(n), /*drop=*/rng_.OneIn(8));
      progressed = true;
    }
    if (cluster_.raft(candidate).role() == Role::kLeader) return true;
    if (!progressed) break;
  }
  return false;
}

void RandomRun::ReplicatePartially(ReplicaId leader) {
  // A few rounds in which each append and each answer gets through with probability 1/2.
  for (int round = 0; round < static_cast<int>(rng_.Range(1, 4)); ++round) {
    for (ReplicaId id : ids_) cluster_.ProcessReady(id);
    for (size_t n = cluster_.in_flight().size(); n > 0; --n) {
      cluster_.DeliverAt(rng_.Uniform(n), /*drop=*/rng_.OneIn(2));
    }
    if (cluster_.raft(leader).role() != Role::kLeader) return;
  }
  cluster_.ProcessReady(leader);
}

void RandomRun::ChurnEpoch() {
  // A new leader is elected among whoever is reachable, writes a little, replicates part of it,
  // and crashes or is cut off: repeated, this leaves the divergent logs of Figure 8.
  cluster_.Heal();
  const ReplicaId candidate = AnyNode();
  for (ReplicaId id : ids_) {
    if (id != candidate && rng_.OneIn(3)) cluster_.Partition({candidate}, {id});
  }
  for (ReplicaId id : ids_) cluster_.raft(id).ReportPeerDown(cluster_.raft(id).leader());
  cluster_.raft(candidate).Campaign();
  if (!DriveElection(candidate)) return;
  for (int i = static_cast<int>(rng_.Range(0, 2)); i > 0; --i) Propose(candidate);
  ReplicatePartially(candidate);
  if (rng_.OneIn(2)) {
    (void)cluster_.Restart(candidate);
  }
  cluster_.Isolate(candidate);
}

void RandomRun::StepLeaderChurn() {
  const uint64_t dice = rng_.Uniform(100);
  const ReplicaId id = AnyNode();
  if (dice < 5) {
    ChurnEpoch();
  } else if (dice < 12) {
    Read(id);
  } else if (dice < 30) {
    Deliver(/*drop_pct=*/10);
  } else if (dice < 42) {
    TickOrAdvance();
  } else if (dice < 58) {
    cluster_.ProcessReady(id);
  } else if (dice < 70) {
    const ReplicaId leader = Leader();
    Propose(leader != kNoReplica && rng_.Chance(3, 4) ? leader : id);
  } else if (dice < 76) {
    IsolateLeaderMidBroadcast();
  } else if (dice < 82) {
    cluster_.Heal();
  } else if (dice < 84) {
    std::vector<ReplicaId> a, b;
    for (ReplicaId x : ids_) (rng_.OneIn(2) ? a : b).push_back(x);
    cluster_.Partition(a, b);
  } else if (dice < 87) {
    (void)cluster_.Restart(id);
  } else if (dice < 92) {
    cluster_.raft(id).Campaign();
  } else if (dice < 97) {
    Read(id);
  } else if (dice < 98) {
    cluster_.raft(id).ReportPeerDown(AnyNode());
  } else if (dice < 99) {
    (void)cluster_.raft(id).TransferLeadership(AnyNode());
  } else {
    Stall(id, absl::Milliseconds(rng_.Range(0, 500)));
  }
}

void RandomRun::StepMixed() {
  const uint64_t dice = rng_.Uniform(100);
  const ReplicaId id = AnyNode();
  Raft& r = cluster_.raft(id);
  if (dice < 40) {
    Deliver(/*drop_pct=*/0);
  } else if (dice < 44) {
    Deliver(/*drop_pct=*/100);
  } else if (dice < 46) {
    if (!cluster_.in_flight().empty()) {
      cluster_.DuplicateAt(rng_.Uniform(cluster_.in_flight().size()));
    }
  } else if (dice < 56) {
    TickOrAdvance();
  } else if (dice < 75) {
    cluster_.ProcessReady(id);
  } else if (dice < 84) {
    Propose(id);
  } else if (dice < 86) {
    std::vector<ReplicaId> a, b;
    for (ReplicaId x : ids_) (rng_.OneIn(2) ? a : b).push_back(x);
    cluster_.Heal();
    cluster_.Partition(a, b);
  } else if (dice < 89) {
    cluster_.Heal();
  } else if (dice < 90) {
    (void)cluster_.Restart(id);
  } else if (dice < 92) {
    (void)cluster_.Compact(id, cluster_.node(id).applied_index);
  } else if (dice < 94) {
    Read(id);
  } else if (dice < 95) {
    (void)r.TransferLeadership(AnyNode());
  } else if (dice < 96) {
    if (rng_.OneIn(2)) {
      r.Campaign();
    } else {
      r.ReportPeerDown(AnyNode());  // the failure detector may be wrong
    }
  } else if (dice < 98) {
    const ConfChangeType type = static_cast<ConfChangeType>(rng_.Range(1, 3));
    (void)r.ProposeConfChange(ConfChange{type, AnyNode()});
  } else {
    Stall(id, absl::Milliseconds(rng_.Range(0, 500)));
  }
}

// Heal everything and wake every quiet replica (the host's failure detector sees every node
// alive), then tick and deliver until a leader commits a fresh entry everywhere and serves a
// read of it.
absl::Status RandomRun::Liveness() {
  cluster_.Heal();
  for (ReplicaId id : ids_) cluster_.raft(id).Unquiesce();
  Index target = 0;
  Term target_term = 0;
  std::string read_context;
  for (int round = 0; round < kLivenessRounds; ++round) {
    if (lockstep_clock_) {
      AdvanceTime(tick_interval_);
    } else {
      for (ReplicaId id : ids_) cluster_.Tick(id);
    }
    if (!cluster_.Stabilize()) return absl::InternalError("liveness: did not stabilize");
    if (absl::Status st = CheckStep(); !st.ok()) return st;
    const ReplicaId leader = Leader();
    if (leader == kNoReplica) continue;
    Raft& r = cluster_.raft(leader);
    if (target != 0 && r.log().TermAt(target) != target_term) target = 0;  // lost: again
    if (target == 0 && r.Propose("final").ok()) {
      target = r.log().last_index();
      target_term = r.term();
    }
    if (target == 0 || !Converged(target)) continue;
    if (read_context.empty()) {
      read_context = absl::StrCat("r", ++reads_);
      read_floor_[read_context] = max_commit_seen_;
      if (!r.ReadIndex(read_context, cluster_.node(leader).now).ok()) read_context.clear();
      continue;
    }
    for (const ReadState& rs : cluster_.node(leader).read_states) {
      if (rs.context == read_context) return absl::OkStatus();  // index checked by CheckReads
    }
    for (const std::string& rejected : cluster_.node(leader).rejected_reads) {
      if (rejected == read_context) read_context.clear();  // leadership changed: ask again
    }
  }
  return absl::DeadlineExceededError(absl::StrCat("no convergence after healing:", Dump()));
}

bool RandomRun::Converged(Index target) {
  // Every member of the leader's configuration applied the target, with identical state.
  const ReplicaId leader = Leader();
  if (leader == kNoReplica) return false;
  const StateMachine* reference = nullptr;
  for (const auto& [pid, pr] : cluster_.raft(leader).progress()) {
    if (cluster_.raft(pid).applied() < target) return false;
    const StateMachine& sm = cluster_.node(pid).state_machine;
    if (reference != nullptr && sm != *reference) return false;
    reference = &sm;
  }
  return true;
}

std::string RandomRun::Dump() {
  std::string out = absl::StrCat("\n", description_);
  for (ReplicaId id : ids_) {
    absl::StrAppend(&out, "\n", cluster_.Status(id), "\n", cluster_.LogString(id));
  }
  return out;
}

}  // namespace crema::raft::testing
