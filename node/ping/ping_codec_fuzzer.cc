// Fuzz target: the ping example's messages (ping_codec.h, from peers and clients) and its state
// file (state_file.h, from disk). Input: a selector byte, then the bytes to decode.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a
// decoded value re-encodes to bytes that decode to the same value.
#include <cstdio>
#include <cstdlib>

#include "node/ping/ping_codec.h"
#include "node/ping/state_file.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace {
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "ping_codec_fuzzer: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::ping;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const bool state = in.U8() % 2 == 1;
  const std::string_view bytes = in.Rest();
  if (!state) {
    absl::StatusOr<PingMessage> m = DecodePing(bytes);
    if (!m.ok()) return 0;
    absl::StatusOr<PingMessage> again = DecodePing(EncodePing(*m));
    if (!again.ok() || again->kind != m->kind || again->request_id != m->request_id ||
        again->total != m->total || again->local_count != m->local_count ||
        !(again->counter == m->counter)) {
      Fail("a ping message does not survive re-encoding");
    }
    return 0;
  }
  absl::StatusOr<PersistedState> s = DecodeState(bytes);
  if (!s.ok()) return 0;
  absl::StatusOr<PersistedState> again = DecodeState(EncodeState(*s));
  if (!again.ok() || !(*again == *s)) Fail("a state file does not survive re-encoding");
  return 0;
}
