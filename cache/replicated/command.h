// The replicated cache's log entries: commands a shard's Raft log carries, and the results its
// state machine answers (cache_state_machine.h).
//
// Client commands (put, delete, cas, increment, expire, expire-if, get-and-touch, multi-put,
// delete-prefix) carry the
// origin node's session, sequence number and acknowledgement floor (exactly-once across retries,
// session_table.h) and the origin's wall time at the first attempt (`issued_unix_ns`: requests
// older than the shard's max_request_age are refused rather than applied late). Maintenance
// commands (evict, tick) are proposed by the shard's leader and carry no session.
//
// Every command carries `stamp_unix_ns`, the proposing leader's wall clock. The state machine's
// log time is the running maximum of stamps: it never goes back, is the same on every replica at
// every index, and is what TTLs, sessions and conditional writes are judged by.
//
// Wire format: u8 version (=1) | u8 kind | fields of that kind as varints / length-prefixed
// bytes (node/wire.h), no trailing bytes. Decoding never crashes on garbage: it returns
// InvalidArgument, and the state machine answers such an entry kInvalid on every replica.
// Bounds: keys 1..kMaxKeyBytes, values <= kMaxValueBytes, at most kMaxMultiKeys pairs or keys,
// whole command <= kMaxCommandBytes.
//
// Thread safety: values and pure functions.
#ifndef CREMA_CACHE_REPLICATED_COMMAND_H_
#define CREMA_CACHE_REPLICATED_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/cache_node/cache_api.h"

namespace crema::replicated {

inline constexpr size_t kMaxCommandBytes = 8 << 20;

enum class CommandKind : uint8_t {
  kPut = 1,
  kDelete = 2,
  kCas = 3,
  kIncrement = 4,
  kExpire = 5,
  kGetAndTouch = 6,
  kMultiPut = 7,
  kExpireIf = 8,  // expire under ExpireCondition (EXPIRE NX|XX|GT|LT)
  // Remove every key beginning with `key` (1..kMaxKeyBytes): the purge of a dropped keyspace's
  // prefix (node/keyspace/keyspace_node.h), proposed by nodes, never by a client request.
  kDeletePrefix = 9,
  kEvict = 20,  // leader: remove these keys for capacity
  kTick = 21,   // leader: advance log time (expiry of idle shards)
};
const char* CommandKindName(CommandKind kind);
bool IsClientCommand(CommandKind kind);

// A deadline as the client asked for it, resolved against log time when applied.
enum class ExpiryKind : uint8_t {
  kNever = 0,
  kAfter = 1,  // ns after the command's log time; REQUIRES ns > 0
  kAt = 2,     // at unix ns
  kKeep = 3,   // keep the key's deadline; a new key gets default_ttl_ns
};
struct Expiry {
  ExpiryKind kind = ExpiryKind::kNever;
  int64_t ns = 0;
  friend bool operator==(const Expiry&, const Expiry&) = default;
};

struct Command {
  CommandKind kind = CommandKind::kPut;
  // Client commands only. session != 0, seq >= ack_floor >= 1.
  uint64_t session = 0;
  uint64_t seq = 0;
  uint64_t ack_floor = 0;  // every seq below it is finished at the origin
  int64_t issued_unix_ns = 0;
  // Every command: the proposing leader's wall clock.
  int64_t stamp_unix_ns = 0;

  std::string key;                      // all single-key commands
  std::string value;                    // put, cas (new value)
  std::optional<std::string> expected;  // cas: nullopt = "only if absent"
  int64_t delta = 0;                    // increment
  Expiry expiry;                        // put, cas, multi-put, expire(-if); get-and-touch if touch
  ExpireCondition expire_condition;     // expire-if: Valid() and not empty()
  bool touch = false;                   // get-and-touch: change the deadline
  int64_t default_ttl_ns = 0;           // kKeep on a new key, increment creating: 0 = never
  PutCondition condition = PutCondition::kAlways;  // put
  bool return_previous = false;                    // put
  std::vector<std::pair<std::string, std::string>> entries;  // multi-put
  std::vector<std::string> keys;                             // evict

  friend bool operator==(const Command&, const Command&) = default;
};

enum class ResultCode : uint8_t {
  kOk = 1,
  kNotApplied = 2,      // condition false (NX / XX), cas mismatch, expire/persist of nothing
  kNotInteger = 3,      // increment: not a 64-bit decimal integer, or overflow
  kInvalid = 4,         // the entry is not a valid command; nothing changed
  kStale = 5,           // seq below the session's floor: a late duplicate; not applied
  kExpiredRequest = 6,  // older than max_request_age (and never applied): not applied
  kSessionLimit = 7,    // too many sessions or unacknowledged results: not applied
};
const char* ResultCodeName(ResultCode code);

struct Result {
  ResultCode code = ResultCode::kOk;
  std::optional<std::string> value;  // previous value (put/delete), value read (get-and-touch)
  int64_t integer = 0;               // increment: the new value
  friend bool operator==(const Result&, const Result&) = default;
};

[[nodiscard]] absl::Status ValidateCommand(const Command& command);
// REQUIRES: ValidateCommand(command).ok().
std::string EncodeCommand(const Command& command);
[[nodiscard]] absl::StatusOr<Command> DecodeCommand(std::string_view bytes);

std::string EncodeResult(const Result& result);
[[nodiscard]] absl::StatusOr<Result> DecodeResult(std::string_view bytes);

// e.g. `put "k" (5B) s=3 q=7` for logs and traces (bytes escaped, long strings abbreviated).
std::string FormatCommand(const Command& command);

}  // namespace crema::replicated

#endif  // CREMA_CACHE_REPLICATED_COMMAND_H_
