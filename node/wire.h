// Compact binary encodings shared by Crema's protocols (varints, zig-zag signed varints,
// length-prefixed strings): Raft messages (consensus/), the replicated cache's commands
// (cache/replicated/), the cluster map and forwarding (node/).
//
// WireReader never reads past its input: every getter returns false on truncation or on a value
// out of range, and the caller turns that into an absl::Status. Decoders built on it must also
// check `done()` at the end (no trailing bytes) and bound every count they read before allocating.
//
// Thread safety: values only.
#ifndef CREMA_NODE_WIRE_H_
#define CREMA_NODE_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace crema {

class WireWriter {
 public:
  void PutU8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void PutBool(bool v) { PutU8(v ? 1 : 0); }
  void PutVarint(uint64_t v);
  // Zig-zag: small magnitudes of either sign stay short.
  void PutSigned(int64_t v) {
    PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void PutBytes(std::string_view s);  // varint length + bytes
  size_t size() const { return out_.size(); }
  // Capacity for about `bytes` of output (one allocation instead of a doubling per growth).
  void Reserve(size_t bytes) { out_.reserve(bytes); }
  std::string Finish() && { return std::move(out_); }

 private:
  std::string out_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  [[nodiscard]] bool GetU8(uint8_t* v);
  [[nodiscard]] bool GetBool(bool* v);
  [[nodiscard]] bool GetVarint(uint64_t* v);
  // Also checks v <= max.
  [[nodiscard]] bool GetVarint(uint64_t* v, uint64_t max);
  [[nodiscard]] bool GetSigned(int64_t* v);
  // Fails if the length exceeds max_bytes or the bytes left.
  [[nodiscard]] bool GetBytes(std::string* s, size_t max_bytes);
  // A view into the input (valid while the input is); same checks as GetBytes.
  [[nodiscard]] bool GetView(std::string_view* s, size_t max_bytes);
  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace crema

#endif  // CREMA_NODE_WIRE_H_
