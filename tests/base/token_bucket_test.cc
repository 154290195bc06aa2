#include "base/token_bucket.h"

#include "gtest/gtest.h"

namespace bt {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(TokenBucketTest, StartsWithInitialAndEarnsFromTheFirstRefill) {
  TokenBucket b(/*rate=*/100, /*capacity=*/50, /*initial=*/7);
  EXPECT_EQ(b.tokens(), 7);
  b.Refill(kT0 + absl::Hours(1));  // first refill: only records the time
  EXPECT_EQ(b.tokens(), 7);
  b.Refill(kT0 + absl::Hours(1) + absl::Milliseconds(100));
  EXPECT_EQ(b.tokens(), 17);
  EXPECT_FALSE(b.full());
}

TEST(TokenBucketTest, CapsAtCapacity) {
  TokenBucket b(10, 40, 40);
  EXPECT_TRUE(b.full());
  b.Refill(kT0);
  b.Refill(kT0 + absl::Seconds(100));
  EXPECT_EQ(b.tokens(), 40);
  b.Take(40);
  b.Refill(kT0 + absl::Seconds(101));
  EXPECT_EQ(b.tokens(), 10);
}

TEST(TokenBucketTest, WholeTokensAreExact) {
  // 50 ms at 1e6/s is exactly 50 000, not 49 999.99...
  TokenBucket b(1'000'000, 1e9, 0);
  b.Refill(kT0);
  for (int i = 1; i <= 100; ++i) {
    b.Refill(kT0 + absl::Milliseconds(50) * i);
    EXPECT_EQ(b.tokens(), 50'000.0 * i);
  }
}

TEST(TokenBucketTest, FractionsCarryOver) {
  TokenBucket b(3, 1000, 0);  // 3 per second, refilled every millisecond
  b.Refill(kT0);
  int taken = 0;
  for (int ms = 1; ms <= 10'000; ++ms) {
    b.Refill(kT0 + absl::Milliseconds(ms));
    while (b.tokens() >= 1) {
      b.Take(1);
      ++taken;
    }
  }
  EXPECT_GE(taken, 29);
  EXPECT_LE(taken, 30);
}

TEST(TokenBucketTest, DebtIsRepaidFirst) {
  TokenBucket b(1000, 100, 100);
  b.Refill(kT0);
  b.Take(350);
  EXPECT_EQ(b.tokens(), -250);
  b.Refill(kT0 + absl::Milliseconds(200));
  EXPECT_EQ(b.tokens(), -50);
  b.Refill(kT0 + absl::Milliseconds(300));
  EXPECT_EQ(b.tokens(), 50);
}

TEST(TokenBucketTest, EarlierTimesEarnNothing) {
  TokenBucket b(10, 100, 0);
  b.Refill(kT0 + absl::Seconds(5));
  b.Refill(kT0);  // the clock went back: nothing earned, nothing lost
  EXPECT_EQ(b.tokens(), 0);
  b.Refill(kT0 + absl::Seconds(6));
  EXPECT_EQ(b.tokens(), 10);  // counted from the latest time seen
}

TEST(TokenBucketTest, ReconfigureDropsTokensAboveTheNewCapacity) {
  TokenBucket b(10, 100, 100);
  b.Reconfigure(1, 20);
  EXPECT_EQ(b.tokens(), 20);
  EXPECT_EQ(b.rate(), 1);
  EXPECT_EQ(b.capacity(), 20);
  b.Take(20);
  b.Refill(kT0);
  b.Refill(kT0 + absl::Seconds(3));
  EXPECT_EQ(b.tokens(), 3);
}

}  // namespace
}  // namespace bt
