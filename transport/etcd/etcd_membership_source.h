// EtcdMembershipSource: discovery::MembershipSource backed by etcd (ZephyrCache's default).
//
// Protocol (etcd v3 through its JSON gateway, etcd_client.h):
//   * Each node grants one lease (TTL `lease_ttl`) and puts its key `<prefix><id>` bound to it,
//     with a JSON value {"id", "address", "state": "alive"|"left", "incarnation", "metadata"}.
//     It keeps the lease alive every lease_ttl / 3. If the node dies, the lease expires and etcd
//     deletes the key: everyone watching sees the member go (kDead).
//   * It lists the prefix once (the initial view; `Joined()` from then on) and watches the prefix
//     from the listing's revision + 1: a new key is kJoined, a changed value kUpdated (or kLeft
//     when its state became "left"), a deleted key kDead (kLeft if it had announced leaving).
//   * Leave: put state "left", then revoke the lease (the key goes at once).
//   * etcd outages are survived: while etcd is unreachable the view stays as it was (an etcd
//     outage is not a cluster outage); keep-alives are retried, and as long as etcd still knows
//     the lease (etcd restores leases across its restarts) nothing changes. If the lease is gone,
//     a new one is granted and the key put again. A broken watch is re-established after a fresh
//     listing, whose differences from the view become events — nothing is missed.
//   * Departed members stay in Members() as kDead / kLeft for `tombstone_ttl`, then are forgotten.
//   * Health: IsAvailable(id) is "its key is present and not left" — etcd's verdict, within the
//     lease TTL. The eventual-mode driver combines it with its own request timeouts.
//
// Everything runs on the node's event loop: a fiber (on `executor`) drives the session, and
// etcd's answers arrive as Asio handlers on the same io_context. Events are delivered there.
// Thread safety: none.
#ifndef CREMA_TRANSPORT_ETCD_ETCD_MEMBERSHIP_SOURCE_H_
#define CREMA_TRANSPORT_ETCD_ETCD_MEMBERSHIP_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "absl/container/btree_map.h"
#include "node/clock.h"
#include "node/discovery/membership_source.h"
#include "node/executor.h"
#include "node/sync.h"
#include "transport/etcd/etcd_client.h"

namespace crema::transport {

struct EtcdMembershipConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2379;
  std::string prefix = "/crema/members/";
  absl::Duration lease_ttl = absl::Seconds(10);       // keep-alive every lease_ttl / 3
  absl::Duration request_timeout = absl::Seconds(2);
  absl::Duration max_backoff = absl::Seconds(5);      // between attempts while etcd is down
  absl::Duration tombstone_ttl = absl::Minutes(5);
  std::string address;                                // published for others
  membership::Metadata metadata;
};

class EtcdMembershipSource final : public discovery::MembershipSource {
 public:
  // `executor`, `clock` and `io` must outlive the source; `io` is the loop the executor runs on.
  EtcdMembershipSource(NodeId self, Executor* executor, const Clock* clock,
                       boost::asio::io_context& io, EtcdMembershipConfig config);
  // REQUIRES: the session fiber is not parked on this object: destroy after its Executor (which
  // unwinds the fiber), or after Stop() once session_running() is false.
  ~EtcdMembershipSource() override;

  absl::Status Start() override;
  void Leave() override;
  void Stop() override;
  // Whether the session fiber started by Start() has not returned yet (Stop() makes it return).
  bool session_running() const { return session_running_; }
  NodeId self() const override { return self_; }
  std::vector<membership::Member> Members() const override;
  bool IsAvailable(NodeId id) const override;
  uint64_t view_version() const override { return view_version_; }
  bool Joined() const override { return joined_; }
  absl::StatusOr<SubscriptionId> Subscribe(EventCallback callback) override;
  void Unsubscribe(SubscriptionId id) override { subscribers_.erase(id); }
  absl::Status UpdateMetadata(membership::Metadata metadata) override;
  std::string_view kind() const override { return "etcd"; }

  // For tests and /cluster: the current lease id (0: none), and counters.
  int64_t lease() const { return lease_; }
  uint64_t leases_granted() const { return leases_granted_; }
  uint64_t watches_started() const { return watches_started_; }

 private:
  struct Entry {
    membership::Member member;
    bool present = false;     // its key exists in etcd
    absl::Time gone_at;       // when it went (present == false)
  };

  void SessionLoop();
  absl::StatusOr<nlohmann::json> CallAndWait(std::string path, const nlohmann::json& body);
  absl::Status PutSelf(std::string_view state);
  absl::Status Resync();  // list the prefix, diff against the view, restart the watch
  void OnWatchResult(const nlohmann::json& result);
  void ApplyPut(NodeId id, const nlohmann::json& value);
  void ApplyDelete(NodeId id);
  void Deliver(membership::MembershipEventKind kind, const membership::Member& member);
  std::optional<NodeId> IdOfKey(std::string_view key) const;
  std::string SelfKey() const;

  NodeId self_;
  Executor* executor_;
  const Clock* clock_;
  EtcdMembershipConfig config_;
  EtcdClient client_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards late Asio callbacks
  bool started_ = false, stopped_ = false, left_ = false, joined_ = false, watch_broken_ = false;
  bool self_put_ = false;      // our key is in etcd under the current lease
  int64_t lease_ = 0;
  int64_t revision_ = 0;       // of the last event or listing seen
  uint64_t incarnation_ = 0;
  FiberId session_ = 0;
  bool session_running_ = false;
  WaitList session_wake_;
  std::shared_ptr<EtcdWatch> watch_;
  absl::btree_map<NodeId, Entry> members_;
  absl::btree_map<SubscriptionId, std::shared_ptr<EventCallback>> subscribers_;
  SubscriptionId next_subscription_ = 1;
  uint64_t view_version_ = 0;
  uint64_t leases_granted_ = 0, watches_started_ = 0;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_ETCD_ETCD_MEMBERSHIP_SOURCE_H_
