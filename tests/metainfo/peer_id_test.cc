#include "metainfo/peer_id.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::metainfo {
namespace {

PeerId Id(std::string prefix) {
  prefix.resize(20, 'x');
  PeerId id;
  EXPECT_TRUE(PeerId::FromSpan(AsBytes(prefix), &id));
  return id;
}

TEST(PeerIdTest, GeneratedIdsHavePrefixAndRandomTail) {
  PeerId a = GeneratePeerId();
  PeerId b = GeneratePeerId();
  EXPECT_EQ(a.ToString().substr(0, 8), "-BK0100-");
  EXPECT_NE(a, b);
  EXPECT_EQ(DescribeClient(a), "btkit 0.1.0");
  PeerId c = GeneratePeerId("-XX1234-");
  EXPECT_EQ(c.ToString().substr(0, 8), "-XX1234-");
}

TEST(PeerIdTest, AzureusStyle) {
  struct Case {
    const char* prefix;
    const char* description;
  } cases[] = {
      {"-LT2080-", "libtorrent (Rasterbar) 2.0.8"},
      {"-LT1B10-", "libtorrent (Rasterbar) 1.11.1"},
      {"-qB4630-", "qBittorrent 4.6.3"},
      {"-TR2940-", "Transmission 2.94"},
      {"-TR4050-", "Transmission 4.0.5"},
      {"-TR400Z-", "Transmission 4.0.0 (dev)"},
      {"-UT355W-", "uTorrent 3.5.5"},
      {"-DE13F0-", "Deluge 1.3.15"},
      {"-AZ5750-", "Azureus 5.7.5"},
      {"-lt0D80-", "libTorrent (rTorrent) 0.13.8"},
      {"-ZZ1000-", "unknown (ZZ) 1.0.0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DescribeClient(Id(c.prefix)), c.description) << c.prefix;
  }
}

TEST(PeerIdTest, ShadowAndMainlineStyle) {
  EXPECT_EQ(DescribeClient(Id("T03I--")), "BitTornado 0.3.18");
  EXPECT_EQ(DescribeClient(Id("S58B-----")), "Shadow 5.8.11");
  EXPECT_EQ(DescribeClient(Id("M7-4-0--")), "BitTorrent (Mainline) 7.4.0");
  EXPECT_EQ(DescribeClient(Id("M4-10-5-")), "BitTorrent (Mainline) 4.10.5");
  EXPECT_EQ(DescribeClient(Id("A2-1-36-0-")), "aria2 1.36.0");
}

TEST(PeerIdTest, Unknown) {
  EXPECT_FALSE(IdentifyClient(Id("hello world")).has_value());
  EXPECT_EQ(DescribeClient(Id("hello world")), "unknown (hello wo)");
  EXPECT_EQ(DescribeClient(PeerId()), "unknown");
}

}  // namespace
}  // namespace bt::metainfo
