#include "client/ip_filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::HasSubstr;

Endpoint E(const char* address) { return *Endpoint::ParseAddress(address, 6881); }

TEST(IpFilterTest, SingleRangeAndCidrRules) {
  IpFilter f;
  ASSERT_TRUE(f.AddRule("10.0.0.0/8").ok());
  ASSERT_TRUE(f.AddRule(" 192.168.1.10 - 192.168.1.20 ").ok());
  ASSERT_TRUE(f.AddRule("8.8.8.8").ok());
  ASSERT_TRUE(f.AddRule("2001:db8::/32").ok());
  EXPECT_TRUE(f.Blocked(E("10.255.255.255")));
  EXPECT_TRUE(f.Blocked(E("10.0.0.0")));
  EXPECT_FALSE(f.Blocked(E("11.0.0.0")));
  EXPECT_FALSE(f.Blocked(E("9.255.255.255")));
  EXPECT_TRUE(f.Blocked(E("192.168.1.10")));
  EXPECT_TRUE(f.Blocked(E("192.168.1.20")));
  EXPECT_FALSE(f.Blocked(E("192.168.1.21")));
  EXPECT_TRUE(f.Blocked(E("8.8.8.8")));
  EXPECT_FALSE(f.Blocked(E("8.8.8.9")));
  EXPECT_TRUE(f.Blocked(E("2001:db8:ffff::1")));
  EXPECT_FALSE(f.Blocked(E("2001:db9::")));
  // Families never mix: 10.0.0.1 as IPv6 bytes is another address.
  EXPECT_FALSE(f.Blocked(E("::a00:1")));
}

TEST(IpFilterTest, OverlappingAndAdjacentRangesMerge) {
  IpFilter f;
  ASSERT_TRUE(f.AddRule("1.0.0.0-1.0.0.10").ok());
  ASSERT_TRUE(f.AddRule("1.0.0.11-1.0.0.20").ok());
  ASSERT_TRUE(f.AddRule("1.0.0.5-1.0.0.15").ok());
  ASSERT_TRUE(f.AddRule("0.0.0.0/0").ok());
  EXPECT_EQ(f.range_count(), 1u);
  EXPECT_TRUE(f.Blocked(E("255.255.255.255")));
  ASSERT_TRUE(f.AddRule("::/0").ok());
  EXPECT_TRUE(f.Blocked(E("ffff::1")));
}

TEST(IpFilterTest, BadRulesNameTheProblem) {
  IpFilter f;
  EXPECT_THAT(f.AddRule("1.2.3.4-1.2.3.1").message(), HasSubstr("ends before"));
  EXPECT_THAT(f.AddRule("1.2.3.4-::1").message(), HasSubstr("mixes IPv4"));
  EXPECT_THAT(f.AddRule("1.2.3.4/33").message(), HasSubstr("0-32"));
  EXPECT_THAT(f.AddRule("example.com").message(), HasSubstr("not an address"));
  EXPECT_THAT(f.AddRules("# comment\n\n1.2.3.4\nbogus\n").message(),
              HasSubstr("line 4"));
  EXPECT_TRUE(f.Blocked(E("1.2.3.4")));  // rules before the error stay
}

}  // namespace
}  // namespace bt::client
