#include "transport/resp/reply_parser.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "transport/resp/encoder.h"

namespace crema::resp {
namespace {

TEST(EncoderTest, Resp2AndResp3Forms) {
  std::string two, three;
  Encoder e2(&two, false), e3(&three, true);
  for (Encoder* e : {&e2, &e3}) {
    e->MapHeader(1);
    e->Bulk("k");
    e->Null();
    e->Boolean(true);
    e->Error("ERR a\r\nb");
    e->Verbatim("txt", "hi");
  }
  EXPECT_EQ(two, "*2\r\n$1\r\nk\r\n$-1\r\n:1\r\n-ERR a  b\r\n$2\r\nhi\r\n");
  EXPECT_EQ(three, "%1\r\n$1\r\nk\r\n_\r\n#t\r\n-ERR a  b\r\n=6\r\ntxt:hi\r\n");
}

TEST(ReplyParserTest, ParsesEncodedValuesInPieces) {
  std::string out;
  Encoder e(&out, true);
  e.ArrayHeader(3);
  e.Integer(-7);
  e.Bulk("x\r\ny");
  e.MapHeader(1);
  e.SimpleString("a");
  e.Double(1.5);
  ReplyParser parser;
  for (char c : out) {
    parser.Append(std::string(1, c));
  }
  absl::StatusOr<std::optional<RespValue>> v = parser.Next();
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->DebugString(), "[-7, \"x\r\ny\", [\"a\", \"1.5\"]]");
  EXPECT_FALSE(parser.Next()->has_value());
}

TEST(ReplyParserTest, RejectsGarbageAndDeepNesting) {
  ReplyParser bad;
  bad.Append("?what\r\n");
  EXPECT_FALSE(bad.Next().ok());
  ReplyParser deep;
  deep.Append(std::string(100, '*').replace(0, 0, "") );
  std::string nest;
  for (int i = 0; i < 40; ++i) nest += "*1\r\n";
  nest += ":1\r\n";
  ReplyParser deep2;
  deep2.Append(nest);
  EXPECT_FALSE(deep2.Next().ok());
}

RC_GTEST_PROP(ReplyParserProperty, GarbageNeverCrashes, (const std::string& garbage)) {
  ReplyParser parser;
  parser.Append(garbage);
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::optional<RespValue>> v = parser.Next();
    if (!v.ok() || !v->has_value()) break;
  }
}

}  // namespace
}  // namespace crema::resp
