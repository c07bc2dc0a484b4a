// TraceLog: the run's event record and its determinism self-check.
//
// Every event of a simulation — a loop callback, a message send/delivery/drop, a crash, a fault, a
// node's own Tracer record — is `Record`ed here with (virtual time, node, kind, detail). The log
// keeps a running XXH3 hash over (time, node, kind, XXH3 digest of the detail): two runs of the same
// binary with the same seed must end with the same hash and event count. Optionally it keeps every
// event (`keep_records`) so that two runs can be compared to find the FIRST event that differs
// (`FirstDifference`), and it can stream events as JSON lines (nlohmann-json) to a file:
//   {"index":0,"time_ns":0,"node":1,"kind":"crash","detail":"...","digest":"0123456789abcdef"}
// A detail's digest is XXH3 of its text, or (RecordDigest) of whatever the caller hashes instead.
// Details are stored and written truncated to kMaxDetailBytes; the digest covers the whole detail.
//
// Thread safety: none (the simulator is single-threaded).
#ifndef CREMA_SIM_TRACE_LOG_H_
#define CREMA_SIM_TRACE_LOG_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "node/network.h"

namespace crema::sim {

struct TraceEvent {
  uint64_t index = 0;
  int64_t time_ns = 0;  // virtual time since the start of the run
  NodeId node = kNoNode;  // kNoNode for simulator-level events
  std::string kind;
  std::string detail;  // truncated to TraceLog::kMaxDetailBytes
  uint64_t digest = 0;  // XXH3 of the full detail
};

class TraceLog {
 public:
  static constexpr size_t kMaxDetailBytes = 160;
  // A bound on kept records (memory); recording past it keeps hashing but stops storing.
  static constexpr size_t kMaxKeptRecords = 20'000'000;

  // `json_out`, if non-null, receives one JSON object per event and must outlive the log.
  explicit TraceLog(bool keep_records = false, std::ostream* json_out = nullptr);

  void Record(int64_t time_ns, NodeId node, std::string_view kind, std::string_view detail) {
    RecordDigest(time_ns, node, kind, DetailDigest(detail), [detail] { return std::string(detail); });
  }
  // The same with the detail's digest given (e.g. over binary fields) and the detail text made
  // only when it is kept or written (`wants_details()`): the simulator's hot path (messages).
  void RecordDigest(int64_t time_ns, NodeId node, std::string_view kind, uint64_t digest,
                    absl::FunctionRef<std::string()> detail);
  bool wants_details() const { return keep_records_ || json_out_ != nullptr; }
  static uint64_t DetailDigest(std::string_view detail);
  // Every `every` events (0: never), writes "checkpoint events=<count> hash=<16 hex>\n" to `out`.
  void SetCheckpoints(uint64_t every, std::ostream* out) {
    checkpoint_every_ = out != nullptr ? every : 0;
    checkpoint_out_ = out;
  }

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  const std::vector<TraceEvent>& records() const { return records_; }
  std::vector<TraceEvent> TakeRecords() { return std::move(records_); }

 private:
  bool keep_records_;
  std::ostream* json_out_;
  uint64_t hash_ = 0;
  uint64_t count_ = 0;
  uint64_t checkpoint_every_ = 0;
  std::ostream* checkpoint_out_ = nullptr;
  std::vector<TraceEvent> records_;
};

// "#index t=<ns> node=<id> kind=<kind> detail=<detail> digest=<hex>"
std::string DescribeEvent(const TraceEvent& event);

// Compares two runs' records. nullopt if identical; else a report naming the first differing
// event's index, time, node and kind with both sides' details (or which run ended early).
std::optional<std::string> FirstDifference(const std::vector<TraceEvent>& a,
                                           const std::vector<TraceEvent>& b);

// Parses one JSON line written by TraceLog. nullopt if malformed.
std::optional<TraceEvent> ParseTraceLine(std::string_view line);

// 16 lowercase hex digits.
std::string Hex64(uint64_t value);

}  // namespace crema::sim

#endif  // CREMA_SIM_TRACE_LOG_H_
