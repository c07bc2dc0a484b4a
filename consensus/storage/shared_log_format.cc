#include "consensus/storage/shared_log_format.h"

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"

namespace crema::raft::storage {

std::string EncodeLogHeader(uint64_t seq) {
  std::string out;
  PutU64(&out, kLogMagic);
  PutU32(&out, kLogVersion);
  PutU64(&out, seq);
  return out;
}

absl::Status DecodeLogHeader(std::string_view body, uint64_t* seq) {
  Decoder d(body);
  uint64_t magic = 0;
  uint32_t version = 0;
  if (!d.GetU64(&magic) || !d.GetU32(&version) || !d.GetU64(seq) || !d.done()) {
    return absl::DataLossError("malformed shared log header");
  }
  if (magic != kLogMagic) return absl::DataLossError("not a shared log segment (bad magic)");
  if (version != kLogVersion) {
    return absl::DataLossError(absl::StrCat("unsupported shared log version ", version));
  }
  return absl::OkStatus();
}

absl::Status SplitGroupBody(std::string_view body, GroupId* group, std::string_view* rest) {
  Decoder d(body);
  if (!d.GetU64(group) || !d.GetView(d.remaining(), rest)) {
    return absl::DataLossError("group record without a group");
  }
  return absl::OkStatus();
}

}  // namespace crema::raft::storage
