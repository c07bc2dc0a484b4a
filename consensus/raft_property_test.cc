// Randomised tests over the pure core: a 3-5 replica in-memory cluster under random ticks,
// deliveries, drops, duplicates, partitions, restarts, compactions, transfers and membership
// changes. After every step the five Raft invariants must hold (invariants.h); at the end the
// network heals and the group must elect a leader, commit a new entry and converge.
//
// Seeds come from crema::sim::TestSeeds (CREMA_SEED=... replays one); the RapidCheck property
// draws seeds too, so a failure shrinks to a short run.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "consensus/testing/cluster.h"
#include "gtest/gtest.h"
#include "node/random.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/test_seed.h"

namespace crema::raft::testing {
namespace {

constexpr int kLivenessRounds = 200;

class RandomRun {
 public:
  explicit RandomRun(uint64_t seed) : rng_(seed), cluster_(nullptr) {
    const int voters = static_cast<int>(rng_.Range(3, 5));
    const int joiners = static_cast<int>(rng_.Range(0, 2));
    Config base;
    base.pre_vote = !rng_.OneIn(4);
    base.check_quorum = !rng_.OneIn(4);
    base.max_inflight_msgs = rng_.Range(1, 4);
    base.max_entries_per_msg = rng_.Range(1, 3);
    base.compaction_keep_entries = rng_.Range(0, 3);
    base.lease_based_reads = rng_.OneIn(2);
    base.max_clock_drift = absl::Milliseconds(50);
    ConfState conf;
    for (int i = 1; i <= voters; ++i) conf.voters.push_back(i);
    for (int i = 1; i <= voters + joiners; ++i) {
      Config c = base;
      c.id = i;
      c.random_seed = rng_.Next();
      cluster_.AddNode(c, conf, /*join=*/i > voters);
    }
    ids_ = cluster_.ids();
  }

  absl::Status Run(int steps) {
    for (int step = 0; step < steps; ++step) {
      Step();
      if (absl::Status st = cluster_.CheckInvariants(); !st.ok()) {
        return absl::InternalError(absl::StrCat("step ", step, ": ", st.message()));
      }
    }
    return Liveness();
  }

 private:
  ReplicaId AnyNode() { return ids_[rng_.Uniform(ids_.size())]; }

  void Step() {
    const uint64_t dice = rng_.Uniform(100);
    const size_t in_flight = cluster_.in_flight().size();
    const ReplicaId id = AnyNode();
    Raft& r = cluster_.raft(id);
    if (dice < 40) {
      if (in_flight > 0) cluster_.DeliverAt(rng_.Uniform(in_flight), /*drop=*/false);
    } else if (dice < 44) {
      if (in_flight > 0) cluster_.DeliverAt(rng_.Uniform(in_flight), /*drop=*/true);
    } else if (dice < 46) {
      if (in_flight > 0) cluster_.DuplicateAt(rng_.Uniform(in_flight));
    } else if (dice < 56) {
      cluster_.Tick(id);
    } else if (dice < 75) {
      cluster_.ProcessReady(id);
    } else if (dice < 84) {
      (void)r.Propose(absl::StrCat("v", ++proposals_));
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
      (void)cluster_.Compact(id, r.applied());
    } else if (dice < 94) {
      (void)r.ReadIndex(absl::StrCat("r", ++reads_), cluster_.node(id).now);
    } else if (dice < 95) {
      (void)r.TransferLeadership(AnyNode());
    } else if (dice < 96) {
      r.Campaign();
    } else if (dice < 98) {
      const ConfChangeType type = static_cast<ConfChangeType>(rng_.Range(1, 3));
      (void)r.ProposeConfChange(ConfChange{type, AnyNode()});
    } else {
      cluster_.Sleep(id, absl::Milliseconds(rng_.Range(0, 500)));
    }
  }

  // Heal everything, then tick and deliver until a leader commits a fresh entry everywhere.
  absl::Status Liveness() {
    cluster_.Heal();
    bool proposed = false;
    Index target = 0;
    for (int round = 0; round < kLivenessRounds; ++round) {
      for (ReplicaId id : ids_) cluster_.Tick(id);
      cluster_.Stabilize();
      if (absl::Status st = cluster_.CheckInvariants(); !st.ok()) return st;
      for (ReplicaId id : ids_) {
        Raft& r = cluster_.raft(id);
        if (r.role() != Role::kLeader) continue;
        if (!proposed && r.Propose("final").ok()) {
          proposed = true;
          target = r.log().last_index();
        }
      }
      if (proposed && Converged(target)) {
        if (std::getenv("CREMA_RAFT_STATS") != nullptr) {
          std::fprintf(stderr, "target=%llu term=%llu round=%d\n", (unsigned long long)target,
                       (unsigned long long)cluster_.raft(ids_[0]).term(), round);
        }
        return absl::OkStatus();
      }
    }
    std::string status;
    for (ReplicaId id : ids_) {
      absl::StrAppend(&status, "\n", cluster_.Status(id), "\n", cluster_.LogString(id));
    }
    return absl::DeadlineExceededError(absl::StrCat("no convergence after healing:", status));
  }

  bool Converged(Index target) {
    // Every member of the leader's configuration applied the target, with identical state.
    const StateMachine* reference = nullptr;
    for (ReplicaId id : ids_) {
      Raft& r = cluster_.raft(id);
      if (r.role() != Role::kLeader) continue;
      for (const auto& [pid, pr] : r.progress()) {
        Raft& member = cluster_.raft(pid);
        if (member.applied() < target) return false;
        const StateMachine& sm = cluster_.node(pid).state_machine;
        if (reference != nullptr && sm != *reference) return false;
        reference = &sm;
      }
      return true;
    }
    return false;
  }

  Random rng_;
  Cluster cluster_;
  std::vector<ReplicaId> ids_;
  int proposals_ = 0;
  int reads_ = 0;
};

TEST(RaftProperty, InvariantsHoldUnderRandomFaults) {
  for (uint64_t seed : crema::sim::TestSeeds(40)) {
    absl::Status st = RandomRun(seed).Run(3000);
    ASSERT_TRUE(st.ok()) << "seed " << seed << ": " << st.message() << "\nreproduce: "
                         << crema::sim::ReproCommand(seed);
  }
}

RC_GTEST_PROP(RaftProperty, RandomRunsAreSafeAndLive, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const int steps = *rc::gen::inRange(0, 1500);
  absl::Status st = RandomRun(seed).Run(steps);
  RC_ASSERT(st.ok());
}

}  // namespace
}  // namespace crema::raft::testing
