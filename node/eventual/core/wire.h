// Fixed-width little-endian encoding helpers for eventual mode's messages and files.
//
// `WireWriter` appends; `WireReader` never reads past its input: every getter returns false on
// truncation or on a value out of the range the caller allows, and the caller turns that into an
// absl::Status. Strings are a u32 length followed by the bytes, always bounded by the caller's
// `max_bytes`, so a hostile length can never make a reader allocate more than it allowed.
//
// Thread safety: values only.
#ifndef CREMA_NODE_EVENTUAL_CORE_WIRE_H_
#define CREMA_NODE_EVENTUAL_CORE_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace crema::eventual {

class WireWriter {
 public:
  void PutU8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void PutU32(uint32_t v) { PutFixed(v, 4); }
  void PutU64(uint64_t v) { PutFixed(v, 8); }
  void PutI64(int64_t v) { PutFixed(static_cast<uint64_t>(v), 8); }
  void PutBytes(std::string_view s) {
    PutU32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  size_t size() const { return out_.size(); }
  std::string Finish() && { return std::move(out_); }

 private:
  void PutFixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}

  [[nodiscard]] bool GetU8(uint8_t* v) {
    uint64_t x = 0;
    if (!GetFixed(&x, 1)) return false;
    *v = static_cast<uint8_t>(x);
    return true;
  }
  [[nodiscard]] bool GetBool(bool* v) {
    uint8_t x = 0;
    if (!GetU8(&x) || x > 1) return false;
    *v = x == 1;
    return true;
  }
  [[nodiscard]] bool GetU32(uint32_t* v) {
    uint64_t x = 0;
    if (!GetFixed(&x, 4)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  [[nodiscard]] bool GetU64(uint64_t* v) { return GetFixed(v, 8); }
  [[nodiscard]] bool GetI64(int64_t* v) {
    uint64_t x = 0;
    if (!GetFixed(&x, 8)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  // Fails if the length exceeds `max_bytes` or the bytes left.
  [[nodiscard]] bool GetBytes(std::string* s, size_t max_bytes) {
    uint32_t length = 0;
    if (!GetU32(&length) || length > max_bytes || length > remaining()) return false;
    s->assign(in_.data() + pos_, length);
    pos_ += length;
    return true;
  }
  // A count prefix (u32) that must not exceed `max`.
  [[nodiscard]] bool GetCount(uint32_t* count, uint32_t max) { return GetU32(count) && *count <= max; }

  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  bool GetFixed(uint64_t* v, int bytes) {
    if (remaining() < static_cast<size_t>(bytes)) return false;
    uint64_t x = 0;
    for (int i = bytes - 1; i >= 0; --i) x = (x << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += bytes;
    *v = x;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_WIRE_H_
