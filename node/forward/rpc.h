// Rpc: request/reply between cache nodes over Service::kForward — how a node forwards a client's
// operation to the shard's leader, and how nodes ask each other about the cluster map and
// placement. One endpoint per node is both client and server.
//
// Messages (node/wire.h encoding; decoding never crashes on garbage, bad messages are dropped):
//   request: u8 version | u8 type=1 | varint id | u8 kind | varint group | varint map_version |
//            signed timeout_ns | bytes payload
//   reply:   u8 version | u8 type=2 | varint id | u8 status | varint leader_hint |
//            varint map_version | bytes payload
// `id` is unique per attempt on the calling node (random start per incarnation) and echoed in the
// reply; a reply to an attempt the caller gave up on is dropped. Delivery is the Network's: lost,
// delayed, duplicated, reordered — so every handler must be safe to run twice for one request
// (writes are, by their session and sequence number).
//
// Server side: a handler per RequestKind runs in its own fiber; at most kMaxInflight requests
// run at once and kMaxQueued wait; beyond that requests are answered kBusy at once. A handler
// gets `timeout` (the caller's remaining budget, capped) and must answer within it.
//
// Both sides carry their cluster-map version, so a node that sees a newer map elsewhere can fetch
// it (`SetOnPeerMapVersion`).
//
// Reachability (`SetPeerReachable`, fed from the Network's hints, node/network.h): while a peer
// is reported gone, calls to it fail at once with UNAVAILABLE instead of waiting out their
// timeout, and calls already waiting on it fail then. The request is still sent (the peer may be
// back; the transport reconnects for it): like any failed call, it may have been executed.
//
// Thread safety: none; the node's event loop. Fiber-only: Call.
#ifndef CREMA_NODE_FORWARD_RPC_H_
#define CREMA_NODE_FORWARD_RPC_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::forward {

enum class RequestKind : uint8_t {
  kWrite = 1,           // a client command for one shard (cache/replicated/command.h)
  kRead = 2,            // gets / TTLs of keys of one shard
  kReconcile = 3,       // one membership step of a group toward a desired replica set
  kTransferLeader = 4,  // move a group's leadership
  kMapFetch = 5,        // the cluster map (deltas since a version, or whole)
  kMetaPropose = 6,     // a metadata command, at the metadata leader
  kReport = 7,          // a node's report to the metadata leader
  kMapPush = 8,         // the metadata leader's new map deltas (no reply)
  kStatus = 9,          // a group's status from its leader (leader, commit, sizes)
};
inline constexpr uint8_t kMaxRequestKind = 9;
const char* RequestKindName(RequestKind kind);

enum class ReplyStatus : uint8_t {
  kOk = 1,         // payload = the kind's result
  kNotLeader = 2,  // try leader_hint (kNoNode: unknown)
  kUnknown = 3,    // outcome unknown (timed out, leadership lost): retry the same request
  kBusy = 4,       // refused before doing anything; back off
  kNotHosted = 5,  // no replica of the group here
  kError = 6,      // a definite failure: payload = "<absl status code>:<message>"
};
const char* ReplyStatusName(ReplyStatus status);

inline constexpr size_t kMaxPayloadBytes = 7 << 20;

struct Request {
  uint64_t id = 0;
  RequestKind kind = RequestKind::kWrite;
  uint64_t group = 0;
  uint64_t map_version = 0;
  absl::Duration timeout = absl::ZeroDuration();
  std::string payload;
};

struct Reply {
  uint64_t id = 0;
  ReplyStatus status = ReplyStatus::kOk;
  NodeId leader_hint = kNoNode;
  uint64_t map_version = 0;
  std::string payload;

  static Reply Error(const absl::Status& status);
  // kError's payload back as a Status (INTERNAL if the reply is not a kError).
  absl::Status ErrorStatus() const;
};

std::string EncodeRequest(const Request& request);
std::string EncodeReply(const Reply& reply);
// The decoded message: exactly one of request / reply is set.
struct Decoded {
  std::unique_ptr<Request> request;
  std::unique_ptr<Reply> reply;
};
[[nodiscard]] absl::StatusOr<Decoded> DecodeMessage(std::string_view bytes);

struct RpcStats {
  uint64_t calls = 0;
  uint64_t timeouts = 0;
  uint64_t served = 0;
  uint64_t busy = 0;       // answered kBusy because the server was full
  uint64_t dropped = 0;    // undecodable messages and late replies
  uint64_t unreachable = 0;  // calls failed early because their peer was reported gone
};

class Rpc {
 public:
  static constexpr size_t kMaxInflight = 512;
  static constexpr size_t kMaxQueued = 4096;
  static constexpr size_t kMaxPendingCalls = 65'536;
  static constexpr absl::Duration kMaxHandlerTimeout = absl::Seconds(30);

  // What a handler answers; it runs in a fiber and may wait.
  using Handler = std::function<Reply(NodeId from, const Request& request)>;

  // Installs the Service::kForward handler. `map_version` reports this node's map version.
  Rpc(Env env, std::function<uint64_t()> map_version);
  ~Rpc();
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  void SetHandler(RequestKind kind, Handler handler);
  // Called (on the loop, must not block) when a message shows a peer with a newer map.
  void SetOnPeerMapVersion(std::function<void(NodeId peer, uint64_t version)> callback) {
    on_peer_map_version_ = std::move(callback);
  }

  // Fiber-only. Sends `request` (id assigned here) to `to` and waits up to `timeout` for the
  // reply. DEADLINE_EXCEEDED on timeout, CANCELLED if the fiber is cancelled,
  // RESOURCE_EXHAUSTED if too many calls are pending. `to` may be this node (loopback through
  // the network, like any other).
  absl::StatusOr<Reply> Call(NodeId to, Request request, absl::Duration timeout);
  // One-way: no reply expected (kMapPush).
  void Send(NodeId to, Request request);
  // The network's hint about `peer` (file comment). Not for this node itself.
  void SetPeerReachable(NodeId peer, bool reachable);
  bool PeerReachable(NodeId peer) const { return !unreachable_.contains(peer); }

  // Stops serving and fails pending calls (the node shuts down). Idempotent.
  void Shutdown();
  const RpcStats& stats() const { return stats_; }

 private:
  void OnMessage(NodeId from, std::string bytes);
  void Serve(NodeId from, std::unique_ptr<Request> request);
  void Dispatch();

  Env env_;
  std::function<uint64_t()> map_version_;
  std::function<void(NodeId, uint64_t)> on_peer_map_version_;
  absl::btree_map<uint8_t, Handler> handlers_;
  struct PendingCall {
    NodeId to;
    Promise<Reply> promise;
  };
  absl::btree_map<uint64_t, PendingCall> pending_;
  absl::btree_set<NodeId> unreachable_;  // reported gone, not reported back since
  uint64_t next_id_;
  size_t inflight_ = 0;
  std::deque<std::pair<NodeId, std::unique_ptr<Request>>> queue_;
  bool shutdown_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  RpcStats stats_;
};

}  // namespace crema::forward

#endif  // CREMA_NODE_FORWARD_RPC_H_
