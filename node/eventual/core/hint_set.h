// HintSet: the hinted copies a stand-in holds for unreachable home replicas (Dynamo §4.6 hinted
// handoff), pure and bounded. The driver persists every change (durable_map.h) before it is
// acknowledged, and delivers hints when their target is healthy again.
//
// One hint per (target, key): a newer record for the same pair replaces the older hint (the older
// one is *superseded*: delivering the newer record delivers it too, since replicas keep only the
// newest version). Bounds: `max_hints` hints and `max_bytes` of keys and values in total; beyond
// them a new hint is refused (kFull) and the stand-in does not acknowledge the write, so the
// coordinator's count never includes a copy that was not kept.
//
// Life of a hint (each outcome is reported to the driver's observer; the dynamo scenario checks
// every hint ends in exactly one of them):
//   stored → delivered   the target acknowledged it (or already held that version or newer);
//          → superseded  a newer hint for the same (target, key) replaced it;
//          → expired     it was `window` old (wall time since it was stored, stored_at_ns; a
//                        stand-in stalled inside the commit that stores it — a long pause — has
//                        spent that part of the window too) before delivery —
//                        as Cassandra's max_hint_window: a target down that long is repaired by
//                        anti-entropy instead;
//          → orphaned    its target left the ring for good (its ranges belong to others now).
// The driver ends an expired or orphaned hint only once its record is in the stand-in's own store
// (maintenance.cc), from where hand-off pushes it to the key's owners: a hint may be the only
// copy of a sloppy write.
// A stand-in that loses its disk for good loses its hints with it (counted as lost replicas).
//
// Thread safety: none; one HintSet belongs to one node's event loop.
#ifndef CREMA_NODE_EVENTUAL_CORE_HINT_SET_H_
#define CREMA_NODE_EVENTUAL_CORE_HINT_SET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/eventual/core/record.h"
#include "node/network.h"

namespace crema::eventual {

struct HintConfig {
  size_t max_hints = 100'000;
  size_t max_bytes = size_t{256} << 20;
  absl::Duration window = absl::Hours(3);  // Cassandra's max_hint_window default
};

struct Hint {
  NodeId target = kNoNode;
  std::string key;
  Record record;
  // The stand-in's wall clock when it stored the hint: read as the group commit that makes it
  // durable begins (the same stamp is in memory and on disk, so a restart keeps the window).
  int64_t stored_at_ns = 0;

  friend bool operator==(const Hint&, const Hint&) = default;
};

enum class HintAddResult : uint8_t { kAdded, kReplaced, kStale, kFull };

class HintSet {
 public:
  explicit HintSet(HintConfig config) : config_(config) {}

  // What Add would do, without changing anything.
  HintAddResult Check(const Hint& hint) const;
  // kReplaced fills `superseded` with the hint it replaced.
  HintAddResult Add(Hint hint, Hint* superseded = nullptr);

  const Hint* Find(NodeId target, std::string_view key) const;
  // Removes the (target, key) hint if it still holds exactly `version`. True if removed.
  bool Remove(NodeId target, std::string_view key, const Version& version);

  // Up to `max_count` hints for `target` (at most `max_bytes` of keys and values, but always at
  // least one), in key order starting after `after_key`.
  std::vector<Hint> Batch(NodeId target, std::string_view after_key, size_t max_count,
                          size_t max_bytes) const;
  // Targets with at least one hint, ascending.
  std::vector<NodeId> Targets() const;
  // Hints stored at or before now − window, oldest first (not removed).
  std::vector<Hint> Expired(absl::Time now, size_t max) const;
  // The newest hinted record for `key` over all targets (stand-in reads), or nullopt.
  std::optional<Record> NewestForKey(std::string_view key) const;
  // Every hint, in (target, key) order.
  std::vector<Hint> All() const;

  size_t size() const { return hints_.size(); }
  size_t bytes() const { return bytes_; }
  size_t CountFor(NodeId target) const;
  const HintConfig& config() const { return config_; }

  // The durable-map key of a hint: 8 hex digits of the target, '/', the key.
  static std::string StorageKey(NodeId target, std::string_view key);
  // Hint encoding for the durable map: target u32, stored_at i64, key bytes, record.
  static std::string Encode(const Hint& hint);
  [[nodiscard]] static absl::Status Decode(std::string_view bytes, Hint* hint);

 private:
  using Key = std::pair<NodeId, std::string>;
  using KeyView = std::pair<NodeId, std::string_view>;
  struct KeyLess {
    using is_transparent = void;
    static KeyView View(const Key& k) { return {k.first, k.second}; }
    static KeyView View(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) < View(b);
    }
  };
  static size_t HintBytes(const Hint& hint) { return RecordBytes(hint.key, hint.record); }

  HintConfig config_;
  absl::btree_map<Key, Hint, KeyLess> hints_;
  // (key, target) for every hint: stand-in reads look hints up by key.
  absl::btree_set<std::pair<std::string, NodeId>> by_key_;
  size_t bytes_ = 0;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_HINT_SET_H_
