// String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX INCR INCRBY DECR DECRBY MGET MSET.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "transport/resp/absl_view.h"
#include "transport/resp/command_table.h"
#include "transport/resp/expire_args.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

void ReplyOptional(CommandCall& call, const std::optional<std::string>& v) {
  if (v) {
    call.out.Bulk(*v);
  } else {
    call.out.Null();
  }
}

void Get(CommandCall& call) {
  absl::StatusOr<std::optional<std::string>> v = call.api->Get(call.args[1],
                                                                      call.read_options());
  if (!v.ok()) return call.ReplyStatus(v.status());
  ReplyOptional(call, *v);
}

// GET on the loop, when the node can answer without waiting (CacheApi::TryGetNow).
bool TryGet(CommandCall& call) {
  std::optional<absl::StatusOr<std::optional<std::string>>> v =
      call.api->TryGetNow(call.args[1], call.read_options());
  if (!v.has_value()) return false;
  if (!v->ok()) {
    call.ReplyStatus(v->status());
  } else {
    ReplyOptional(call, **v);
  }
  return true;
}

// Parses SET's options from args[3..]; on error replies and returns false.
bool ParseSetOptions(CommandCall& call, PutOptions* options) {
  bool nx = false, xx = false, get = false, keepttl = false, has_expiry = false;
  for (size_t i = 3; i < call.args.size(); ++i) {
    const std::string opt = absl::AsciiStrToUpper(call.args[i]);
    const bool has_next = i + 1 < call.args.size();
    if (opt == "NX" && !xx) {
      nx = true;
    } else if (opt == "XX" && !nx) {
      xx = true;
    } else if (opt == "GET") {
      get = true;
    } else if (opt == "KEEPTTL" && !has_expiry) {
      keepttl = true;
    } else if ((opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !keepttl &&
               !has_expiry && has_next) {
      const ExpireUnit unit = opt == "EX"   ? ExpireUnit::kSeconds
                              : opt == "PX" ? ExpireUnit::kMilliseconds
                              : opt == "EXAT" ? ExpireUnit::kUnixSeconds
                                              : ExpireUnit::kUnixMilliseconds;
      absl::StatusOr<Expiration> e = ParsePositiveExpiry(call.args[++i], unit, "set");
      if (!e.ok()) {
        call.ReplyError(Sv(e.status().message()));
        return false;
      }
      options->expiration = *e;
      has_expiry = true;
    } else {
      call.ReplyError(kSyntaxError);
      return false;
    }
  }
  if (keepttl) options->expiration = Expiration::Keep();
  options->condition = nx ? PutCondition::kIfAbsent : xx ? PutCondition::kIfPresent
                                                         : PutCondition::kAlways;
  options->return_previous = get;
  return true;
}

void Set(CommandCall& call) {
  PutOptions options;
  options.timeout = call.server.settings.request_timeout;
  if (!ParseSetOptions(call, &options)) return;
  absl::StatusOr<PutResult> r = call.api->Put(call.args[1], call.args[2], options);
  if (!r.ok()) return call.ReplyStatus(r.status());
  if (options.return_previous) return ReplyOptional(call, r->previous);
  if (r->written) {
    call.out.SimpleString("OK");
  } else {
    call.out.Null();
  }
}

void SetNx(CommandCall& call) {
  PutOptions options;
  options.timeout = call.server.settings.request_timeout;
  options.condition = PutCondition::kIfAbsent;
  absl::StatusOr<PutResult> r = call.api->Put(call.args[1], call.args[2], options);
  if (!r.ok()) return call.ReplyStatus(r.status());
  call.out.Integer(r->written ? 1 : 0);
}

void SetExGeneric(CommandCall& call, ExpireUnit unit, const char* name) {
  absl::StatusOr<Expiration> e = ParsePositiveExpiry(call.args[2], unit, name);
  if (!e.ok()) return call.ReplyError(Sv(e.status().message()));
  PutOptions options;
  options.timeout = call.server.settings.request_timeout;
  options.expiration = *e;
  absl::StatusOr<PutResult> r = call.api->Put(call.args[1], call.args[3], options);
  if (!r.ok()) return call.ReplyStatus(r.status());
  call.out.SimpleString("OK");
}
void SetEx(CommandCall& call) { SetExGeneric(call, ExpireUnit::kSeconds, "setex"); }
void PSetEx(CommandCall& call) { SetExGeneric(call, ExpireUnit::kMilliseconds, "psetex"); }

void GetSet(CommandCall& call) {
  PutOptions options;
  options.timeout = call.server.settings.request_timeout;
  options.return_previous = true;
  absl::StatusOr<PutResult> r = call.api->Put(call.args[1], call.args[2], options);
  if (!r.ok()) return call.ReplyStatus(r.status());
  ReplyOptional(call, r->previous);
}

void GetDel(CommandCall& call) {
  absl::StatusOr<std::optional<std::string>> v =
      call.api->Delete(call.args[1], call.write_options());
  if (!v.ok()) return call.ReplyStatus(v.status());
  ReplyOptional(call, *v);
}

void GetEx(CommandCall& call) {
  std::optional<Expiration> expiration;
  for (size_t i = 2; i < call.args.size(); ++i) {
    const std::string opt = absl::AsciiStrToUpper(call.args[i]);
    const bool has_next = i + 1 < call.args.size();
    if ((opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !expiration &&
        has_next) {
      const ExpireUnit unit = opt == "EX"   ? ExpireUnit::kSeconds
                              : opt == "PX" ? ExpireUnit::kMilliseconds
                              : opt == "EXAT" ? ExpireUnit::kUnixSeconds
                                              : ExpireUnit::kUnixMilliseconds;
      absl::StatusOr<Expiration> e = ParsePositiveExpiry(call.args[++i], unit, "getex");
      if (!e.ok()) return call.ReplyError(Sv(e.status().message()));
      expiration = *e;
    } else if (opt == "PERSIST" && !expiration) {
      expiration = Expiration::Never();
    } else {
      return call.ReplyError(kSyntaxError);
    }
  }
  absl::StatusOr<std::optional<std::string>> v =
      call.api->GetAndTouch(call.args[1], expiration, call.write_options());
  if (!v.ok()) return call.ReplyStatus(v.status());
  ReplyOptional(call, *v);
}

void IncrBy(CommandCall& call, int64_t delta) {
  absl::StatusOr<int64_t> v = call.api->Increment(call.args[1], delta, call.write_options());
  if (!v.ok()) return call.ReplyStatus(v.status());
  call.out.Integer(*v);
}
void Incr(CommandCall& call) { IncrBy(call, 1); }
void Decr(CommandCall& call) { IncrBy(call, -1); }
void IncrByCmd(CommandCall& call) {
  std::optional<int64_t> d = ParseStrictInt64(call.args[2]);
  if (!d) return call.ReplyError(kNotInteger);
  IncrBy(call, *d);
}
void DecrByCmd(CommandCall& call) {
  std::optional<int64_t> d = ParseStrictInt64(call.args[2]);
  if (!d) return call.ReplyError(kNotInteger);
  if (*d == INT64_MIN) return call.ReplyError("ERR decrement would overflow");
  IncrBy(call, -*d);
}

void MGet(CommandCall& call) {
  std::vector<std::string> keys(call.args.begin() + 1, call.args.end());
  if (keys.size() > kMaxMultiKeys) {
    return call.ReplyError(absl::StrCat("ERR too many keys (at most ", kMaxMultiKeys, ")"));
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> v =
      call.api->MultiGet(keys, call.read_options());
  if (!v.ok()) return call.ReplyStatus(v.status());
  call.out.ArrayHeader(v->size());
  for (const auto& value : *v) ReplyOptional(call, value);
}

void MSet(CommandCall& call) {
  if (call.args.size() % 2 != 1) return call.ReplyError(WrongArity("mset"));
  const size_t n = (call.args.size() - 1) / 2;
  if (n > kMaxMultiKeys) {
    return call.ReplyError(absl::StrCat("ERR too many keys (at most ", kMaxMultiKeys, ")"));
  }
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(n);
  for (size_t i = 1; i + 1 < call.args.size(); i += 2) {
    entries.emplace_back(call.args[i], call.args[i + 1]);
  }
  absl::Status s = call.api->MultiPut(entries, Expiration::Default(), call.write_options());
  if (!s.ok()) return call.ReplyStatus(s);
  call.out.SimpleString("OK");
}

}  // namespace

void RegisterStringCommands(std::vector<CommandSpec>* t) {
  t->push_back({"get", 2, kReadOnly | kFast, 1, 1, 1, Get, "Returns the value of a key.", TryGet});
  t->push_back({"set", -3, kWrite, 1, 1, 1, Set,
                "Sets a key [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]."});
  t->push_back({"setnx", 3, kWrite | kFast, 1, 1, 1, SetNx, "Sets a key only if it is absent."});
  t->push_back({"setex", 4, kWrite, 1, 1, 1, SetEx, "Sets a key with a TTL in seconds."});
  t->push_back({"psetex", 4, kWrite, 1, 1, 1, PSetEx, "Sets a key with a TTL in milliseconds."});
  t->push_back({"getset", 3, kWrite | kFast, 1, 1, 1, GetSet, "Sets a key, returns the old value."});
  t->push_back({"getdel", 2, kWrite | kFast, 1, 1, 1, GetDel, "Returns a key's value, deletes it."});
  t->push_back({"getex", -2, kWrite | kFast, 1, 1, 1, GetEx,
                "Returns a key's value, optionally changing its expiry."});
  t->push_back({"incr", 2, kWrite | kFast, 1, 1, 1, Incr, "Adds 1 to an integer value."});
  t->push_back({"decr", 2, kWrite | kFast, 1, 1, 1, Decr, "Subtracts 1 from an integer value."});
  t->push_back({"incrby", 3, kWrite | kFast, 1, 1, 1, IncrByCmd, "Adds to an integer value."});
  t->push_back({"decrby", 3, kWrite | kFast, 1, 1, 1, DecrByCmd,
                "Subtracts from an integer value."});
  t->push_back({"mget", -2, kReadOnly | kFast, 1, -1, 1, MGet, "Returns the values of keys."});
  t->push_back({"mset", -3, kWrite, 1, -1, 2, MSet,
                "Sets several keys (atomic per shard, not across shards)."});
}

}  // namespace crema::resp
