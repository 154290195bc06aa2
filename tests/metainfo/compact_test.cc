#include "metainfo/compact.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::metainfo {
namespace {

using std::string_literals::operator""s;

TEST(CompactTest, ParsesIpv4PeersFromBep23Layout) {
  std::string data = "\x0a\x00\x00\x01\x1a\xe1"s "\xc0\xa8\x01\x02\x00\x50"s;
  absl::StatusOr<std::vector<Endpoint>> peers = ParseCompactPeers4(data);
  ASSERT_TRUE(peers.ok()) << peers.status();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0], Endpoint::V4({10, 0, 0, 1}, 6881));
  EXPECT_EQ((*peers)[1].ToString(), "192.168.1.2:80");
}

TEST(CompactTest, ParsesIpv6Peers) {
  std::string data(18, '\0');
  data[15] = 1;
  data[16] = '\x1a';
  data[17] = '\xe1';
  absl::StatusOr<std::vector<Endpoint>> peers = ParseCompactPeers6(data);
  ASSERT_TRUE(peers.ok()) << peers.status();
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].ToString(), "[::1]:6881");
}

TEST(CompactTest, EmptyListsAreEmpty) {
  EXPECT_TRUE(ParseCompactPeers4("")->empty());
  EXPECT_TRUE(ParseCompactPeers6("")->empty());
  EXPECT_TRUE(ParseCompactNodes4("")->empty());
  EXPECT_TRUE(ParseCompactNodes6("")->empty());
}

TEST(CompactTest, RejectsEveryWrongLength) {
  for (size_t n = 0; n < 200; ++n) {
    std::string data(n, 'x');
    EXPECT_EQ(ParseCompactPeers4(data).ok(), n % 6 == 0) << n;
    EXPECT_EQ(ParseCompactPeers6(data).ok(), n % 18 == 0) << n;
    EXPECT_EQ(ParseCompactNodes4(data).ok(), n % 26 == 0) << n;
    EXPECT_EQ(ParseCompactNodes6(data).ok(), n % 38 == 0) << n;
    EXPECT_EQ(ParseCompactPeer(data).ok(), n == 6 || n == 18) << n;
  }
  absl::Status s = ParseCompactPeers4(std::string(13, 'x')).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("length 13"), std::string::npos) << s;
  EXPECT_NE(s.message().find("multiple of 6"), std::string::npos) << s;
  EXPECT_NE(s.message().find("IPv4 peers"), std::string::npos) << s;
}

TEST(CompactTest, PeersRoundTrip) {
  std::vector<Endpoint> v4 = {Endpoint::V4({1, 2, 3, 4}, 1),
                              Endpoint::V4({255, 255, 255, 255}, 65535),
                              Endpoint::V4({0, 0, 0, 0}, 0)};
  std::string out;
  for (const Endpoint& e : v4) AppendCompactPeer(e, &out);
  EXPECT_EQ(out.size(), 18u);
  EXPECT_EQ(out.substr(0, 6), "\x01\x02\x03\x04\x00\x01"s);
  EXPECT_EQ(*ParseCompactPeers4(out), v4);

  std::array<uint8_t, 16> a;
  for (int i = 0; i < 16; ++i) a[i] = static_cast<uint8_t>(0xf0 + i);
  std::vector<Endpoint> v6 = {Endpoint::V6(a, 0x1234), Endpoint::V6({}, 1)};
  out.clear();
  for (const Endpoint& e : v6) AppendCompactPeer(e, &out);
  EXPECT_EQ(out.size(), 36u);
  EXPECT_EQ(out.substr(16, 2), "\x12\x34"s);
  EXPECT_EQ(*ParseCompactPeers6(out), v6);

  EXPECT_EQ(*ParseCompactPeer(out.substr(0, 18)), v6[0]);
  EXPECT_EQ(*ParseCompactPeer("\x01\x02\x03\x04\x00\x01"s), v4[0]);
}

TEST(CompactTest, NodesRoundTrip) {
  NodeInfo n4;
  for (int i = 0; i < 20; ++i) n4.id[i] = static_cast<uint8_t>(i);
  n4.endpoint = Endpoint::V4({127, 0, 0, 1}, 6881);
  NodeInfo n6;
  n6.id[0] = 0xff;
  std::array<uint8_t, 16> a{};
  a[0] = 0x20;
  a[1] = 0x01;
  n6.endpoint = Endpoint::V6(a, 6882);

  std::string out4;
  AppendCompactNode(n4, &out4);
  AppendCompactNode(n4, &out4);
  ASSERT_EQ(out4.size(), 52u);
  EXPECT_EQ(out4.substr(20, 6), "\x7f\x00\x00\x01\x1a\xe1"s);
  std::vector<NodeInfo> back4 = *ParseCompactNodes4(out4);
  ASSERT_EQ(back4.size(), 2u);
  EXPECT_EQ(back4[0], n4);
  EXPECT_EQ(back4[1], n4);

  std::string out6;
  AppendCompactNode(n6, &out6);
  ASSERT_EQ(out6.size(), 38u);
  std::vector<NodeInfo> back6 = *ParseCompactNodes6(out6);
  ASSERT_EQ(back6.size(), 1u);
  EXPECT_EQ(back6[0], n6);
  EXPECT_EQ(back6[0].endpoint.ToString(), "[2001::]:6882");
  // A 38-byte IPv6 node string is not a list of IPv4 nodes.
  EXPECT_FALSE(ParseCompactNodes4(out6).ok());
}

}  // namespace
}  // namespace bt::metainfo
