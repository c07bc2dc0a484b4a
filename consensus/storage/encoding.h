// Fixed-width little-endian encoding for consensus/storage's on-disk formats.
//
// On-disk formats use fixed-width fields (not varints) so a field's position never depends on
// another field's value; that keeps the torn-write analysis in wal_format.h simple.
//
// `Decoder` never reads past its input: every getter returns false on truncation, and the caller
// turns that into absl::DataLossError. Thread safety: none needed (values only).
#ifndef CREMA_CONSENSUS_STORAGE_ENCODING_H_
#define CREMA_CONSENSUS_STORAGE_ENCODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace crema::raft::storage {

inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

inline void PutU32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 4);
}

inline void PutU64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 8);
}

// REQUIRES: p points at 4 (or 8) readable bytes.
inline uint32_t LoadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  [[nodiscard]] bool GetU8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  [[nodiscard]] bool GetU32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = LoadU32(in_.data() + pos_);
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool GetU64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = LoadU64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  // A view of the next `n` bytes (valid while the input is).
  [[nodiscard]] bool GetView(size_t n, std::string_view* v) {
    if (remaining() < n) return false;
    *v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_ENCODING_H_
