#include "protocol/utp/sequence.h"

#include "gtest/gtest.h"

namespace bt::protocol::utp {
namespace {

TEST(SequenceTest, OrdersAcrossTheWrap) {
  EXPECT_TRUE(SeqLess(1, 2));
  EXPECT_FALSE(SeqLess(2, 1));
  EXPECT_FALSE(SeqLess(7, 7));
  EXPECT_TRUE(SeqLessOrEqual(7, 7));
  EXPECT_TRUE(SeqLess(0xfffe, 0x0001));
  EXPECT_FALSE(SeqLess(0x0001, 0xfffe));
  EXPECT_TRUE(SeqLess(0, 0x7fff));
  EXPECT_FALSE(SeqLess(0, 0x8000));  // half the space away: not before
  EXPECT_EQ(SeqDistance(0xfffe, 0x0001), 3);
  EXPECT_EQ(SeqDistance(5, 5), 0);
}

TEST(SequenceTest, TimestampsWrapToo) {
  EXPECT_TRUE(TimestampLess(0xffffff00u, 0x00000010u));
  EXPECT_FALSE(TimestampLess(0x00000010u, 0xffffff00u));
  EXPECT_TRUE(TimestampLess(10, 11));
  EXPECT_FALSE(TimestampLess(11, 11));
}

}  // namespace
}  // namespace bt::protocol::utp
