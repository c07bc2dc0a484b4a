// Little helpers to write and read the compact binary encodings of consensus/ (varints,
// length-prefixed strings). Internal to consensus/.
//
// WireReader never reads past its input: every getter returns false on truncation or on a value
// out of range, and the caller turns that into an absl::Status.
#ifndef CREMA_CONSENSUS_WIRE_H_
#define CREMA_CONSENSUS_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace crema::raft {

class WireWriter {
 public:
  void PutU8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void PutVarint(uint64_t v);
  void PutBytes(std::string_view s);  // varint length + bytes
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
  // Fails if the length exceeds max_bytes or the bytes left.
  [[nodiscard]] bool GetBytes(std::string* s, size_t max_bytes);
  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_WIRE_H_
