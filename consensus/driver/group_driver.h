// GroupDriver: everything one node does for one Raft group, around the pure core (raft.h):
// durable storage, the state machine, client futures (proposals, reads, membership changes,
// leadership transfer), checkpoints + log compaction, snapshot streaming, and error handling.
//
// A GroupDriver has no loop of its own: a host (RaftHost, raft_host.h) owns the node's one
// Service::kRaft handler and one fiber and runs, for all its groups at once, the cycle raft.h
// requires:
//   OnMessage / ProcessRequests / Tick   (inputs; never between Persist and ApplyAndAdvance)
//   Persist()          1. GetReady; install snapshot, append, hard state; Sync. Over the node's
//                         shared log the host splits it: BufferReady() for every ready group,
//                         ONE SharedLog::Sync, then FinishPersist(status) for each group
//   TakeMessages()     2. the messages to send - only after every group's Sync; MsgSnap requests
//                         start a snapshot stream instead of going on the wire
//   ApplyAndAdvance()  3. restore a received snapshot, apply committed entries, resolve futures,
//                         Advance, then maybe checkpoint + compact
//
// Client API (callable from any fiber or loop callback; never blocks): requests are queued and
// taken by the host's fiber at its next wake-up. Every future resolves exactly once:
//   Propose(data)       -> Applied{index, result} once applied on THIS node; INVALID_ARGUMENT
//                          over kMaxProposalBytes; UNAVAILABLE
//                          "not leader; leader hint: N" when the core refuses it; DEADLINE_EXCEEDED
//                          after proposal_timeout (outcome unknown: it may still commit).
//   ReadIndex()         -> a read index i once this node has applied >= i: a read of the local
//                          state machine is then linearizable (leader or follower; the core uses
//                          a lease if configured). UNAVAILABLE on rejection (not leader, hint),
//                          DEADLINE_EXCEEDED after read_timeout; unanswered requests are re-issued.
//   ProposeConfChange() -> the index of the change once applied here (leader only, else
//                          UNAVAILABLE with hint; FAILED_PRECONDITION if the core refuses it;
//                          ABORTED if another entry took its index).
//   TransferLeadership(to) -> the term in which `to` is seen as leader here; DEADLINE_EXCEEDED.
// Proposals are wrapped as [u32 origin node][u64 proposal id][data] so the proposer recognises
// its entry; ids start at a random value per incarnation. The StateMachine sees only `data`.
//
// Errors: any storage error while persisting stops the group at once: the Ready's messages are
// dropped (nothing unsynced is ever acknowledged or voted on), every future fails with the error,
// and the group ignores input. The host calls MaybeReopen on ticks: after reopen_backoff the group
// reopens its storage (recovery = the synced state), restores the state machine from the latest
// snapshot and rejoins. Storage tells reads corrupted in transit from corrupt files
// (consensus/storage/verified_read.h): the former are a retryable UNAVAILABLE, and DataLoss means
// the stored bytes are bad (Open still retries it open_attempts times). A group whose last open
// ended in DataLoss is `corrupt()` (traced "raft.corrupt") and never serves; it is not abandoned:
// reopening is retried with a backoff that doubles from reopen_backoff up to max_reopen_backoff,
// and a successful reopen clears corrupt(). So corrupt() stays true only while the durable state
// really fails verification - the signal for repairing the replica from its peers.
//
// Thread safety: none; everything runs on the node's event loop.
#ifndef CREMA_CONSENSUS_DRIVER_GROUP_DRIVER_H_
#define CREMA_CONSENSUS_DRIVER_GROUP_DRIVER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "consensus/conf_change.h"
#include "consensus/driver/message_batch.h"
#include "consensus/driver/state_machine.h"
#include "consensus/message_codec.h"
#include "consensus/raft.h"
#include "consensus/storage/raft_storage.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::raft {

struct Applied {
  Index index = 0;
  std::string result;  // what StateMachine::Apply returned
};

// When to checkpoint the state machine and compact the log (0 = never by that measure).
struct CheckpointPolicy {
  uint64_t every_entries = 0;    // applied entries since the last checkpoint
  uint64_t every_log_bytes = 0;  // EntryBytes of applied entries since the last checkpoint
};

struct SnapshotStreamOptions {
  size_t max_chunks_in_flight = 4;                       // window of unacknowledged chunks
  absl::Duration chunk_timeout = absl::Milliseconds(500);  // then resend from the last ack
  int max_timeouts = 8;  // consecutive timeouts before the stream is aborted (reported failed)
};

// Every Raft message a group sends must fit one network envelope (message_batch.h). A MsgApp
// carries at least one whole entry, so proposals are bounded (InvalidArgument beyond), and so is
// the per-message batching a group may be configured with (RaftHost::CreateGroup refuses more).
// Worst MsgApp: kMaxBytesPerMessage of entries plus <= 26 bytes of framing per entry (at most
// kMaxEntriesPerMessage of them) plus the message header, well under kMaxEnvelopedMessageBytes.
inline constexpr size_t kMaxProposalBytes = size_t{1} << 20;
inline constexpr uint64_t kMaxBytesPerMessage = uint64_t{1} << 20;
static_assert(kMaxBytesPerMessage + 26 * kMaxEntriesPerMessage + 4096 < kMaxEnvelopedMessageBytes);
static_assert(kMaxProposalBytes + 12 + 26 + 4096 < kMaxEnvelopedMessageBytes);

struct GroupOptions {
  Config raft;          // id (= this node's id) and group must be set; random_seed from the Env
  ConfState bootstrap;  // founding voters; empty = join an existing group (InitialState::Joining)
  std::string storage_prefix;  // empty = "raft/<group>/"
  storage::StorageOptions storage;
  absl::Duration proposal_timeout = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(5);
  size_t max_pending_proposals = 4096;
  size_t max_pending_reads = 4096;
  size_t max_queued_requests = 8192;  // kMaxQueuedRequests: client requests not yet taken
  CheckpointPolicy checkpoint;
  SnapshotStreamOptions snapshot_stream;
  int open_attempts = 3;
  absl::Duration reopen_backoff = absl::Seconds(1);
  absl::Duration max_reopen_backoff = absl::Seconds(30);  // while corrupt(): doubling up to this
};

// What a host's groups did, summed over them (RaftHostStats::groups), for metrics. Written by the
// drivers only; nothing reads them back into a decision, so they cannot change a run.
struct GroupCounters {
  uint64_t proposals = 0;           // entries the core accepted from this replica as leader
  uint64_t committed = 0;           // committed entries applied here (every entry type)
  uint64_t elections = 0;           // terms in which a replica here campaigned (pre-votes not)
  uint64_t leader_changes = 0;      // a replica here learned of a leader it did not know before
  uint64_t snapshots_sent = 0;      // snapshot streams completed to a follower
  uint64_t snapshots_received = 0;  // snapshots installed from a leader
};

class GroupDriver {
 public:
  // Hooks into the host: wake its fiber; send one message now (snapshot chunks).
  struct HostHooks {
    std::function<void()> kick;
    std::function<void(Message)> send_now;
    // The node's shared log (shared_log.h), where the group keeps its entries and hard state;
    // nullptr: the group's own WAL under its storage prefix. Must outlive the driver.
    storage::SharedLog* shared_log = nullptr;
    // Where the driver counts what it does; nullptr: not counted. Must outlive the driver.
    GroupCounters* counters = nullptr;
  };

  // Opens storage (retrying DataLoss), bootstraps a founding member, restores the state machine
  // and creates the core. Fiber-only. `state_machine` must outlive the driver.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GroupDriver>> Open(
      Env env, const GroupOptions& options, StateMachine* state_machine, HostHooks hooks);
  ~GroupDriver();  // cancels snapshot streams; pending futures fail with CANCELLED

  // --- client API (see the file comment) ---
  Future<Applied> Propose(std::string data);
  Future<Index> ReadIndex();
  Future<Index> ProposeConfChange(const ConfChange& change);
  Future<Term> TransferLeadership(ReplicaId to);

  // --- host cycle (host fiber only) ---
  void OnMessage(Message m);
  void ProcessRequests();
  void Tick(absl::Time now);
  bool HasReady() const;
  void Persist();  // BufferReady + the group's own Sync (if needed) + FinishPersist
  // Persist without the Sync: the Ready's records are buffered in the group's log. True if they
  // must be synced before the Ready's messages may go out (the host then syncs once for all).
  bool BufferReady();
  // The outcome of the Sync that covers what BufferReady buffered: an error stops the group
  // (nothing of the Ready is sent, applied or acknowledged).
  void FinishPersist(const absl::Status& synced);
  std::vector<Message> TakeMessages();
  void ApplyAndAdvance();
  // After the reopen backoff, tries to reopen a stopped group (see the file comment). Host fiber
  // only.
  void MaybeReopen(absl::Time now);
  // Stops the group for good (the host shuts down or destroys it): futures fail with `status`.
  // Callable from any fiber.
  void Stop(absl::Status status);
  // The failure detector reports node `id` down (quiescence, raft.h). Host fiber only.
  void ReportPeerDown(ReplicaId id) {
    if (!stopped()) raft_->ReportPeerDown(id);
  }
  // The failure detector sees a peer alive again (quiescence, raft.h). Host fiber only.
  void Unquiesce() {
    if (!stopped()) raft_->Unquiesce();
  }
  // True while the group needs nothing from the host until something wakes it (a message, a
  // request, a finished snapshot stream, a health report): its core is quiet and nothing is
  // pending, queued or in flight; a stopped group is dormant only once closed (a failed one
  // waits for MaybeReopen on ticks). The host skips dormant groups on its ticks and cycles, so
  // thousands of idle groups cost nothing (raft_host.h).
  bool Dormant() const;
  // The node's Executor is already destroyed (a simulated crash unwound every fiber): from now
  // on touch nothing of the Env; pending promises are dropped (their waiters are gone).
  void Abandon();

  // --- status ---
  GroupId group() const { return options_.raft.group; }
  const Raft& core() const { return *raft_; }  // REQUIRES: has_core()
  bool has_core() const { return raft_ != nullptr; }
  bool stopped() const { return !failure_.ok(); }
  bool corrupt() const { return corrupt_; }
  const absl::Status& failure() const { return failure_; }
  Index applied() const { return applied_; }
  uint64_t checkpoints_taken() const { return checkpoints_taken_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }
  uint64_t snapshots_sent() const { return snapshots_sent_; }
  uint64_t reopens() const { return reopens_; }
  std::string_view storage_prefix() const { return options_.storage_prefix; }
  storage::RaftStorage* storage() { return storage_.get(); }

 private:
  struct PendingProposal {
    Promise<Applied> promise;
    absl::Time deadline;
  };
  struct PendingRead {
    Promise<Index> promise;
    absl::Time deadline;
    absl::Time issued = absl::InfinitePast();  // last ReadIndex call into the core
    Index read_index = 0;                      // known once a ReadState came back
  };
  struct PendingConf {
    Promise<Index> promise;
    absl::Time deadline;
    Term term = 0;
  };
  struct PendingTransfer {
    Promise<Term> promise;
    absl::Time deadline;
    ReplicaId to = kNoReplica;
  };
  // A client request queued for the host fiber.
  struct Request {
    enum class Kind : uint8_t { kPropose, kRead, kConfChange, kTransfer } kind;
    uint64_t id = 0;        // proposal / read id
    std::string data;       // kPropose: wrapped command
    ConfChange change;      // kConfChange
    ReplicaId to = kNoReplica;  // kTransfer
    std::optional<Promise<Index>> index_promise;   // kConfChange
    std::optional<Promise<Term>> term_promise;     // kTransfer
  };
  // An outgoing snapshot stream (snapshot_transfer.cc), shared with its fiber.
  struct SendStream {
    static constexpr size_t kMaxQueuedAcks = 64;  // acks waiting for the fiber; more dropped
    SendStream(Executor* executor, ReplicaId to, Term term)
        : to(to), term(term), acks(executor, kMaxQueuedAcks) {}
    ReplicaId to;
    Term term;
    Channel<Message> acks;
    FiberId fiber = 0;
    // Set when the driver stops or dies: the fiber must not touch the driver any more.
    bool cancelled = false;
  };
  // The incoming snapshot stream being received, if any.
  struct ReceiveState {
    ReplicaId from = kNoReplica;
    Term term = 0;
    SnapshotMeta meta;
    std::unique_ptr<storage::SnapshotReceiver> receiver;
  };

  GroupDriver(Env env, const GroupOptions& options, StateMachine* sm, HostHooks hooks);
  // group_driver.cc
  absl::Status OpenOnce();
  absl::Status OpenWithRetries();
  absl::Status BufferReadyRecords(const Ready& rd);
  void ApplyEntry(const Entry& entry);
  absl::Status MaybeCheckpoint();
  void Fail(absl::Status status);
  absl::Time Now() const { return env_.clock->MonotonicNow(); }
  // Records "raft.role" (group, role, term) in the trace when either changed since last time.
  void TraceRole();
  absl::Status NotLeader(absl::string_view why) const;
  // group_requests.cc
  bool Enqueue(Request request);
  void HandleRequest(Request& request);
  void IssueRead(uint64_t id, PendingRead& read);
  void OnReadStates(const std::vector<ReadState>& states);
  void OnRejectedReads(const std::vector<std::string>& contexts);
  void ResolveReads();
  void ResolveConfsAndTransfers();
  void ExpireRequests(absl::Time now);
  void FailAll(const absl::Status& status);
  // snapshot_sender.cc / snapshot_receiver.cc
  void StartSnapshotStream(ReplicaId to);
  void StreamSnapshot(std::shared_ptr<SendStream> stream);
  void OnSnapshotAck(const Message& m);
  void CancelStreams();
  void OnSnapshotChunk(const Message& m);
  void AckChunk(const Message& chunk, uint64_t offset, bool reject);
  absl::Status InstallReceivedSnapshot(const SnapshotMeta& meta);

  Env env_;
  GroupOptions options_;
  StateMachine* state_machine_;
  HostHooks hooks_;
  std::unique_ptr<storage::RaftStorage> storage_;
  std::unique_ptr<Raft> raft_;
  absl::Status failure_;
  bool corrupt_ = false;
  bool executor_gone_ = false;
  bool closed_ = false;  // Stop()ped for good: never reopened
  absl::Time failed_at_ = absl::InfinitePast();
  absl::Duration reopen_backoff_;  // the current one: grows while corrupt()
  absl::Time now_ = absl::InfinitePast();  // time of the latest Tick

  // The Ready between Persist and ApplyAndAdvance.
  std::optional<Ready> ready_;
  bool ready_needs_sync_ = false;  // BufferReady's answer, until FinishPersist
  std::vector<ReplicaId> snapshot_requests_;
  Index applied_ = 0;
  Index last_checkpoint_ = 0;
  uint64_t bytes_since_checkpoint_ = 0;

  std::deque<Request> requests_;
  uint64_t next_id_ = 1;
  absl::btree_map<uint64_t, PendingProposal> proposals_;
  absl::btree_map<uint64_t, PendingRead> reads_;
  absl::btree_map<Index, PendingConf> confs_;
  std::vector<PendingTransfer> transfers_;

  absl::btree_map<ReplicaId, std::shared_ptr<SendStream>> streams_;
  std::vector<std::pair<ReplicaId, bool>> stream_reports_;  // finished streams, for the core
  std::unique_ptr<ReceiveState> receive_;

  uint64_t checkpoints_taken_ = 0;
  uint64_t snapshots_installed_ = 0;
  // The role and term last written to the trace ("raft.role", for the run viewer).
  Role traced_role_ = Role::kFollower;
  Term traced_term_ = 0;
  ReplicaId traced_leader_ = kNoReplica;  // for GroupCounters::leader_changes
  Term counted_campaign_term_ = 0;        // for GroupCounters::elections
  uint64_t snapshots_sent_ = 0;
  uint64_t reopens_ = 0;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_GROUP_DRIVER_H_
