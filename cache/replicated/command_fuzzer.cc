// Fuzz target: the replicated cache's log entries and results (command.h) and the state machine
// that applies them (cache_state_machine.h) — what a shard's Raft log, a forwarded write from a
// peer (node/cache_node/payloads.h) and a checkpoint streamed by a peer put in front of a node.
//
// Modes (first byte):
//   0  DecodeCommand;  1  DecodeResult;
//   2  two replicas: optionally Restore from fuzz bytes, then apply a log of entries — each either
//      raw bytes or a command built from fuzz fields (keys from a small alphabet so that commands
//      meet) — with fuzz-chosen leader stamps.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a decoded
// command validates and round-trips, as does a result; both replicas answer every entry with the
// same bytes, which decode as a Result; garbage is answered kInvalid; a checkpoint restores to a
// machine whose checkpoint is the same.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cache/replicated/cache_state_machine.h"
#include "cache/replicated/command.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::replicated {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "command_fuzzer: %s\n", what);
  std::abort();
}

void DecodeOne(std::string_view bytes) {
  absl::StatusOr<Command> c = DecodeCommand(bytes);
  if (!c.ok()) return;
  if (!ValidateCommand(*c).ok()) Fail("decoded a command that does not validate");
  absl::StatusOr<Command> again = DecodeCommand(EncodeCommand(*c));
  if (!again.ok() || !(*again == *c)) Fail("a command does not survive re-encoding");
  (void)FormatCommand(*c);
}

void DecodeResultOne(std::string_view bytes) {
  absl::StatusOr<Result> r = DecodeResult(bytes);
  if (!r.ok()) return;
  absl::StatusOr<Result> again = DecodeResult(EncodeResult(*r));
  if (!again.ok() || !(*again == *r)) Fail("a result does not survive re-encoding");
}

std::string Key(fuzz::FuzzInput& in) {
  return std::string(1 + in.InRange(0, 2), 'a' + in.InRange(0, 3));
}

Command Built(fuzz::FuzzInput& in, int64_t stamp) {
  static const CommandKind kKinds[] = {
      CommandKind::kPut,       CommandKind::kDelete, CommandKind::kCas,
      CommandKind::kIncrement, CommandKind::kExpire, CommandKind::kGetAndTouch,
      CommandKind::kMultiPut,  CommandKind::kEvict,  CommandKind::kTick};
  Command c;
  c.kind = kKinds[in.InRange(0, 8)];
  c.stamp_unix_ns = stamp;
  if (IsClientCommand(c.kind)) {
    c.session = in.InRange(1, 4);
    c.ack_floor = in.InRange(1, 8);
    c.seq = c.ack_floor + in.InRange(0, 8);
    c.issued_unix_ns = stamp - static_cast<int64_t>(in.InRange(0, 1'000'000'000'000));
  }
  c.key = Key(in);
  c.value = in.Bytes(16);
  if (in.Bool()) c.expected = in.Bytes(8);
  c.delta = static_cast<int64_t>(in.U64());
  c.expiry.kind = static_cast<ExpiryKind>(in.InRange(0, 3));
  c.expiry.ns = static_cast<int64_t>(in.U64() >> in.InRange(0, 63));
  c.touch = in.Bool();
  c.default_ttl_ns = static_cast<int64_t>(in.InRange(0, 1'000'000'000));
  c.condition = static_cast<PutCondition>(in.InRange(0, 2));
  c.return_previous = in.Bool();
  for (int n = static_cast<int>(in.InRange(0, 3)); n > 0; --n) {
    c.entries.emplace_back(Key(in), in.Bytes(8));
    c.keys.push_back(Key(in));
  }
  return c;
}

void Replicas(fuzz::FuzzInput& in) {
  ShardConfig config;
  config.capacity = static_cast<int64_t>(in.InRange(1, 16));
  config.weigh_bytes = in.Bool();
  if (config.weigh_bytes) config.capacity *= 256;
  CacheStateMachine a(config), b(config);
  if (in.Bool()) {
    const std::string checkpoint = in.Bytes(2048);
    const bool ok_a = a.Restore(checkpoint).ok();
    if (ok_a != b.Restore(checkpoint).ok()) Fail("replicas disagree on a checkpoint");
  }
  int64_t stamp = 1'700'000'000'000'000'000;
  raft::Index index = 1;
  while (!in.empty()) {
    stamp += static_cast<int64_t>(in.InRange(0, 100'000'000'000)) - 1'000'000'000;
    std::string entry;
    if (in.Bool()) {
      const Command c = Built(in, stamp);
      if (!ValidateCommand(c).ok()) continue;
      entry = EncodeCommand(c);
    } else {
      entry = in.Bytes(64);
    }
    const std::string ra = a.ApplyWithResult(index, entry);
    const std::string rb = b.ApplyWithResult(index, entry);
    ++index;
    if (ra != rb) Fail("two replicas answered one entry differently");
    absl::StatusOr<Result> result = DecodeResult(ra);
    if (!result.ok()) Fail("a state machine answer does not decode");
    if (!DecodeCommand(entry).ok() && result->code != ResultCode::kInvalid) {
      Fail("garbage was not answered kInvalid");
    }
  }
  const std::string checkpoint = a.Checkpoint();
  if (checkpoint != b.Checkpoint()) Fail("replicas checkpoint differently");
  CacheStateMachine c(config);
  if (!c.Restore(checkpoint).ok()) Fail("a checkpoint does not restore");
  if (c.Checkpoint() != checkpoint) Fail("a restored machine checkpoints differently");
}

}  // namespace
}  // namespace crema::replicated

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::replicated;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/512, /*fixed_bytes=*/2 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 3) {
    case 0:
      DecodeOne(in.Rest());
      break;
    case 1:
      DecodeResultOne(in.Rest());
      break;
    default:
      Replicas(in);
      break;
  }
  return 0;
}
