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

#include "chaos/history_generator.h"
#include "chaos/history_json.h"
#include "consensus/conf_change.h"
#include "consensus/driver/message_batch.h"
#include "consensus/kv/command.h"
#include "consensus/kv/kv_state_machine.h"
#include "consensus/kv/protocol.h"
#include "consensus/message_codec.h"
#include "consensus/storage/snapshot_store.h"
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
  DialerHandshake dialer("seed cluster secret!!", 1, 2, RandomNonce());
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
  std::printf("seed corpora written under %s\n", workspace);
  return 0;
}
