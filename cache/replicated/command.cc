#include "cache/replicated/command.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "node/wire.h"

namespace crema::replicated {
namespace {

constexpr uint8_t kVersion = 1;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("cache command: ", std::string(what)));
}

bool ValidKind(uint8_t k) {
  return (k >= static_cast<uint8_t>(CommandKind::kPut) &&
          k <= static_cast<uint8_t>(CommandKind::kDeletePrefix)) ||
         k == static_cast<uint8_t>(CommandKind::kEvict) ||
         k == static_cast<uint8_t>(CommandKind::kTick);
}

std::string Quote(std::string_view bytes) {
  constexpr size_t kMaxShown = 24;
  const std::string_view prefix = bytes.substr(0, kMaxShown);
  std::string shown = absl::CHexEscape(absl::string_view(prefix.data(), prefix.size()));
  if (bytes.size() > kMaxShown) absl::StrAppend(&shown, "...(", bytes.size(), "B)");
  return absl::StrCat("\"", shown, "\"");
}

absl::Status ValidateKey(std::string_view key) {
  if (key.empty()) return Bad("empty key");
  if (key.size() > kMaxKeyBytes) return Bad("key too long");
  return absl::OkStatus();
}

void PutExpiry(WireWriter& w, const Expiry& e) {
  w.PutU8(static_cast<uint8_t>(e.kind));
  w.PutSigned(e.ns);
}

// ExpireCondition as bits: NX 1, XX 2, GT 4, LT 8.
uint8_t ConditionBits(const ExpireCondition& c) {
  return (c.if_no_expiry ? 1 : 0) | (c.if_has_expiry ? 2 : 0) | (c.if_greater ? 4 : 0) |
         (c.if_less ? 8 : 0);
}

bool GetCondition(WireReader& r, ExpireCondition* c) {
  uint8_t bits;
  if (!r.GetU8(&bits) || bits > 15) return false;
  *c = ExpireCondition{.if_no_expiry = (bits & 1) != 0,
                       .if_has_expiry = (bits & 2) != 0,
                       .if_greater = (bits & 4) != 0,
                       .if_less = (bits & 8) != 0};
  return true;
}

bool GetExpiry(WireReader& r, Expiry* e) {
  uint8_t kind;
  if (!r.GetU8(&kind) || kind > static_cast<uint8_t>(ExpiryKind::kKeep)) return false;
  e->kind = static_cast<ExpiryKind>(kind);
  return r.GetSigned(&e->ns);
}

}  // namespace

const char* CommandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kPut: return "put";
    case CommandKind::kDelete: return "delete";
    case CommandKind::kCas: return "cas";
    case CommandKind::kIncrement: return "increment";
    case CommandKind::kExpire: return "expire";
    case CommandKind::kGetAndTouch: return "get-and-touch";
    case CommandKind::kMultiPut: return "multi-put";
    case CommandKind::kExpireIf: return "expire-if";
    case CommandKind::kDeletePrefix: return "delete-prefix";
    case CommandKind::kEvict: return "evict";
    case CommandKind::kTick: return "tick";
  }
  return "?";
}

bool IsClientCommand(CommandKind kind) {
  return kind != CommandKind::kEvict && kind != CommandKind::kTick;
}

const char* ResultCodeName(ResultCode code) {
  switch (code) {
    case ResultCode::kOk: return "ok";
    case ResultCode::kNotApplied: return "not_applied";
    case ResultCode::kNotInteger: return "not_integer";
    case ResultCode::kInvalid: return "invalid";
    case ResultCode::kStale: return "stale";
    case ResultCode::kExpiredRequest: return "expired_request";
    case ResultCode::kSessionLimit: return "session_limit";
  }
  return "?";
}

absl::Status ValidateCommand(const Command& c) {
  if (!ValidKind(static_cast<uint8_t>(c.kind))) return Bad("unknown kind");
  if (IsClientCommand(c.kind)) {
    if (c.session == 0) return Bad("session must be non-zero");
    if (c.ack_floor == 0 || c.seq < c.ack_floor) return Bad("need seq >= ack_floor >= 1");
  } else if (c.session != 0 || c.seq != 0 || c.ack_floor != 0) {
    return Bad("maintenance commands carry no session");
  }
  if (c.expiry.kind == ExpiryKind::kAfter && c.expiry.ns <= 0) return Bad("ttl must be > 0");
  if (c.default_ttl_ns < 0) return Bad("negative default ttl");
  if (c.value.size() > kMaxValueBytes) return Bad("value too long");
  if (c.expected && c.expected->size() > kMaxValueBytes) return Bad("expected value too long");
  switch (c.kind) {
    case CommandKind::kMultiPut:
      if (c.entries.empty() || c.entries.size() > kMaxMultiKeys) return Bad("bad entry count");
      for (const auto& [k, v] : c.entries) {
        if (absl::Status s = ValidateKey(k); !s.ok()) return s;
        if (v.size() > kMaxValueBytes) return Bad("value too long");
      }
      break;
    case CommandKind::kEvict:
      if (c.keys.empty() || c.keys.size() > kMaxMultiKeys) return Bad("bad key count");
      for (const std::string& k : c.keys) {
        if (absl::Status s = ValidateKey(k); !s.ok()) return s;
      }
      break;
    case CommandKind::kTick:
      break;
    case CommandKind::kExpireIf:
      if (c.expire_condition.empty() || !c.expire_condition.Valid()) {
        return Bad("expire-if needs a valid, non-empty condition");
      }
      if (c.expiry.kind != ExpiryKind::kAfter && c.expiry.kind != ExpiryKind::kAt) {
        return Bad("expire-if needs a ttl or a time");
      }
      if (absl::Status s = ValidateKey(c.key); !s.ok()) return s;
      break;
    default:
      if (absl::Status s = ValidateKey(c.key); !s.ok()) return s;
  }
  if (c.kind != CommandKind::kExpireIf && !c.expire_condition.empty()) {
    return Bad("only expire-if carries a condition");
  }
  return absl::OkStatus();
}

std::string EncodeCommand(const Command& c) {
  WireWriter w;
  // Fixed fields take at most ~80 bytes; each string adds its bytes and a length varint.
  size_t estimate = 96 + c.key.size() + c.value.size() + (c.expected ? c.expected->size() : 0);
  for (const auto& [k, v] : c.entries) estimate += k.size() + v.size() + 10;
  for (const std::string& k : c.keys) estimate += k.size() + 5;
  w.Reserve(estimate);
  w.PutU8(kVersion);
  w.PutU8(static_cast<uint8_t>(c.kind));
  w.PutSigned(c.stamp_unix_ns);
  if (IsClientCommand(c.kind)) {
    w.PutVarint(c.session);
    w.PutVarint(c.seq);
    w.PutVarint(c.ack_floor);
    w.PutSigned(c.issued_unix_ns);
  }
  switch (c.kind) {
    case CommandKind::kPut:
      w.PutBytes(c.key);
      w.PutBytes(c.value);
      PutExpiry(w, c.expiry);
      w.PutSigned(c.default_ttl_ns);
      w.PutU8(static_cast<uint8_t>(c.condition));
      w.PutBool(c.return_previous);
      break;
    case CommandKind::kDelete:
    case CommandKind::kDeletePrefix:
      w.PutBytes(c.key);
      break;
    case CommandKind::kCas:
      w.PutBytes(c.key);
      w.PutBool(c.expected.has_value());
      if (c.expected) w.PutBytes(*c.expected);
      w.PutBytes(c.value);
      PutExpiry(w, c.expiry);
      w.PutSigned(c.default_ttl_ns);
      break;
    case CommandKind::kIncrement:
      w.PutBytes(c.key);
      w.PutSigned(c.delta);
      w.PutSigned(c.default_ttl_ns);
      break;
    case CommandKind::kExpire:
      w.PutBytes(c.key);
      PutExpiry(w, c.expiry);
      break;
    case CommandKind::kExpireIf:
      w.PutBytes(c.key);
      PutExpiry(w, c.expiry);
      w.PutU8(ConditionBits(c.expire_condition));
      break;
    case CommandKind::kGetAndTouch:
      w.PutBytes(c.key);
      w.PutBool(c.touch);
      PutExpiry(w, c.expiry);
      break;
    case CommandKind::kMultiPut:
      w.PutVarint(c.entries.size());
      for (const auto& [k, v] : c.entries) {
        w.PutBytes(k);
        w.PutBytes(v);
      }
      PutExpiry(w, c.expiry);
      w.PutSigned(c.default_ttl_ns);
      break;
    case CommandKind::kEvict:
      w.PutVarint(c.keys.size());
      for (const std::string& k : c.keys) w.PutBytes(k);
      break;
    case CommandKind::kTick:
      break;
  }
  return std::move(w).Finish();
}

absl::StatusOr<Command> DecodeCommand(std::string_view bytes) {
  if (bytes.size() > kMaxCommandBytes) return Bad("too large");
  WireReader r(bytes);
  Command c;
  uint8_t version, kind;
  if (!r.GetU8(&version) || version != kVersion) return Bad("unknown version");
  if (!r.GetU8(&kind) || !ValidKind(kind)) return Bad("unknown kind");
  c.kind = static_cast<CommandKind>(kind);
  if (!r.GetSigned(&c.stamp_unix_ns)) return Bad("truncated stamp");
  if (IsClientCommand(c.kind)) {
    if (!r.GetVarint(&c.session) || !r.GetVarint(&c.seq) || !r.GetVarint(&c.ack_floor) ||
        !r.GetSigned(&c.issued_unix_ns)) {
      return Bad("truncated session");
    }
  }
  bool ok = true;
  uint8_t condition = 0;
  uint64_t count = 0;
  bool has_expected = false;
  switch (c.kind) {
    case CommandKind::kPut:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && r.GetBytes(&c.value, kMaxValueBytes) &&
           GetExpiry(r, &c.expiry) && r.GetSigned(&c.default_ttl_ns) && r.GetU8(&condition) &&
           condition <= static_cast<uint8_t>(PutCondition::kIfPresent) &&
           r.GetBool(&c.return_previous);
      c.condition = static_cast<PutCondition>(condition);
      break;
    case CommandKind::kDelete:
    case CommandKind::kDeletePrefix:
      ok = r.GetBytes(&c.key, kMaxKeyBytes);
      break;
    case CommandKind::kCas:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && r.GetBool(&has_expected);
      if (ok && has_expected) {
        c.expected.emplace();
        ok = r.GetBytes(&*c.expected, kMaxValueBytes);
      }
      ok = ok && r.GetBytes(&c.value, kMaxValueBytes) && GetExpiry(r, &c.expiry) &&
           r.GetSigned(&c.default_ttl_ns);
      break;
    case CommandKind::kIncrement:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && r.GetSigned(&c.delta) &&
           r.GetSigned(&c.default_ttl_ns);
      break;
    case CommandKind::kExpire:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && GetExpiry(r, &c.expiry);
      break;
    case CommandKind::kExpireIf:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && GetExpiry(r, &c.expiry) &&
           GetCondition(r, &c.expire_condition);
      break;
    case CommandKind::kGetAndTouch:
      ok = r.GetBytes(&c.key, kMaxKeyBytes) && r.GetBool(&c.touch) && GetExpiry(r, &c.expiry);
      break;
    case CommandKind::kMultiPut:
      ok = r.GetVarint(&count, kMaxMultiKeys);
      for (uint64_t i = 0; ok && i < count; ++i) {
        std::string k, v;
        ok = r.GetBytes(&k, kMaxKeyBytes) && r.GetBytes(&v, kMaxValueBytes);
        if (ok) c.entries.emplace_back(std::move(k), std::move(v));
      }
      ok = ok && GetExpiry(r, &c.expiry) && r.GetSigned(&c.default_ttl_ns);
      break;
    case CommandKind::kEvict:
      ok = r.GetVarint(&count, kMaxMultiKeys);
      for (uint64_t i = 0; ok && i < count; ++i) {
        std::string k;
        ok = r.GetBytes(&k, kMaxKeyBytes);
        if (ok) c.keys.push_back(std::move(k));
      }
      break;
    case CommandKind::kTick:
      break;
  }
  if (!ok) return Bad(absl::StrCat("truncated or out-of-range ", CommandKindName(c.kind)));
  if (!r.done()) return Bad("trailing bytes");
  if (absl::Status s = ValidateCommand(c); !s.ok()) return s;
  return c;
}

std::string EncodeResult(const Result& result) {
  WireWriter w;
  w.PutU8(kVersion);
  w.PutU8(static_cast<uint8_t>(result.code));
  w.PutBool(result.value.has_value());
  if (result.value) w.PutBytes(*result.value);
  w.PutSigned(result.integer);
  return std::move(w).Finish();
}

absl::StatusOr<Result> DecodeResult(std::string_view bytes) {
  WireReader r(bytes);
  Result result;
  uint8_t version, code;
  bool has_value;
  if (!r.GetU8(&version) || version != kVersion) return Bad("result: unknown version");
  if (!r.GetU8(&code) || code < static_cast<uint8_t>(ResultCode::kOk) ||
      code > static_cast<uint8_t>(ResultCode::kSessionLimit)) {
    return Bad("result: unknown code");
  }
  result.code = static_cast<ResultCode>(code);
  if (!r.GetBool(&has_value)) return Bad("result: truncated");
  if (has_value) {
    result.value.emplace();
    if (!r.GetBytes(&*result.value, kMaxValueBytes)) return Bad("result: bad value");
  }
  if (!r.GetSigned(&result.integer) || !r.done()) return Bad("result: truncated or trailing");
  return result;
}

std::string FormatCommand(const Command& c) {
  std::string out = CommandKindName(c.kind);
  if (!c.key.empty()) absl::StrAppend(&out, " ", Quote(c.key));
  if (c.kind == CommandKind::kPut || c.kind == CommandKind::kCas) {
    absl::StrAppend(&out, " (", c.value.size(), "B)");
  }
  if (c.kind == CommandKind::kMultiPut) absl::StrAppend(&out, " x", c.entries.size());
  if (c.kind == CommandKind::kEvict) absl::StrAppend(&out, " x", c.keys.size());
  if (IsClientCommand(c.kind)) absl::StrAppend(&out, " s=", c.session, " q=", c.seq);
  return out;
}

}  // namespace crema::replicated
