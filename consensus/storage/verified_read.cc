#include "consensus/storage/verified_read.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "consensus/storage/wal.h"

namespace crema::raft::storage {
namespace {
constexpr char kTransientMarker[] = "transient read corruption";
}  // namespace

absl::Status ReadVerified(File& file, uint64_t max_bytes, std::string_view name,
                          std::string* bytes,
                          const std::function<ReadCheck(std::string_view)>& check) {
  std::string previous;
  bool have_previous = false;
  absl::Status last;
  for (int read = 0; read < kMaxVerifyReads; ++read) {
    absl::StatusOr<std::string> got = ReadWholeFile(file, max_bytes, name);
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

bool IsTransientReadCorruption(const absl::Status& status) {
  return absl::IsUnavailable(status) && absl::StrContains(status.message(), kTransientMarker);
}

}  // namespace crema::raft::storage
