// DynamoChecker: the dynamo scenario's oracles. It watches the servers through the
// EventualObserver hooks and checks the clients' history (dynamo_client.h) and the replicas'
// final state. Each oracle is shown to bite by a planted bug in dynamo_oracles_test.cc.
//
//   Reads (`CheckReads`): under LWW, "the latest acknowledged write or a later one" means a read's
//     returned version (of a value or a tombstone) is >= the greatest version acknowledged, for
//     that key, to a write that completed before the read was invoked. A found value must come
//     from a put of that key that was invoked before the read completed, was not refused, and —
//     if acknowledged — carries exactly that put's version. (Strict quorums: every read; sloppy
//     quorums: only reads invoked after the healed cluster converged — the guarantee a sloppy
//     quorum gives up, docs/dynamo.md.)
//   Convergence: checked by the scenario with DynamoCluster::Converged within a bound.
//   Durability (`CheckDurability`): after convergence, every key's record on its owners has a
//     version >= the greatest acknowledged write to it — given that at most min(N − W, W − 1)
//     replicas were wiped for good (the scenario keeps to that budget).
//   Hints: every stored hint ends exactly once — delivered (and the target then holds that version
//     or newer), superseded, expired (no sooner than the hint window after the stand-in stamped
//     it, less the stand-in's forward clock steps and drift; the stamp is taken as the commit that
//     stores the hint begins — hint_set.h), orphaned (target left the ring), or lost with a wiped stand-in; a
//     restarted stand-in recovers every hint it held; none is left once the cluster has healed.
//   Anti-entropy moves only divergent keys: `SnapshotDivergence` is taken once the clients have
//     stopped and in-flight requests have ended, just before the heal; from then until
//     `StopCheckingTransfers`, every record that an anti-entropy or hand-off exchange begun after
//     the snapshot sends must be of a key that was divergent at the snapshot (its owners
//     disagreed, one lacked it, a non-owner held it, or a hint for it was pending). An exchange
//     that compared trees before the snapshot may still carry a key made equal meanwhile by
//     another path (seed 2985): its transfers are counted (transfers_exempt), not judged.
//     A node that was down at the snapshot has unknown contents: its transfers, and keys of shards
//     it owns, are exempt.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CHECKER_H_
#define CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "node/eventual/driver/config.h"
#include "sim/scenarios/dynamo/dynamo_client.h"
#include "sim/scenarios/dynamo/dynamo_cluster.h"

namespace crema::dynamo {

class DynamoChecker final : public eventual::EventualObserver {
 public:
  // `hint_window`: the servers' hint window; `clock_slack(node)`: how far that node's wall clock
  // may have run ahead of virtual time (forward steps + drift), for the expiry check.
  DynamoChecker(absl::Duration hint_window, absl::btree_map<NodeId, absl::Duration> clock_slack);

  void set_cluster(DynamoCluster* cluster) { cluster_ = cluster; }
  // A node's disk was wiped: the hints it held are lost with it.
  void DiskWiped(NodeId node);

  // --- EventualObserver ---
  void HintStamped(NodeId stand_in, const eventual::Hint& hint) override;
  void HintStored(NodeId stand_in, const eventual::Hint& hint) override;
  void HintEnded(NodeId stand_in, const eventual::Hint& hint, eventual::HintOutcome outcome) override;
  void HintRemovalStaged(NodeId stand_in, const eventual::Hint& hint,
                         eventual::HintOutcome outcome) override;
  void HintsRecovered(NodeId stand_in, const std::vector<eventual::Hint>& hints) override;
  void HintsLost(NodeId stand_in) override;
  void ExchangeStarted(NodeId initiator, uint64_t exchange) override;
  void RecordTransferred(NodeId initiator, uint64_t exchange, NodeId from, NodeId to,
                         const std::string& key, const eventual::Record& record) override;
  void ExchangeDone(const eventual::ExchangeReport& report) override;

  // --- Oracles (each returns the first violation, or "") ---
  // Reads invoked at or after `from_ns` are checked (0: all).
  std::string CheckReads(const DynamoLedger& ledger, int64_t from_ns) const;
  std::string CheckDurability(const DynamoLedger& ledger);
  // After the healed cluster drained its hints.
  std::string CheckHintsSettled() const;
  // Records which keys are divergent now; from here on every transfer must be of one of them.
  void SnapshotDivergence();
  void StopCheckingTransfers() { checking_transfers_ = false; }
  const std::string& violation() const { return violation_; }  // found by the hooks

  size_t divergent_keys() const { return divergent_.size(); }
  uint64_t transfers_checked() const { return transfers_checked_; }
  // Transfers after the snapshot by exchanges that compared trees before it (not judged).
  uint64_t transfers_exempt() const { return transfers_exempt_; }
  uint64_t hints_stored() const { return hints_stored_; }
  uint64_t hints_ended() const { return hints_ended_; }
  uint64_t exchange_bytes() const { return exchange_bytes_; }
  uint64_t exchange_keys() const { return exchange_keys_; }

 private:
  using HintKey = std::tuple<NodeId, NodeId, std::string, eventual::Version>;  // stand-in, target, key, version
  void Fail(std::string why);
  int64_t Now() const;
  // Ends a pending hint with `outcome`, decided at virtual time `at_ns` (the expiry check).
  void EndHint(const HintKey& key, const eventual::Hint& hint, eventual::HintOutcome outcome,
               int64_t at_ns);
  void CheckDelivered(NodeId stand_in, const eventual::Hint& hint);

  absl::Duration hint_window_;
  absl::btree_map<NodeId, absl::Duration> clock_slack_;
  DynamoCluster* cluster_ = nullptr;
  // The window's start, in virtual time: when the stand-in stamped the hint (HintStamped), which
  // precedes HintStored by the commit's duration — milliseconds, or a whole pause.
  absl::btree_map<HintKey, int64_t> stamped_hints_;  // -> virtual time stamped, until stored
  absl::btree_map<HintKey, int64_t> pending_hints_;  // -> virtual time stamped
  struct StagedRemoval {
    eventual::Hint hint;
    eventual::HintOutcome outcome;
    int64_t staged_ns = 0;
  };
  // Removals written to a pending commit and not yet reported ended: if the stand-in crashes
  // inside that commit, recovery decides whether the removal became durable.
  absl::btree_map<HintKey, StagedRemoval> staged_removals_;
  absl::btree_set<NodeId> wiped_;
  bool checking_transfers_ = false;
  absl::btree_set<std::string> divergent_;
  absl::btree_map<std::string, std::string> snapshot_holders_;  // key -> "n1:version n2:..." (reports)
  absl::btree_set<NodeId> down_at_snapshot_;
  std::optional<eventual::EventualRing> snapshot_ring_;
  uint64_t transfers_checked_ = 0;
  uint64_t transfers_exempt_ = 0;
  // Exchanges begun after the snapshot, (initiator, number): only their transfers are judged —
  // one begun before it may carry a key that was divergent when it compared trees and was made
  // equal, by another path, before the snapshot (seed 2985 of the dynamo sweep).
  absl::btree_set<std::pair<NodeId, uint64_t>> judged_exchanges_;
  uint64_t hints_stored_ = 0;
  uint64_t hints_ended_ = 0;
  uint64_t exchange_bytes_ = 0;
  uint64_t exchange_keys_ = 0;
  std::string violation_;
};

}  // namespace crema::dynamo

#endif  // CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CHECKER_H_
