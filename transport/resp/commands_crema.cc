// Crema's own commands: per-connection read consistency, cluster status, administration.
//   CREMA.CONSISTENCY [local|linearizable|default]   get or set this connection's reads
//   CREMA.CONSISTENCY [READ|WRITE] <level>           eventual keyspaces: R and/or W for this
//                                                    connection; level one|quorum|all|<n>[~]
//   CREMA.KEYSPACES                                  the keyspaces (keyspace_config.h syntax)
//   CREMA.KEYSPACE CREATE <spec>                     (admin) create a keyspace at run time;
//                                                    reply [spec, generation]
//   CREMA.KEYSPACE LIST                              (admin) [[spec, generation], ...]
//   CREMA.KEYSPACE DROP <index|name>                 (admin) drop one (not keyspace 0)
//       errors: -ERR ALREADY_EXISTS: ..., -ERR NOT_FOUND: ..., -ERR <field>: ... (bad spec),
//       -CLUSTERDOWN ... (no metadata quorum), -TIMEOUT ... (it may or may not have happened)
//   CREMA.STATUS                                     the node's view of the cluster
//   CREMA.NODE ADMIT|DRAIN|REMOVE <node id>          (admin) membership of data nodes
//   CREMA.SHARD TRANSFER <shard> <node id>           (admin) move a shard's leadership
//   CREMA.DIGESTS                                    (admin) every hosted replica as
//       [group, replica, applied index, commit index, digest (16 hex digits),
//        "leader"|"follower"|"opening"|"stopped: <why>", Raft status line (role, term, leader,
//        commit, quiet, and a leader's view of each replica's progress)]
//       — what a convergence check compares across nodes (real-process chaos, tools/chaos/)
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "transport/resp/command_table.h"
#include "transport/resp/info.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

// CREMA.CONSISTENCY [READ|WRITE] <level>: the connection's eventual-mode levels.
void Levels(CommandCall& call) {
  const bool both = call.args.size() == 2;
  const std::string which = both ? "" : absl::AsciiStrToLower(call.args[1]);
  if (!both && which != "read" && which != "write") {
    return call.ReplyError("ERR usage: CREMA.CONSISTENCY [READ|WRITE] one|quorum|all|<n>[~]");
  }
  std::optional<eventual::Consistency> level = keyspace::ParseLevel(call.args.back());
  if (!level) return call.ReplyError("ERR level must be one, quorum, all or a replica count, optionally ~ (sloppy)");
  if (both || which == "read") call.session.levels.read = level;
  if (both || which == "write") call.session.levels.write = level;
  call.out.SimpleString("OK");
}

void Consistency(CommandCall& call) {
  if (call.args.size() > 3) return call.ReplyError(WrongArity("crema.consistency"));
  if (call.args.size() == 3 || (call.args.size() == 2 && keyspace::ParseLevel(call.args[1]))) {
    return Levels(call);
  }
  if (call.args.size() == 1) {
    return call.out.Bulk(ReadConsistencyName(
        call.session.consistency.value_or(call.server.settings.default_read)));
  }
  const std::string mode = absl::AsciiStrToLower(call.args[1]);
  if (mode == "local") {
    call.session.consistency = ReadConsistency::kLocal;
  } else if (mode == "linearizable") {
    call.session.consistency = ReadConsistency::kLinearizable;
  } else if (mode == "default") {
    call.session.consistency.reset();
    call.session.levels = {};
  } else {
    return call.ReplyError("ERR consistency must be local, linearizable or default");
  }
  call.out.SimpleString("OK");
}

void Keyspaces(CommandCall& call) {
  if (call.server.keyspaces == nullptr) {
    call.out.ArrayHeader(1);
    return call.out.Bulk("0:default:strong");
  }
  const std::vector<keyspace::KeyspaceSpec>& specs = call.server.keyspaces->keyspaces();
  call.out.ArrayHeader(specs.size());
  for (const keyspace::KeyspaceSpec& spec : specs) call.out.Bulk(spec.ToString());
}

void ReplyKeyspace(CommandCall& call, const keyspace::Keyspace& k) {
  call.out.ArrayHeader(2);
  call.out.Bulk(k.spec.ToString());
  call.out.Integer(static_cast<int64_t>(k.generation));
}

// Errors keep their code's name: FAILED_PRECONDITION and RESOURCE_EXHAUSTED mean something else
// for keyspaces than the "not an integer" and "OOM" ReplyStatus gives data commands.
void ReplyKeyspaceError(CommandCall& call, const absl::Status& s) {
  if (absl::IsInvalidArgument(s) || absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) {
    return call.ReplyStatus(s);
  }
  call.ReplyError(absl::StrCat("ERR ", absl::StatusCodeToString(s.code()), ": ", s.message()),
                  s.code());
}

void Keyspace(CommandCall& call) {
  const std::string sub = absl::AsciiStrToLower(call.args[1]);
  const size_t want = sub == "list" ? 2 : 3;
  if ((sub == "list" || sub == "create" || sub == "drop") && call.args.size() != want) {
    return call.ReplyError(WrongArity(absl::StrCat("crema.keyspace|", sub)));
  }
  if (call.server.keyspaces == nullptr) {
    return call.ReplyError("ERR this server has no keyspaces to manage");
  }
  keyspace::KeyspaceApi& keyspaces = *call.server.keyspaces;
  const absl::Duration timeout = call.write_options().timeout;
  if (sub == "list") {
    const std::vector<keyspace::Keyspace> list = keyspaces.List();
    call.out.ArrayHeader(list.size());
    for (const keyspace::Keyspace& k : list) ReplyKeyspace(call, k);
  } else if (sub == "create") {
    absl::StatusOr<keyspace::Keyspace> k = keyspaces.Create(call.args[2], timeout);
    if (!k.ok()) return ReplyKeyspaceError(call, k.status());
    ReplyKeyspace(call, *k);
  } else if (sub == "drop") {
    if (absl::Status s = keyspaces.Drop(call.args[2], timeout); !s.ok()) {
      return ReplyKeyspaceError(call, s);
    }
    call.out.SimpleString("OK");
  } else {
    call.ReplyError(absl::StrCat("ERR unknown subcommand '", call.args[1].substr(0, 128),
                                 "'. Try CREATE, LIST or DROP."));
  }
}

void Status(CommandCall& call) { EncodeClusterStatus(call.server.api->Status(), call.out); }

std::optional<NodeId> ParseNodeId(std::string_view s) {
  std::optional<int64_t> v = ParseStrictInt64(s);
  if (!v || *v <= 0 || *v > UINT32_MAX) return std::nullopt;
  return static_cast<NodeId>(*v);
}

void Node(CommandCall& call) {
  const std::string sub = absl::AsciiStrToLower(call.args[1]);
  std::optional<NodeId> id = ParseNodeId(call.args[2]);
  if (!id) return call.ReplyError("ERR node id must be a positive integer");
  absl::Status s;
  if (sub == "admit") {
    s = call.server.api->AdmitNode(*id, call.write_options());
  } else if (sub == "drain") {
    s = call.server.api->DrainNode(*id, call.write_options());
  } else if (sub == "remove") {
    s = call.server.api->RemoveNode(*id, call.write_options());
  } else {
    return call.ReplyError(absl::StrCat("ERR unknown subcommand '", call.args[1].substr(0, 128),
                                        "'. Try ADMIT, DRAIN or REMOVE."));
  }
  if (!s.ok()) return call.ReplyStatus(s);
  call.out.SimpleString("OK");
}

void Shard(CommandCall& call) {
  if (absl::AsciiStrToLower(call.args[1]) != "transfer") {
    return call.ReplyError(absl::StrCat("ERR unknown subcommand '", call.args[1].substr(0, 128),
                                        "'. Try TRANSFER."));
  }
  std::optional<int64_t> shard = ParseStrictInt64(call.args[2]);
  if (!shard || *shard < 0 || *shard > UINT32_MAX) {
    return call.ReplyError("ERR shard must be a non-negative integer");
  }
  std::optional<NodeId> to = ParseNodeId(call.args[3]);
  if (!to) return call.ReplyError("ERR node id must be a positive integer");
  absl::Status s = call.server.api->TransferShardLeader(static_cast<uint32_t>(*shard), *to,
                                                        call.write_options());
  if (!s.ok()) return call.ReplyStatus(s);
  call.out.SimpleString("OK");
}

void Digests(CommandCall& call) {
  if (!call.server.replica_digests) {
    return call.ReplyError("ERR this server cannot report replica digests");
  }
  const std::vector<ReplicaDigest> digests = call.server.replica_digests();
  call.out.ArrayHeader(digests.size());
  for (const ReplicaDigest& d : digests) {
    call.out.ArrayHeader(7);
    call.out.Integer(static_cast<int64_t>(d.group));
    call.out.Integer(static_cast<int64_t>(d.replica));
    call.out.Integer(static_cast<int64_t>(d.applied));
    call.out.Integer(static_cast<int64_t>(d.commit));
    call.out.Bulk(absl::StrCat(absl::Hex(d.digest, absl::kZeroPad16)));
    call.out.Bulk(!d.not_running.empty() ? d.not_running : d.leader ? "leader" : "follower");
    call.out.Bulk(d.raft_status);
  }
}

}  // namespace

void RegisterCremaCommands(std::vector<CommandSpec>* t) {
  t->push_back({"crema.consistency", -1, kConnection | kFast, 0, 0, 0, Consistency,
                "CREMA.CONSISTENCY [local|linearizable|default] | [READ|WRITE] one|quorum|all|<n>[~]."});
  t->push_back({"crema.keyspaces", 1, kFast, 0, 0, 0, Keyspaces,
                "The keyspaces: <index>:<name>:<mode>[:options]."});
  t->push_back({"crema.keyspace", -2, kAdmin | kConnection, 0, 0, 0, Keyspace,
                "CREMA.KEYSPACE CREATE <spec> | LIST | DROP <index|name> (admin)."});
  t->push_back({"crema.status", 1, 0, 0, 0, 0, Status, "The node's view of the cluster."});
  t->push_back({"crema.node", 3, kAdmin | kConnection, 0, 0, 0, Node,
                "CREMA.NODE ADMIT|DRAIN|REMOVE <id> (admin)."});
  t->push_back({"crema.shard", 4, kAdmin | kConnection, 0, 0, 0, Shard,
                "CREMA.SHARD TRANSFER <shard> <node id> (admin)."});
  t->push_back({"crema.digests", 1, kAdmin | kConnection, 0, 0, 0, Digests,
                "CREMA.DIGESTS: every hosted replica's applied index and state digest (admin)."});
}

}  // namespace crema::resp
