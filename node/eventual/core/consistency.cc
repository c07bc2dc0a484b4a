#include "node/eventual/core/consistency.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crema::eventual {

std::string Consistency::ToString() const {
  std::string out;
  switch (level) {
    case ConsistencyLevel::kOne: out = "ONE"; break;
    case ConsistencyLevel::kQuorum: out = "QUORUM"; break;
    case ConsistencyLevel::kAll: out = "ALL"; break;
    case ConsistencyLevel::kCount: out = absl::StrCat(count); break;
  }
  if (sloppy) out += "~";
  return out;
}

absl::StatusOr<int> RequiredAnswers(const Consistency& consistency, int n) {
  if (n < 1 || n > kMaxReplication) {
    return absl::InvalidArgumentError(absl::StrCat("replication factor ", n, " outside [1, ",
                                                   kMaxReplication, "]"));
  }
  switch (consistency.level) {
    case ConsistencyLevel::kOne: return 1;
    case ConsistencyLevel::kQuorum: return n / 2 + 1;
    case ConsistencyLevel::kAll: return n;
    case ConsistencyLevel::kCount:
      if (consistency.count < 1 || consistency.count > n) {
        return absl::InvalidArgumentError(
            absl::StrCat("consistency count ", consistency.count, " outside [1, ", n, "]"));
      }
      return consistency.count;
  }
  return absl::InvalidArgumentError("unknown consistency level");
}

std::optional<Consistency> ParseConsistency(std::string_view text) {
  Consistency c;
  if (!text.empty() && text.back() == '~') {
    c.sloppy = true;
    text.remove_suffix(1);
  }
  const std::string lower = absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
  if (lower == "one") {
    c.level = ConsistencyLevel::kOne;
  } else if (lower == "quorum") {
    c.level = ConsistencyLevel::kQuorum;
  } else if (lower == "all") {
    c.level = ConsistencyLevel::kAll;
  } else {
    int count = 0;
    if (!absl::SimpleAtoi(lower, &count) || count < 1 || count > kMaxReplication) {
      return std::nullopt;
    }
    c.level = ConsistencyLevel::kCount;
    c.count = count;
  }
  return c;
}

}  // namespace crema::eventual
