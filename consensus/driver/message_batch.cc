#include "consensus/driver/message_batch.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/message_codec.h"
#include "consensus/storage/encoding.h"

namespace crema::raft {
namespace {
constexpr size_t kHeaderBytes = kBatchHeaderBytes;
constexpr size_t kPerMessageOverhead = kBatchPerMessageOverhead;
}  // namespace

bool BatchBuilder::WouldOverflow(size_t encoded_bytes) const {
  if (count_ == 0) return false;  // one message of at most kMaxEnvelopedMessageBytes always fits
  return count_ + 1 > kMaxBatchMessages ||
         kHeaderBytes + body_.size() + kPerMessageOverhead + encoded_bytes > kMaxBatchBytes;
}

void BatchBuilder::Add(std::string encoded) {
  assert(encoded.size() <= kMaxEnvelopedMessageBytes && !WouldOverflow(encoded.size()));
  storage::PutU32(&body_, static_cast<uint32_t>(encoded.size()));
  body_.append(encoded);
  ++count_;
}

std::string BatchBuilder::Take() {
  std::string out;
  out.reserve(kHeaderBytes + body_.size());
  storage::PutU8(&out, kBatchMagic);
  storage::PutU32(&out, static_cast<uint32_t>(count_));
  out.append(body_);
  body_.clear();
  count_ = 0;
  return out;
}

absl::StatusOr<std::vector<Message>> DecodeBatch(std::string_view bytes) {
  std::vector<Message> out;
  if (bytes.size() > kMaxBatchBytes) {
    return absl::InvalidArgumentError(absl::StrCat("raft batch of ", bytes.size(),
                                                   " bytes exceeds kMaxBatchBytes"));
  }
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == kMessageCodecVersion) {
    absl::StatusOr<Message> m = DecodeMessage(bytes);
    if (!m.ok()) return m.status();
    out.push_back(*std::move(m));
    return out;
  }
  if (bytes.size() < kHeaderBytes || static_cast<uint8_t>(bytes[0]) != kBatchMagic) {
    return absl::InvalidArgumentError("not a raft message batch");
  }
  const uint32_t count = storage::LoadU32(bytes.data() + 1);
  if (count == 0 || count > kMaxBatchMessages) {
    return absl::InvalidArgumentError("bad raft batch count");
  }
  size_t pos = kHeaderBytes;
  // Each message takes at least its length prefix: reserve no more than the input can hold.
  out.reserve(std::min<size_t>(count, (bytes.size() - kHeaderBytes) / kPerMessageOverhead));
  for (uint32_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < kPerMessageOverhead) {
      return absl::InvalidArgumentError("truncated raft batch");
    }
    const uint32_t length = storage::LoadU32(bytes.data() + pos);
    pos += kPerMessageOverhead;
    if (length > bytes.size() - pos) return absl::InvalidArgumentError("truncated raft batch");
    absl::StatusOr<Message> m = DecodeMessage(bytes.substr(pos, length));
    if (!m.ok()) return m.status();
    out.push_back(*std::move(m));
    pos += length;
  }
  if (pos != bytes.size()) return absl::InvalidArgumentError("trailing bytes in raft batch");
  return out;
}

}  // namespace crema::raft
