// PingService: the example protocol — heartbeats plus a replicated grow-only counter — written once
// against crema::Env. It runs unchanged inside the simulator (sim/ping_scenario.h) and as real
// processes through transport/.
//
// Behaviour:
//   * Every `heartbeat_interval` the node sends each peer "hb" carrying its whole G-Counter
//     (ping_codec.h); receivers merge it (max per entry), so all states converge once messages flow.
//     A peer heard from within `peer_timeout` (monotonic time) is alive (`AlivePeers`).
//   * A client's "add <id>" increments this node's own entry. It is ACKNOWLEDGED ONLY AFTER the new
//     state is durable: the committer fiber batches pending adds, writes the state file atomically
//     (write "ping/state.tmp", Sync, Rename to "ping/state") and only then replies "ack <id> <total>".
//     If persisting fails (disk full, I/O error) the adds are dropped unacknowledged.
//   * Adds are deduplicated per client by request id (a durable window of the last
//     kDedupWindow ids per client), so network duplicates never count twice, even across restarts.
//     A request older than the window is ignored. Clients must use increasing request ids.
//   * "get <id>" replies at once with "value <id> <total> <local_count>" from memory.
//   * State file: checksummed (XXH3, state_file.h). A corrupt or torn file is detected and never
//     silently used: reads are retried (corruption on read is transient); if it stays corrupt the
//     node starts *degraded* — it merges and serves reads but refuses adds, since it can no longer
//     prove its own count is at least what it acknowledged before.
//   * Until recovery finishes, incoming messages are dropped (peers and clients retry).
//   * Malformed messages are counted in `stats().malformed_messages` and ignored.
//   * BUGGIFY sites (simulation only): "ping.skip_heartbeat", "ping.drop_incoming",
//     "ping.slow_commit" — each forces a behaviour the real system may show anyway.
//
// Crash safety: the node's own entry in memory only grows after a successful sync, so what peers
// see never exceeds what the node recovers from disk.
//
// Thread safety: none; everything runs on the node's event loop. The Env must outlive the service.
// Destroying the service after its Executor (a crash) is fine: the destructor touches no Env object.
#ifndef CREMA_NODE_PING_PING_SERVICE_H_
#define CREMA_NODE_PING_PING_SERVICE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/env.h"
#include "node/ping/g_counter.h"
#include "node/ping/state_file.h"
#include "node/sync.h"

namespace crema::ping {

struct PingConfig {
  std::vector<NodeId> peers;  // other servers (not including self)
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  absl::Duration peer_timeout = absl::Milliseconds(1000);
  // TEST ONLY (sim/determinism_test, cross_process_test): orders heartbeats by a hash salted with
  // a stack address, which differs between processes — a deliberately planted non-determinism that the simulator's
  // self-check must catch. Never set it anywhere else.
  bool plant_nondeterminism_for_test = false;
  // TEST ONLY (the farm/shrinker/viewer demo: tools/seed_farm, tools/shrinking tests): a
  // deliberately planted durability bug — the state file is renamed into place without syncing
  // it first, so a crash can lose acknowledged adds. Never set it anywhere else.
  bool planted_bug_rename_without_sync_for_test = false;
};

struct PingStats {
  uint64_t malformed_messages = 0;
  uint64_t dropped_before_recovery = 0;
  uint64_t adds_applied = 0;       // distinct adds made durable
  uint64_t adds_duplicate = 0;     // re-sent/duplicated adds answered without applying
  uint64_t adds_rejected = 0;      // too old, too many clients, queue full or degraded
  uint64_t persist_failures = 0;   // batches dropped because the state could not be made durable
  uint64_t corrupt_reads = 0;      // state-file reads that failed their checksum
  uint64_t heartbeats_received = 0;
};

class PingService {
 public:
  static constexpr size_t kMaxPendingAdds = 1024;   // queued adds awaiting the committer
  static constexpr size_t kMaxAddBatch = 64;        // adds made durable by one state write
  static constexpr int kMaxStateReadAttempts = 8;   // re-reads of a state file failing its checksum
  static constexpr char kStateFileName[] = "ping/state";
  static constexpr char kTempStateFileName[] = "ping/state.tmp";

  PingService(Env env, PingConfig config);
  ~PingService();
  PingService(const PingService&) = delete;
  PingService& operator=(const PingService&) = delete;

  // Installs the message handler and spawns the fibers: recover state from disk, then the heartbeat
  // loop and the add committer. FAILED_PRECONDITION if called twice.
  [[nodiscard]] absl::Status Start();

  uint64_t Total() const { return state_.counter.Total(); }
  uint64_t LocalCount() const { return state_.counter.Get(env_.self); }
  // Peers heard from within peer_timeout, ascending.
  std::vector<NodeId> AlivePeers() const;

  bool recovered() const { return recovered_; }
  bool degraded() const { return degraded_; }
  const GCounter& counter() const { return state_.counter; }
  const PingStats& stats() const { return stats_; }

 private:
  struct PendingAdd {
    NodeId client;
    uint64_t request_id;
  };

  void OnMessage(NodeId from, std::string message);
  void OnAdd(NodeId from, uint64_t request_id);
  void Reply(NodeId to, const std::string& message);
  void Recover();
  void HeartbeatLoop();
  void CommitLoop();
  // Makes one batch durable and acknowledges it (committer fiber only).
  void CommitBatch(std::vector<PendingAdd> batch);
  // The planted bug's variant of WriteStateFile (see PingConfig).
  static absl::Status WriteStateFileWithoutSync(Disk& disk, const PersistedState& state);
  // Sends "ack <id> <total>" for each of `adds`.
  void Acknowledge(const std::vector<PendingAdd>& adds);
  std::vector<NodeId> HeartbeatOrder();
  // True when BUGGIFY site `site` fires (never without a Buggify, e.g. in production).
  bool Buggified(std::string_view site);

  Env env_;
  PingConfig config_;
  bool started_ = false;
  bool recovered_ = false;
  bool degraded_ = false;
  PersistedState state_;  // durable state as of the last successful write (plus merges)
  absl::btree_map<NodeId, absl::Time> last_heard_;  // monotonic time of the last heartbeat
  std::unique_ptr<Channel<PendingAdd>> pending_adds_;
  PingStats stats_;
};

}  // namespace crema::ping

#endif  // CREMA_NODE_PING_PING_SERVICE_H_
