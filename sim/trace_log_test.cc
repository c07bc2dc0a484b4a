// ParseTraceLine reads back exactly what TraceLog writes and refuses anything else with nullopt:
// numbers that are not integers of the field's range (converting them is undefined or wrong),
// digests that are not 1-16 hex digits, missing or mistyped fields.
#include "sim/trace_log.h"

#include <string>

#include "gtest/gtest.h"

namespace crema::sim {
namespace {

TEST(TraceLogTest, ParsesAWrittenLine) {
  std::optional<TraceEvent> e = ParseTraceLine(
      R"({"index":7,"time_ns":-5,"node":4294967295,"kind":"crash","detail":"x","digest":"00ff00ff00ff00ff"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->index, 7u);
  EXPECT_EQ(e->time_ns, -5);
  EXPECT_EQ(e->node, 4294967295u);
  EXPECT_EQ(e->kind, "crash");
  EXPECT_EQ(e->detail, "x");
  EXPECT_EQ(e->digest, 0x00ff00ff00ff00ffu);
}

TEST(TraceLogTest, RefusesNumbersOutsideTheirFieldAndBadDigests) {
  const std::string ok_rest = R"("kind":"k","detail":"d","digest":"1")";
  const auto line = [&](const std::string& numbers, const std::string& rest) {
    return "{" + numbers + "," + rest + "}";
  };
  ASSERT_TRUE(ParseTraceLine(line(R"("index":1,"time_ns":2,"node":3)", ok_rest)).has_value());
  for (const char* numbers : {
           // the fuzzer's input: an index far beyond uint64 (parsed as a float by the JSON reader)
           R"("index":46666666666666666666666666666666666666666666666666666666666666666666666,"time_ns":2,"node":3)",
           R"("index":1.5,"time_ns":2,"node":3)",
           R"("index":-1,"time_ns":2,"node":3)",
           R"("index":1,"time_ns":9223372036854775808,"node":3)",
           R"("index":1,"time_ns":1e300,"node":3)",
           R"("index":1,"time_ns":2,"node":4294967296)",
           R"("index":1,"time_ns":2,"node":-3)",
           R"("index":"1","time_ns":2,"node":3)",
           R"("time_ns":2,"node":3)",
       }) {
    EXPECT_FALSE(ParseTraceLine(line(numbers, ok_rest)).has_value()) << numbers;
  }
  for (const char* digest : {"", "-1", " 1", "1 ", "12zz", "0x12", "11112222333344445", "g"}) {
    const std::string rest = std::string(R"("kind":"k","detail":"d","digest":")") + digest + "\"";
    EXPECT_FALSE(ParseTraceLine(line(R"("index":1,"time_ns":2,"node":3)", rest)).has_value())
        << digest;
  }
}

}  // namespace
}  // namespace crema::sim
