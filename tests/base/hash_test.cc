#include "base/hash.h"

#include "base/sha.h"
#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(HashTest, HexRoundTrip) {
  auto h = Sha1Hash::FromHex("0123456789ABCDEFabcdef0123456789abcdef01");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->ToHex(), "0123456789abcdefabcdef0123456789abcdef01");
  EXPECT_EQ((*h)[0], 0x01);
  EXPECT_EQ((*h)[19], 0x01);
}

TEST(HashTest, HexRejectsWrongLengthAndCharacters) {
  EXPECT_FALSE(Sha1Hash::FromHex("00").ok());
  EXPECT_FALSE(Sha1Hash::FromHex(std::string(39, '0') + "g").ok());
  auto bad = Sha256Hash::FromHex("zz");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("SHA-256 hash"), std::string::npos);
  EXPECT_NE(bad.status().message().find("64 hex"), std::string::npos);
}

TEST(HashTest, Base32KnownValue) {
  // SHA-1("abc") = a9993e36...; its base32 form as magnet links use it.
  Sha1Hash h = Sha1(AsBytes("abc"));
  EXPECT_EQ(h.ToHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(h.ToBase32(), "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
  auto back = Sha1Hash::FromBase32("vgmt4nsha2awvor6evyxqugcnsonbwe5");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
}

TEST(HashTest, Base32RejectsBadInput) {
  EXPECT_FALSE(Sha1Hash::FromBase32("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE").ok());
  EXPECT_FALSE(Sha1Hash::FromBase32("VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE1").ok());
  // 32 base32 characters carry exactly 160 bits: no padding bits to check.
  // A 32-byte hash needs 52 characters with 4 padding bits that must be zero.
  Sha256Hash h = Sha256(AsBytes("abc"));
  std::string b32 = h.ToBase32();
  ASSERT_EQ(b32.size(), 52u);
  EXPECT_EQ(*Sha256Hash::FromBase32(b32), h);
  b32.back() = b32.back() == 'B' ? 'C' : 'B';  // sets a padding bit
  EXPECT_FALSE(Sha256Hash::FromBase32(b32).ok());
}

TEST(HashTest, Sha256KnownValue) {
  EXPECT_EQ(Sha256(AsBytes("abc")).ToHex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher incremental;
  incremental.Update(AsBytes("a"));
  incremental.Update(AsBytes("bc"));
  EXPECT_EQ(incremental.Final(), Sha256(AsBytes("abc")));
}

TEST(HashTest, StrongTypesCompareAndOrder) {
  Sha1Hash a, b;
  b[19] = 1;
  EXPECT_LT(a, b);
  EXPECT_TRUE(a.IsZero());
  EXPECT_FALSE(b.IsZero());
}

}  // namespace
}  // namespace bt
