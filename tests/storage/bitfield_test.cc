#include "storage/bitfield.h"

#include "gtest/gtest.h"

namespace bt::storage {
namespace {

TEST(BitfieldTest, BitOrderAndBytes) {
  Bitfield b(10);
  b.Set(0);
  b.Set(9);
  EXPECT_EQ(b.ToBytes(), std::string("\x80\x40", 2));
  EXPECT_EQ(b.Count(), 2u);
  b.Clear(0);
  EXPECT_FALSE(b.Get(0));
  EXPECT_TRUE(b.Get(9));
  Bitfield all(10, true);
  EXPECT_EQ(all.ToBytes(), std::string("\xff\xc0", 2));
  EXPECT_TRUE(all.All());
  all.AndNot(b);
  EXPECT_EQ(all.Count(), 9u);
  b.Or(all);
  EXPECT_TRUE(b.All());
}

TEST(BitfieldTest, FromBytesIsStrict) {
  auto b = Bitfield::FromBytes(std::string("\xff\xc0", 2), 10);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->All());
  EXPECT_FALSE(Bitfield::FromBytes(std::string("\xff\xe0", 2), 10).ok());
  EXPECT_FALSE(Bitfield::FromBytes("\xff", 10).ok());
  EXPECT_FALSE(Bitfield::FromBytes("\xff\x00\x00", 10).ok());
  EXPECT_TRUE(Bitfield::FromBytes("", 0).ok());
}

}  // namespace
}  // namespace bt::storage
