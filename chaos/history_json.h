// JSON-lines encoding of client histories (chaos/history.h): one operation per line, e.g.
//
//   {"client":1,"op":"put","key":"k","value":"v1","invoke_ns":100,"return_ns":250,"result":"ok"}
//   {"client":2,"op":"get","key":"k","value":"v1","invoke_ns":120,"return_ns":300,"result":"ok"}
//   {"client":3,"op":"get","key":"x","value":null,"invoke_ns":130,"return_ns":310,"result":"absent"}
//   {"client":4,"op":"delete","key":"k","value":null,"invoke_ns":400,"return_ns":420,
//    "result":"ok"}                                       (on one line in a file)
//   {"client":5,"op":"cas","key":"k","value":{"expected":"v1","new":"v2"},"invoke_ns":500,
//    "return_ns":null,"result":"indeterminate"}          (on one line in a file)
//   {"client":6,"op":"cas","key":"k","value":{"expected":null,"new":"v3"},"invoke_ns":600,
//    "return_ns":700,"result":"fail"}                     (expects "absent"; the key was present)
//
// Cache operations (the `cache` scenario):
//   {"client":7,"op":"incr","key":"n","value":{"delta":2,"result":"5"},"invoke_ns":800,
//    "return_ns":900,"result":"ok"}                      ("fail": not an integer, result null)
//   {"client":7,"op":"expire","key":"n","value":null,"invoke_ns":950,"return_ns":990,
//    "result":"ok","ttl":true}                           (ttl false: PERSIST)
//   {"client":8,"op":"put","key":"t","value":"v9","invoke_ns":1000,"return_ns":1100,
//    "result":"ok","ttl":true}                           (the value expires)
//   {"client":8,"op":"get","key":"t","value":"v9","invoke_ns":1200,"return_ns":1300,
//    "result":"ok","local":true}                         (a local read: not linearizable)
//
// Fields (all required unless said otherwise; no other fields are allowed; no duplicates):
//   client     integer (int64): a label for reports.
//   op         "put" | "get" | "delete" | "cas" | "incr" | "expire".
//   key        bytes (see below).
//   value      put: bytes, the value written.
//              get: bytes, the value read, when result is "ok"; null or omitted otherwise.
//              delete: null or omitted.
//              cas: an object {"expected": bytes or null, "new": bytes}; a null expected means
//                   "succeed only if the key is absent".
//   invoke_ns  integer >= 0.
//   return_ns  integer >= invoke_ns; null or omitted iff result is "indeterminate".
//   result     "ok"            put/delete done, get found `value`, cas swapped;
//              "absent"        get only: a miss;
//              "fail"          cas only: the current value was not `expected`, nothing changed;
//              "indeterminate" timed out / unknown: may have taken effect at any time after
//                              invoke_ns (treated as returning at +infinity);
//              "error"         definitely had no effect (ignored by the checkers).
//   ttl        optional boolean (put, cas, expire): see above. Omitted = false.
//   local      optional boolean (get): a local read. Omitted = false.
//
// Bytes: a JSON string stands for its UTF-8 bytes. Bytes that are not valid UTF-8 are written as
// {"hex":"<even number of hex digits>"}; the parser accepts either form for any byte string.
//
// Limits: a line is at most kMaxJsonLineBytes; keys, values and the number of operations are
// bounded as in history.h. Blank lines are skipped. Parsing never throws or crashes: every error
// is an InvalidArgument status naming the line number and the field.
//
// Thread safety: the functions are pure; a JsonLinesHistoryParser belongs to one thread.
#ifndef CREMA_CHAOS_HISTORY_JSON_H_
#define CREMA_CHAOS_HISTORY_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chaos/history.h"

namespace crema::chaos {

// Longest accepted line: room for a cas with two hex-encoded values of kMaxValueBytes.
inline constexpr size_t kMaxJsonLineBytes = 8 * 1024 * 1024;

// One line of JSON, without a trailing newline. REQUIRES: ValidateOperation(op).ok().
std::string OperationToJson(const Operation& op);

// Every operation as a line ending in '\n'. REQUIRES: ValidateHistory(history).ok().
std::string HistoryToJsonLines(const History& history);

// Parses one line (one JSON object). Errors do not carry a line number.
[[nodiscard]] absl::StatusOr<Operation> OperationFromJson(std::string_view line);

// Parses a whole JSON-lines text; errors are "line N: ...".
[[nodiscard]] absl::StatusOr<History> HistoryFromJsonLines(std::string_view text);

// Incremental parsing, for inputs read line by line.
class JsonLinesHistoryParser {
 public:
  // Parses one line (without its '\n'). After an error the parser keeps failing.
  [[nodiscard]] absl::Status AddLine(std::string_view line);
  size_t lines_read() const { return line_number_; }
  History Finish() && { return std::move(history_); }

 private:
  History history_;
  size_t line_number_ = 0;
  absl::Status status_;
};

// True iff `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF): such bytes are written as a JSON string, others as {"hex": ...}.
bool IsValidUtf8(std::string_view bytes);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_HISTORY_JSON_H_
