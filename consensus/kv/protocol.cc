#include "consensus/kv/protocol.h"

#include "consensus/storage/encoding.h"

namespace crema::kv {
namespace {

using raft::storage::Decoder;
using raft::storage::PutU32;
using raft::storage::PutU64;
using raft::storage::PutU8;

constexpr uint8_t kVersion = 1;

}  // namespace

std::string EncodeRequest(const Request& request) {
  std::string out;
  PutU8(&out, kVersion);
  PutU64(&out, request.request_id);
  out.append(EncodeCommand(request.command));
  return out;
}

absl::StatusOr<Request> DecodeRequest(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t version = 0;
  Request request;
  if (!in.GetU8(&version) || version != kVersion || !in.GetU64(&request.request_id)) {
    return absl::InvalidArgumentError("kv request: bad header");
  }
  absl::StatusOr<Command> command = DecodeCommand(bytes.substr(in.position()));
  if (!command.ok()) return command.status();
  request.command = *std::move(command);
  return request;
}

std::string EncodeReply(const Reply& reply) {
  std::string out;
  PutU8(&out, kVersion);
  PutU64(&out, reply.request_id);
  PutU8(&out, static_cast<uint8_t>(reply.status));
  PutU32(&out, reply.leader_hint);
  if (reply.status == ReplyStatus::kResult) out.append(EncodeResult(reply.result));
  return out;
}

absl::StatusOr<Reply> DecodeReply(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t version = 0, status = 0;
  Reply reply;
  if (!in.GetU8(&version) || version != kVersion || !in.GetU64(&reply.request_id) ||
      !in.GetU8(&status) || status < 1 || status > 3 || !in.GetU32(&reply.leader_hint)) {
    return absl::InvalidArgumentError("kv reply: bad header");
  }
  reply.status = static_cast<ReplyStatus>(status);
  if (reply.status != ReplyStatus::kResult) {
    if (!in.done()) return absl::InvalidArgumentError("kv reply: trailing bytes");
    return reply;
  }
  absl::StatusOr<Result> result = DecodeResult(bytes.substr(in.position()));
  if (!result.ok()) return result.status();
  reply.result = *std::move(result);
  return reply;
}

}  // namespace crema::kv
