#include "consensus/storage/verified_read.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "consensus/storage/wal.h"

namespace crema::raft::storage {
namespace {
constexpr char kTransientMarker[] = "transient read corruption";

// The loop of the file comment, over any way of reading the bytes.
absl::Status VerifiedLoop(const std::function<absl::StatusOr<std::string>()>& read,
                          std::string_view name, std::string* bytes,
                          const std::function<ReadCheck(std::string_view)>& check) {
  std::string previous;
  bool have_previous = false;
  absl::Status last;
  for (int attempt = 0; attempt < kMaxVerifyReads; ++attempt) {
    absl::StatusOr<std::string> got = read();
    if (!got.ok()) return got.status();
    *bytes = *std::move(got);
    const ReadCheck r = check(*bytes);
    if (r.status.ok() && !r.confirm) return absl::OkStatus();
    if (!r.status.ok() && !absl::IsDataLoss(r.status)) return r.status;
    // Stable: the same bytes twice. Accept what needed confirmation; a failure is in the file.
    if (have_previous && previous == *bytes) return r.status;
    last = r.status;
    previous = *bytes;
    have_previous = true;
  }
  return absl::UnavailableError(absl::StrCat(
      std::string(name), ": ", kTransientMarker, " (", kMaxVerifyReads,
      " reads, all different; last: ", last.ok() ? "unconfirmed" : last.message(), ")"));
}

}  // namespace

absl::Status ReadVerified(File& file, uint64_t max_bytes, std::string_view name,
                          std::string* bytes,
                          const std::function<ReadCheck(std::string_view)>& check) {
  return VerifiedLoop([&] { return ReadWholeFile(file, max_bytes, name); }, name, bytes, check);
}

absl::Status ReadVerifiedRange(File& file, uint64_t offset, size_t length, std::string_view name,
                               std::string* bytes,
                               const std::function<ReadCheck(std::string_view)>& check) {
  return VerifiedLoop([&] { return file.Read(offset, length); }, name, bytes, check);
}

bool IsTransientReadCorruption(const absl::Status& status) {
  return absl::IsUnavailable(status) && absl::StrContains(status.message(), kTransientMarker);
}

}  // namespace crema::raft::storage
