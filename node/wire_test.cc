// Round trips and garbage for the shared wire helpers.
#include "node/wire.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace crema {
namespace {

RC_GTEST_PROP(WireTest, RoundTrips, (uint64_t u, int64_t s, std::string bytes, bool b)) {
  WireWriter w;
  w.PutVarint(u);
  w.PutSigned(s);
  w.PutBytes(bytes);
  w.PutBool(b);
  const std::string encoded = std::move(w).Finish();
  WireReader r(encoded);
  uint64_t u2;
  int64_t s2;
  std::string_view view;
  bool b2;
  RC_ASSERT(r.GetVarint(&u2));
  RC_ASSERT(r.GetSigned(&s2));
  RC_ASSERT(r.GetView(&view, bytes.size()));
  RC_ASSERT(r.GetBool(&b2));
  RC_ASSERT(r.done());
  RC_ASSERT(u2 == u);
  RC_ASSERT(s2 == s);
  RC_ASSERT(view == bytes);
  RC_ASSERT(b2 == b);
}

TEST(WireTest, ExtremesAndBounds) {
  for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
                    std::numeric_limits<int64_t>::max()}) {
    WireWriter w;
    w.PutSigned(v);
    const std::string e = std::move(w).Finish();
    WireReader r(e);
    int64_t back;
    ASSERT_TRUE(r.GetSigned(&back));
    EXPECT_EQ(back, v);
  }
  WireWriter w;
  w.PutBytes("hello");
  const std::string e = std::move(w).Finish();
  std::string s;
  WireReader short_limit(e);
  EXPECT_FALSE(short_limit.GetBytes(&s, 4));  // over the caller's bound
  WireReader truncated(std::string_view(e).substr(0, 3));
  EXPECT_FALSE(truncated.GetBytes(&s, 100));
}

RC_GTEST_PROP(WireTest, GarbageNeverReadsPastTheEnd, (std::string garbage)) {
  WireReader r(garbage);
  for (int i = 0; i < 64; ++i) {
    std::string s;
    uint64_t u;
    int64_t v;
    if (!r.GetVarint(&u) || !r.GetSigned(&v) || !r.GetBytes(&s, 1 << 20)) break;
  }
  RC_ASSERT(r.remaining() <= garbage.size());
}

}  // namespace
}  // namespace crema
