#include "protocol/handshake.h"

#include <string>

#include "gtest/gtest.h"

namespace bt::protocol {
namespace {

Handshake Example() {
  Handshake hs;
  for (int i = 0; i < 20; ++i) {
    hs.info_hash[i] = static_cast<uint8_t>(0xA0 + i);
    hs.peer_id[i] = static_cast<uint8_t>('a' + i);
  }
  return hs;
}

TEST(HandshakeTest, ExactLayout) {
  Handshake hs = Example();
  hs.reserved.Set(ReservedBit::kExtension)
      .Set(ReservedBit::kFast)
      .Set(ReservedBit::kDht);
  std::string out = "x";
  AppendHandshake(hs, &out);
  ASSERT_EQ(out.size(), 1 + kHandshakeLength);
  std::string expected = "x";
  expected += '\x13';
  expected += "BitTorrent protocol";
  // BEP 10: reserved[5] & 0x10; BEP 6: reserved[7] & 0x04; BEP 5: & 0x01.
  expected += std::string("\0\0\0\0\0\x10\0\x05", 8);
  expected += hs.info_hash.ToString();
  expected += hs.peer_id.ToString();
  EXPECT_EQ(out, expected);
}

TEST(HandshakeTest, ReservedBitPositions) {
  EXPECT_EQ(ReservedBit::kDht.byte, 7);
  EXPECT_EQ(ReservedBit::kDht.mask, 0x01);
  EXPECT_EQ(ReservedBit::kFast.byte, 7);
  EXPECT_EQ(ReservedBit::kFast.mask, 0x04);
  // BEP 52: "the 4th most significant bit in the last byte".
  EXPECT_EQ(ReservedBit::kV2Upgrade.byte, 7);
  EXPECT_EQ(ReservedBit::kV2Upgrade.mask, 0x10);
  EXPECT_EQ(ReservedBit::kExtension.byte, 5);
  EXPECT_EQ(ReservedBit::kExtension.mask, 0x10);

  ReservedBits bits;
  EXPECT_FALSE(bits.Has(ReservedBit::kV2Upgrade));
  bits.Set(ReservedBit::kV2Upgrade);
  EXPECT_TRUE(bits.Has(ReservedBit::kV2Upgrade));
  EXPECT_FALSE(bits.Has(ReservedBit::kDht));
  bits.Set(ReservedBit::kV2Upgrade, false);
  EXPECT_EQ(bits, ReservedBits());
}

TEST(HandshakeTest, RoundTripKeepsUnknownReservedBits) {
  Handshake hs = Example();
  hs.reserved = ReservedBits({0x80, 1, 2, 3, 4, 0x15, 6, 0xFF});
  std::string out;
  AppendHandshake(hs, &out);
  absl::StatusOr<Handshake> back = ParseHandshake(out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, hs);
  EXPECT_TRUE(back->reserved.Has(ReservedBit::kExtension));
}

TEST(HandshakeTest, RejectsWrongLengthAndProtocol) {
  std::string good;
  AppendHandshake(Example(), &good);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseHandshake(good.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ParseHandshake(good + "x").ok());

  std::string bad = good;
  bad[0] = 18;
  absl::Status s = ParseHandshake(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("byte 0"), std::string_view::npos) << s;

  bad = good;
  bad[5] = 't';
  s = ParseHandshake(bad).status();
  EXPECT_NE(s.message().find("byte 5"), std::string_view::npos) << s;
}

TEST(HandshakeTest, PrefixCheck) {
  EXPECT_TRUE(CheckHandshakePrefix("").ok());
  EXPECT_TRUE(CheckHandshakePrefix("\x13"
                                   "BitT")
                  .ok());
  EXPECT_TRUE(CheckHandshakePrefix(kHandshakePrefix).ok());
  EXPECT_FALSE(CheckHandshakePrefix("\x13"
                                    "Bx")
                   .ok());
  EXPECT_FALSE(CheckHandshakePrefix("GET /").ok());
}

}  // namespace
}  // namespace bt::protocol
