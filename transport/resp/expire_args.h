// Parsing of Redis's expiry arguments (SET/GETEX's EX|PX|EXAT|PXAT, SETEX, EXPIRE...) into a
// crema::Expiration, with redis-server's error texts. Pure functions.
#ifndef CREMA_TRANSPORT_RESP_EXPIRE_ARGS_H_
#define CREMA_TRANSPORT_RESP_EXPIRE_ARGS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/cache_node/cache_api.h"

namespace crema::resp {

enum class ExpireUnit { kSeconds, kMilliseconds, kUnixSeconds, kUnixMilliseconds };

// A positive relative or absolute expiry (SET/GETEX/SETEX): value <= 0 or one that overflows is
// "ERR invalid expire time in '<command>' command"; a non-integer is "ERR value is not an integer
// or out of range". The error text is the status message.
absl::StatusOr<Expiration> ParsePositiveExpiry(std::string_view value, ExpireUnit unit,
                                               std::string_view command);

// EXPIRE-family: any integer; a non-positive relative time (or an absolute one in the past)
// deletes the key, expressed as an absolute time in the past.
absl::StatusOr<Expiration> ParseExpireCommandTime(std::string_view value, ExpireUnit unit,
                                                  std::string_view command);

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_EXPIRE_ARGS_H_
