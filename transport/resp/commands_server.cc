// Connection and server commands: PING ECHO HELLO AUTH QUIT SELECT CLIENT COMMAND INFO CONFIG.
#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "transport/resp/command_table.h"
#include "transport/resp/info.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

bool SecretEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Checks a user/password pair; sets the session's flags on success.
bool TryAuth(CommandCall& call, std::string_view user, std::string_view password) {
  const ServerSettings& s = call.server.settings;
  if (user == "admin") {
    if (s.admin_token.empty() || !SecretEquals(password, s.admin_token)) return false;
    call.session.admin = true;
    call.session.authenticated = true;
    return true;
  }
  if (user != "default") return false;
  if (!s.password.empty() && !SecretEquals(password, s.password)) return false;
  call.session.authenticated = true;
  return true;
}

void Ping(CommandCall& call) {
  if (call.args.size() > 2) return call.ReplyError(WrongArity("ping"));
  if (call.args.size() == 2) return call.out.Bulk(call.args[1]);
  call.out.SimpleString("PONG");
}

void Echo(CommandCall& call) { call.out.Bulk(call.args[1]); }

void Auth(CommandCall& call) {
  if (call.args.size() > 3) return call.ReplyError(kSyntaxError);
  if (call.args.size() == 2) {
    if (call.server.settings.password.empty()) {
      return call.ReplyError(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
    }
    if (!TryAuth(call, "default", call.args[1])) {
      return call.ReplyError(kWrongPass, absl::StatusCode::kUnauthenticated);
    }
    return call.out.SimpleString("OK");
  }
  if (!TryAuth(call, call.args[1], call.args[2])) {
    return call.ReplyError(kWrongPass, absl::StatusCode::kUnauthenticated);
  }
  call.out.SimpleString("OK");
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

void Hello(CommandCall& call) {
  int version = call.session.resp_version;
  size_t i = 1;
  if (call.args.size() >= 2) {
    std::optional<int64_t> v = ParseStrictInt64(call.args[1]);
    if (!v) return call.ReplyError("ERR Protocol version is not an integer or out of range");
    if (*v < 2 || *v > 3) return call.ReplyError("NOPROTO unsupported protocol version");
    version = static_cast<int>(*v);
    i = 2;
  }
  std::optional<std::pair<std::string, std::string>> auth;
  std::optional<std::string> name;
  for (; i < call.args.size(); ++i) {
    const std::string opt = absl::AsciiStrToUpper(call.args[i]);
    const size_t more = call.args.size() - i - 1;
    if (opt == "AUTH" && more >= 2) {
      auth.emplace(call.args[i + 1], call.args[i + 2]);
      i += 2;
    } else if (opt == "SETNAME" && more >= 1) {
      name = call.args[++i];
    } else {
      return call.ReplyError(absl::StrCat("ERR Syntax error in HELLO option '", call.args[i], "'"));
    }
  }
  if (auth && !TryAuth(call, auth->first, auth->second)) {
    return call.ReplyError(kWrongPass, absl::StatusCode::kUnauthenticated);
  }
  if (!call.session.authenticated && !call.server.settings.password.empty()) {
    return call.ReplyError(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time",
        absl::StatusCode::kUnauthenticated);
  }
  if (name) {
    if (!ValidClientName(*name)) {
      return call.ReplyError(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    call.session.name = *name;
  }
  call.session.resp_version = version;
  Encoder enc(call.out.out(), version == 3);  // the reply already uses the new version
  enc.MapHeader(8);
  enc.Bulk("server");
  enc.Bulk("redis");
  enc.Bulk("version");
  enc.Bulk(kRedisCompatVersion);
  enc.Bulk("proto");
  enc.Integer(version);
  enc.Bulk("id");
  enc.Integer(static_cast<int64_t>(call.session.id));
  enc.Bulk("mode");
  enc.Bulk("standalone");
  enc.Bulk("role");
  enc.Bulk("master");
  enc.Bulk("modules");
  enc.ArrayHeader(0);
  enc.Bulk("crema_version");
  enc.Bulk(call.server.settings.version);
}

void Quit(CommandCall& call) {
  call.session.close_after_reply = true;
  call.out.SimpleString("OK");
}

void Select(CommandCall& call) {
  std::optional<int64_t> db = ParseStrictInt64(call.args[1]);
  if (!db) return call.ReplyError(kNotInteger);
  if (call.server.keyspaces == nullptr) {
    if (*db != 0) return call.ReplyError("ERR DB index is out of range");
  } else {
    if (*db < 0 || *db >= static_cast<int64_t>(keyspace::kMaxKeyspaces) ||
        !call.server.keyspaces->Open(static_cast<uint32_t>(*db), {}).ok()) {
      return call.ReplyError("ERR DB index is out of range");
    }
    call.session.keyspace = static_cast<uint32_t>(*db);
  }
  call.out.SimpleString("OK");
}

void Client(CommandCall& call) {
  const std::string sub = absl::AsciiStrToLower(call.args[1]);
  const size_t argc = call.args.size();
  auto arity = [&](size_t want) {
    if (argc == want) return true;
    call.ReplyError(WrongArity(absl::StrCat("client|", sub)));
    return false;
  };
  if (sub == "id") {
    if (arity(2)) call.out.Integer(static_cast<int64_t>(call.session.id));
  } else if (sub == "getname") {
    if (!arity(2)) return;
    if (call.session.name.empty()) return call.out.Null();
    call.out.Bulk(call.session.name);
  } else if (sub == "setname") {
    if (!arity(3)) return;
    if (!ValidClientName(call.args[2])) {
      return call.ReplyError(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    call.session.name = call.args[2];
    call.out.SimpleString("OK");
  } else if (sub == "info") {
    if (arity(2)) call.out.Verbatim("txt", ClientInfoLine(call.session, call.server) + "\n");
  } else if (sub == "list") {
    std::vector<std::string> lines =
        call.server.client_list ? call.server.client_list() : std::vector<std::string>{};
    call.out.Verbatim("txt", lines.empty() ? "" : absl::StrJoin(lines, "\n") + "\n");
  } else if (sub == "setinfo") {
    if (arity(4)) call.out.SimpleString("OK");  // lib-name / lib-ver: accepted, not kept
  } else if (sub == "help") {
    const std::vector<std::string> help = {
        "CLIENT <subcommand> [<arg> ...]. Subcommands are:", "ID", "GETNAME", "SETNAME <name>",
        "INFO", "LIST", "SETINFO <attr> <value>", "HELP"};
    call.out.ArrayHeader(help.size());
    for (const std::string& h : help) call.out.SimpleString(h);
  } else {
    call.ReplyError(
        absl::StrCat("ERR unknown subcommand '", call.args[1].substr(0, 128), "'. Try CLIENT HELP."));
  }
}

void Command(CommandCall& call) {
  const std::string sub = call.args.size() > 1 ? absl::AsciiStrToLower(call.args[1]) : "";
  const std::vector<CommandSpec>& all = AllCommands();
  if (sub.empty()) {
    call.out.ArrayHeader(all.size());
    for (const CommandSpec& s : all) EncodeCommandInfo(s, call.out);
  } else if (sub == "count") {
    call.out.Integer(static_cast<int64_t>(all.size()));
  } else if (sub == "list") {
    call.out.ArrayHeader(all.size());
    for (const CommandSpec& s : all) call.out.Bulk(s.name);
  } else if (sub == "info") {
    call.out.ArrayHeader(call.args.size() - 2);
    for (size_t i = 2; i < call.args.size(); ++i) {
      const CommandSpec* s = FindCommand(call.args[i]);
      if (s) {
        EncodeCommandInfo(*s, call.out);
      } else {
        call.out.NullArray();
      }
    }
  } else if (sub == "docs") {
    std::vector<const CommandSpec*> specs;
    if (call.args.size() == 2) {
      for (const CommandSpec& s : all) specs.push_back(&s);
    } else {
      for (size_t i = 2; i < call.args.size(); ++i) {
        if (const CommandSpec* s = FindCommand(call.args[i])) specs.push_back(s);
      }
    }
    call.out.MapHeader(specs.size());
    for (const CommandSpec* s : specs) {
      call.out.Bulk(s->name);
      call.out.MapHeader(3);
      call.out.Bulk("summary");
      call.out.Bulk(s->summary);
      call.out.Bulk("since");
      call.out.Bulk("1.0.0");
      call.out.Bulk("group");
      call.out.Bulk(absl::StartsWith(s->name, "crema.") ? "crema" : "generic");
    }
  } else {
    call.ReplyError(absl::StrCat("ERR unknown subcommand '", call.args[1].substr(0, 128),
                                 "'. Try COMMAND HELP."));
  }
}

void Info(CommandCall& call) {
  std::vector<std::string> sections(call.args.begin() + 1, call.args.end());
  call.out.Verbatim("txt", RenderInfo(sections, call));
}

void Config(CommandCall& call) {
  const std::string sub = absl::AsciiStrToLower(call.args[1]);
  if (sub != "get") {
    return call.ReplyError(absl::StrCat("ERR CONFIG ", absl::AsciiStrToUpper(call.args[1]),
                                        " is not supported by Crema (use crema_server's flags)"));
  }
  if (call.args.size() < 3) return call.ReplyError(WrongArity("config|get"));
  // Read-only answers for what Redis tools ask at start (redis-benchmark: save, appendonly).
  const std::vector<std::pair<std::string, std::string>> known = {
      {"appendonly", "no"}, {"databases", "1"}, {"save", ""},
      {"maxclients", absl::StrCat(call.server.settings.max_clients)},
      {"timeout", absl::StrCat(absl::ToInt64Seconds(call.server.settings.idle_timeout))}};
  std::vector<std::pair<std::string, std::string>> matched;
  for (size_t i = 2; i < call.args.size(); ++i) {
    const std::string want = absl::AsciiStrToLower(call.args[i]);
    for (const auto& kv : known) {
      if ((want == "*" || want == kv.first) &&
          std::find(matched.begin(), matched.end(), kv) == matched.end()) {
        matched.push_back(kv);
      }
    }
  }
  call.out.MapHeader(matched.size());
  for (const auto& [k, v] : matched) {
    call.out.Bulk(k);
    call.out.Bulk(v);
  }
}

}  // namespace

void RegisterServerCommands(std::vector<CommandSpec>* t) {
  t->push_back({"ping", -1, kFast, 0, 0, 0, Ping, "Answers PONG, or echoes its argument."});
  t->push_back({"echo", 2, kFast, 0, 0, 0, Echo, "Returns its argument."});
  t->push_back({"auth", -2, kNoAuth | kConnection | kFast, 0, 0, 0, Auth,
                "AUTH [user] password; AUTH admin <token> for admin commands."});
  t->push_back({"hello", -1, kNoAuth | kConnection | kFast, 0, 0, 0, Hello,
                "HELLO [2|3 [AUTH user pass] [SETNAME name]]: handshake, RESP version."});
  t->push_back({"quit", -1, kNoAuth | kConnection | kFast, 0, 0, 0, Quit,
                "Closes the connection after the reply."});
  t->push_back({"select", 2, kConnection | kFast, 0, 0, 0, Select, "SELECT <keyspace index> (database 0 only without --keyspaces)."});
  t->push_back({"client", -2, kConnection, 0, 0, 0, Client,
                "CLIENT ID|GETNAME|SETNAME|INFO|LIST|SETINFO|HELP."});
  t->push_back({"command", -1, 0, 0, 0, 0, Command, "COMMAND [COUNT|LIST|INFO|DOCS ...]."});
  t->push_back({"info", -1, 0, 0, 0, 0, Info,
                "INFO [server|clients|stats|keyspace|crema|all ...]."});
  t->push_back({"config", -2, 0, 0, 0, 0, Config, "CONFIG GET (read-only)."});
}

}  // namespace crema::resp
