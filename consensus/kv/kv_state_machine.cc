#include "consensus/kv/kv_state_machine.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"
#include "xxhash.h"

namespace crema::kv {
namespace {

using raft::storage::Decoder;
using raft::storage::PutU32;
using raft::storage::PutU64;

constexpr uint32_t kCheckpointMagic = 0x3153564b;  // "KVS1"

void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

bool GetBytes(Decoder& in, size_t max_bytes, std::string_view* out) {
  uint32_t len = 0;
  return in.GetU32(&len) && len <= max_bytes && in.GetView(len, out);
}

absl::Status Corrupt(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("kv checkpoint: ", std::string(what)));
}

}  // namespace

const KvStateMachine::AppliedResult& KvStateMachine::Apply(raft::Index index,
                                                          std::string_view data) {
  if (index <= last_applied_) {  // programmer error in the driver: entries out of order
    std::fprintf(stderr, "KvStateMachine: apply %llu after %llu\n",
                 static_cast<unsigned long long>(index),
                 static_cast<unsigned long long>(last_applied_));
    std::abort();
  }
  last_applied_ = index;
  AppliedResult applied;
  absl::StatusOr<Command> command = DecodeCommand(data);
  if (command.ok()) {
    applied.session = command->session;
    applied.seq = command->seq;
    applied.result = ApplyCommand(*command);
  } else {
    applied.result.code = ResultCode::kInvalid;
  }
  while (recent_.size() >= kMaxRecentResults) recent_.erase(recent_.begin());
  return recent_.emplace(index, std::move(applied)).first->second;
}

Result KvStateMachine::ApplyCommand(const Command& command) {
  auto it = sessions_.find(command.session);
  if (it == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions) return Result{ResultCode::kSessionLimit, std::nullopt};
    it = sessions_.emplace(command.session, Session{}).first;
  }
  Session& session = it->second;
  if (command.seq == session.last_seq) return session.last_result;  // a retry: cached
  if (command.seq < session.last_seq) return Result{ResultCode::kStale, std::nullopt};
  session.last_seq = command.seq;
  session.last_result = Execute(command);
  return session.last_result;
}

Result KvStateMachine::Execute(const Command& c) {
  auto it = data_.find(c.key);
  const bool present = it != data_.end();
  switch (c.kind) {
    case CommandKind::kGet:
      if (!present) return Result{ResultCode::kNotFound, std::nullopt};
      return Result{ResultCode::kOk, it->second};
    case CommandKind::kDelete:
      if (present) data_.erase(it);
      return Result{ResultCode::kOk, std::nullopt};
    case CommandKind::kCas: {
      const bool matches = c.expected ? present && it->second == *c.expected : !present;
      if (!matches) return Result{ResultCode::kCasFailed, std::nullopt};
      break;  // swap: same as a put
    }
    case CommandKind::kPut:
      break;
  }
  if (present) {
    it->second = c.value;
  } else {
    if (data_.size() >= kMaxKeys) return Result{ResultCode::kInvalid, std::nullopt};
    data_.emplace(c.key, c.value);
  }
  return Result{ResultCode::kOk, std::nullopt};
}

const KvStateMachine::AppliedResult* KvStateMachine::ResultAt(raft::Index index) const {
  auto it = recent_.find(index);
  return it == recent_.end() ? nullptr : &it->second;
}

std::optional<std::string> KvStateMachine::Read(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::Checkpoint() {
  std::string out;
  PutU32(&out, kCheckpointMagic);
  PutU64(&out, last_applied_);
  PutU64(&out, data_.size());
  for (const auto& [key, value] : data_) {
    PutBytes(&out, key);
    PutBytes(&out, value);
  }
  PutU64(&out, sessions_.size());
  for (const auto& [id, session] : sessions_) {
    PutU64(&out, id);
    PutU64(&out, session.last_seq);
    PutBytes(&out, EncodeResult(session.last_result));
  }
  return out;
}

absl::Status KvStateMachine::Restore(std::string_view checkpoint) {
  data_.clear();
  sessions_.clear();
  recent_.clear();
  last_applied_ = 0;
  if (checkpoint.empty()) return absl::OkStatus();  // the empty machine (bootstrap)
  if (checkpoint.size() > kMaxCheckpointBytes) return Corrupt("too large");
  Decoder in(checkpoint);
  uint32_t magic = 0;
  uint64_t applied = 0, keys = 0, sessions = 0;
  if (!in.GetU32(&magic) || magic != kCheckpointMagic) return Corrupt("bad magic");
  if (!in.GetU64(&applied) || !in.GetU64(&keys) || keys > kMaxKeys) return Corrupt("bad header");
  absl::Status status;
  for (uint64_t i = 0; i < keys && status.ok(); ++i) {
    std::string_view key, value;
    if (!GetBytes(in, kMaxKeyBytes, &key) || !GetBytes(in, kMaxValueBytes, &value)) {
      status = Corrupt("bad entry");
    } else if (!data_.emplace(std::string(key), std::string(value)).second) {
      status = Corrupt("duplicate key");
    }
  }
  if (status.ok() && (!in.GetU64(&sessions) || sessions > kMaxSessions)) {
    status = Corrupt("bad session count");
  }
  for (uint64_t i = 0; i < sessions && status.ok(); ++i) {
    uint64_t id = 0;
    Session session;
    std::string_view result;
    if (!in.GetU64(&id) || !in.GetU64(&session.last_seq) ||
        !GetBytes(in, kMaxValueBytes + 16, &result)) {
      status = Corrupt("bad session");
      break;
    }
    absl::StatusOr<Result> decoded = DecodeResult(result);
    if (!decoded.ok()) {
      status = decoded.status();
    } else {
      session.last_result = *std::move(decoded);
      if (!sessions_.emplace(id, std::move(session)).second) status = Corrupt("duplicate session");
    }
  }
  if (status.ok() && !in.done()) status = Corrupt("trailing bytes");
  if (!status.ok()) {
    data_.clear();
    sessions_.clear();
    return status;
  }
  last_applied_ = applied;
  return absl::OkStatus();
}

uint64_t KvStateMachine::Digest() {
  const std::string bytes = Checkpoint();
  return XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace crema::kv
