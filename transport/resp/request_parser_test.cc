#include "transport/resp/request_parser.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "transport/resp/strict_int.h"

namespace crema::resp {
namespace {

using Args = std::vector<std::string>;

std::string Multibulk(const Args& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

// Feeds `stream` in the given pieces; returns the commands and (if any) the error.
struct Parsed {
  std::vector<Args> commands;
  std::string error;
  bool operator==(const Parsed& o) const { return commands == o.commands && error == o.error; }
};
Parsed Feed(const std::vector<std::string>& pieces, RequestLimits limits = {}) {
  RequestParser parser(limits);
  Parsed parsed;
  for (const std::string& piece : pieces) {
    parser.Append(piece);
    while (true) {
      RequestParser::Result r = parser.Next();
      if (r.kind == RequestParser::kNeedMore) break;
      if (r.kind == RequestParser::kError) {
        parsed.error = r.error;
        return parsed;
      }
      parsed.commands.push_back(r.args);
    }
  }
  return parsed;
}

TEST(RequestParserTest, MultibulkAndInline) {
  Parsed p = Feed({Multibulk({"SET", "k", "v\r\nx"}) + "GET k\r\n" + "\r\n" + "*0\r\n" +
                   "set \"a b\\x41\\n\" 'c\\'d'\r\n" + "PING\n"});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.commands, (std::vector<Args>{{"SET", "k", "v\r\nx"},
                                           {"GET", "k"},
                                           {"set", "a bA\n", "c'd"},
                                           {"PING"}}));
}

TEST(RequestParserTest, RedisProtocolErrors) {
  // The exact texts redis-server 7.0 answers (checked against a live server).
  EXPECT_EQ(Feed({"*abc\r\n"}).error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(Feed({"*3\r\n$x\r\n"}).error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(Feed({"*1\r\n+foo\r\n"}).error, "ERR Protocol error: expected '$', got '+'");
  EXPECT_EQ(Feed({"*1\r\n$-5\r\n"}).error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(Feed({"\"abc\r\n"}).error, "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(Feed({"\"abc\"def\r\n"}).error, "ERR Protocol error: unbalanced quotes in request");
}

TEST(RequestParserTest, LimitsAreEnforced) {
  RequestLimits limits;
  limits.max_bulk_bytes = 10;
  limits.max_multibulk_count = 3;
  limits.max_inline_bytes = 16;
  limits.max_query_buffer_bytes = 100;
  EXPECT_EQ(Feed({"*1\r\n$11\r\n"}, limits).error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(Feed({"*1\r\n$10\r\n0123456789\r\n"}, limits).error, "");
  EXPECT_EQ(Feed({"*4\r\n"}, limits).error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(Feed({std::string(17, 'a')}, limits).error,
            "ERR Protocol error: too big inline request");
  EXPECT_EQ(Feed({"a b c d\r\n"}, limits).error, "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(Feed({"*" + std::string(17, '1')}, limits).error,
            "ERR Protocol error: too big mbulk count string");
  EXPECT_EQ(Feed({"*1\r\n$" + std::string(17, '1')}, limits).error,
            "ERR Protocol error: too big bulk count string");
  // Many bulks under the per-bulk limit still hit the per-command buffer limit.
  limits.max_multibulk_count = 100;
  std::string big = "*20\r\n";
  for (int i = 0; i < 20; ++i) big += "$10\r\n0123456789\r\n";
  EXPECT_EQ(Feed({big}, limits).error, "ERR Protocol error: query buffer limit reached");
  // A huge announced count reserves nothing in advance.
  RequestParser parser;
  parser.Append("*1048576\r\n");
  EXPECT_EQ(parser.Next().kind, RequestParser::kNeedMore);
  EXPECT_TRUE(parser.mid_command());
}

// Regression (resp_fuzzer, regress-inline-line-at-limit): a line of exactly max_inline_bytes was
// refused as "too big" when its CR arrived before its LF, and accepted when both came together.
TEST(RequestParserTest, LineOfExactlyTheLimitParsesHoweverItIsSplit) {
  RequestLimits small;
  small.max_inline_bytes = 16;
  const std::string inline_line = "SET k " + std::string(10, 'v');  // 16 bytes
  const std::string count_line = "*1" + std::string(14, ' ');        // not a number: an error
  const std::string bulk_line = "*1\r\n$000000000000002\r\nab\r\n";  // "$" + 15 = 16 bytes
  for (const std::string& stream :
       {inline_line + "\r\n", count_line + "\r\n", bulk_line, inline_line + "x\r\n"}) {
    const Parsed whole = Feed({stream}, small);
    const size_t cr = stream.find('\r');
    EXPECT_EQ(Feed({stream.substr(0, cr + 1), stream.substr(cr + 1)}, small), whole) << stream;
    std::vector<std::string> bytes;
    for (char c : stream) bytes.emplace_back(1, c);
    EXPECT_EQ(Feed(bytes, small), whole) << stream;
  }
  EXPECT_EQ(Feed({inline_line + "\r", "\n"}, small).commands,
            (std::vector<Args>{{"SET", "k", std::string(10, 'v')}}));
  EXPECT_EQ(Feed({inline_line + "x\r", "\n"}, small).error,
            "ERR Protocol error: too big inline request");
}

// A line still arriving is searched only in its new bytes: a 60,000-byte inline command sent one
// byte at a time (a slow or hostile client) costs each byte one search, not one per later byte
// (before: 1.8 G bytes searched for this stream, 30,000 times the stream).
TEST(RequestParserTest, ALongLineFedByteByByteIsSearchedOnce) {
  RequestParser p;
  const std::string line = "SET k " + std::string(60'000, 'v') + "\r\n";
  int commands = 0;
  for (char ch : line) {
    p.Append(std::string_view(&ch, 1));
    RequestParser::Result r = p.Next();
    ASSERT_NE(r.kind, RequestParser::kError) << r.error;
    if (r.kind == RequestParser::kCommand) {
      ++commands;
      ASSERT_EQ(r.args.size(), 3u);
      EXPECT_EQ(r.args[2].size(), 60'000u);
    }
  }
  EXPECT_EQ(commands, 1);
  EXPECT_LE(p.line_bytes_searched(), line.size());
  // The same for a multibulk command's count and length lines, and after compaction.
  RequestParser q;
  std::string stream;
  for (int i = 0; i < 100; ++i) stream += "*2\r\n$3\r\nGET\r\n$" + std::to_string(1000 + i) + "\r\n" + std::string(1000 + i, 'k') + "\r\n";
  for (char ch : stream) {
    q.Append(std::string_view(&ch, 1));
    while (q.Next().kind == RequestParser::kCommand) {}
  }
  EXPECT_LE(q.line_bytes_searched(), stream.size());
}

TEST(RequestParserTest, StrictCrlfAfterBulk) {
  EXPECT_EQ(Feed({"*1\r\n$4\r\nPINGx\r\n"}).error, "ERR Protocol error: expected CRLF after bulk");
}

TEST(RequestParserTest, FailedParserStaysFailed) {
  RequestParser parser;
  parser.Append("*x\r\nPING\r\n");
  EXPECT_EQ(parser.Next().kind, RequestParser::kError);
  parser.Append("PING\r\n");
  EXPECT_EQ(parser.Next().kind, RequestParser::kError);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(StrictIntTest, LikeRedisString2ll) {
  EXPECT_EQ(ParseStrictInt64("0"), 0);
  EXPECT_EQ(ParseStrictInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseStrictInt64("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "9223372036854775808", "1a"}) {
    EXPECT_EQ(ParseStrictInt64(bad), std::nullopt) << bad;
  }
}

// Splits `stream` at the given cut points (any values; reduced modulo the size).
std::vector<std::string> Split(const std::string& stream, std::vector<size_t> cuts) {
  for (size_t& c : cuts) c = stream.empty() ? 0 : c % (stream.size() + 1);
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::string> pieces;
  size_t prev = 0;
  for (size_t c : cuts) {
    pieces.push_back(stream.substr(prev, c - prev));
    prev = c;
  }
  pieces.push_back(stream.substr(prev));
  return pieces;
}

RC_GTEST_PROP(RequestParserProperty, ArbitrarySplitsParseIdentically,
              (const std::vector<std::vector<std::string>>& commands,
               const std::vector<size_t>& cuts)) {
  std::string stream;
  std::vector<Args> expected;
  for (const Args& args : commands) {
    stream += Multibulk(args);
    if (!args.empty()) expected.push_back(args);
  }
  const Parsed whole = Feed({stream});
  RC_ASSERT(whole.error.empty());
  RC_ASSERT(whole.commands == expected);
  RC_ASSERT(Feed(Split(stream, cuts)) == whole);
}

RC_GTEST_PROP(RequestParserProperty, GarbageNeverCrashesAndSplitsAgree,
              (const std::string& garbage, const std::vector<size_t>& cuts)) {
  RequestLimits limits;
  limits.max_bulk_bytes = 64;
  limits.max_multibulk_count = 8;
  limits.max_inline_bytes = 32;
  limits.max_query_buffer_bytes = 256;
  // Garbage with some protocol-looking prefixes mixed in.
  const std::string stream = *rc::gen::element<std::string>("", "*2\r\n", "*1\r\n$3\r\n", "$") +
                             garbage;
  const Parsed whole = Feed({stream}, limits);
  RC_ASSERT(Feed(Split(stream, cuts), limits) == whole);
}

}  // namespace
}  // namespace crema::resp
