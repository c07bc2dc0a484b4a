#include "chaos/history_json.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace crema::chaos {
namespace {

// The error message of parsing `text` as a history ("" if it parsed).
std::string ParseError(std::string_view text) {
  absl::StatusOr<History> h = HistoryFromJsonLines(text);
  return h.ok() ? "" : std::string(h.status().message());
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

History EveryShape() {
  return {
      PutOp(1, "k", "v1", 100, 250),
      GetOp(2, "k", "v1", 120, 300),
      GetOp(3, "x", std::nullopt, 130, 310),
      DeleteOp(4, "k", 400, 420),
      Indeterminate(CasOp(5, "k", "v1", "v2", true, 500, 0)),
      CasOp(6, "k", std::nullopt, "v3", /*swapped=*/false, 600, 700),
      CasOp(6, "k", std::nullopt, "v3", /*swapped=*/true, 800, 900),
      Indeterminate(GetOp(7, "k", std::nullopt, 1, 0)),
      Indeterminate(DeleteOp(8, "k", 2, 0)),
      PutOp(-3, "", "", 0, 0),
  };
}

TEST(HistoryJsonTest, WritesTheDocumentedFormat) {
  EXPECT_EQ(OperationToJson(PutOp(1, "k", "v1", 100, 250)),
            R"({"client":1,"op":"put","key":"k","value":"v1","invoke_ns":100,"return_ns":250,)"
            R"("result":"ok"})");
  EXPECT_EQ(OperationToJson(GetOp(3, "x", std::nullopt, 130, 310)),
            R"({"client":3,"op":"get","key":"x","value":null,"invoke_ns":130,"return_ns":310,)"
            R"("result":"absent"})");
  EXPECT_EQ(OperationToJson(DeleteOp(4, "k", 400, 420)),
            R"({"client":4,"op":"delete","key":"k","value":null,"invoke_ns":400,)"
            R"("return_ns":420,"result":"ok"})");
  EXPECT_EQ(OperationToJson(Indeterminate(CasOp(5, "k", std::nullopt, "v2", true, 500, 0))),
            R"({"client":5,"op":"cas","key":"k","value":{"expected":null,"new":"v2"},)"
            R"("invoke_ns":500,"return_ns":null,"result":"indeterminate"})");
}

TEST(HistoryJsonTest, RoundTripsEveryShape) {
  const History h = EveryShape();
  ASSERT_TRUE(ValidateHistory(h).ok());
  absl::StatusOr<History> parsed = HistoryFromJsonLines(HistoryToJsonLines(h));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, h);
}

TEST(HistoryJsonTest, NonUtf8BytesRoundTripAsHex) {
  const std::string binary("\xff\x00\x80k", 4);
  const History h = {PutOp(1, binary, std::string("\xc0\xaf", 2), 0, 1),
                     GetOp(1, "caf\xc3\xa9", "\xe2\x82\xac", 2, 3)};
  const std::string text = HistoryToJsonLines(h);
  EXPECT_TRUE(Contains(text, R"("key":{"hex":"ff00806b"})")) << text;
  EXPECT_TRUE(Contains(text, R"("value":{"hex":"c0af"})")) << "overlong UTF-8 is not text";
  EXPECT_TRUE(Contains(text, "\"key\":\"caf\xc3\xa9\"")) << "valid UTF-8 stays a string";
  absl::StatusOr<History> parsed = HistoryFromJsonLines(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, h);
}

TEST(HistoryJsonTest, AcceptsOmittedNullsBlankLinesAndUppercaseHex) {
  absl::StatusOr<History> parsed = HistoryFromJsonLines(
      "\n"
      R"({"client":1,"op":"delete","key":"k","invoke_ns":1,"return_ns":2,"result":"ok"})"
      "\r\n  \n"
      R"({"client":1,"op":"get","key":{"hex":"6B"},"invoke_ns":3,"result":"indeterminate"})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0], DeleteOp(1, "k", 1, 2));
  EXPECT_EQ((*parsed)[1], Indeterminate(GetOp(1, "k", std::nullopt, 3, 0)));
}

TEST(HistoryJsonTest, ErrorsNameTheLineAndTheField) {
  const std::string good = R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,)"
                           R"("return_ns":2,"result":"ok"})";
  struct Case {
    std::string line;
    std::string expected_error;
  };
  const Case cases[] = {
      {"not json", "invalid JSON"},
      {"[1,2]", "expected a JSON object"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,"return_ns":2})",
       "\"result\": missing"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok","extra":1})",
       "unknown field \"extra\""},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,"invoke_ns":2,)"
       R"("return_ns":2,"result":"ok"})",
       "duplicate field \"invoke_ns\""},
      {R"({"client":1.5,"op":"put","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "\"client\": expected an integer"},
      {R"({"client":1,"op":"upsert","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "\"op\": expected"},
      {R"({"client":1,"op":"put","key":7,"value":"v","invoke_ns":1,"return_ns":2,"result":"ok"})",
       "\"key\": expected a string"},
      {R"({"client":1,"op":"put","key":"k","invoke_ns":1,"return_ns":2,"result":"ok"})",
       "put needs the value"},
      {R"({"client":1,"op":"get","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"absent"})",
       "must be null or omitted"},
      {R"({"client":1,"op":"get","key":"k","invoke_ns":1,"return_ns":2,"result":"ok"})",
       "needs the value read"},
      {R"({"client":1,"op":"delete","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "must be null or omitted for delete"},
      {R"({"client":1,"op":"cas","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "cas needs"},
      {R"({"client":1,"op":"cas","key":"k","value":{"new":"v"},"invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "\"value.expected\": missing"},
      {R"({"client":1,"op":"cas","key":"k","value":{"expected":null,"new":"v","old":1},)"
       R"("invoke_ns":1,"return_ns":2,"result":"ok"})",
       "unknown cas field \"old\""},
      {R"({"client":1,"op":"get","key":"k","invoke_ns":1,"return_ns":2,"result":"fail"})",
       "not allowed for get"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":5,"return_ns":2,)"
       R"("result":"ok"})",
       "before invoke_ns"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"indeterminate"})",
       "indeterminate operation has no return_ns"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,"result":"ok"})",
       "needs a return_ns"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":-1,"return_ns":2,)"
       R"("result":"ok"})",
       "invoke_ns is negative"},
      {R"({"client":1,"op":"put","key":"k","value":"v","invoke_ns":1,)"
       R"("return_ns":99999999999999999999,"result":"ok"})",
       "\"return_ns\": expected an integer that fits in int64"},
      {R"({"client":1,"op":"put","key":{"hex":"abc"},"value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "odd number of digits"},
      {R"({"client":1,"op":"put","key":{"hex":"zz"},"value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "not a digit"},
      {R"({"client":1,"op":"put","key":{"hex":"00","x":1},"value":"v","invoke_ns":1,)"
       R"("return_ns":2,"result":"ok"})",
       "exactly {\"hex\""},
      {R"({"client":1,"op":"put","key":[[["deep"]]],"value":"v","invoke_ns":1,"return_ns":2,)"
       R"("result":"ok"})",
       "nested too deeply"},
      {"{\"client\":1,\"op\":\"put\",\"key\":\"\xff\",\"value\":\"v\",\"invoke_ns\":1,"
       "\"return_ns\":2,\"result\":\"ok\"}",
       "invalid JSON"},
  };
  for (const Case& c : cases) {
    const std::string error = ParseError(absl::StrCat(good, "\n\n", c.line, "\n", good, "\n"));
    EXPECT_TRUE(Contains(error, "line 3: ")) << c.line << "\n  gave: " << error;
    EXPECT_TRUE(Contains(error, c.expected_error))
        << c.line << "\n  gave: " << error << "\n  expected: " << c.expected_error;
  }
  EXPECT_EQ(ParseError(good), "");
}

TEST(HistoryJsonTest, EnforcesSizeLimits) {
  const std::string big_key(kMaxKeyBytes + 1, 'k');
  const std::string line = absl::StrCat(R"({"client":1,"op":"put","key":")", big_key,
                                        R"(","value":"v","invoke_ns":1,"return_ns":2,"result":"ok"})");
  EXPECT_TRUE(Contains(ParseError(line), "over the limit")) << ParseError(line);
  const std::string huge(kMaxJsonLineBytes + 1, ' ');
  EXPECT_TRUE(Contains(ParseError(huge + "{}"), "limit")) << ParseError(huge + "{}");
}

TEST(HistoryJsonTest, ParserStopsAtTheFirstError) {
  JsonLinesHistoryParser parser;
  EXPECT_TRUE(parser.AddLine(OperationToJson(PutOp(1, "k", "v", 0, 1))).ok());
  EXPECT_FALSE(parser.AddLine("{").ok());
  EXPECT_FALSE(parser.AddLine(OperationToJson(PutOp(1, "k", "v", 0, 1))).ok());
  EXPECT_EQ(parser.lines_read(), 2u);
}

TEST(Utf8Test, ValidatesStrictly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));             // Surrogate U+D800.
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));             // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));         // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));                 // Truncated.
  EXPECT_FALSE(IsValidUtf8("\x80"));                     // Lone continuation byte.
}

}  // namespace
}  // namespace crema::chaos
