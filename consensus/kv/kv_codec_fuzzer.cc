// Fuzz target: the KV store's wire and log formats (command.h, protocol.h) and its checkpoints
// (kv_state_machine.h, restored from snapshot bytes a peer streams in).
// Input: a selector byte, then the bytes to decode (for mode 5, a command sequence to apply).
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget);
// a decoded command is valid (ValidateCommand) and anything decoded re-encodes to bytes that
// decode to the same value; a restored checkpoint re-checkpoints to a state that restores to the
// same digest, and a failed restore leaves the machine empty.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "consensus/kv/command.h"
#include "consensus/kv/kv_state_machine.h"
#include "consensus/kv/protocol.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::kv {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "kv_codec_fuzzer: %s\n", what);
  std::abort();
}

void FuzzCommand(std::string_view bytes) {
  absl::StatusOr<kv::Command> c = DecodeCommand(bytes);
  if (!c.ok()) return;
  if (!ValidateCommand(*c).ok()) Fail("decoded an invalid command");
  absl::StatusOr<kv::Command> again = DecodeCommand(EncodeCommand(*c));
  if (!again.ok() || *again != *c) Fail("command does not survive re-encoding");
  (void)FormatCommand(*c);
}

void FuzzResult(std::string_view bytes) {
  absl::StatusOr<kv::Result> r = DecodeResult(bytes);
  if (!r.ok()) return;
  absl::StatusOr<kv::Result> again = DecodeResult(EncodeResult(*r));
  if (!again.ok() || *again != *r) Fail("result does not survive re-encoding");
}

void FuzzRequest(std::string_view bytes) {
  absl::StatusOr<kv::Request> r = DecodeRequest(bytes);
  if (!r.ok()) return;
  if (!ValidateCommand(r->command).ok()) Fail("decoded a request with an invalid command");
  absl::StatusOr<kv::Request> again = DecodeRequest(EncodeRequest(*r));
  if (!again.ok() || again->request_id != r->request_id || again->command != r->command) {
    Fail("request does not survive re-encoding");
  }
}

void FuzzReply(std::string_view bytes) {
  absl::StatusOr<kv::Reply> r = DecodeReply(bytes);
  if (!r.ok()) return;
  absl::StatusOr<kv::Reply> again = DecodeReply(EncodeReply(*r));
  if (!again.ok() || again->request_id != r->request_id || again->status != r->status ||
      again->leader_hint != r->leader_hint ||
      (r->status == ReplyStatus::kResult && again->result != r->result)) {
    Fail("reply does not survive re-encoding");
  }
}

void FuzzCheckpoint(std::string_view bytes) {
  KvStateMachine machine;
  if (!machine.Restore(bytes).ok()) {
    if (machine.size() != 0 || machine.sessions() != 0) Fail("failed restore left state behind");
    return;
  }
  const uint64_t digest = machine.Digest();
  KvStateMachine copy;
  if (!copy.Restore(machine.Checkpoint()).ok() || copy.Digest() != digest) {
    Fail("a restored checkpoint does not round-trip");
  }
}

// Entries as a log would carry them: each applied in turn (garbage entries answer kInvalid).
void FuzzApply(fuzz::FuzzInput& in) {
  KvStateMachine machine;
  for (raft::Index index = 1; !in.empty(); ++index) (void)machine.Apply(index, in.Bytes(128));
  FuzzCheckpoint(machine.Checkpoint());
}

}  // namespace
}  // namespace crema::kv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::kv;  // NOLINT
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/256, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 6) {
    case 0: FuzzCommand(in.Rest()); break;
    case 1: FuzzResult(in.Rest()); break;
    case 2: FuzzRequest(in.Rest()); break;
    case 3: FuzzReply(in.Rest()); break;
    case 4: FuzzCheckpoint(in.Rest()); break;
    default: FuzzApply(in); break;
  }
  return 0;
}
