// Key commands: DEL UNLINK EXISTS EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL PERSIST DBSIZE.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "transport/resp/absl_view.h"
#include "transport/resp/command_table.h"
#include "transport/resp/expire_args.h"

namespace crema::resp {
namespace {

void Del(CommandCall& call) {
  int64_t removed = 0;
  for (size_t i = 1; i < call.args.size(); ++i) {
    absl::StatusOr<std::optional<std::string>> v =
        call.api->Delete(call.args[i], call.write_options());
    if (!v.ok()) return call.ReplyStatus(v.status());
    removed += v->has_value();
  }
  call.out.Integer(removed);
}

void Exists(CommandCall& call) {
  int64_t found = 0;
  for (size_t i = 1; i < call.args.size(); ++i) {
    absl::StatusOr<TtlResult> t = call.api->Ttl(call.args[i], call.read_options());
    if (!t.ok()) return call.ReplyStatus(t.status());
    found += t->kind != TtlResult::Kind::kMissing;
  }
  call.out.Integer(found);
}

// Redis 7's options, checked before the time as redis-server does: an unknown one, then NX with
// any other, then GT with LT. The condition itself is judged by the node where the write is
// applied (CacheApi::ExpireIf), atomically.
void ExpireGeneric(CommandCall& call, ExpireUnit unit) {
  const std::string name = absl::AsciiStrToLower(call.args[0]);
  ExpireCondition when;
  for (size_t i = 3; i < call.args.size(); ++i) {
    const std::string opt = absl::AsciiStrToUpper(call.args[i]);
    if (opt == "NX") {
      when.if_no_expiry = true;
    } else if (opt == "XX") {
      when.if_has_expiry = true;
    } else if (opt == "GT") {
      when.if_greater = true;
    } else if (opt == "LT") {
      when.if_less = true;
    } else {
      return call.ReplyError(absl::StrCat("ERR Unsupported option ", call.args[i]));
    }
  }
  if (when.if_no_expiry && (when.if_has_expiry || when.if_greater || when.if_less)) {
    return call.ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (when.if_greater && when.if_less) {
    return call.ReplyError("ERR GT and LT options at the same time are not compatible");
  }
  absl::StatusOr<Expiration> e = ParseExpireCommandTime(call.args[2], unit, name);
  if (!e.ok()) return call.ReplyError(Sv(e.status().message()));
  absl::StatusOr<bool> r = when.empty()
                               ? call.api->Expire(call.args[1], *e, call.write_options())
                               : call.api->ExpireIf(call.args[1], *e, when, call.write_options());
  if (!r.ok()) return call.ReplyStatus(r.status());
  call.out.Integer(*r ? 1 : 0);
}
void ExpireCmd(CommandCall& call) { ExpireGeneric(call, ExpireUnit::kSeconds); }
void PExpireCmd(CommandCall& call) { ExpireGeneric(call, ExpireUnit::kMilliseconds); }
void ExpireAtCmd(CommandCall& call) { ExpireGeneric(call, ExpireUnit::kUnixSeconds); }
void PExpireAtCmd(CommandCall& call) { ExpireGeneric(call, ExpireUnit::kUnixMilliseconds); }

void TtlGeneric(CommandCall& call, bool millis) {
  absl::StatusOr<TtlResult> t = call.api->Ttl(call.args[1], call.read_options());
  if (!t.ok()) return call.ReplyStatus(t.status());
  switch (t->kind) {
    case TtlResult::Kind::kMissing: return call.out.Integer(-2);
    case TtlResult::Kind::kNoExpiry: return call.out.Integer(-1);
    case TtlResult::Kind::kExpires: {
      const int64_t ms = absl::ToInt64Milliseconds(t->remaining);
      return call.out.Integer(millis ? ms : (ms + 500) / 1000);  // Redis rounds TTL this way
    }
  }
}
void TtlCmd(CommandCall& call) { TtlGeneric(call, false); }
void PTtlCmd(CommandCall& call) { TtlGeneric(call, true); }

// PERSIST answers 1 only when it removed a deadline. CacheApi::Expire reports existence, so the
// deadline is read first; a concurrent change between the two calls can only affect the 0/1.
void Persist(CommandCall& call) {
  absl::StatusOr<TtlResult> t = call.api->Ttl(call.args[1], call.read_options());
  if (!t.ok()) return call.ReplyStatus(t.status());
  if (t->kind != TtlResult::Kind::kExpires) return call.out.Integer(0);
  absl::StatusOr<bool> r =
      call.api->Expire(call.args[1], Expiration::Never(), call.write_options());
  if (!r.ok()) return call.ReplyStatus(r.status());
  call.out.Integer(*r ? 1 : 0);
}

void DbSize(CommandCall& call) {
  absl::StatusOr<int64_t> n = call.api->Size(call.read_options());
  if (!n.ok()) return call.ReplyStatus(n.status());
  call.out.Integer(*n);
}

}  // namespace

void RegisterKeyCommands(std::vector<CommandSpec>* t) {
  t->push_back({"del", -2, kWrite, 1, -1, 1, Del, "Deletes keys; returns how many existed."});
  t->push_back({"unlink", -2, kWrite | kFast, 1, -1, 1, Del, "Same as DEL."});
  t->push_back({"exists", -2, kReadOnly | kFast, 1, -1, 1, Exists, "Counts keys that exist."});
  t->push_back({"expire", -3, kWrite | kFast, 1, 1, 1, ExpireCmd, "Sets a TTL in seconds."});
  t->push_back({"pexpire", -3, kWrite | kFast, 1, 1, 1, PExpireCmd, "Sets a TTL in milliseconds."});
  t->push_back({"expireat", -3, kWrite | kFast, 1, 1, 1, ExpireAtCmd,
                "Sets a deadline in Unix seconds."});
  t->push_back({"pexpireat", -3, kWrite | kFast, 1, 1, 1, PExpireAtCmd,
                "Sets a deadline in Unix milliseconds."});
  t->push_back({"ttl", 2, kReadOnly | kFast, 1, 1, 1, TtlCmd, "Seconds to live (-1, -2)."});
  t->push_back({"pttl", 2, kReadOnly | kFast, 1, 1, 1, PTtlCmd, "Milliseconds to live."});
  t->push_back({"persist", 2, kWrite | kFast, 1, 1, 1, Persist, "Removes a key's expiry."});
  t->push_back({"dbsize", 1, kReadOnly | kFast, 0, 0, 0, DbSize,
                "Live keys over all shards (approximate)."});
}

}  // namespace crema::resp
