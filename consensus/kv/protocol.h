// The client <-> server protocol of the replicated KV store: one request, one reply, both over
// crema::Network (so they are lost, delayed, duplicated and reordered like any message).
//
//   request: u8 version(=1) | u64 request_id | rest = a command (command.h)
//   reply:   u8 version(=1) | u64 request_id | u8 status | u32 leader_hint | rest = a result
//            (status kResult only; empty otherwise)
// `request_id` is chosen by the client, unique per attempt, and echoed back so the client can
// ignore replies to earlier attempts. Exactly-once semantics do not rest on it but on the
// command's (session, seq) (kv_state_machine.h).
//
// Reply statuses:
//   kResult   the command was applied (or was a retry of an applied one): `result` is its answer.
//   kUnknown  the server could not find out (proposal timed out, not leader, node restarting,
//             disk failure): the command may or may not be applied; retry with the same seq.
//   kBusy     the server refused the request before proposing it (too many in flight).
// Decoding never crashes on garbage (InvalidArgument).
//
// Thread safety: pure functions and value types.
#ifndef CREMA_CONSENSUS_KV_PROTOCOL_H_
#define CREMA_CONSENSUS_KV_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "consensus/kv/command.h"
#include "node/network.h"

namespace crema::kv {

// The service the KV protocol uses. There is no dedicated Service value yet; kForward
// (request forwarding) is the closest in meaning and unused where this store runs.
inline constexpr Service kKvService = Service::kForward;

struct Request {
  uint64_t request_id = 0;
  Command command;
};

enum class ReplyStatus : uint8_t { kResult = 1, kUnknown = 2, kBusy = 3 };

struct Reply {
  uint64_t request_id = 0;
  ReplyStatus status = ReplyStatus::kUnknown;
  uint32_t leader_hint = 0;  // 0: none known
  Result result;             // kResult only
};

std::string EncodeRequest(const Request& request);  // REQUIRES: a valid command
[[nodiscard]] absl::StatusOr<Request> DecodeRequest(std::string_view bytes);
std::string EncodeReply(const Reply& reply);
[[nodiscard]] absl::StatusOr<Reply> DecodeReply(std::string_view bytes);

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_PROTOCOL_H_
