// SendQueue: a bounded FIFO of encoded frames waiting to be written to one peer.
//
// Bounded twice, by frame count and by bytes; `Push` refuses (returns false) when either bound
// would be exceeded, and the caller drops the message and counts it (Network semantics allow loss).
// Invariants: size() <= max_frames; bytes() <= max_bytes; bytes() is the sum of queued sizes.
// Thread safety: none; used on the loop thread only.
#ifndef CREMA_TRANSPORT_SEND_QUEUE_H_
#define CREMA_TRANSPORT_SEND_QUEUE_H_

#include <cassert>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>

namespace crema::transport {

class SendQueue {
 public:
  // REQUIRES: max_frames > 0, max_bytes > 0.
  SendQueue(size_t max_frames, size_t max_bytes) : max_frames_(max_frames), max_bytes_(max_bytes) {
    assert(max_frames_ > 0 && max_bytes_ > 0);
  }

  [[nodiscard]] bool Push(std::string frame) {
    if (frames_.size() >= max_frames_ || frame.size() > max_bytes_ - bytes_) return false;
    bytes_ += frame.size();
    frames_.push_back(std::move(frame));
    return true;
  }

  // REQUIRES: !empty().
  std::string Pop() {
    assert(!frames_.empty());
    std::string frame = std::move(frames_.front());
    frames_.pop_front();
    bytes_ -= frame.size();
    return frame;
  }

  // Drops everything; returns how many frames were dropped.
  size_t Clear() {
    const size_t dropped = frames_.size();
    frames_.clear();
    bytes_ = 0;
    return dropped;
  }

  bool empty() const { return frames_.empty(); }
  size_t size() const { return frames_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  size_t max_frames_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::deque<std::string> frames_;
};

}  // namespace crema::transport

#endif  // CREMA_TRANSPORT_SEND_QUEUE_H_
