#include "base/byte_reader.h"

#include "base/byte_writer.h"
#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(ByteReaderTest, ReadsBigEndianAndAdvancesOnlyOnSuccess) {
  std::string buf;
  ByteWriter(&buf).U8(1).U16(0x0203).U32(0x04050607).U64(0x08090a0b0c0d0e0fULL);
  ByteReader r(buf);
  uint8_t a;
  uint16_t b;
  uint32_t c;
  uint64_t d;
  ASSERT_TRUE(r.ReadU8(&a) && r.ReadU16(&b) && r.ReadU32(&c) && r.ReadU64(&d));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_EQ(d, 0x08090a0b0c0d0e0fULL);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.ReadU8(&a));
  EXPECT_EQ(r.offset(), 15u);
}

TEST(ByteReaderTest, FailedReadLeavesCursor) {
  ByteReader r(std::string_view("\x01\x02\x03", 3));
  uint32_t v;
  EXPECT_FALSE(r.ReadU32(&v));
  EXPECT_EQ(r.offset(), 0u);
  ByteSpan s;
  EXPECT_TRUE(r.ReadBytes(2, &s));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_FALSE(r.Skip(2));
  EXPECT_EQ(r.Truncated("thing").message(), "thing: truncated at byte 2 of 3");
  EXPECT_EQ(r.Trailing("thing").message(),
            "thing: 1 unexpected trailing bytes at byte 2");
}

}  // namespace
}  // namespace bt
