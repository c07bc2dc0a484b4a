// Fuzz target: the Raft message codec (message_codec.h) and conf-change entries (conf_change.h),
// what a peer's bytes become before the core sees them.
// Input: a selector byte, then the bytes to decode. Oracles: no crash or sanitizer report;
// memory proportional to the input (MemoryBudget); anything decoded re-encodes (within the
// encoder's REQUIREs) to bytes that decode to the same value.
#include <cstdio>
#include <cstdlib>

#include "consensus/conf_change.h"
#include "consensus/message_codec.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::raft;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const bool conf_change = in.U8() % 2 == 1;
  const std::string_view bytes = in.Rest();
  if (!conf_change) {
    absl::StatusOr<Message> m = DecodeMessage(bytes);
    if (!m.ok()) return 0;
    absl::StatusOr<Message> again = DecodeMessage(EncodeMessage(*m));
    if (!again.ok() || *again != *m) {
      std::fprintf(stderr, "a decoded Raft message does not survive re-encoding\n");
      std::abort();
    }
    return 0;
  }
  absl::StatusOr<ConfChange> c = DecodeConfChange(bytes);
  if (!c.ok()) return 0;
  absl::StatusOr<ConfChange> again = DecodeConfChange(EncodeConfChange(*c));
  if (!again.ok() || *again != *c) {
    std::fprintf(stderr, "a decoded conf change does not survive re-encoding\n");
    std::abort();
  }
  return 0;
}
