#include "node/wire.h"

namespace crema {

void WireWriter::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void WireWriter::PutBytes(std::string_view s) {
  PutVarint(s.size());
  out_.append(s.data(), s.size());
}

bool WireReader::GetU8(uint8_t* v) {
  if (pos_ >= in_.size()) return false;
  *v = static_cast<uint8_t>(in_[pos_++]);
  return true;
}

bool WireReader::GetBool(bool* v) {
  uint8_t b;
  if (!GetU8(&b) || b > 1) return false;
  *v = b == 1;
  return true;
}

bool WireReader::GetVarint(uint64_t* v) {
  uint64_t result = 0;
  // A 64-bit varint has at most 10 bytes; the 10th may only carry the top bit.
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t byte;
    if (!GetU8(&byte)) return false;
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool WireReader::GetVarint(uint64_t* v, uint64_t max) { return GetVarint(v) && *v <= max; }

bool WireReader::GetSigned(int64_t* v) {
  uint64_t u;
  if (!GetVarint(&u)) return false;
  *v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  return true;
}

bool WireReader::GetView(std::string_view* s, size_t max_bytes) {
  uint64_t len;
  if (!GetVarint(&len) || len > max_bytes || len > remaining()) return false;
  *s = in_.substr(pos_, len);
  pos_ += len;
  return true;
}

bool WireReader::GetBytes(std::string* s, size_t max_bytes) {
  uint64_t len;
  if (!GetVarint(&len) || len > max_bytes || len > remaining()) return false;
  s->assign(in_.data() + pos_, len);
  pos_ += len;
  return true;
}

}  // namespace crema
