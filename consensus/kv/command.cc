#include "consensus/kv/command.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"

namespace crema::kv {
namespace {

using raft::storage::Decoder;
using raft::storage::PutU32;
using raft::storage::PutU64;
using raft::storage::PutU8;

constexpr uint8_t kVersion = 1;

void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

// Reads a u32-length-prefixed byte string of at most `max_bytes`.
bool GetBytes(Decoder& in, size_t max_bytes, std::string* out) {
  uint32_t len = 0;
  std::string_view view;
  if (!in.GetU32(&len) || len > max_bytes || !in.GetView(len, &view)) return false;
  out->assign(view);
  return true;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("kv command: ", std::string(what)));
}

std::string Quote(std::string_view bytes) {
  constexpr size_t kMaxShown = 24;
  const std::string_view prefix = bytes.substr(0, kMaxShown);
  std::string shown = absl::CHexEscape(absl::string_view(prefix.data(), prefix.size()));
  if (bytes.size() > kMaxShown) absl::StrAppend(&shown, "...(", bytes.size(), "B)");
  return absl::StrCat("\"", shown, "\"");
}

}  // namespace

const char* CommandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kPut: return "put";
    case CommandKind::kGet: return "get";
    case CommandKind::kDelete: return "delete";
    case CommandKind::kCas: return "cas";
  }
  return "?";
}

const char* ResultCodeName(ResultCode code) {
  switch (code) {
    case ResultCode::kOk: return "ok";
    case ResultCode::kNotFound: return "not_found";
    case ResultCode::kCasFailed: return "cas_failed";
    case ResultCode::kStale: return "stale";
    case ResultCode::kInvalid: return "invalid";
    case ResultCode::kSessionLimit: return "session_limit";
  }
  return "?";
}

absl::Status ValidateCommand(const Command& c) {
  if (c.kind < CommandKind::kPut || c.kind > CommandKind::kCas) return Bad("unknown kind");
  if (c.session == 0 || c.seq == 0) return Bad("session and seq must be non-zero");
  if (c.key.size() > kMaxKeyBytes) return Bad("key too long");
  if (c.value.size() > kMaxValueBytes) return Bad("value too long");
  if (c.expected && c.expected->size() > kMaxValueBytes) return Bad("expected value too long");
  const bool has_value = c.kind == CommandKind::kPut || c.kind == CommandKind::kCas;
  if (!has_value && !c.value.empty()) return Bad("value on a get/delete");
  if (c.kind != CommandKind::kCas && c.expected) return Bad("expected value on a non-cas");
  return absl::OkStatus();
}

std::string EncodeCommand(const Command& c) {
  // Programmer error: callers build commands from validated client input.
  if (const absl::Status valid = ValidateCommand(c); !valid.ok()) {
    std::fprintf(stderr, "EncodeCommand: %s\n", std::string(valid.message()).c_str());
    std::abort();
  }
  std::string out;
  PutU8(&out, kVersion);
  PutU8(&out, static_cast<uint8_t>(c.kind));
  PutU64(&out, c.session);
  PutU64(&out, c.seq);
  PutBytes(&out, c.key);
  if (c.kind == CommandKind::kPut) PutBytes(&out, c.value);
  if (c.kind == CommandKind::kCas) {
    PutU8(&out, c.expected ? 1 : 0);
    if (c.expected) PutBytes(&out, *c.expected);
    PutBytes(&out, c.value);
  }
  return out;
}

absl::StatusOr<Command> DecodeCommand(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t version = 0, kind = 0;
  Command c;
  if (!in.GetU8(&version) || version != kVersion) return Bad("bad version");
  if (!in.GetU8(&kind) || kind < 1 || kind > 4) return Bad("bad kind");
  c.kind = static_cast<CommandKind>(kind);
  if (!in.GetU64(&c.session) || !in.GetU64(&c.seq)) return Bad("truncated header");
  if (!GetBytes(in, kMaxKeyBytes, &c.key)) return Bad("bad key");
  if (c.kind == CommandKind::kPut && !GetBytes(in, kMaxValueBytes, &c.value)) {
    return Bad("bad value");
  }
  if (c.kind == CommandKind::kCas) {
    uint8_t has_expected = 0;
    if (!in.GetU8(&has_expected) || has_expected > 1) return Bad("bad expected flag");
    if (has_expected == 1) {
      std::string expected;
      if (!GetBytes(in, kMaxValueBytes, &expected)) return Bad("bad expected value");
      c.expected = std::move(expected);
    }
    if (!GetBytes(in, kMaxValueBytes, &c.value)) return Bad("bad new value");
  }
  if (!in.done()) return Bad("trailing bytes");
  if (absl::Status s = ValidateCommand(c); !s.ok()) return s;
  return c;
}

std::string EncodeResult(const Result& r) {
  std::string out;
  PutU8(&out, kVersion);
  PutU8(&out, static_cast<uint8_t>(r.code));
  PutU8(&out, r.value ? 1 : 0);
  if (r.value) PutBytes(&out, *r.value);
  return out;
}

absl::StatusOr<Result> DecodeResult(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t version = 0, code = 0, has_value = 0;
  Result r;
  if (!in.GetU8(&version) || version != kVersion) return Bad("result: bad version");
  if (!in.GetU8(&code) || code < 1 || code > 6) return Bad("result: bad code");
  r.code = static_cast<ResultCode>(code);
  if (!in.GetU8(&has_value) || has_value > 1) return Bad("result: bad value flag");
  if (has_value == 1) {
    std::string value;
    if (!GetBytes(in, kMaxValueBytes, &value)) return Bad("result: bad value");
    r.value = std::move(value);
  }
  if (!in.done()) return Bad("result: trailing bytes");
  return r;
}

std::string FormatCommand(const Command& c) {
  std::string args = Quote(c.key);
  if (c.kind == CommandKind::kPut) absl::StrAppend(&args, ", ", Quote(c.value));
  if (c.kind == CommandKind::kCas) {
    absl::StrAppend(&args, ", expect ", c.expected ? Quote(*c.expected) : "absent", ", new ",
                    Quote(c.value));
  }
  return absl::StrCat(CommandKindName(c.kind), "(", args, ") s=", c.session, " q=", c.seq);
}

}  // namespace crema::kv
