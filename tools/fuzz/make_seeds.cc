// Writes the seed corpora of the fuzz targets (fuzz.bzl) into the source tree:
//   bazel run //tools/fuzz:make_seeds
// Each seed is a valid (or nearly valid) input for its target, built with the project's own
// encoders, so fuzzing starts deep inside the decoders instead of at their first check. The
// output is deterministic: re-running rewrites identical files (`seed-*`). Regression inputs
// (`regress-*`, the inputs of bugs found) are added by hand and never touched here.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cache/replicated/command.h"
#include "chaos/history_generator.h"
#include "chaos/history_json.h"
#include "consensus/conf_change.h"
#include "consensus/driver/message_batch.h"
#include "consensus/kv/command.h"
#include "consensus/kv/kv_state_machine.h"
#include "consensus/kv/protocol.h"
#include "consensus/message_codec.h"
#include "consensus/storage/snapshot_store.h"
#include "node/cache_node/payloads.h"
#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_command.h"
#include "node/eventual/core/hint_set.h"
#include "node/eventual/core/messages.h"
#include "node/forward/rpc.h"
#include "node/keyspace/keyspace_config.h"
#include "node/membership/codec.h"
#include "node/ping/ping_codec.h"
#include "node/ping/state_file.h"
#include "node/random.h"
#include "transport/frame.h"
#include "transport/handshake.h"

namespace crema::fuzz {
namespace {

std::string root;

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string path = root + "/" + dir;
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
  }
  std::ofstream out(path + "/seed-" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/seed-%s\n", path.c_str(), name.c_str());
    std::exit(1);
  }
}

std::string Mode(uint8_t mode, std::string_view rest) {
  return std::string(1, static_cast<char>(mode)) + std::string(rest);
}

std::string RandomBytes(Random& random, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(random.Uniform(256));
  return out;
}

std::vector<raft::Message> RaftMessages() {
  using namespace raft;
  std::vector<Message> out;
  Message hb{.type = MessageType::kHeartbeat, .group = 7, .from = 1, .to = 2, .term = 3};
  hb.commit = 10;
  out.push_back(hb);
  Message app{.type = MessageType::kApp, .group = 1, .from = 1, .to = 3, .term = 4};
  app.log_term = 3;
  app.index = 9;
  app.entries = {{4, 10, EntryType::kNormal, "put k v"},
                 {4, 11, EntryType::kConfChange, EncodeConfChange({ConfChangeType::kAddVoter, 4})}};
  out.push_back(app);
  Message snap{.type = MessageType::kSnap, .group = 2, .from = 1, .to = 2, .term = 5};
  snap.snapshot = SnapshotMeta{100, 4, ConfState{{1, 2, 3}, {4}, {}}};
  snap.snapshot_chunk = "chunk bytes";
  snap.snapshot_last = true;
  out.push_back(snap);
  Message vote{.type = MessageType::kVote, .group = 1, .from = 2, .to = 1, .term = 6};
  vote.context = "ctx";
  out.push_back(vote);
  return out;
}

void Consensus(Random& random) {
  const std::vector<raft::Message> messages = RaftMessages();
  raft::BatchBuilder batch;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string encoded = raft::EncodeMessage(messages[i]);
    Write("consensus/fuzz_corpus/message_codec_fuzzer", "message" + std::to_string(i),
          Mode(0, encoded));
    batch.Add(encoded);
  }
  Write("consensus/fuzz_corpus/message_codec_fuzzer", "conf-change",
        Mode(1, raft::EncodeConfChange({raft::ConfChangeType::kRemove, 3})));
  Write("consensus/driver/fuzz_corpus/message_batch_fuzzer", "batch", Mode(0, batch.Take()));
  Write("consensus/driver/fuzz_corpus/message_batch_fuzzer", "bare",
        Mode(0, raft::EncodeMessage(messages[0])));
  Write("consensus/driver/fuzz_corpus/message_batch_fuzzer", "structured",
        Mode(1, raft::EncodeMessage(messages[1]) + RandomBytes(random, 64)));

  const raft::SnapshotMeta meta{42, 3, raft::ConfState{{1, 2, 3}, {}, {}}};
  const std::string file = raft::storage::EncodeSnapshotFile(meta, "key=value;other=thing;" +
                                                                       std::string(300, 'z'));
  Write("consensus/storage/fuzz_corpus/snapshot_fuzzer", "file", Mode(0, file));
  Write("consensus/storage/fuzz_corpus/snapshot_fuzzer", "body",
        Mode(1, file.substr(0, file.size() - 8)));
  Write("consensus/storage/fuzz_corpus/snapshot_fuzzer", "structured",
        Mode(2, RandomBytes(random, 40) + file.substr(file.size() - 40, 32)));
  Write("consensus/storage/fuzz_corpus/snapshot_fuzzer", "stream",
        Mode(3, std::string(1, '\1') + RandomBytes(random, 200)));
  for (int i = 0; i < 4; ++i) {
    Write("consensus/storage/fuzz_corpus/wal_fuzzer", "program" + std::to_string(i),
          RandomBytes(random, 512 << i));
  }
}

void Kv() {
  using namespace kv;
  const std::string dir = "consensus/kv/fuzz_corpus/kv_codec_fuzzer";
  const kv::Command put{CommandKind::kPut, 1, 1, "key", "value", std::nullopt};
  const kv::Command cas{CommandKind::kCas, 2, 5, "k", "new", std::string("old")};
  Write(dir, "put", Mode(0, EncodeCommand(put)));
  Write(dir, "cas", Mode(0, EncodeCommand(cas)));
  Write(dir, "result", Mode(1, EncodeResult({ResultCode::kOk, std::string("v")})));
  Write(dir, "request", Mode(2, EncodeRequest({77, put})));
  Write(dir, "reply", Mode(3, EncodeReply({77, ReplyStatus::kResult, 2, {ResultCode::kOk, {}}})));
  KvStateMachine machine;
  (void)machine.Apply(1, EncodeCommand(put));
  (void)machine.Apply(2, EncodeCommand(cas));
  Write(dir, "checkpoint", Mode(4, machine.Checkpoint()));
  std::string entries;
  for (const kv::Command& c : {put, cas}) {
    const std::string e = EncodeCommand(c);
    entries += static_cast<char>(e.size());
    entries += e;
  }
  Write(dir, "apply", Mode(5, entries));
}

void Node(Random& random) {
  using namespace membership;
  membership::Message m;
  m.type = MessageType::kPushPull;
  m.from = 1;
  m.to = 2;
  m.seq = 9;
  m.is_reply = true;
  MemberUpdate u;
  u.member = Member{3, "10.0.0.3:7000", 4, MemberState::kSuspect, {{"zone", "a"}, {"rack", "7"}}};
  u.accuser = 1;
  m.updates.push_back(u);
  Write("node/membership/fuzz_corpus/codec_fuzzer", "push-pull", EncodeMessage(m));
  m.type = MessageType::kPing;
  m.updates.clear();
  Write("node/membership/fuzz_corpus/codec_fuzzer", "ping", EncodeMessage(m));

  ping::PingMessage p;
  p.kind = ping::PingMessage::Kind::kValue;
  p.request_id = 5;
  p.total = 10;
  p.local_count = 3;
  Write("node/ping/fuzz_corpus/ping_codec_fuzzer", "value", Mode(0, ping::EncodePing(p)));
  p.kind = ping::PingMessage::Kind::kHeartbeat;
  p.counter.Increment(1, 5);
  p.counter.Increment(2, 7);
  Write("node/ping/fuzz_corpus/ping_codec_fuzzer", "heartbeat", Mode(0, ping::EncodePing(p)));
  ping::PersistedState state;
  state.counter = p.counter;
  state.clients[100].Mark(1);
  state.clients[100].Mark(3);
  Write("node/ping/fuzz_corpus/ping_codec_fuzzer", "state", Mode(1, ping::EncodeState(state)));
  (void)random;
}

void Chaos(Random& random) {
  chaos::History h = chaos::GenerateAtomicHistory(
      {.clients = 3, .keys = 4, .operations = 12, .cas_weight = 30}, random);
  const std::string text = chaos::HistoryToJsonLines(h);
  Write("chaos/fuzz_corpus/history_json_fuzzer", "history", Mode(1, text));
  Write("chaos/fuzz_corpus/history_json_fuzzer", "line",
        Mode(0, text.substr(0, text.find('\n'))));
}

void Text() {
  Write("cache/fuzz_corpus/trace_format_fuzzer", "arc", Mode(0, "12345 8 0 1"));
  Write("cache/fuzz_corpus/trace_format_fuzzer", "lirs", Mode(1, "4711"));
  Write("cache/fuzz_corpus/trace_format_fuzzer", "lirs-marker", Mode(1, "*"));
  Write("sim/fuzz_corpus/trace_log_fuzzer", "event",
        R"({"index":3,"time_ns":1500000,"node":2,"kind":"net.deliver","detail":"1->2 ping",)"
        R"("digest":"00ff00ff00ff00ff"})");
  Write("sim/fuzz_corpus/config_fuzzer", "ratio", "1/3");
  Write("sim/fuzz_corpus/config_fuzzer", "never", "0");
  Write("sim/fuzz_corpus/config_fuzzer", "level", "heavy");
  Write("transport/fuzz_corpus/address_fuzzer", "host-port", "127.0.0.1:7001");
  Write("transport/fuzz_corpus/address_fuzzer", "peers", "1=127.0.0.1:7001,2=[::1]:7002");
}

void Transport(Random& random) {
  using namespace transport;
  // A nonce from the seeded stream, not RandomNonce(): the seeds must come out the same each run.
  // (Its own stream, so the seeds drawn from `random` after it stay as they were.)
  Random nonce_random(7);
  Nonce nonce;
  for (unsigned char& b : nonce) b = static_cast<unsigned char>(nonce_random.Next());
  DialerHandshake dialer("seed cluster secret!!", 1, 2, nonce);
  const std::string hello = EncodeFrame(FrameKind::kHello, 0, 1, dialer.HelloPayload());
  std::string data = EncodeFrame(FrameKind::kData, 250, 1, "a data frame");
  data += RandomBytes(random, kDataFrameTagBytes);
  Write("transport/fuzz_corpus/frame_fuzzer", "hello", Mode(0, hello));
  Write("transport/fuzz_corpus/frame_fuzzer", "data", Mode(2, hello + data + data));
  Write("transport/fuzz_corpus/frame_fuzzer", "structured", Mode(1, RandomBytes(random, 300)));
  for (uint8_t mode = 0; mode < 3; ++mode) {
    Write("transport/fuzz_corpus/handshake_fuzzer", "mode" + std::to_string(mode),
          Mode(mode, RandomBytes(random, 256)));
  }
}

// A FuzzInput::Bytes(max) field: the length as InRange(0, max) reads it, then the bytes.
std::string Field(const std::string& bytes, size_t max) {
  std::string out;
  const size_t n = bytes.size();
  const int width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  for (int i = 0; i < width; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + bytes;
}

void Cache(Random& random) {
  using namespace replicated;
  Command put;
  put.kind = CommandKind::kPut;
  put.session = 7;
  put.seq = 3;
  put.ack_floor = 2;
  put.issued_unix_ns = 1'700'000'000'000'000'000;
  put.stamp_unix_ns = put.issued_unix_ns + 1000;
  put.key = "user:42";
  put.value = "hello";
  put.expiry = {ExpiryKind::kAfter, 30'000'000'000};
  const std::string dir = "cache/replicated/fuzz_corpus/command_fuzzer";
  Write(dir, "put", Mode(0, EncodeCommand(put)));
  Command multi = put;
  multi.kind = CommandKind::kMultiPut;
  multi.key.clear();
  multi.value.clear();
  multi.entries = {{"a", "1"}, {"b", "2"}};
  Write(dir, "multi-put", Mode(0, EncodeCommand(multi)));
  Command evict;
  evict.kind = CommandKind::kEvict;
  evict.stamp_unix_ns = put.stamp_unix_ns;
  evict.keys = {"a", "user:42"};
  Write(dir, "evict", Mode(0, EncodeCommand(evict)));
  Command purge = put;  // a dropped keyspace's purge (node/cache_node/keyspaces.cc)
  purge.kind = CommandKind::kDeletePrefix;
  purge.key = "\xffks\x83\x01:";
  purge.value.clear();
  purge.expiry = {};
  purge.default_ttl_ns = 0;
  Write(dir, "delete-prefix", Mode(0, EncodeCommand(purge)));
  Write(dir, "result", Mode(1, EncodeResult({ResultCode::kOk, "prev", 0})));
  Write(dir, "replicas", Mode(2, RandomBytes(random, 400)));

  cluster::ClusterParams params;
  params.num_shards = 8;
  const cluster::ClusterMap map =
      cluster::InitialClusterMap({1, 2, 3}, {"10.0.0.1:7001", "10.0.0.2:7001", "10.0.0.3:7001"},
                                 params);
  const std::string cdir = "node/cluster/fuzz_corpus/cluster_codec_fuzzer";
  Write(cdir, "map", Mode(0, cluster::EncodeClusterMap(map)));
  cluster::MetaCommand bootstrap;
  bootstrap.kind = cluster::MetaCommandKind::kBootstrap;
  bootstrap.map = map;
  cluster::MetaCommand admit;
  admit.kind = cluster::MetaCommandKind::kAdmit;
  admit.node = 4;
  admit.address = "10.0.0.4:7001";
  cluster::MetaCommand conf;
  conf.kind = cluster::MetaCommandKind::kRecordConf;
  conf.group = 1;
  conf.voters = {1, 2, 4};
  conf.conf_index = 9;
  Write(cdir, "admit", Mode(1, cluster::EncodeMetaCommand(admit)));
  Write(cdir, "record-conf", Mode(1, cluster::EncodeMetaCommand(conf)));
  Write(cdir, "small", Mode(2, RandomBytes(random, 40)));
  Write(cdir, "state-machine",
        Mode(3, std::string(1, '\0') + Field(cluster::EncodeMetaCommand(bootstrap), 512) +
                    Field(cluster::EncodeMetaCommand(admit), 512) +
                    Field(cluster::EncodeMetaCommand(conf), 512)));
  // Keyspaces created at run time: the commands, a map holding live and dropping ones, and a
  // state machine that creates, drops and forgets.
  cluster::MetaCommand create;
  create.kind = cluster::MetaCommandKind::kCreateKeyspace;
  create.keyspace_spec = "3:carts:eventual:ttl=1h:capacity=64MiB:read=one:write=quorum~";
  cluster::MetaCommand drop;
  drop.kind = cluster::MetaCommandKind::kDropKeyspace;
  drop.keyspace_index = 3;
  drop.keyspace_generation = 1;
  cluster::MetaCommand forget = drop;
  forget.kind = cluster::MetaCommandKind::kForgetKeyspace;
  Write(cdir, "create-keyspace", Mode(1, cluster::EncodeMetaCommand(create)));
  Write(cdir, "drop-keyspace", Mode(1, cluster::EncodeMetaCommand(drop)));
  cluster::ClusterMap with_keyspaces = cluster::InitialClusterMap(
      {1, 2, 3}, {"10.0.0.1:7001", "10.0.0.2:7001", "10.0.0.3:7001"}, params,
      *keyspace::ParseKeyspaces("1:sessions:eventual:ttl=30m,2:flags:strong"));
  (void)cluster::ApplyMetaCommand(with_keyspaces, create);
  (void)cluster::ApplyMetaCommand(with_keyspaces, drop);
  create.keyspace_spec = "3:carts:strong:max_ttl=2h";
  (void)cluster::ApplyMetaCommand(with_keyspaces, create);
  Write(cdir, "map-keyspaces", Mode(0, cluster::EncodeClusterMap(with_keyspaces)));
  Write(cdir, "state-machine-keyspaces",
        Mode(3, std::string(1, '\0') + Field(cluster::EncodeMetaCommand(bootstrap), 512) +
                    Field(cluster::EncodeMetaCommand(create), 512) +
                    Field(cluster::EncodeMetaCommand(drop), 512) +
                    Field(cluster::EncodeMetaCommand(forget), 512)));

  forward::Request request;
  request.id = 99;
  request.kind = forward::RequestKind::kWrite;
  request.group = 3;
  request.map_version = 12;
  request.timeout = absl::Seconds(2);
  request.payload = EncodeCommand(put);
  forward::Reply reply;
  reply.id = 99;
  reply.status = forward::ReplyStatus::kNotLeader;
  reply.leader_hint = 2;
  reply.map_version = 12;
  const std::string fdir = "node/cache_node/fuzz_corpus/forward_fuzzer";
  Write(fdir, "request", Mode(0, forward::EncodeRequest(request)));
  Write(fdir, "reply", Mode(0, forward::EncodeReply(reply)));
  Write(fdir, "write-reply",
        Mode(1, payloads::EncodeWriteReply({17, {ResultCode::kOk, std::nullopt, 0}})));
  payloads::ReadRequest read;
  read.keys = {"a", "user:42"};
  read.min_index = 5;
  Write(fdir, "read-request", Mode(2, payloads::EncodeReadRequest(read)));
  payloads::ReadReply read_reply;
  read_reply.index = 20;
  read_reply.items = {{true, "1", absl::InfiniteFuture()}, {false, "", absl::InfiniteFuture()}};
  Write(fdir, "read-reply",
        Mode(3, std::string("\x02\x00", 2) + payloads::EncodeReadReply(read_reply)));
}

void FrontEnds() {
  const std::string rdir = "transport/resp/fuzz_corpus/resp_fuzzer";
  const std::string pipeline =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "PING\r\nSET k \"a\\x41 b\" 'c d'\r\n*1\r\n$4\r\nQUIT\r\n";
  Write(rdir, "small-limits", Mode(0, Field(pipeline, 1 << 16)));
  Write(rdir, "default-limits", Mode(1, Field(pipeline, 1 << 16)));
  Write(rdir, "structured", Mode(2, std::string("\x03\x02\x00", 3) + "\x03\x00SET\x01\x00k"));
  Write(rdir, "replies",
        Mode(3, "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n*2\r\n$-1\r\n:1\r\n%1\r\n+a\r\n,1.5\r\n"
                "_\r\n#t\r\n=8\r\ntxt:abcd\r\n~1\r\n(123\r\n"));
  const std::string hdir = "transport/http/fuzz_corpus/http_fuzzer";
  Write(hdir, "put-get",
        Mode(0, "PUT /kv/a%2Fb?ttl=10s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                "GET /kv/a%2Fb?consistency=linearizable HTTP/1.1\r\nHost: x\r\n\r\n"
                "DELETE /kv/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n"));
  Write(hdir, "admin",
        Mode(0, "POST /admin/nodes/4/admit HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer fuzz-admin-token\r\nContent-Length: 0\r\n\r\n"
                "GET /cluster HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  Write(hdir, "chunked",
        Mode(0, "PUT /kv/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n0\r\n\r\n"));
  Write(hdir, "structured", Mode(1, std::string("\x01\x08\x03key\x05value", 13)));
  const std::string sdir = "transport/server/fuzz_corpus/server_config_fuzzer";
  const std::string good = std::string("--node_id=1") + '\0' + "--peer_address=127.0.0.1:7001" +
                           '\0' + "--data_dir=/tmp/x" + '\0' +
                           "--peers=1=127.0.0.1:7001,2=127.0.0.1:7002" + '\0' + "--bootstrap=1,2" +
                           '\0' + "--default_ttl=1h" + '\0' + "--auto_admit";
  Write(sdir, "good", good);
  Write(sdir, "indexed", std::string("#0=3") + '\0' + "#1=[::1]:7003" + '\0' + "#4=/d" + '\0' +
                             "#16=50ms" + '\0' + "#24=1048576");
  Write(sdir, "bad", std::string("--node_id=0") + '\0' + "--noauto_admit" + '\0' + "stray");
}

// Eventual keyspaces: one of each peer message shape, a stored hint, and durable-map programs.
void Eventual(Random& random) {
  using namespace eventual;
  const std::string dir = "node/eventual/core/fuzz_corpus/eventual_codec_fuzzer";
  const Record record{.version = {1'700'000'000'000'000'000, 3, 2}, .expires_at_ns = 1'800'000'000'000'000'000,
                      .value = "value"};
  const std::vector<std::pair<std::string, Message>> messages = {
      {"write", ReplicaWrite{.op = 7, .key = "k", .record = record, .hint_for = 3}},
      {"write-ack", ReplicaWriteAck{.op = 7, .clock = record.version}},
      {"read", ReplicaRead{.op = 8, .key = "k", .include_hints = true, .peers = {1, 3}}},
      {"read-reply", ReplicaReadReply{.op = 8, .record = record, .clock = record.version}},
      {"hints", HintDeliver{.op = 9, .records = {{"a", record}, {"b", Record{.tombstone = true}}}}},
      {"roots", AeRootsReply{.xid = 1, .roots = {{0, 11}, {5, 12}}}},
      {"children", AeChildrenReply{.xid = 2, .shard = 5, .level = 1, .hashes = {1, 2, 3, 4}}},
      {"leaf-keys", AeLeafKeysReply{.xid = 3, .shard = 5, .keys = {{"a", record.version, 99}}, .leaves_covered = 1}},
      {"pull", AePull{.xid = 4, .keys = {"a", "b"}}},
      {"client", ClientRequest{.req = 5, .op = ClientOp::kPut, .key = "k", .value = "v",
                               .consistency = Consistency::Quorum(), .ttl_ms = 1000, .session = 6}},
      {"client-reply", ClientReply{.req = 5, .found = true, .value = "v", .version = record.version, .session = 6}},
  };
  for (const auto& [name, message] : messages) Write(dir, name, Mode(0, EncodeMessage(message)));
  Write(dir, "hint", Mode(1, HintSet::Encode(Hint{.target = 3, .key = "k", .record = record,
                                                  .stored_at_ns = 1'700'000'000'000'000'000})));
  for (int i = 0; i < 4; ++i) {
    Write("node/eventual/storage/fuzz_corpus/durable_map_fuzzer", "program" + std::to_string(i),
          RandomBytes(random, 512 << i));
  }
}

}  // namespace
}  // namespace crema::fuzz

int main(int argc, char** argv) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (argc > 1) workspace = argv[1];
  if (workspace == nullptr) {
    std::fprintf(stderr, "usage: bazel run //tools/fuzz:make_seeds  (or make_seeds <tree>)\n");
    return 2;
  }
  crema::fuzz::root = workspace;
  crema::Random random(20251206);
  crema::fuzz::Consensus(random);
  crema::fuzz::Kv();
  crema::fuzz::Node(random);
  crema::fuzz::Chaos(random);
  crema::fuzz::Text();
  crema::fuzz::Transport(random);
  crema::fuzz::Cache(random);
  crema::fuzz::FrontEnds();
  crema::fuzz::Eventual(random);
  std::printf("seed corpora written under %s\n", workspace);
  return 0;
}
