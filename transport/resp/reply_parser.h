// ReplyParser: a pure, bounded, incremental parser of RESP2/RESP3 replies, for Crema's own
// clients (the load generator, tests). Servers parse requests with RequestParser instead.
//
// Example:
//   ReplyParser parser;
//   parser.Append(bytes);
//   while (auto r = parser.Next(); r.ok() && r->has_value()) Use(**r);
//
// Contract: any split of a stream yields the same values. Malformed input (unknown type byte,
// bad length, nesting deeper than kMaxReplyDepth, aggregates over kMaxReplyElements, a string over
// kMaxReplyBulkBytes) returns DATA_LOSS and the parser stays failed. Attributes (`|`) and push
// messages (`>`) are returned as values of their own type. Parsing restarts from the start of an
// incomplete reply on each Next(): replies are small in our uses; the bounds cap the cost.
// Thread safety: none (a plain value).
#ifndef CREMA_TRANSPORT_RESP_REPLY_PARSER_H_
#define CREMA_TRANSPORT_RESP_REPLY_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace crema::resp {

inline constexpr int kMaxReplyDepth = 32;
inline constexpr size_t kMaxReplyElements = 1 << 20;
inline constexpr size_t kMaxReplyBulkBytes = 512 * 1024 * 1024;

struct RespValue {
  enum class Type : char {
    kSimple = '+', kError = '-', kInteger = ':', kBulk = '$', kArray = '*', kNull = '_',
    kDouble = ',', kBoolean = '#', kBigNumber = '(', kBulkError = '!', kVerbatim = '=',
    kMap = '%', kSet = '~', kAttribute = '|', kPush = '>',
  };
  Type type = Type::kNull;
  std::string str;        // simple, error, bulk, bulk error, verbatim (with "txt:"), double, big
  int64_t integer = 0;    // integer; boolean as 0/1
  std::vector<RespValue> elements;  // aggregates (maps flattened: k1, v1, k2, v2, ...)

  bool is_null() const { return type == Type::kNull; }
  bool is_error() const { return type == Type::kError || type == Type::kBulkError; }
  // A short human form for tests and tools, e.g. `["OK", 1, nil]`.
  std::string DebugString() const;
};

class ReplyParser {
 public:
  void Append(std::string_view bytes);
  // A whole value, nullopt if more bytes are needed, or DATA_LOSS.
  absl::StatusOr<std::optional<RespValue>> Next();
  size_t buffered_bytes() const { return buffer_.size() - pos_; }

 private:
  // Parses one value at `*at`; returns false when incomplete. Errors go to `error_`.
  bool Parse(size_t* at, int depth, RespValue* out);
  bool failed_ = false;
  std::string error_;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_REPLY_PARSER_H_
