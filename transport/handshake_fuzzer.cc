// Fuzz target: connection authentication (handshake.h) and per-frame tags (frame_auth.h), under
// an attacker who controls every byte on the wire but not the cluster secret.
//
// Modes (first byte):
//   0  acceptor: a fresh AcceptorHandshake gets fuzz-chosen hello and proof frames.
//   1  dialer: a DialerHandshake gets a fuzz-chosen challenge.
//   2  man in the middle: an honest dialer and acceptor (same secret) run the handshake; the
//      input may replace any one message. Then the dialer seals a stream of data frames and the
//      input edits the stream (drop, duplicate, swap, flip a bit, inject a frame with a guessed
//      tag, replay a frame from another connection) before the acceptor opens it in order.
// Oracles: no crash or sanitizer report; memory proportional to the input; nobody authenticates
// from a tampered handshake or without the secret; the opener accepts exactly the frames before
// the first edit and nothing after it (a failed opener stays failed), and accepts all of an
// unedited stream.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"
#include "transport/frame.h"
#include "transport/frame_auth.h"
#include "transport/handshake.h"

namespace crema::transport {
namespace {

constexpr char kSecret[] = "the fuzzer's cluster secret";

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "handshake_fuzzer: %s\n", what);
  std::abort();
}

Nonce NonceFrom(fuzz::FuzzInput& in) {
  Nonce n;
  for (unsigned char& b : n) b = in.U8();
  return n;
}

void Acceptor(fuzz::FuzzInput& in) {
  AcceptorHandshake acceptor(kSecret, /*self=*/2, NonceFrom(in));
  (void)acceptor.OnHello(in.U32(), in.Bytes(80));
  if (acceptor.OnProof(in.U32(), in.Bytes(80)).ok()) Fail("a guessed proof authenticated");
}

void Dialer(fuzz::FuzzInput& in) {
  DialerHandshake dialer(kSecret, /*self=*/1, /*expected_peer=*/2, NonceFrom(in));
  if (dialer.OnChallenge(in.U32(), in.Bytes(80)).ok()) Fail("a guessed challenge authenticated");
}

struct Sealed {
  Frame frame;
  std::string header16;
};

void ManInTheMiddle(fuzz::FuzzInput& in) {
  DialerHandshake dialer(kSecret, 1, 2, NonceFrom(in));
  AcceptorHandshake acceptor(kSecret, 2, NonceFrom(in));
  const int tampered = static_cast<int>(in.InRange(0, 3));  // 3: no message replaced
  bool changed = false;  // a message was replaced by different bytes
  auto maybe_replace = [&](int step, std::string* message) {
    if (tampered != step) return;
    std::string replacement = in.Bytes(80);
    changed = replacement != *message;
    *message = std::move(replacement);
  };
  std::string hello = dialer.HelloPayload();
  maybe_replace(0, &hello);
  absl::StatusOr<std::string> challenge = acceptor.OnHello(1, hello);
  if (!challenge.ok()) return;
  maybe_replace(1, &*challenge);
  absl::StatusOr<std::string> proof = dialer.OnChallenge(2, *challenge);
  if (!proof.ok()) return;
  maybe_replace(2, &*proof);
  if (!acceptor.OnProof(1, *proof).ok()) return;
  if (changed) Fail("a tampered handshake authenticated both sides");

  // An honest stream of data frames, sealed by the dialer.
  FrameSealer sealer(dialer.keys().send);
  std::vector<Sealed> stream;
  const int frames = static_cast<int>(in.InRange(1, 12));
  for (int i = 0; i < frames; ++i) {
    Frame f{FrameKind::kData, 250, 1, in.Bytes(64), ""};
    std::string encoded = EncodeFrame(f.kind, f.service, f.from, f.payload);
    sealer.Seal(&encoded);
    f.tag = encoded.substr(encoded.size() - kFrameTagBytes);
    stream.push_back({f, AuthenticatedHeader(f)});
  }
  // At most one edit; `first_bad` is the first position whose frame is not the honest one.
  size_t first_bad = stream.size();
  const size_t at = in.InRange(0, stream.size() - 1);
  switch (in.U8() % 7) {
    case 0:  // drop
      stream.erase(stream.begin() + at);
      first_bad = at < stream.size() ? at : stream.size();
      break;
    case 1:  // duplicate (replay within the connection)
      stream.insert(stream.begin() + at, stream[at]);
      first_bad = at + 1;
      break;
    case 2:  // swap with the next (reorder)
      if (at + 1 < stream.size()) {
        std::swap(stream[at], stream[at + 1]);
        first_bad = at;
      }
      break;
    case 3: {  // flip a bit anywhere in the frame
      Sealed& s = stream[at];
      std::string bytes = s.header16 + s.frame.payload + s.frame.tag;
      const size_t bit = in.InRange(0, bytes.size() * 8 - 1);
      bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
      s.header16 = bytes.substr(0, 16);
      s.frame.payload = bytes.substr(16, s.frame.payload.size());
      s.frame.tag = bytes.substr(16 + s.frame.payload.size());
      first_bad = at;
      break;
    }
    case 4: {  // inject a frame with a guessed tag
      Frame f{FrameKind::kData, 250, 1, in.Bytes(64), in.Bytes(kFrameTagBytes)};
      stream.insert(stream.begin() + at, {f, AuthenticatedHeader(f)});
      first_bad = at;
      break;
    }
    case 5: {  // replay a frame sealed on another connection (fresh nonces, same secret)
      DialerHandshake other(kSecret, 1, 2, NonceFrom(in));
      AcceptorHandshake other_acceptor(kSecret, 2, NonceFrom(in));
      absl::StatusOr<std::string> c = other_acceptor.OnHello(1, other.HelloPayload());
      if (!c.ok() || !other.OnChallenge(2, *c).ok()) Fail("an honest handshake failed");
      FrameSealer other_sealer(other.keys().send);
      Frame f = stream[at].frame;
      const std::string unsealed = EncodeFrame(f.kind, f.service, f.from, f.payload);
      std::string sealed;
      for (size_t k = 0; k <= at; ++k) {  // the tag at the same sequence number
        sealed = unsealed;
        other_sealer.Seal(&sealed);
      }
      f.tag = sealed.substr(sealed.size() - kFrameTagBytes);
      if (f.tag != stream[at].frame.tag) {  // equal only if the two nonce pairs are equal
        stream[at].frame.tag = f.tag;
        first_bad = at;
      }
      break;
    }
    default:
      break;
  }
  FrameOpener opener(acceptor.keys().receive);
  for (size_t i = 0; i < stream.size(); ++i) {
    const bool opened =
        opener.Open(stream[i].header16, stream[i].frame.payload, stream[i].frame.tag).ok();
    if (i < first_bad && !opened) Fail("an honest frame was refused");
    if (i >= first_bad && opened) Fail("an edited stream got past the tag check");
  }
}

}  // namespace
}  // namespace crema::transport

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::transport;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 3) {
    case 0: Acceptor(in); break;
    case 1: Dialer(in); break;
    default: ManInTheMiddle(in); break;
  }
  return 0;
}
