#include "transport/resp/command_table.h"

#include "transport/resp/absl_view.h"

#include <algorithm>
#include <cassert>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crema::resp {
namespace {

struct Table {
  std::vector<CommandSpec> specs;
  // Looked up by name only, never iterated: hash order cannot leak.
  absl::flat_hash_map<std::string, const CommandSpec*> by_name;
};

const Table& GetTable() {
  static const Table* table = [] {
    auto* t = new Table;
    RegisterStringCommands(&t->specs);
    RegisterKeyCommands(&t->specs);
    RegisterServerCommands(&t->specs);
    RegisterCremaCommands(&t->specs);
    std::sort(t->specs.begin(), t->specs.end(),
              [](const CommandSpec& a, const CommandSpec& b) {
                return std::string_view(a.name) < std::string_view(b.name);
              });
    for (const CommandSpec& s : t->specs) t->by_name[s.name] = &s;
    return t;
  }();
  return *table;
}

std::string UnknownCommand(const std::vector<std::string>& args) {
  std::string text = absl::StrCat("ERR unknown command '", args[0].substr(0, 128),
                                  "', with args beginning with: ");
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < 128; ++i) {
    absl::StrAppend(&quoted, "'", args[i].substr(0, 128 - quoted.size()), "' ");
  }
  return text + quoted;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() { return GetTable().specs; }

const CommandSpec* FindCommand(std::string_view name) {
  if (name.size() > 64) return nullptr;
  const Table& t = GetTable();
  char lower[64];  // no allocation: lower-cased on the stack, looked up as a string_view
  for (size_t i = 0; i < name.size(); ++i) lower[i] = absl::ascii_tolower(name[i]);
  auto it = t.by_name.find(absl::string_view(lower, name.size()));
  return it == t.by_name.end() ? nullptr : it->second;
}

std::string WrongArity(std::string_view name) {
  return absl::StrCat("ERR wrong number of arguments for '", Av(name), "' command");
}

Classified Classify(const std::vector<std::string>& args) {
  Classified c;
  if (args.empty()) {
    c.error = "ERR empty command";
    return c;
  }
  const CommandSpec* spec = FindCommand(args[0]);
  if (spec == nullptr) {
    c.error = UnknownCommand(args);
    c.name = "unknown";
    return c;
  }
  c.name = spec->name;
  const int argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    c.error = WrongArity(spec->name);
    return c;
  }
  c.spec = spec;
  return c;
}

std::vector<std::string> KeysOf(const CommandSpec& spec, const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  if (spec.first_key > 0) {
    const int argc = static_cast<int>(args.size());
    const int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
    for (int i = spec.first_key; i <= last && i < argc; i += spec.key_step) {
      keys.push_back(args[i]);
    }
  }
  return keys;
}

ReadOptions CommandCall::read_options() const {
  ReadOptions o;
  o.consistency = session.consistency;
  o.timeout = server.settings.request_timeout;
  o.now = now;
  return o;
}

WriteOptions CommandCall::write_options() const {
  WriteOptions o;
  o.timeout = server.settings.request_timeout;
  return o;
}

void CommandCall::ReplyError(std::string_view text, absl::StatusCode code) {
  out.Error(text);
  status = absl::Status(code, Av(text));
}

void CommandCall::ReplyStatus(const absl::Status& s) {
  std::string text;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      text = absl::StrCat("ERR ", s.message());
      break;
    case absl::StatusCode::kFailedPrecondition:
      text = absl::StrContains(s.message(), "overflow")
                 ? "ERR increment or decrement would overflow"
                 : std::string(kNotInteger);
      break;
    case absl::StatusCode::kResourceExhausted:
      text = absl::StrCat("OOM command not allowed: ", s.message());
      break;
    case absl::StatusCode::kUnavailable:
      text = absl::StrCat("CLUSTERDOWN ", s.message());
      break;
    case absl::StatusCode::kDeadlineExceeded:
      text = absl::StrCat("TIMEOUT no decision in time; a write may or may not have taken effect (",
                          s.message(), ")");
      break;
    case absl::StatusCode::kPermissionDenied:
      text = absl::StrCat("NOPERM ", s.message());
      break;
    case absl::StatusCode::kCancelled:
      text = "ERR server shutting down";
      break;
    default:
      text = absl::StrCat("ERR ", absl::StatusCodeToString(s.code()), ": ", s.message());
      break;
  }
  out.Error(text);
  status = s;
}

absl::Status Execute(const CommandSpec& spec, const std::vector<std::string>& args,
                     Session& session, ServerContext& server, std::string* reply) {
  Encoder enc(reply, session.resp_version == 3);
  CommandCall call{&spec, args, session, server, enc, absl::OkStatus()};
  ++session.commands;
  ++server.counters.commands_processed;
  session.last_command = spec.name;
  if (!session.authenticated && !server.settings.password.empty() && !(spec.flags & kNoAuth)) {
    call.ReplyError("NOAUTH Authentication required.", absl::StatusCode::kUnauthenticated);
    return call.status;
  }
  if ((spec.flags & kAdmin) && !session.admin) {
    call.ReplyError(server.settings.admin_token.empty()
                        ? "NOPERM admin commands are disabled (the server has no admin token)"
                        : "NOPERM admin commands need AUTH admin <admin token>",
                    absl::StatusCode::kPermissionDenied);
    return call.status;
  }
  call.api = server.api;
  keyspace::KeyspaceHandle handle;  // keeps the keyspace view alive during the call
  if (server.keyspaces != nullptr) {
    absl::StatusOr<keyspace::KeyspaceHandle> h = server.keyspaces->Open(session.keyspace, session.levels);
    if (!h.ok()) {
      call.ReplyStatus(h.status());
      return call.status;
    }
    handle = *std::move(h);
    call.api = handle.api;
  }
  spec.handler(call);
  return call.status;
}

std::optional<absl::Status> TryExecuteNow(const CommandSpec& spec,
                                          const std::vector<std::string>& args, Session& session,
                                          ServerContext& server, std::string* reply,
                                          InlineWindow* window) {
  if (spec.try_now == nullptr) return std::nullopt;
  // Execute answers refusals (NOAUTH, NOPERM, keyspace errors); they are not worth a fast path.
  if (!session.authenticated && !server.settings.password.empty() && !(spec.flags & kNoAuth)) {
    return std::nullopt;
  }
  if ((spec.flags & kAdmin) && !session.admin) return std::nullopt;
  keyspace::KeyspaceHandle handle;
  CacheApi* api = server.api;
  if (server.keyspaces != nullptr) {
    if (window != nullptr && window->keyspace_tried) {
      if (!window->keyspace.has_value()) return std::nullopt;
      api = window->keyspace->api;
    } else {
      // Never waits on the loop: a keyspace this node does not know is left to Execute (a fiber).
      absl::StatusOr<keyspace::KeyspaceHandle> h =
          server.keyspaces->TryOpen(session.keyspace, session.levels);
      if (window != nullptr) {
        window->keyspace_tried = true;
        if (h.ok()) window->keyspace = *h;
      }
      if (!h.ok()) return std::nullopt;
      handle = *std::move(h);
      api = handle.api;
    }
  }
  const size_t mark = reply->size();
  Encoder enc(reply, session.resp_version == 3);
  CommandCall call{&spec, args, session, server, enc, absl::OkStatus()};
  call.api = api;
  if (window != nullptr) call.now = window->clock;
  if (!spec.try_now(call)) {
    assert(reply->size() == mark);  // a handler that declines writes nothing
    reply->resize(mark);
    return std::nullopt;
  }
  ++session.commands;
  ++server.counters.commands_processed;
  session.last_command = spec.name;
  return call.status;
}

}  // namespace crema::resp
