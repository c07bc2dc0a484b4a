// RequestParser: a pure, bounded, incremental parser of Redis client requests (RESP2/RESP3
// multibulk arrays of bulk strings, and "inline" commands typed by hand), modelled on
// redis-server's processMultibulkBuffer / processInlineBuffer (networking.c).
//
// Example:
//   RequestParser parser(RequestLimits{});
//   parser.Append(bytes_from_socket);
//   for (;;) {
//     RequestParser::Result r = parser.Next();
//     if (r.kind == RequestParser::kNeedMore) break;
//     if (r.kind == RequestParser::kError) { reply r.error (already "ERR Protocol error: ..."),
//                                            then close the connection; }
//     Execute(r.args);  // kCommand: args[0] is the command name
//   }
//
// Contract:
//   * Splitting a byte stream into pieces in any way yields the same commands and errors.
//   * Errors carry redis-server's exact text (without the leading '-' and trailing CRLF). After an
//     error the parser is failed for good (Redis closes the connection): Next() repeats it.
//   * Empty inline lines and multibulk counts <= 0 are skipped, as in Redis.
//   * Bounds: a command has at most `max_multibulk_count` arguments (inline: the same), a bulk at
//     most `max_bulk_bytes`, an inline line or a count line at most `max_inline_bytes`, and the
//     bytes buffered for one unfinished command at most `max_query_buffer_bytes` (more is an error
//     "query buffer limit reached"). Memory reserved ahead of data is bounded too: a huge announced
//     count reserves at most kMaxReservedArgs slots, a huge bulk length no bytes.
//   * Unlike Redis, a bulk must be followed by CRLF exactly (Redis skips any two bytes).
//
// Thread safety: none (a plain value).
#ifndef CREMA_TRANSPORT_RESP_REQUEST_PARSER_H_
#define CREMA_TRANSPORT_RESP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crema::resp {

struct RequestLimits {
  size_t max_bulk_bytes = 8 * 1024 * 1024;          // Redis: proto-max-bulk-len (512 MiB)
  size_t max_multibulk_count = 1024 * 1024;         // arguments per command
  size_t max_inline_bytes = 64 * 1024;              // Redis: PROTO_INLINE_MAX_SIZE
  size_t max_query_buffer_bytes = 64 * 1024 * 1024; // Redis: client-query-buffer-limit (1 GiB)
};

inline constexpr size_t kMaxReservedArgs = 1024;

class RequestParser {
 public:
  enum Kind { kNeedMore, kCommand, kError };
  struct Result {
    Kind kind = kNeedMore;
    std::vector<std::string> args;  // kCommand
    std::string error;              // kError: "ERR Protocol error: ..."
  };

  explicit RequestParser(RequestLimits limits = {}) : limits_(limits) {}

  // Appends received bytes. Cheap when the parser is failed (bytes are dropped).
  void Append(std::string_view bytes);
  Result Next();

  bool failed() const { return failed_; }
  // Bytes held that are not yet part of a returned command.
  size_t buffered_bytes() const { return buffer_.size() - pos_; }
  // True while part of a command has been consumed or buffered (a half-sent command).
  bool mid_command() const { return multibulk_remaining_ > 0 || buffered_bytes() > 0; }
  const RequestLimits& limits() const { return limits_; }
  // Bytes searched for line ends so far (a cost measure: at most the bytes appended, each
  // searched once however the stream is split).
  uint64_t line_bytes_searched() const { return line_bytes_searched_; }

 private:
  Result Fail(std::string error);
  Result ParseInline();
  Result ParseMultibulk();
  // Finds "\n" from pos_; returns the line without CR/LF in `line` or false if incomplete.
  bool ReadLine(std::string_view* line, size_t* consumed) const;
  // No newline buffered yet: true if the line can no longer end within max_inline_bytes. A
  // trailing '\r' does not count (it may be the start of the CRLF), so a line of exactly the
  // limit is accepted however the stream is split (resp_fuzzer found it refused when its CR and
  // LF arrived in different reads, but accepted when they arrived together).
  bool PartialLineTooLong() const;
  void Compact();

  RequestLimits limits_;
  std::string buffer_;
  size_t pos_ = 0;
  // buffer_[pos_, no_newline_before_) holds no '\n': a line still arriving is searched only in
  // its new bytes, so a long line fed in small pieces costs linear, not quadratic, time.
  mutable size_t no_newline_before_ = 0;
  mutable uint64_t line_bytes_searched_ = 0;  // line_bytes_searched()
  bool failed_ = false;
  std::string error_;
  // Multibulk in progress.
  int64_t multibulk_remaining_ = 0;  // bulks still to read; 0 = between commands
  int64_t bulk_length_ = -1;         // length of the bulk being read, -1 = header not read
  size_t command_bytes_ = 0;         // bytes consumed so far by the current command
  std::vector<std::string> args_;
};

// Splits an inline command line like redis's sdssplitargs: spaces separate arguments; "double
// quotes" take \n \r \t \b \a \\ \" and \xHH escapes; 'single quotes' take \'. Returns false on
// unbalanced quotes (or a closing quote not followed by a space).
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* args, size_t max_args);

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_REQUEST_PARSER_H_
