#include "transport/resp/expire_args.h"

#include "absl/strings/str_cat.h"
#include "transport/resp/absl_view.h"
#include "transport/resp/command_table.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

absl::Status Invalid(std::string_view command) {
  return absl::InvalidArgumentError(
      absl::StrCat("ERR invalid expire time in '", Av(command), "' command"));
}

// Milliseconds, or nullopt on overflow.
std::optional<int64_t> ToMillis(int64_t v, ExpireUnit unit) {
  if (unit == ExpireUnit::kSeconds || unit == ExpireUnit::kUnixSeconds) {
    if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000) return std::nullopt;
    return v * 1000;
  }
  return v;
}

bool IsAbsolute(ExpireUnit unit) {
  return unit == ExpireUnit::kUnixSeconds || unit == ExpireUnit::kUnixMilliseconds;
}

}  // namespace

absl::StatusOr<Expiration> ParsePositiveExpiry(std::string_view value, ExpireUnit unit,
                                               std::string_view command) {
  std::optional<int64_t> v = ParseStrictInt64(value);
  if (!v) return absl::InvalidArgumentError(std::string(kNotInteger));
  if (*v <= 0) return Invalid(command);
  std::optional<int64_t> ms = ToMillis(*v, unit);
  // Redis also refuses deadlines that overflow when added to the current time (in ms).
  if (!ms || *ms > INT64_MAX / 2) return Invalid(command);
  if (IsAbsolute(unit)) return Expiration::At(absl::FromUnixMillis(*ms));
  return Expiration::After(absl::Milliseconds(*ms));
}

absl::StatusOr<Expiration> ParseExpireCommandTime(std::string_view value, ExpireUnit unit,
                                                  std::string_view command) {
  std::optional<int64_t> v = ParseStrictInt64(value);
  if (!v) return absl::InvalidArgumentError(std::string(kNotInteger));
  std::optional<int64_t> ms = ToMillis(*v, unit);
  if (!ms || *ms > INT64_MAX / 2) return Invalid(command);
  if (IsAbsolute(unit)) return Expiration::At(absl::FromUnixMillis(*ms));
  if (*ms <= 0) return Expiration::At(absl::UnixEpoch());  // in the past: delete
  return Expiration::After(absl::Milliseconds(*ms));
}

}  // namespace crema::resp
