// Fuzz target: what one cache node accepts from another over Service::kForward — the RPC envelope
// (node/forward/rpc.h: requests and replies) and the payloads of forwarded writes and reads
// (payloads.h).
//
// Modes (first byte):
//   0  forward::DecodeMessage;  1  DecodeWriteReply;  2  DecodeReadRequest;
//   3  DecodeReadReply for a fuzz-chosen number of expected items (up to kMaxMultiKeys).
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); exactly
// one of request / reply is set; payloads stay within forward::kMaxPayloadBytes; a decoded read
// request has 1..kMaxMultiKeys non-empty keys; a read reply has exactly the expected items;
// everything decoded re-encodes to bytes that decode to the same value.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "node/cache_node/payloads.h"
#include "node/forward/rpc.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::payloads {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "forward_fuzzer: %s\n", what);
  std::abort();
}

bool SameRequest(const forward::Request& a, const forward::Request& b) {
  return a.id == b.id && a.kind == b.kind && a.group == b.group && a.map_version == b.map_version &&
         a.timeout == b.timeout && a.payload == b.payload;
}
bool SameReply(const forward::Reply& a, const forward::Reply& b) {
  return a.id == b.id && a.status == b.status && a.leader_hint == b.leader_hint &&
         a.map_version == b.map_version && a.payload == b.payload;
}

void Rpc(std::string_view bytes) {
  absl::StatusOr<forward::Decoded> d = forward::DecodeMessage(bytes);
  if (!d.ok()) return;
  if ((d->request == nullptr) == (d->reply == nullptr)) Fail("not exactly one of request/reply");
  if (d->request != nullptr) {
    if (d->request->payload.size() > forward::kMaxPayloadBytes) Fail("request payload too big");
    absl::StatusOr<forward::Decoded> again =
        forward::DecodeMessage(forward::EncodeRequest(*d->request));
    if (!again.ok() || again->request == nullptr || !SameRequest(*again->request, *d->request)) {
      Fail("a request does not survive re-encoding");
    }
  } else {
    if (d->reply->payload.size() > forward::kMaxPayloadBytes) Fail("reply payload too big");
    absl::StatusOr<forward::Decoded> again =
        forward::DecodeMessage(forward::EncodeReply(*d->reply));
    if (!again.ok() || again->reply == nullptr || !SameReply(*again->reply, *d->reply)) {
      Fail("a reply does not survive re-encoding");
    }
    (void)d->reply->ErrorStatus();
  }
}

void Write(std::string_view bytes) {
  absl::StatusOr<WriteReply> w = DecodeWriteReply(bytes);
  if (!w.ok()) return;
  absl::StatusOr<WriteReply> again = DecodeWriteReply(EncodeWriteReply(*w));
  if (!again.ok() || again->index != w->index || !(again->result == w->result)) {
    Fail("a write reply does not survive re-encoding");
  }
}

void Read(std::string_view bytes) {
  absl::StatusOr<ReadRequest> q = DecodeReadRequest(bytes);
  if (!q.ok()) return;
  if (q->keys.empty() || q->keys.size() > kMaxMultiKeys)
    Fail("a read request with a bad key count");
  for (const std::string& k : q->keys) {
    if (k.empty() || k.size() > kMaxKeyBytes) Fail("a read request with a bad key");
  }
  absl::StatusOr<ReadRequest> again = DecodeReadRequest(EncodeReadRequest(*q));
  if (!again.ok() || again->op != q->op || again->consistency != q->consistency ||
      again->min_index != q->min_index || again->keys != q->keys) {
    Fail("a read request does not survive re-encoding");
  }
}

void ReadReplyOf(fuzz::FuzzInput& in) {
  const size_t expected = in.InRange(0, kMaxMultiKeys);
  absl::StatusOr<ReadReply> r = DecodeReadReply(in.Rest(), expected);
  if (!r.ok()) return;
  if (r->items.size() != expected) Fail("a read reply with the wrong number of items");
  const std::string once = EncodeReadReply(*r);
  absl::StatusOr<ReadReply> again = DecodeReadReply(once, expected);
  if (!again.ok() || EncodeReadReply(*again) != once)
    Fail("a read reply does not re-encode stably");
}

}  // namespace
}  // namespace crema::payloads

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::payloads;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 4) {
    case 0:
      Rpc(in.Rest());
      break;
    case 1:
      Write(in.Rest());
      break;
    case 2:
      Read(in.Rest());
      break;
    default:
      ReadReplyOf(in);
      break;
  }
  return 0;
}
