// The RESP command table: every command Crema answers, with Redis's arity convention, its key
// positions, flags, and the handler that runs it against crema::CacheApi.
//
// Dispatch in two steps, so a pipelined connection can order work before running it:
//   1. `Classify(args)` (pure, at parse time): finds the spec, checks arity, and extracts keys;
//      unknown commands and wrong arity get Redis's exact error text here.
//   2. `Execute(...)` (in a fiber): checks authentication (which earlier commands may change),
//      runs the handler, encodes the reply for the session's RESP version.
//
// Error texts are redis-server 7.0's (checked against a live server): e.g.
//   ERR unknown command 'FOO', with args beginning with: 'a' 'b'
//   ERR wrong number of arguments for 'get' command
//   ERR value is not an integer or out of range
// and CacheApi errors map to: INVALID_ARGUMENT -> ERR, RESOURCE_EXHAUSTED -> OOM, UNAVAILABLE ->
// CLUSTERDOWN, DEADLINE_EXCEEDED -> TIMEOUT (the write may or may not have happened).
//
// Thread safety: the table is immutable; Execute runs on the node's loop thread.
#ifndef CREMA_TRANSPORT_RESP_COMMAND_TABLE_H_
#define CREMA_TRANSPORT_RESP_COMMAND_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "transport/resp/encoder.h"
#include "transport/resp/session.h"

namespace crema::resp {

enum CommandFlag : uint32_t {
  kWrite = 1 << 0,
  kReadOnly = 1 << 1,
  kNoAuth = 1 << 2,     // allowed before AUTH (AUTH, HELLO, QUIT, PING-less ones)
  kConnection = 1 << 3, // changes connection state: runs alone, in order (a pipeline barrier)
  kAdmin = 1 << 4,      // needs AUTH admin <token>
  kFast = 1 << 5,
};

struct CommandCall;
using CommandHandler = void (*)(CommandCall& call);
// Answers without blocking (on the loop, outside any fiber) when it can, and returns true; or
// returns false having written nothing, and the command runs its ordinary handler in a fiber.
using InlineHandler = bool (*)(CommandCall& call);

struct CommandSpec {
  const char* name;      // lower case
  int arity;             // Redis convention: N exact, -N at least N (the name counts)
  uint32_t flags;
  int first_key, last_key, key_step;  // Redis convention; 0 = no keys; last -1 = to the end
  CommandHandler handler;
  const char* summary;
  InlineHandler try_now = nullptr;  // null: always a fiber (GET has one: CacheApi::TryGetNow)
};

// What a handler sees.
struct CommandCall {
  const CommandSpec* spec;
  const std::vector<std::string>& args;
  Session& session;
  ServerContext& server;
  Encoder& out;
  absl::Status status;  // the outcome for metrics (OK unless the reply is an error)
  CacheApi* api = nullptr;  // the session's keyspace (server.api without keyspaces)
  std::optional<ClockReading> now;  // an inline window's clock reading (ReadOptions::now)

  ReadOptions read_options() const;
  WriteOptions write_options() const;
  // Replies with the error text for a CacheApi status (also records it in `status`).
  void ReplyStatus(const absl::Status& s);
  void ReplyError(std::string_view text, absl::StatusCode code = absl::StatusCode::kInvalidArgument);
};

const std::vector<CommandSpec>& AllCommands();
const CommandSpec* FindCommand(std::string_view name);  // case-insensitive

struct Classified {
  const CommandSpec* spec = nullptr;  // null: `error` holds the reply
  std::string error;
  std::string name;                   // lower-case command name (metrics label)
};
Classified Classify(const std::vector<std::string>& args);
// The key arguments of a command of this spec, by its first_key / last_key / key_step: what a
// pipeline orders commands by (a command answered inline at parse time never needs them).
std::vector<std::string> KeysOf(const CommandSpec& spec, const std::vector<std::string>& args);

// Runs a classified command (spec != null) and appends its reply. Fiber-only.
// Returns the outcome status (for metrics).
absl::Status Execute(const CommandSpec& spec, const std::vector<std::string>& args,
                     Session& session, ServerContext& server, std::string* reply);

// Execute's inline path: if `spec` has a try_now handler and it answers without waiting, appends
// the reply exactly as Execute would have and returns the outcome status; else nullopt, nothing
// is appended or counted, and the caller runs Execute in a fiber. Not fiber-only.
// `window` (optional): what a window of inline commands shares — one reading of the clocks,
// taken by the caller after the window's bytes arrived (ReadOptions::now), and the session's
// keyspace, opened by the first call (or found not open) and reused by the later ones. Valid only
// while nothing else runs on the loop and the session's keyspace cannot change (SELECT is never
// inline, and nothing after a non-inline command is).
struct InlineWindow {
  std::optional<ClockReading> clock;
  bool keyspace_tried = false;
  std::optional<keyspace::KeyspaceHandle> keyspace;  // unset after trying: not open here
};
std::optional<absl::Status> TryExecuteNow(const CommandSpec& spec,
                                          const std::vector<std::string>& args, Session& session,
                                          ServerContext& server, std::string* reply,
                                          InlineWindow* window = nullptr);

// Redis's reply for a wrong arity, e.g. "ERR wrong number of arguments for 'get' command".
std::string WrongArity(std::string_view name);
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";

// Handlers, by file.
void RegisterStringCommands(std::vector<CommandSpec>* table);  // commands_strings.cc
void RegisterKeyCommands(std::vector<CommandSpec>* table);     // commands_keys.cc
void RegisterServerCommands(std::vector<CommandSpec>* table);  // commands_server.cc
void RegisterCremaCommands(std::vector<CommandSpec>* table);   // commands_crema.cc

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_COMMAND_TABLE_H_
