#include "transport/address.h"

#include <gtest/gtest.h>

namespace crema::transport {
namespace {

TEST(AddressTest, ParsesHostPort) {
  absl::StatusOr<boost::asio::ip::tcp::endpoint> e = ParseHostPort("127.0.0.1:7001");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port(), 7001);
  EXPECT_TRUE(ParseHostPort("[::1]:80").ok());
  EXPECT_TRUE(ParseHostPort("localhost:0").ok());
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "host.example:1",
                          "[::1:80", "1.2.3.4:-1", "1.2.3.4:8x"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseHostPort(bad).status())) << bad;
  }
}

TEST(AddressTest, ParsesPeerLists) {
  auto peers = ParsePeerList("1=127.0.0.1:7001,2=127.0.0.1:7002");
  ASSERT_TRUE(peers.ok()) << peers.status();
  EXPECT_EQ(peers->size(), 2u);
  EXPECT_EQ(peers->at(2), "127.0.0.1:7002");
  EXPECT_TRUE(ParsePeerList("")->empty());
  for (const char* bad : {"1", "0=127.0.0.1:1", "x=127.0.0.1:1", "1=127.0.0.1:1,1=127.0.0.1:2",
                          "1=127.0.0.1:1,", "1=nowhere"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParsePeerList(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace crema::transport
