#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <absl/time/time.h>
#include <absl/strings/str_cat.h>
#include <boost/context/fiber.hpp>
#include <lz4.h>
#include <xxhash.h>
TEST(Smoke, Links) { EXPECT_EQ(absl::StrCat(1, "a"), "1a"); EXPECT_GT(LZ4_compressBound(10), 10); EXPECT_NE(XXH3_64bits("a",1),0u);
 int x=0; boost::context::fiber f([&](boost::context::fiber&& c){ x=1; return std::move(c);}); f = std::move(f).resume(); EXPECT_EQ(x,1);}
RC_GTEST_PROP(Smoke, Prop, (int a)) { RC_ASSERT(a + 0 == a); }
