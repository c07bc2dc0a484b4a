// KeyspaceNode: the KeyspaceApi (keyspace_api.h) over a strong-mode CacheApi (the Raft-backed
// CacheNode) and an eventual-mode EventualNode running side by side on one server.
//
// Namespacing: all strong keyspaces share the Raft cache, all eventual keyspaces share the
// EventualNode's replicated store; a keyspace's keys are stored under a prefix that names its
// index i and, for keyspaces created at run time, its generation g > 0 (cluster_map.h):
//   strong keyspace 0:           the key itself (what clients that never SELECT always saw)
//   strong keyspace i > 0, g 0:  "\xff" "ks" <i as one byte> ":" key
//   strong keyspace i, g > 0:    "\xff" "ks" <0x80 | i as one byte> <g as a varint> ":" key
//   eventual keyspace i, g 0:    <i as one byte> key
//   eventual keyspace i, g > 0:  <0x80 | i as one byte> <g as a varint> key
// Generation 0 keeps the prefixes keyspaces always had, so data written before keyspaces could
// be created stays readable. The 0x80 bit keeps the two forms apart (without it, generation 0's
// key "\x05k" and generation 5's key "k" would both be "<i>\x05k"), and varints are prefix-free,
// so no two (index, generation) pairs share a stored key: an index reused after a drop never sees
// the dropped keyspace's data. Keyspace 0 refuses keys starting with "\xffks" (INVALID_ARGUMENT),
// so no key of it can be another keyspace's stored key.
//
// TTL: a write without a TTL gets the keyspace's default TTL; a TTL above max_ttl (or none) is
// cut to max_ttl. Capacity (eventual keyspaces): the bytes (key + value) of the keyspace's live
// records in this node's replica store, recounted at most every `usage_refresh`; while over
// capacity, writes coordinated by this node are refused (RESOURCE_EXHAUSTED, like Redis's
// noeviction) — deletes still pass. It bounds each node's share, not the cluster's sum.
//
// Eventual keyspaces through CacheApi: Get/MultiGet/Ttl read at R; Put (unconditional)/MultiPut
// write at W (MultiPut key by key, not atomic); Delete reads at R for the previous value (what DEL
// reports), then writes a tombstone at W. The timeout of the options is not used: the
// EventualNode's request_timeout bounds every call.
//
// Following the map: the table of keyspaces is immutable and swapped whole when the strong
// CacheApi's KeyspacesVersion() moves (checked at every Open); a handle keeps the table it was
// opened from alive. A strong CacheApi whose map has no keyspaces (a cluster bootstrapped before
// keyspaces were kept in the map, or a test's fake) leaves the table `specs` from the flags.
//
// Dropped eventual keyspaces: the node tells its EventualNode which stored keys are dead
// (eventual::DeadKeys): those of an (index, generation) that the followed map does not have live,
// and whose generation the map has issued (a keyspace created after this node's map is not dead,
// only unknown yet). The EventualNode then erases them and refuses them on arrival.
//
// Thread safety: the node's loop thread; calls are fiber-only.
#ifndef CREMA_NODE_KEYSPACE_KEYSPACE_NODE_H_
#define CREMA_NODE_KEYSPACE_KEYSPACE_NODE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/clock.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/keyspace/keyspace_api.h"

namespace crema::keyspace {

// The stored key of `key` in keyspace (`spec`, `generation`) (see the file comment).
std::string StoredKey(const KeyspaceSpec& spec, uint64_t generation, std::string_view key);
// Which eventual keyspace a stored key belongs to, and its prefix's length; nullopt if malformed.
struct StoredKeyspace {
  uint32_t index = 0;
  uint64_t generation = 0;
  size_t prefix_bytes = 0;
};
std::optional<StoredKeyspace> EventualKeyspaceOf(std::string_view stored);

class KeyspaceNode final : public KeyspaceApi, public eventual::DeadKeys {
 public:
  // `strong` must be non-null (admin and status calls go there); `eventual` may be null only if
  // no keyspace is eventual. Both, and `clock`, outlive this object. REQUIRES: `specs` came from
  // ParseKeyspaces.
  KeyspaceNode(CacheApi* strong, eventual::EventualNode* eventual, const Clock* clock,
               std::vector<KeyspaceSpec> specs,
               absl::Duration usage_refresh = absl::Seconds(1));
  ~KeyspaceNode() override;
  KeyspaceNode(const KeyspaceNode&) = delete;
  KeyspaceNode& operator=(const KeyspaceNode&) = delete;

  // --- eventual::DeadKeys ---
  uint64_t version() override { return strong_->KeyspacesVersion(); }
  bool IsDead(std::string_view key) override;

  std::vector<Keyspace> List() override;
  absl::StatusOr<KeyspaceHandle> Open(uint32_t index, const RequestLevels& levels) override;
  absl::StatusOr<KeyspaceHandle> OpenByName(std::string_view name,
                                            const RequestLevels& levels) override;
  absl::StatusOr<KeyspaceHandle> TryOpen(uint32_t index, const RequestLevels& levels) override;
  absl::StatusOr<Keyspace> Create(std::string_view spec, absl::Duration timeout) override;
  absl::Status Drop(std::string_view index_or_name, absl::Duration timeout) override;

  // Called once, when the table first comes from the map, if the flags' keyspaces (`specs` of
  // the constructor) differ from the map's bootstrap keyspaces (generation 0): the map rules, the
  // host logs the difference. Not called for a map without keyspaces (the flags rule).
  void SetOnFlagMismatch(std::function<void(std::string)> on_mismatch) {
    on_flag_mismatch_ = std::move(on_mismatch);
  }

  // Bound on one catch-up of the map on a miss (Open of an unknown keyspace).
  static constexpr absl::Duration kCatchUpTimeout = absl::Seconds(2);

  // Bytes of keyspace (`index`, `generation`) in this node's replica store (eventual keyspaces),
  // as last counted.
  uint64_t UsageBytes(uint32_t index, uint64_t generation);

 private:
  // An immutable table of keyspaces, swapped whole; handles keep the one they opened alive.
  struct Table {
    std::vector<Keyspace> keyspaces;                   // by index
    std::vector<std::shared_ptr<CacheApi>> strong;     // per keyspace: its view (null: eventual)
    uint64_t next_generation = 0;                      // the map's (0: the flags' table)
  };
  std::shared_ptr<Table> MakeTable(std::vector<Keyspace> keyspaces) const;
  // The current table, rebuilt first if the map's keyspaces changed.
  std::shared_ptr<const Table> Current();
  // The position in `table` of the keyspace named by index or name; nullopt if none.
  static std::optional<size_t> FindIndex(const Table& table, uint32_t index);
  static std::optional<size_t> FindName(const Table& table, std::string_view name);
  absl::StatusOr<KeyspaceHandle> OpenAt(const std::shared_ptr<const Table>& table, size_t i,
                                        const RequestLevels& levels);

  CacheApi* strong_;
  eventual::EventualNode* eventual_;
  const Clock* clock_;
  std::shared_ptr<const Table> table_;
  uint64_t table_version_ = 0;  // strong_->KeyspacesVersion() table_ was built at (0: flags)
  bool follows_map_ = false;    // table_ is the map's (else the flags': no catch-up on a miss)
  std::vector<KeyspaceSpec> flag_specs_;
  std::function<void(std::string)> on_flag_mismatch_;
  absl::Duration usage_refresh_;
  absl::Time usage_counted_ = absl::InfinitePast();
  absl::btree_map<std::pair<uint32_t, uint64_t>, uint64_t> usage_;
};

}  // namespace crema::keyspace

#endif  // CREMA_NODE_KEYSPACE_KEYSPACE_NODE_H_
