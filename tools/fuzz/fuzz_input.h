// FuzzInput: reads typed values off the front of a fuzzer's input, for structure-aware targets.
//
// libFuzzer mutates bytes; a target that needs a *shape* (a sequence of operations, a list of
// frames, a length then a body) reads it from the input with these getters. Every getter is total:
// once the input is used up it returns zeros / empty strings, so any byte string is a valid
// program and the target never has to special-case short inputs. (clang's FuzzedDataProvider does
// the same, but it is not available to the gcc build that replays the corpora in the default
// test suite, so this is our own small equivalent.)
//
// Example:
//   FuzzInput in(data, size);
//   while (!in.empty()) {
//     switch (in.U8() % 3) { case 0: Append(in.Bytes(64)); break; ... }
//   }
//
// Thread safety: none (a plain cursor over caller-owned bytes, which must outlive it).
#ifndef CREMA_TOOLS_FUZZ_FUZZ_INPUT_H_
#define CREMA_TOOLS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crema::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : bytes_(reinterpret_cast<const char*>(data), size) {}
  explicit FuzzInput(std::string_view bytes) : bytes_(bytes) {}

  bool empty() const { return pos_ >= bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }

  uint8_t U8() { return empty() ? 0 : static_cast<uint8_t>(bytes_[pos_++]); }
  bool Bool() { return (U8() & 1) != 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (uint16_t{U8()} << 8)); }
  uint32_t U32() { return U16() | (uint32_t{U16()} << 16); }
  uint64_t U64() { return U32() | (uint64_t{U32()} << 32); }
  // A value in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t InRange(uint64_t lo, uint64_t hi) {
    const uint64_t span = hi - lo;
    if (span == 0) return lo;
    const uint64_t raw = span < 0x100 ? U8() : span < 0x10000 ? U16() : span < (1ull << 32) ? U32()
                                                                                             : U64();
    return span == UINT64_MAX ? raw : lo + raw % (span + 1);
  }
  // A string of at most max_bytes: a length byte pair, then that many bytes (fewer at the end).
  std::string Bytes(size_t max_bytes) {
    const size_t want = InRange(0, max_bytes);
    const size_t n = want < remaining() ? want : remaining();
    std::string out(bytes_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  // Everything not read yet.
  std::string_view Rest() {
    std::string_view out = bytes_.substr(pos_ < bytes_.size() ? pos_ : bytes_.size());
    pos_ = bytes_.size();
    return out;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace crema::fuzz

#endif  // CREMA_TOOLS_FUZZ_FUZZ_INPUT_H_
