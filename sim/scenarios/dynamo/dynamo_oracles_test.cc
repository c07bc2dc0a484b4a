// Every oracle of the dynamo scenario bites: with a deliberately planted bug (PlantedBugs in
// node/eventual/driver/config.h) the scenario fails, and the failure comes from the oracle that
// bug violates; the same seeds pass without the bug. Durability is shown by losing more replicas
// for good than a write can survive.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/scenarios/dynamo/dynamo_checker.h"
#include "sim/scenarios/dynamo/dynamo_cluster.h"
#include "sim/scenarios/dynamo/dynamo_scenario.h"

namespace crema::dynamo {
namespace {

constexpr int kMaxSeeds = 12;

// Runs seeds 1.. until one fails with a failure starting with `oracle` (true), or kMaxSeeds pass.
bool Caught(const std::string& oracle, DynamoParams params, sim::ScenarioOptions options,
            std::string* seen) {
  for (uint64_t seed = 1; seed <= kMaxSeeds; ++seed) {
    options.seed = seed;
    DynamoRunStats stats;
    const sim::ScenarioResult result = RunDynamoScenario(options, params, &stats);
    for (const std::string& f : stats.failures) {
      if (absl::StartsWith(f, oracle)) {
        *seen = absl::StrCat("seed ", seed, ": ", f);
        return true;
      }
    }
    if (!result.pass) absl::StrAppend(seen, "seed ", seed, ": ", absl::StrJoin(stats.failures, " | "), "\n");
  }
  return false;
}

// The same seeds without the bug pass (so the failure above is the bug's doing).
void ExpectPassWithoutBug(DynamoParams params, sim::ScenarioOptions options, uint64_t seeds) {
  params.bugs = eventual::PlantedBugs{};
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    options.seed = seed;
    const sim::ScenarioResult result = RunDynamoScenario(options, params);
    EXPECT_TRUE(result.pass) << "seed " << seed << ": " << result.message;
  }
}

sim::ScenarioOptions Faulty() {
  sim::ScenarioOptions o;
  o.faults = sim::FaultLevel::kDefault;
  o.overrides.amnesia = false;
  o.overrides.partitions = true;
  o.overrides.crashes = true;
  return o;
}

TEST(DynamoOraclesTest, ReadOracleCatchesQuorumReadsThatStopAtTheFirstAnswer) {
  DynamoParams params;
  params.sloppy = false;
  params.membership_change = false;
  params.bugs.read_first_answer = true;
  std::string seen;
  EXPECT_TRUE(Caught("READS:", params, Faulty(), &seen)) << seen;
  ExpectPassWithoutBug(params, Faulty(), 3);
}

TEST(DynamoOraclesTest, ReadOracleCatchesWritesAcknowledgedAfterOneReplica) {
  DynamoParams params;
  params.sloppy = false;
  params.membership_change = false;
  params.consistency_pair = 2;  // W=ALL R=ONE: a write acknowledged by one is read from another
  params.bugs.ack_after_one = true;
  std::string seen;
  EXPECT_TRUE(Caught("READS:", params, Faulty(), &seen)) << seen;
}

TEST(DynamoOraclesTest, ConvergenceOracleCatchesAClusterWithoutRepair) {
  DynamoParams params;
  params.membership_change = false;
  params.bugs.no_repair = true;
  std::string seen;
  EXPECT_TRUE(Caught("CONVERGENCE:", params, Faulty(), &seen)) << seen;
}

TEST(DynamoOraclesTest, HintOracleCatchesHintsReportedDeliveredButNeverSent) {
  DynamoParams params;
  params.membership_change = false;
  params.bugs.forget_hints = true;
  params.anti_entropy_interval = absl::Seconds(30);  // hints, not anti-entropy, repair first
  std::string seen;
  EXPECT_TRUE(Caught("HINTS:", params, Faulty(), &seen)) << seen;
}

TEST(DynamoOraclesTest, AntiEntropyOracleCatchesExchangesThatSendWholeLeaves) {
  DynamoParams params;
  params.membership_change = false;
  params.keys = 200;      // several keys per leaf:
  params.shards = 4;      // 4 shards x 16 leaves
  params.tree_depth = 1;
  params.bugs.ae_push_whole_leaves = true;
  std::string seen;
  EXPECT_TRUE(Caught("ANTI-ENTROPY:", params, Faulty(), &seen)) << seen;
  ExpectPassWithoutBug(params, Faulty(), 3);
}

// Durability: a write survives losing up to W − 1 of the replicas that acknowledged it; wipe all
// three replicas of a key for good and the oracle reports the acknowledged write lost.
TEST(DynamoOraclesTest, DurabilityOracleCatchesAWriteLostWithEveryReplica) {
  DynamoChecker checker(absl::Seconds(30), {});
  DynamoClusterOptions options;
  options.sim.seed = 7;
  options.servers = 4;
  options.observer = &checker;
  DynamoCluster cluster(options);
  checker.set_cluster(&cluster);
  ASSERT_TRUE(cluster.RunUntil([&] { return cluster.MembershipAgrees() && cluster.AllTrusted(); },
                               absl::Seconds(30)));
  DynamoLedger ledger;
  for (int k = 0; k < 10; ++k) {
    absl::StatusOr<eventual::WriteResult> w = cluster.Put(1, KeyName(k), absl::StrCat("v", k));
    ASSERT_TRUE(w.ok()) << w.status();
    DynamoOp op;
    op.op = eventual::ClientOp::kPut;
    op.key = KeyName(k);
    op.value = absl::StrCat("v", k);
    op.outcome = OpOutcome::kOk;
    op.version = w->version;
    ledger.ops.push_back(op);
  }
  std::string why;
  ASSERT_TRUE(cluster.RunUntil([&] { return cluster.Converged(&why); }, absl::Seconds(20))) << why;
  EXPECT_EQ(checker.CheckDurability(ledger), "");  // all there
  // Lose key-0's three owners for good, all at once, before anything could copy it elsewhere.
  eventual::EventualNode* n = cluster.node(1);
  const std::vector<NodeId> owners = n->Ring().Owners(n->store().PlaceOf(KeyName(0)).shard);
  for (NodeId owner : owners) cluster.sim().Amnesia(owner);
  for (NodeId owner : owners) cluster.sim().Restart(owner);
  cluster.RunUntil([&] { return cluster.MembershipAgrees() && cluster.AllTrusted(); }, absl::Seconds(60));
  const std::string lost = checker.CheckDurability(ledger);
  EXPECT_TRUE(absl::StartsWith(lost, "DURABILITY:")) << lost;
}

// The hint oracle across restarts, on the checker alone. A stand-in that crashes inside the group
// commit removing a delivered hint may come back without it (the removal's write reached the disk
// before the crash; the dynamo sweep's seed 4397): that hint ended, delivered. A hint missing
// after a restart with no removal staged was lost — the oracle must still say so, also when the
// stand-in recovers no hints at all.
eventual::Hint TestHint(NodeId target, const std::string& key, int64_t wall_ns) {
  eventual::Hint h;
  h.target = target;
  h.key = key;
  h.record.value = "v";
  h.record.version.wall_ns = wall_ns;
  h.record.version.node = 1;
  return h;
}

TEST(DynamoCheckerTest, AHintWhoseRemovalACrashMadeDurableEnded) {
  DynamoChecker checker(absl::Seconds(30), {});
  const eventual::Hint hint = TestHint(2, "k", 100);
  checker.HintStamped(4, hint);
  checker.HintStored(4, hint);
  checker.HintRemovalStaged(4, hint, eventual::HintOutcome::kDelivered);
  checker.HintsRecovered(4, {});  // crashed inside the commit; the removal is on disk
  EXPECT_EQ(checker.violation(), "");
  EXPECT_EQ(checker.CheckHintsSettled(), "");
}

TEST(DynamoCheckerTest, AHintReplacedByANewerOneInACrashedCommitWasSuperseded) {
  DynamoChecker checker(absl::Seconds(30), {});
  const eventual::Hint old_hint = TestHint(2, "k", 100);
  const eventual::Hint new_hint = TestHint(2, "k", 200);
  checker.HintStamped(4, old_hint);
  checker.HintStored(4, old_hint);
  checker.HintStamped(4, new_hint);       // the crash cut its commit short, after the write
  checker.HintsRecovered(4, {new_hint});  // the newer one replaced it on disk
  EXPECT_EQ(checker.violation(), "");
  checker.HintRemovalStaged(4, new_hint, eventual::HintOutcome::kExpired);
  checker.HintEnded(4, new_hint, eventual::HintOutcome::kExpired);
  EXPECT_NE(checker.violation(), "") << "expired at once: before its window";
}

TEST(DynamoCheckerTest, AHintMissingAfterARestartWithoutARemovalWasLost) {
  DynamoChecker checker(absl::Seconds(30), {});
  const eventual::Hint hint = TestHint(2, "k", 100);
  checker.HintStamped(4, hint);
  checker.HintStored(4, hint);
  checker.HintsRecovered(4, {});
  EXPECT_NE(checker.violation().find("lost durable hint"), std::string::npos) << checker.violation();
}

TEST(DynamoCheckerTest, AStagedRemovalTheCrashCutOffLeavesTheHintPending) {
  DynamoChecker checker(absl::Seconds(30), {});
  const eventual::Hint hint = TestHint(2, "k", 100);
  checker.HintStamped(4, hint);
  checker.HintStored(4, hint);
  checker.HintRemovalStaged(4, hint, eventual::HintOutcome::kDelivered);
  checker.HintsRecovered(4, {hint});  // the removal did not reach the disk
  EXPECT_EQ(checker.violation(), "");
  EXPECT_NE(checker.CheckHintsSettled(), "") << "the hint is still held: it has not ended";
  checker.HintsRecovered(4, {});  // a later restart that finds it gone, with no removal staged
  EXPECT_NE(checker.violation().find("lost durable hint"), std::string::npos) << checker.violation();
}

}  // namespace
}  // namespace crema::dynamo
