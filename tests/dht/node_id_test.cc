#include "dht/node_id.h"

#include <cstdint>
#include <array>
#include <string>

#include "dht/crc32c.h"
#include "gtest/gtest.h"

namespace bt::dht {
namespace {

NodeId Id(std::string_view hex) { return *NodeId::FromHex(hex); }

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(AsBytes("")), 0u);
  // Incremental equals one-shot.
  EXPECT_EQ(Crc32c(AsBytes("56789"), Crc32c(AsBytes("1234"))), 0xE3069283u);
  uint8_t zeros[32] = {};
  EXPECT_EQ(Crc32c(ByteSpan(zeros, 32)), 0x8A9136AAu);
}

struct Bep42Vector {
  uint8_t ip[4];
  uint8_t rand;
  const char* id;
};

// The test vectors of BEP 42.
constexpr Bep42Vector kVectors[] = {
    {{124, 31, 75, 21}, 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
    {{21, 75, 31, 124}, 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
    {{65, 23, 51, 170}, 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
    {{84, 124, 73, 14}, 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
    {{43, 213, 53, 83}, 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
};

TEST(Bep42Test, GeneratesTheBepVectors) {
  for (const Bep42Vector& v : kVectors) {
    NodeId expected = Id(v.id);
    // Feed the vector's own random bits; the result must be the vector.
    NodeId got = SecureNodeId(ByteSpan(v.ip, 4), v.rand, expected);
    EXPECT_EQ(got.ToHex(), expected.ToHex());
    // With other random bits, the first 21 bits and the last byte still match.
    NodeId other = SecureNodeId(ByteSpan(v.ip, 4), v.rand, NodeId());
    EXPECT_EQ(other[0], expected[0]);
    EXPECT_EQ(other[1], expected[1]);
    EXPECT_EQ(other[2] & 0xf8, expected[2] & 0xf8);
    EXPECT_EQ(other[19], v.rand);
  }
}

TEST(Bep42Test, VerifiesTheBepVectors) {
  for (const Bep42Vector& v : kVectors) {
    EXPECT_TRUE(IsSecureNodeId(Id(v.id), ByteSpan(v.ip, 4))) << v.id;
  }
}

TEST(Bep42Test, RejectsMismatches) {
  const Bep42Vector& v = kVectors[0];
  NodeId id = Id(v.id);
  // Flip each of the 21 checked bits.
  for (int bit = 0; bit < 21; ++bit) {
    NodeId bad = id;
    bad[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    EXPECT_FALSE(IsSecureNodeId(bad, ByteSpan(v.ip, 4))) << bit;
  }
  // Bits after the 21st are free.
  NodeId free_bits = id;
  free_bits[2] ^= 0x07;
  free_bits[10] ^= 0xff;
  EXPECT_TRUE(IsSecureNodeId(free_bits, ByteSpan(v.ip, 4)));
  // Another r changes the prefix.
  NodeId other_r = id;
  other_r[19] = 2;
  EXPECT_FALSE(IsSecureNodeId(other_r, ByteSpan(v.ip, 4)));
  // The id of one vector does not fit another address.
  EXPECT_FALSE(IsSecureNodeId(Id(kVectors[1].id), ByteSpan(v.ip, 4)));
}

TEST(Bep42Test, LocalAddressesAreExempt) {
  NodeId any = Id("0000000000000000000000000000000000000000");
  for (auto ip : {std::array<uint8_t, 4>{10, 1, 2, 3},
                  std::array<uint8_t, 4>{172, 16, 0, 1},
                  std::array<uint8_t, 4>{172, 31, 255, 1},
                  std::array<uint8_t, 4>{192, 168, 1, 1},
                  std::array<uint8_t, 4>{169, 254, 3, 3},
                  std::array<uint8_t, 4>{127, 0, 0, 1}}) {
    EXPECT_TRUE(IsBep42Exempt(ByteSpan(ip))) << int{ip[0]};
    EXPECT_TRUE(IsSecureNodeId(any, ByteSpan(ip)));
  }
  for (auto ip : {std::array<uint8_t, 4>{172, 32, 0, 1},
                  std::array<uint8_t, 4>{8, 8, 8, 8},
                  std::array<uint8_t, 4>{192, 169, 1, 1}}) {
    EXPECT_FALSE(IsBep42Exempt(ByteSpan(ip))) << int{ip[0]};
  }
  std::array<uint8_t, 16> v6_loop{};
  v6_loop[15] = 1;
  EXPECT_TRUE(IsBep42Exempt(ByteSpan(v6_loop)));
  std::array<uint8_t, 16> v6_global{0x20, 0x01, 0x0d, 0xb8};
  EXPECT_FALSE(IsBep42Exempt(ByteSpan(v6_global)));
}

TEST(Bep42Test, Ipv6RoundTrip) {
  std::array<uint8_t, 16> ip{0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8};
  for (int r = 0; r < 256; r += 37) {
    NodeId id = SecureNodeId(ByteSpan(ip), static_cast<uint8_t>(r), NodeId());
    EXPECT_TRUE(IsSecureNodeId(id, ByteSpan(ip)));
    // Only the top 64 bits of an IPv6 address count.
    std::array<uint8_t, 16> other = ip;
    other[15] ^= 0xff;
    EXPECT_TRUE(IsSecureNodeId(id, ByteSpan(other)));
    other[0] ^= 0x01;
    EXPECT_FALSE(IsSecureNodeId(id, ByteSpan(other)));
  }
}

TEST(DistanceTest, XorMetric) {
  NodeId a = Id("ff00000000000000000000000000000000000001");
  NodeId b = Id("0f00000000000000000000000000000000000000");
  EXPECT_EQ(Distance(a, b).ToHex(), "f000000000000000000000000000000000000001");
  EXPECT_EQ(CommonPrefixBits(a, b), 0);
  EXPECT_EQ(CommonPrefixBits(a, a), 160);
  EXPECT_EQ(CommonPrefixBits(Id("8000000000000000000000000000000000000000"),
                             Id("8000000000000000000000000000000000000001")),
            159);
  NodeId target = Id("0000000000000000000000000000000000000000");
  EXPECT_TRUE(CloserTo(target, b, a));
  EXPECT_FALSE(CloserTo(target, a, b));
  EXPECT_FALSE(CloserTo(target, a, a));
}

}  // namespace
}  // namespace bt::dht
