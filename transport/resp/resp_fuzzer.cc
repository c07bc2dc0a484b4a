// Fuzz target: the RESP front end's parsers — RequestParser (what any client that can connect to
// the RESP port sends) and ReplyParser (what crema's own RESP clients and tools read back).
//
// Modes (first byte):
//   0  requests, small limits (a 64-byte bulk, 16 arguments, 128-byte inline lines, 512 buffered
//      bytes), so every bound is reachable from a short input;
//   1  requests, the server's default limits;
//   2  well-formed multibulk commands built from the input (optionally one byte overwritten);
//   3  replies.
// The stream is fed twice: whole, and in fuzz-chosen pieces.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); both
// feedings give the same commands and errors (the parser's contract); no command has more
// arguments, or an argument more bytes, than the limits allow; buffered bytes stay within the
// query-buffer limit plus one piece; a failed parser stays failed with the same error; a parsed
// command re-encoded as a multibulk array parses back to itself; well-formed commands come out
// exactly as built.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"
#include "transport/resp/reply_parser.h"
#include "transport/resp/request_parser.h"

namespace crema::resp {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "resp_fuzzer: %s\n", what);
  std::abort();
}

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;  // empty: no error
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::string Multibulk(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

void CheckCommand(const std::vector<std::string>& args, const RequestLimits& limits) {
  if (args.empty()) Fail("an empty command came out");
  if (args.size() > limits.max_multibulk_count) Fail("a command over max_multibulk_count");
  for (const std::string& a : args) {
    if (a.size() > std::max(limits.max_bulk_bytes, limits.max_inline_bytes)) {
      Fail("an argument over the bulk/inline limit came out");
    }
  }
}

// Feeds `stream` in pieces (`in` chooses their sizes; null: all at once).
Outcome Parse(std::string_view stream, const RequestLimits& limits, fuzz::FuzzInput* in) {
  RequestParser parser(limits);
  Outcome out;
  size_t pos = 0;
  while (pos < stream.size() && out.error.empty()) {
    const size_t piece = in == nullptr
                             ? stream.size()
                             : std::min<size_t>(stream.size() - pos, 1 + in->InRange(0, 255));
    parser.Append(stream.substr(pos, piece));
    pos += piece;
    while (true) {
      RequestParser::Result r = parser.Next();
      if (r.kind == RequestParser::kNeedMore) break;
      if (r.kind == RequestParser::kError) {
        if (r.error.empty()) Fail("an error without a message");
        out.error = r.error;
        RequestParser::Result again = parser.Next();
        if (again.kind != RequestParser::kError || again.error != r.error || !parser.failed()) {
          Fail("a failed parser recovered");
        }
        break;
      }
      CheckCommand(r.args, limits);
      out.commands.push_back(std::move(r.args));
    }
    if (out.error.empty() && parser.buffered_bytes() > limits.max_query_buffer_bytes + piece) {
      Fail("the parser buffers more than the query-buffer limit and a piece");
    }
  }
  return out;
}

void Requests(fuzz::FuzzInput& in, const RequestLimits& limits) {
  const std::string stream(in.Bytes(1 << 16));
  const Outcome whole = Parse(stream, limits, nullptr);
  const Outcome pieces = Parse(stream, limits, &in);
  if (!(whole == pieces)) Fail("splitting the stream changed the commands or the error");
  for (const std::vector<std::string>& args : whole.commands) {
    const std::string again = Multibulk(args);
    RequestLimits roomy = limits;
    roomy.max_query_buffer_bytes = again.size() + 64;
    roomy.max_bulk_bytes = std::max(limits.max_bulk_bytes, limits.max_inline_bytes);
    const Outcome back = Parse(again, roomy, nullptr);
    if (!back.error.empty() || back.commands.size() != 1 || back.commands[0] != args) {
      Fail("a parsed command does not survive re-encoding");
    }
  }
}

void WellFormed(fuzz::FuzzInput& in) {
  std::vector<std::vector<std::string>> sent;
  std::string stream;
  const int count = static_cast<int>(in.InRange(0, 8));
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> args(in.InRange(1, 6));
    for (std::string& a : args) a = in.Bytes(300);
    stream += Multibulk(args);
    sent.push_back(std::move(args));
  }
  const bool corrupt = in.InRange(0, 3) == 0 && !stream.empty();
  if (corrupt) stream[in.InRange(0, stream.size() - 1)] = static_cast<char>(in.U8());
  const RequestLimits limits;
  const Outcome got = Parse(stream, limits, &in);
  if (corrupt) return;
  if (!got.error.empty() || got.commands != sent) Fail("well-formed commands were not all parsed");
}

void Replies(fuzz::FuzzInput& in) {
  const std::string stream(in.Rest());
  ReplyParser parser;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t piece = std::min<size_t>(stream.size() - pos, 1 + (pos * 7919) % 97);
    parser.Append(std::string_view(stream).substr(pos, piece));
    pos += piece;
    while (true) {
      absl::StatusOr<std::optional<RespValue>> v = parser.Next();
      if (!v.ok()) {
        if (parser.Next().ok()) Fail("a failed reply parser recovered");
        return;
      }
      if (!v->has_value()) break;
      (void)(*v)->DebugString();
    }
  }
}

}  // namespace
}  // namespace crema::resp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::resp;
  // Parsing twice plus the round trips: a few copies of the input, plus per-argument overhead
  // (an input of "*1\r\n$0\r\n\r\n" repeated is ~40 bytes of vectors and strings per 9 bytes).
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 4) {
    case 0: {
      RequestLimits small;
      small.max_bulk_bytes = 64;
      small.max_multibulk_count = 16;
      small.max_inline_bytes = 128;
      small.max_query_buffer_bytes = 512;
      Requests(in, small);
      break;
    }
    case 1:
      Requests(in, RequestLimits{});
      break;
    case 2:
      WellFormed(in);
      break;
    default:
      Replies(in);
      break;
  }
  return 0;
}
