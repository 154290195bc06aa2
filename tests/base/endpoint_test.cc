#include "base/endpoint.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(EndpointTest, V4Basics) {
  Endpoint e = Endpoint::V4({1, 2, 3, 4}, 6881);
  EXPECT_TRUE(e.is_v4());
  EXPECT_FALSE(e.is_v6());
  EXPECT_EQ(e.port(), 6881);
  ASSERT_EQ(e.address_bytes().size(), 4u);
  EXPECT_EQ(e.address_bytes()[0], 1);
  EXPECT_EQ(e.address_bytes()[3], 4);
  EXPECT_EQ(e.AddressString(), "1.2.3.4");
  EXPECT_EQ(e.ToString(), "1.2.3.4:6881");
}

TEST(EndpointTest, V6Basics) {
  std::array<uint8_t, 16> a{};
  a[15] = 1;
  Endpoint e = Endpoint::V6(a, 443);
  EXPECT_TRUE(e.is_v6());
  EXPECT_EQ(e.address_bytes().size(), 16u);
  EXPECT_EQ(e.AddressString(), "::1");
  EXPECT_EQ(e.ToString(), "[::1]:443");
}

TEST(EndpointTest, ParsesAndRoundTrips) {
  for (const char* text :
       {"1.2.3.4:6881", "0.0.0.0:0", "255.255.255.255:65535", "[::1]:6881",
        "[2001:db8::8:800:200c:417a]:1", "[::ffff:1.2.3.4]:80",
        "[fe80::1:2:3:4]:65535"}) {
    absl::StatusOr<Endpoint> e = Endpoint::Parse(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status();
    EXPECT_EQ(e->ToString(), text);
    EXPECT_EQ(*Endpoint::Parse(e->ToString()), *e);
  }
  absl::StatusOr<Endpoint> upper = Endpoint::Parse("[2001:DB8::1]:5");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->ToString(), "[2001:db8::1]:5");
}

TEST(EndpointTest, ParseIsStrict) {
  for (const char* text :
       {"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
        "1.2.3.4:+1", "1.2.3.4:06881", "1.2.3.4:6881 ", " 1.2.3.4:6881",
        "1.2.3:6881", "1.2.3.4.5:6881", "1.2.3.256:6881", "01.2.3.4:6881",
        "1..3.4:6881", "a.b.c.d:1", "localhost:6881", "::1:6881",
        "[::1]", "[::1]6881", "[::1:6881", "[1.2.3.4]:6881", "[::1%eth0]:1",
        "[]:1", "[:::1]:1", "1.2.3.4:1:2", "1.2.3.4:123456"}) {
    absl::StatusOr<Endpoint> e = Endpoint::Parse(text);
    EXPECT_FALSE(e.ok()) << "accepted \"" << text << "\" as " << e->ToString();
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  absl::Status s = Endpoint::Parse("::1:6881").status();
  EXPECT_NE(s.message().find("brackets"), std::string::npos) << s;
}

TEST(EndpointTest, ParseAddress) {
  EXPECT_EQ(*Endpoint::ParseAddress("10.0.0.1", 5), Endpoint::V4({10, 0, 0, 1}, 5));
  absl::StatusOr<Endpoint> v6 = Endpoint::ParseAddress("::2", 7);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "[::2]:7");
  EXPECT_FALSE(Endpoint::ParseAddress("[::2]", 7).ok());
  EXPECT_FALSE(Endpoint::ParseAddress("example.com", 7).ok());
}

TEST(EndpointTest, FromBytes) {
  Endpoint e;
  const uint8_t four[4] = {9, 8, 7, 6};
  ASSERT_TRUE(Endpoint::FromBytes(ByteSpan(four, 4), 1, &e));
  EXPECT_EQ(e, Endpoint::V4({9, 8, 7, 6}, 1));
  uint8_t sixteen[16] = {};
  ASSERT_TRUE(Endpoint::FromBytes(ByteSpan(sixteen, 16), 2, &e));
  EXPECT_TRUE(e.is_v6());
  EXPECT_FALSE(Endpoint::FromBytes(ByteSpan(sixteen, 5), 2, &e));
}

TEST(EndpointTest, FromBytesMayReadTheEndpointItWrites) {
  Endpoint e = Endpoint::V4({9, 8, 7, 6}, 1);
  ASSERT_TRUE(Endpoint::FromBytes(e.address_bytes(), 2, &e));
  EXPECT_EQ(e, Endpoint::V4({9, 8, 7, 6}, 2));
}

TEST(EndpointTest, OrderingEqualityAndHash) {
  Endpoint a = Endpoint::V4({1, 2, 3, 4}, 1);
  Endpoint b = Endpoint::V4({1, 2, 3, 4}, 2);
  Endpoint c = Endpoint::V4({1, 2, 3, 5}, 1);
  std::array<uint8_t, 16> zero{};
  Endpoint d = Endpoint::V6(zero, 0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);  // every IPv4 sorts before every IPv6
  EXPECT_NE(a, b);
  EXPECT_EQ(a, Endpoint::V4({1, 2, 3, 4}, 1));
  // 0.0.0.0:0 and [::]:0 differ.
  EXPECT_NE(Endpoint(), d);
  absl::flat_hash_set<Endpoint> set = {a, b, c, d, a};
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.contains(Endpoint::V4({1, 2, 3, 5}, 1)));
}

TEST(EndpointTest, LoopbackAndUnspecified) {
  for (const char* text : {"127.0.0.1:1", "127.255.255.254:0", "127.1.2.3:6881",
                           "[::1]:1"}) {
    Endpoint e = *Endpoint::Parse(text);
    EXPECT_TRUE(e.IsLoopback()) << text;
    EXPECT_FALSE(e.IsUnspecified()) << text;
  }
  for (const char* text : {"0.0.0.0:0", "0.0.0.0:6881", "[::]:1"}) {
    Endpoint e = *Endpoint::Parse(text);
    EXPECT_TRUE(e.IsUnspecified()) << text;
    EXPECT_FALSE(e.IsLoopback()) << text;
  }
  EXPECT_TRUE(Endpoint().IsUnspecified());
  for (const char* text :
       {"126.255.255.255:1", "128.0.0.1:1", "10.0.0.1:1", "1.0.0.127:1",
        "0.0.0.1:1", "[::2]:1", "[::100]:1", "[1::1]:1", "[::ffff:127.0.0.1]:1",
        "[fe80::1]:1", "[::ffff:0.0.0.0]:1"}) {
    Endpoint e = *Endpoint::Parse(text);
    EXPECT_FALSE(e.IsLoopback()) << text;
    EXPECT_FALSE(e.IsUnspecified()) << text;
  }
}

}  // namespace
}  // namespace bt
