// The replicated KV store's command and result codecs: what goes into a Raft entry, and what the
// state machine answers.
//
// A command is one client call on one byte-string key, tagged with the client's session and
// sequence number so a retried command is applied at most once (see kv_state_machine.h):
//
//   put(key, value)               -> kOk
//   get(key)                      -> kOk + value, or kNotFound
//   delete(key)                   -> kOk (also when the key was absent)
//   cas(key, expected, new_value) -> kOk (swapped) or kCasFailed; expected == nullopt means
//                                    "only if the key is absent"
//
// Wire format (little-endian, fixed width, no trailing bytes allowed):
//   command: u8 version(=1) | u8 kind | u64 session | u64 seq | u32 key_len | key
//            | put: u32 value_len | value
//            | cas: u8 has_expected | [u32 len | expected] | u32 len | new_value
//   result:  u8 version(=1) | u8 code | u8 has_value | [u32 len | value]
// Bounds: keys <= kMaxKeyBytes, values <= kMaxValueBytes, session != 0, seq != 0. Decoding never
// crashes on garbage: it returns InvalidArgument.
//
// Thread safety: pure functions and value types.
#ifndef CREMA_CONSENSUS_KV_COMMAND_H_
#define CREMA_CONSENSUS_KV_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crema::kv {

inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxValueBytes = 64 * 1024;

enum class CommandKind : uint8_t { kPut = 1, kGet = 2, kDelete = 3, kCas = 4 };
const char* CommandKindName(CommandKind kind);  // "put", "get", "delete", "cas"

struct Command {
  CommandKind kind = CommandKind::kGet;
  uint64_t session = 0;  // the client's id; REQUIRES: != 0
  uint64_t seq = 0;      // per-session, increasing with every new call; REQUIRES: != 0
  std::string key;
  std::string value;                    // put: the value; cas: the new value
  std::optional<std::string> expected;  // cas only
  friend bool operator==(const Command&, const Command&) = default;
};

enum class ResultCode : uint8_t {
  kOk = 1,
  kNotFound = 2,       // get: no value
  kCasFailed = 3,      // cas: the current value was not `expected`; nothing changed
  kStale = 4,          // seq older than the session's latest: a late duplicate, not applied
  kInvalid = 5,        // the entry was not a valid command; nothing changed
  kSessionLimit = 6,   // too many sessions; not applied
};
const char* ResultCodeName(ResultCode code);

struct Result {
  ResultCode code = ResultCode::kOk;
  std::optional<std::string> value;  // get with kOk
  friend bool operator==(const Result&, const Result&) = default;
};

// REQUIRES: ValidateCommand(command).ok().
std::string EncodeCommand(const Command& command);
[[nodiscard]] absl::StatusOr<Command> DecodeCommand(std::string_view bytes);
[[nodiscard]] absl::Status ValidateCommand(const Command& command);

std::string EncodeResult(const Result& result);
[[nodiscard]] absl::StatusOr<Result> DecodeResult(std::string_view bytes);

// e.g. `cas("k", expect "a", new "b") s=3 q=7` (bytes escaped, long strings abbreviated).
std::string FormatCommand(const Command& command);

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_COMMAND_H_
