// RealCluster: the crema_server processes of one chaos run, one per sandbox slot (its own network
// namespace, address and size-limited filesystem), and everything the harness does to them:
// start / restart on the same data directory, signals, wipe-and-rejoin under a new id, wall-clock
// offsets through libfaketime, filling the disk, admin calls and the convergence probe.
//
// Clocks: every server runs under Debian's libfaketime (LD_PRELOAD) with a per-slot timestamp
// file "<offset> x<rate>" re-read at most once a second (FAKETIME_CACHE_DURATION=1). Only the
// wall clock (CLOCK_REALTIME: TTL deadlines) is faked — FAKETIME_DONT_FAKE_MONOTONIC=1 — because
// libfaketime's faked CLOCK_MONOTONIC follows the faked wall clock, steps included, and a
// monotonic clock that steps backwards is not a fault real machines have. The rate applies from
// the process's start (libfaketime scales elapsed time since then), so it is set per process
// lifetime; offsets change at any time (a step). libfaketime would still rewrite the node's
// monotonic timerfd and stop every timer it has (timerfd_passthrough.cc says how), so a small
// preload (`timer_shim`) ahead of it passes timerfd calls straight to the kernel.
//
// Thread safety: Endpoints(), Admin() and ReplicasOf() are safe from any thread (they ask the
// nodes of the last Endpoints() snapshot); everything else from the harness's main thread.
#ifndef CREMA_TOOLS_CHAOS_CLUSTER_H_
#define CREMA_TOOLS_CHAOS_CLUSTER_H_

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/network.h"
#include "tools/chaos/sandbox.h"
#include "tools/chaos/workload.h"

namespace crema::chaos_tool {

inline constexpr int kRespPort = 6379;
inline constexpr int kHttpPort = 8080;
inline constexpr int kPeerPort = 7000;
inline constexpr char kFaketimeLib[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// The environment of a crema_server under the harness's fake wall clock: `timer_shim`
// (tools/chaos:libtimerfd_passthrough.so) preloaded ahead of libfaketime, which re-reads
// `clock_file` (WriteFakeClock) at most once a second and fakes CLOCK_REALTIME only.
std::vector<std::string> FakeClockEnvironment(const std::string& clock_file,
                                              const std::string& timer_shim);
// Writes libfaketime's timestamp file: "<offset> x<1 + rate_ppm/1e6>", atomically (rename).
absl::Status WriteFakeClock(const std::string& path, absl::Duration offset, int rate_ppm);

struct ClusterOptions {
  std::string server_bin;
  std::string timer_shim;                   // FakeClockEnvironment
  int shards = 8;
  std::string plant;                        // --testonly_plant
  std::vector<int> rate_ppm;                // per slot (index slot-1): wall-clock rate - 1
  absl::Duration request_timeout = absl::Seconds(2);
};

// One replica as CREMA.DIGESTS reports it.
struct ReplicaState {
  NodeId node = kNoNode;
  uint64_t group = 0;
  uint64_t replica = 0;
  uint64_t applied = 0;
  uint64_t commit = 0;
  std::string digest;
  bool leader = false;
  std::string not_running;  // "opening" / "stopped: <why>" (CREMA.DIGESTS); empty while running
  std::string raft_status;  // the replica's Raft status line (CREMA.DIGESTS' seventh element)
};

class RealCluster {
 public:
  RealCluster(Sandbox* sandbox, ClusterOptions options);
  ~RealCluster();  // stops every process (SIGKILL after a grace period)
  RealCluster(const RealCluster&) = delete;
  RealCluster& operator=(const RealCluster&) = delete;

  // Starts one founder per slot (ids 1..slots) and waits until each serves a linearizable write.
  absl::Status Start(absl::Duration bound);

  NodeId id(int slot) const { return slots_[slot - 1].id; }
  int SlotOf(NodeId id) const;  // 0 if none
  std::vector<Endpoint> Endpoints() const;

  absl::Status StartNode(int slot);           // same flags and data directory
  void Signal(int slot, int signal);          // SIGKILL is followed by reaping
  void StopGracefully(int slot);              // SIGTERM, bounded wait, SIGKILL
  absl::Status SetClockOffset(int slot, absl::Duration offset);
  absl::Status FillDisk(int slot);
  void FreeDisk(int slot);
  // Stops the node, deletes its data, starts it as `new_id` joining through the others.
  absl::Status WipeAndRejoin(int slot, NodeId new_id);
  bool running(int slot) const;

  // An admin command through any serving node (AUTH admin first). The reply's text, or an error.
  absl::StatusOr<std::string> Admin(const std::vector<std::string>& args,
                                    absl::Duration timeout) const;
  // How many replicas `node` still hosts by the cluster map (CREMA.STATUS of the first node that
  // answers), or an error when none answers.
  absl::StatusOr<int64_t> ReplicasOf(NodeId node) const;
  // A linearizable SET then GET through `slot`'s node. OK iff both answered correctly.
  absl::Status Probe(int slot, absl::Duration timeout);
  // CREMA.DIGESTS of every running node.
  absl::StatusOr<std::vector<ReplicaState>> Digests(absl::Duration timeout);

  std::string LogTail(int slot, size_t lines) const;
  // The last `lines` lines of the node's log that are warnings or errors or trace events of one of
  // `groups` (detail="<group> ..."): what a failed convergence check needs from a debug log.
  std::string LogLinesAbout(int slot, const std::vector<uint64_t>& groups, size_t lines) const;

 private:
  struct Slot {
    NodeId id = kNoNode;
    pid_t pid = -1;
    bool founder = true;
    std::string log;
  };
  std::vector<std::string> Flags(int slot) const;
  std::vector<std::string> Env(int slot) const;
  std::string DataDir(int slot) const { return sandbox_->fs_dir(slot) + "/data"; }
  std::string FillerPath(int slot) const { return sandbox_->fs_dir(slot) + "/filler"; }
  absl::Status WriteClockFile(int slot);

  Sandbox* sandbox_;
  ClusterOptions options_;
  std::vector<Slot> slots_;
  absl::btree_map<NodeId, int> known_;  // every id ever started -> its slot
  std::vector<absl::Duration> offsets_;
  std::string secret_file_;
  std::string token_file_;
  std::string admin_token_;
  mutable std::mutex endpoints_mu_;
  std::vector<Endpoint> endpoints_;  // guarded by endpoints_mu_
};

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_CLUSTER_H_
