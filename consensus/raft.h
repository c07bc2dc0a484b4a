// The pure Raft protocol core: one replica of one Raft group, as a deterministic state machine.
//
// No I/O, fibers, clock or global randomness inside. Inputs: `Tick(now)`, `Step(message)`,
// proposals and requests. Outputs: a `Ready` — what to persist, send and apply. The driver
// (a fiber per node, or a multi-Raft loop) runs this cycle:
//
//   while (running) {
//     feed inputs: raft.Tick(now) every tick_interval; raft.Step(m) per received message; ...
//     if (raft.HasReady()) {
//       Ready rd = raft.GetReady();
//       1. PERSIST: install rd.snapshot (if any) - it replaces the whole stored log (and the
//          state machine, from the staged snapshot data); then append rd.entries (entries at
//          index i replace any stored suffix from i); write
//          rd.hard_state (if any); then Sync if rd.must_sync.
//       2. SEND rd.messages - only after the Sync: votes and append acknowledgements promise
//          durable state. MsgSnap messages are requests to stream the latest snapshot (see
//          message.h).
//       3. APPLY rd.committed_entries to the state machine, in order (kConfChange entries are
//          applied by the core itself in Advance; the state machine may ignore them), and serve
//          rd.read_states once the state machine has applied up to each ReadState::index.
//       4. raft.Advance();
//     }
//   }
//
// REQUIRES: between GetReady() and Advance() the driver calls no mutating method (Tick, Step,
// Propose, ...); read-only accessors are fine. Advance() acknowledges the whole Ready.
//
// Time: ticks are the core's unit of time (election_tick, heartbeat_tick). The monotonic time
// (`absl::Time`, from crema::Clock::MonotonicNow) is passed into Tick and ReadIndex and used only
// for leader leases; it must never decrease.
//
// Randomness: the election timeout is drawn uniformly from [election_tick, 2*election_tick) using
// a crema::Random owned by the core and seeded from Config::random_seed.
//
// Multi-Raft: every message carries the group id; the host routes messages by (group, to).
// Heartbeat coalescing: MsgHeartbeat/MsgHeartbeatResp (`IsHeartbeat(m)` in message.h) of many
// groups between the same two nodes may travel in one network message. The host collects them
// from each group's Ready::messages, batches them per destination node, and on arrival steps
// each one into its own group's core; heartbeats need no order relative to other messages, and
// losing a batch only costs liveness. All other messages are sent individually (in Ready order).
//
// Quiescence (Config::quiesce, off by default): idle groups go quiet, as in CockroachDB. At a
// heartbeat tick, a leader whose every follower not reported down is caught up (replicate state,
// match == last index == commit == applied) and which has no pending proposals, reads, conf
// change or transfer sends one last MsgHeartbeat with `quiesce` set (it carries the commit
// index, so followers learn it) and then sends nothing more: ticks do nothing, not even
// check-quorum (a quiet leader never steps down for silence). A follower that receives it stops
// its election timer. The group wakes on any proposal, read, transfer or campaign, on any message
// stepped in (except MsgHeartbeatResp at the leader and further quiesce heartbeats), and on
// `Unquiesce()` / `ReportPeerDown(id)` from the host. A woken leader restarts its heartbeats and
// a fresh check-quorum window; a woken follower restarts its election timer from zero.
//   The host must wire node-level liveness (the failure detector) to ReportPeerDown: a follower
// of a quiet group whose leader's node died would otherwise wait forever. ReportPeerDown(leader)
// restarts its election timer, so it campaigns after a normal election timeout (it does not
// forget the leader at once: that keeps the check-quorum/lease promise, so a false suspicion
// costs at most an election). When the detector sees a node alive again, the host calls
// Unquiesce() on the groups it shares with it, so a leader that ignored it while quiet (or a
// partitioned old leader, still quiet) is heard from again. A host that ticks thousands of groups may skip ticking quiet
// ones (`quiesced()`); Tick on a quiet group is a cheap no-op.
//   Safety: quiescence only stops timers and heartbeats, never changes what is voted, appended,
// committed or read, so it cannot affect safety, only liveness. A lease held by a quiet leader
// simply expires (no new heartbeat rounds); a quiet follower keeps refusing votes for its leader
// (its timer is stopped), which only lengthens the lease promise.
//
// Thread safety: none. One core belongs to one event loop.
#ifndef CREMA_CONSENSUS_RAFT_H_
#define CREMA_CONSENSUS_RAFT_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "consensus/conf_change.h"
#include "consensus/log.h"
#include "consensus/message.h"
#include "consensus/progress.h"
#include "consensus/read_only.h"
#include "consensus/types.h"
#include "node/random.h"

namespace crema::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

struct Config {
  ReplicaId id = kNoReplica;
  GroupId group = 0;
  // Followers start an election after [election_tick, 2*election_tick) ticks without a leader.
  int election_tick = 10;
  // A leader sends heartbeats every heartbeat_tick ticks. REQUIRES: < election_tick.
  int heartbeat_tick = 1;
  // Pre-vote (thesis §9.6): a candidate first checks it could win before bumping its term.
  bool pre_vote = true;
  // Check-quorum: a leader steps down after an election timeout without hearing from a quorum,
  // and followers that heard from a leader within election_tick ignore vote requests.
  bool check_quorum = true;
  // Flow control per follower in Replicate state.
  size_t max_inflight_msgs = 64;
  uint64_t max_inflight_bytes = uint64_t{8} << 20;
  // Batching limits of one MsgApp (at least one entry is always sent).
  size_t max_entries_per_msg = 256;
  uint64_t max_bytes_per_msg = uint64_t{1} << 20;
  // Proposals are refused (ResourceExhausted) beyond this many uncommitted bytes in the log.
  uint64_t max_uncommitted_bytes = uint64_t{64} << 20;
  // Pending ReadIndex requests beyond this are refused (ResourceExhausted).
  size_t max_pending_reads = 4096;
  // Compact(i) keeps this many entries before i so slow followers can catch up from the log.
  uint64_t compaction_keep_entries = 0;
  // A leader's Compact also keeps the entries its live followers (heard from since the last
  // check-quorum round, not being sent a snapshot, not reported down) still need, up to this many
  // entries and bytes (EntryBytes) more: a follower a few entries behind a checkpoint then
  // catches up from the log instead of needing the whole snapshot (as etcd keeps
  // SnapshotCatchUpEntries and CockroachDB truncates no further than its followers need). 0: off.
  uint64_t compaction_follower_keep_entries = 1024;
  uint64_t compaction_follower_keep_bytes = uint64_t{1} << 20;
  // Leader leases (thesis §6.4.1). Used only if lease_based_reads && check_quorum &&
  // max_clock_drift > 0. lease = (election_tick - 1) * tick_interval - max_clock_drift, counted
  // from the send time of the latest heartbeat round a quorum acknowledged.
  bool lease_based_reads = false;
  absl::Duration tick_interval = absl::Milliseconds(100);
  absl::Duration max_clock_drift = absl::ZeroDuration();
  // Seeds the core's own Random stream (randomised election timeout).
  uint64_t random_seed = 0;
  // Idle groups go quiet (see "Quiescence" above). Off by default: it needs a host that calls
  // ReportPeerDown from its failure detector, or followers of a quiet group whose leader died
  // never campaign.
  bool quiesce = false;

  [[nodiscard]] absl::Status Validate() const;
};

// Durable state a replica restarts from (what consensus/storage loads).
struct InitialState {
  HardState hard_state;
  SnapshotMeta snapshot;      // index 0 = no snapshot (a replica that will join a group)
  std::vector<Entry> entries; // contiguous; may start before snapshot.index + 1 (a kept tail)

  // The state every founding member of a new group starts from: a snapshot at index 1, term 1,
  // holding `conf`, and an empty state machine. Replicas added later start from `Joining()` and
  // receive that (or a later) snapshot from the leader.
  static InitialState Bootstrap(const ConfState& conf);
  static InitialState Joining() { return {}; }

  // Makes what storage recovered after a failed write acceptable to Raft::Create. A Ready's
  // records (snapshot, entries, then the hard state) are written in order and synced together;
  // when the write or the sync fails, the group stops and reopens from disk, which then holds the
  // synced state plus ANY PREFIX of the unsynced records — e.g. a new leader's entries of term
  // T+1 without the hard state that raised the term to T+1. Such a state is repaired, not
  // refused (refusing it kept the replica down for good):
  //   * term := the highest term on disk (hard state, snapshot, entries); when that raises it,
  //     vote := none. Safe: a term that only unsynced records carry was never synced as a hard
  //     state, so no vote in it was ever sent (messages go out only after their Ready's sync)
  //     and no entry of it was acknowledged; forgetting an unsent vote breaks no promise.
  //   * commit := at most the last index on disk (the commit index is local knowledge; a lower
  //     one is always safe).
  // Returns true if anything changed. Everything else stays for Create's validation.
  bool RepairUnsyncedTail();
};

// A ReadIndex result: once the state machine has applied `index`, reads for `context` are
// linearizable.
struct ReadState {
  Index index = 0;
  std::string context;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

struct Ready {
  std::optional<HardState> hard_state;         // set when changed
  std::optional<SnapshotMeta> snapshot;        // a received snapshot to install
  std::vector<Entry> entries;                  // to append (replacing any suffix from front)
  std::vector<Message> messages;               // to send after persisting
  std::vector<Entry> committed_entries;        // to apply, in order
  std::vector<ReadState> read_states;
  // Contexts of this node's ReadIndex requests that will never be served (leadership lost before
  // confirmation, too many pending reads, or the leader refused a forwarded request): fail them
  // now (the client may retry, e.g. at the new leader). A read that is neither served nor
  // rejected (the request or its answer was lost) must still be timed out by the host.
  std::vector<std::string> rejected_reads;
  bool must_sync = false;                      // hard state, entries or snapshot changed
};

class Raft {
 public:
  // Validates the config and the loaded state (bad storage input is an error, not a crash).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Raft>> Create(const Config& config,
                                                                    const InitialState& state);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // --- inputs ---------------------------------------------------------------------------------
  // Advances logical time by one tick. `now` is the monotonic time (for leases only).
  void Tick(absl::Time now);
  // Feeds a message from a peer (or a local one: MsgProp/MsgReadIndex/MsgTransferLeader).
  // Returns an error for messages that are malformed or addressed elsewhere; stale ones are
  // dropped silently (OK).
  absl::Status Step(const Message& m);
  // Starts an election now (tests, bootstrap, manual failover). Ignored if not a voter.
  void Campaign();
  // Appends `data` (leader) or forwards it to the leader (follower). Unavailable if there is no
  // known leader; FailedPrecondition during a leadership transfer; ResourceExhausted if too much
  // is uncommitted.
  absl::Status Propose(std::string data);
  // Leader only (FailedPrecondition otherwise): see conf_change.h for the rules.
  absl::Status ProposeConfChange(const ConfChange& change);
  // Requests a linearizable read point; the result comes back in Ready::read_states with the same
  // context (from this node or, on a follower, through the leader), or in Ready::rejected_reads.
  // Unavailable without leader. A new leader queues reads until it has committed an entry of its
  // term (its commit index may lag the previous leader's until then, thesis §6.4), then serves
  // them; at most Config::max_pending_reads wait (queued or confirming), beyond that they are
  // rejected.
  absl::Status ReadIndex(std::string context, absl::Time now);
  // Leader: transfers leadership to `to` (a voter); aborted after an election timeout.
  // Follower: forwards the request to the leader.
  absl::Status TransferLeadership(ReplicaId to);
  // The driver's report on a snapshot stream requested by a MsgSnap to `to`.
  void ReportSnapshot(ReplicaId to, bool success);
  // The driver could not deliver to `to`: the leader goes back to probing it.
  void ReportUnreachable(ReplicaId to);
  // Wakes a quiet group (see "Quiescence") and, on a leader, forgets earlier ReportPeerDown
  // reports (call it when the failure detector sees a node alive again).
  void Unquiesce();
  // The host's failure detector reports that the node of replica `id` is down. A follower whose
  // leader it is wakes up (its election timer restarts, so it campaigns after a timeout); a
  // leader wakes, goes back to probing `id`, and ignores `id` when deciding to quiesce until it
  // hears from it again. Never affects safety: a false report costs at most an election.
  void ReportPeerDown(ReplicaId id);
  // The state machine has a snapshot at `snapshot_index` (<= applied): drop the log up to
  // snapshot_index - compaction_keep_entries and offer that snapshot to lagging followers.
  // FailedPrecondition beyond `applied`, or while a received snapshot is not yet installed (the
  // `applied` of the core is then ahead of the state machine's).
  [[nodiscard]] absl::Status Compact(Index snapshot_index);

  // --- outputs --------------------------------------------------------------------------------
  bool HasReady() const;
  Ready GetReady();
  void Advance();

  // --- status ---------------------------------------------------------------------------------
  ReplicaId id() const { return config_.id; }
  GroupId group() const { return config_.group; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  // The highest term the host has made durable (handed over in a Ready, then Advance): until it
  // reaches term(), a new term exists only in memory — e.g. a single voter that just elected
  // itself — and nothing of it has left this node (a Ready's messages go out after its Sync).
  Term durable_term() const { return durable_term_; }
  ReplicaId vote() const { return vote_; }
  ReplicaId leader() const { return leader_; }
  Index commit() const { return log_.committed(); }
  Index applied() const { return log_.applied(); }
  const ConfState& conf() const { return conf_; }
  const RaftLog& log() const { return log_; }
  const Config& config() const { return config_; }
  ReplicaId transfer_target() const { return transfer_target_; }
  // Leader only: the progress of each replica (including itself). Empty otherwise.
  const absl::btree_map<ReplicaId, Progress>& progress() const { return progress_; }
  HardState hard_state() const { return {term_, vote_, log_.committed()}; }
  // True if a leader lease is valid at `now` (leader only).
  bool LeaseValid(absl::Time now) const;
  // True while the group is quiet on this replica (see "Quiescence").
  bool quiesced() const { return quiesced_; }
  // Ticks since the last election-timeout boundary (on a leader: since its last check-quorum).
  // For tests and nemeses that time a fault against that boundary.
  int election_elapsed() const { return election_elapsed_; }
  // One line for operators (CREMA.DIGESTS, logs): role, term, leader, commit/applied, quiet, and
  // on a leader each replica's progress ("2: replicate match=7 next=8 down").
  std::string StatusLine() const;

 private:
  Raft(const Config& config, RaftLog log, const HardState& hs);
  // raft_ready.cc: where Compact may cut the log (entries <= the result go), given where the
  // snapshot and compaction_keep_entries would cut it (see compaction_follower_keep_*).
  Index KeepWhatFollowersNeed(Index compact_to) const;

  // raft.cc: roles, terms, elections, ticks.
  void BecomeFollower(Term term, ReplicaId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void ResetTerm(Term term);
  void StartElection(bool pre_vote, bool leader_transfer);
  void TickElection();
  void TickHeartbeat();
  bool PromotableVoter() const;
  bool InLease() const;
  void ResetRandomizedElectionTimeout();
  absl::Status StepTerm(const Message& m, bool* drop);
  void HandleVoteRequest(const Message& m);
  void HandleVoteResponse(const Message& m);
  void Send(Message m);
  size_t QuorumSize() const;

  // raft_leader.cc: replication, commit, reads, transfer.
  absl::Status StepLeader(const Message& m);
  absl::Status AppendAsLeader(std::vector<Entry> entries);
  absl::Status CheckConfChangeAllowed(const ConfChange& change) const;
  bool LeaseReadsEnabled() const;
  void StepDownAfterRemoval();
  void FlushAppends();
  bool SendAppend(ReplicaId to, Progress& pr, bool allow_empty);
  void SendSnapshotRequest(ReplicaId to, Progress& pr);
  void SendHeartbeat(ReplicaId to, const Progress& pr, uint64_t round, bool quiesce);
  void BroadcastHeartbeat(bool quiesce = false);
  bool ShouldQuiesce() const;
  void Wake();
  void BroadcastAppendNow();
  void HandleAppendResponse(const Message& m, Progress& pr);
  void HandleHeartbeatResponse(const Message& m, Progress& pr);
  void NudgeFollower(ReplicaId id, Progress& pr);
  bool MaybeCommit();
  void ReleaseConfirmedReads();
  void HandleReadIndexAsLeader(std::string context, ReplicaId from);
  void ServeReadAsLeader(std::string context, ReplicaId from);
  void ServeReadsAwaitingCommit();
  void RejectRead(ReplicaId from, std::string context);
  void RespondRead(ReplicaId to, Index index, std::string context);
  absl::Status StartTransfer(ReplicaId to);
  void SendTimeoutNow(ReplicaId to);
  bool CommittedInCurrentTerm() const;
  uint64_t QuorumAckedRound() const;
  void ResetProgress();

  // raft_follower.cc: log replication as a follower, snapshots.
  absl::Status StepFollower(const Message& m);
  absl::Status StepCandidate(const Message& m);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);

  // raft_ready.cc: applying configuration changes, Ready/Advance bookkeeping.
  void ApplyConfEntry(const Entry& entry);
  void OnConfChanged();
  ConfState ConfAt(Index index) const;

  Config config_;
  Random random_;
  Role role_ = Role::kFollower;
  Term term_ = 0;
  ReplicaId vote_ = kNoReplica;
  ReplicaId leader_ = kNoReplica;
  RaftLog log_;
  ConfState conf_;
  // Configuration in effect from each index on (applied changes not yet compacted away).
  absl::btree_map<Index, ConfState> conf_history_;
  absl::btree_map<ReplicaId, Progress> progress_;
  absl::btree_map<ReplicaId, bool> votes_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  // After a restart with leases on, refuse votes for one election timeout (we may have promised
  // a lease to a leader before crashing: acknowledging its heartbeat promised not to vote for
  // anyone else for election_tick ticks, and that promise is not durable). Not needed with
  // leases off: ReadIndex confirms leadership with a heartbeat round sent after the read
  // arrived and never relies on followers withholding votes; the one-vote-per-term rule is
  // already durable (HardState::vote); and the check-quorum vote refusal it would extend only
  // guards against disruptive candidates (liveness, not safety).
  bool restart_quarantine_ = false;
  ReplicaId transfer_target_ = kNoReplica;
  int transfer_elapsed_ = 0;
  Index pending_conf_index_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  bool broadcast_pending_ = false;  // new entries or acks: push appends at GetReady
  bool commit_changed_ = false;     // leader commit moved: tell every follower at GetReady
  ReadOnly read_only_;
  // Reads that arrived before this leader committed an entry of its term (bounded, together with
  // read_only_, by Config::max_pending_reads).
  std::deque<ReadRequest> reads_awaiting_commit_;
  bool quiesced_ = false;
  // The leader has appended a conf change that removes or demotes itself: it accepts no more
  // proposals, so its log ends at that entry and the voters that committed it are as up to date
  // as the departing leader (otherwise a remaining voter could need the departed node's vote and
  // never get it, its log being shorter).
  bool self_removal_pending_ = false;
  absl::Time now_ = absl::InfinitePast();
  std::vector<Message> outbox_;
  std::vector<ReadState> read_states_;
  std::vector<std::string> rejected_reads_;
  HardState last_ready_hard_state_;
  Term durable_term_ = 0;
  // Bookkeeping of the outstanding Ready (between GetReady and Advance).
  Term ready_term_ = 0;  // the term the outstanding Ready persists
  bool ready_outstanding_ = false;
  Index ready_last_entry_ = 0;
  Term ready_last_term_ = 0;
  std::optional<SnapshotMeta> ready_snapshot_;
  Index ready_applied_to_ = 0;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_RAFT_H_
