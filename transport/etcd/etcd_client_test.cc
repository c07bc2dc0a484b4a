#include "transport/etcd/etcd_client.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace crema::transport {
namespace {

TEST(EtcdClientTest, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "/crema/members/7", std::string("\0\xff\x01", 3)}) {
    absl::StatusOr<std::string> back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("!!!!").ok());
}

TEST(EtcdClientTest, PrefixEndIsTheFirstKeyAfterThePrefix) {
  EXPECT_EQ(PrefixEnd("/crema/m/"), "/crema/m0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff")), std::string(1, '\0'));
}

}  // namespace
}  // namespace crema::transport
