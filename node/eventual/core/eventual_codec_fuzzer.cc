// Fuzz target: the eventual keyspaces' decoders of bytes from outside the process — peer messages
// (messages.h: replica reads and writes, hints, anti-entropy exchanges, client requests), which
// any node that reaches us can send, and stored hints (HintSet::Decode), which a damaged disk can
// hand back.
//
// The first input byte picks the decoder (0: DecodeMessage, 1: HintSet::Decode); the rest is its
// input. Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget);
// a decoded message re-encodes within kMaxMessageBytes to bytes that decode and re-encode to the
// same bytes; a decoded hint re-encodes to a hint equal to it.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "node/eventual/core/hint_set.h"
#include "node/eventual/core/messages.h"
#include "tools/fuzz/memory_budget.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "eventual_codec_fuzzer: %s\n", what);
  std::abort();
}

void PeerMessage(std::string_view bytes) {
  using namespace crema::eventual;
  absl::StatusOr<Message> m = DecodeMessage(bytes);
  if (!m.ok()) {
    if (!absl::IsInvalidArgument(m.status())) Fail("a bad message is not INVALID_ARGUMENT");
    return;
  }
  const std::string once = EncodeMessage(*m);
  if (once.size() > crema::kMaxMessageBytes) Fail("a decoded message re-encodes over kMaxMessageBytes");
  absl::StatusOr<Message> again = DecodeMessage(once);
  if (!again.ok()) Fail("a decoded message does not decode after re-encoding");
  if (EncodeMessage(*again) != once) Fail("re-encoding a decoded message is not stable");
  if (again->index() != m->index()) Fail("re-encoding changed the message type");
}

void StoredHint(std::string_view bytes) {
  using crema::eventual::Hint;
  using crema::eventual::HintSet;
  Hint hint;
  if (!HintSet::Decode(bytes, &hint).ok()) return;
  Hint again;
  if (!HintSet::Decode(HintSet::Encode(hint), &again).ok()) Fail("a decoded hint does not re-decode");
  if (!(again == hint)) Fail("a decoded hint changed through re-encoding");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/32, /*fixed_bytes=*/1 << 20);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 2) {
    case 0: PeerMessage(rest); break;
    default: StoredHint(rest); break;
  }
  return 0;
}
