#include "client/rate_limiter.h"

#include "gtest/gtest.h"

namespace bt::client {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(RateLimiterTest, UnlimitedByDefault) {
  RateLimiter r;
  EXPECT_FALSE(r.limited());
  r.Consume(1 << 30);
  EXPECT_EQ(r.Available(), RateLimiter::kUnlimited);
}

TEST(RateLimiterTest, EarnsAtTheRateUpToATenthOfASecond) {
  RateLimiter r(1'000'000);
  r.Refill(kT0);
  EXPECT_EQ(r.Available(), 0);
  r.Refill(kT0 + absl::Milliseconds(50));
  EXPECT_EQ(r.Available(), 50'000);
  r.Refill(kT0 + absl::Seconds(5));  // capped at 0.1 s worth
  EXPECT_EQ(r.Available(), 100'000);
  r.Consume(100'000);
  EXPECT_EQ(r.Available(), 0);
}

TEST(RateLimiterTest, DebtIsPaidFirst) {
  RateLimiter r(100'000);  // capacity: one block and header minimum
  r.Refill(kT0);
  r.Refill(kT0 + absl::Seconds(1));
  EXPECT_EQ(r.Available(), 16 * 1024 + 13);
  r.Consume(40'000);
  EXPECT_LT(r.Available(), 0);
  r.Refill(kT0 + absl::Seconds(1) + absl::Milliseconds(100));
  EXPECT_LT(r.Available(), 0);  // 10 000 earned, still in debt
}

TEST(RateLimiterTest, LongRunAverageMatchesTheRate) {
  RateLimiter r(2'000'000);
  int64_t moved = 0;
  absl::Time t = kT0;
  r.Refill(t);
  for (int i = 0; i < 20'000; ++i) {  // 20 s in 1 ms steps
    t += absl::Milliseconds(1);
    r.Refill(t);
    while (r.Available() >= 16 * 1024) {
      r.Consume(16 * 1024 + 13);
      moved += 16 * 1024 + 13;
    }
  }
  EXPECT_NEAR(double(moved) / 20.0, 2'000'000, 2'000'000 * 0.01);
}

TEST(RateLimiterTest, RateChangesTakeEffect) {
  RateLimiter r(1'000'000);
  r.Refill(kT0);
  r.Refill(kT0 + absl::Seconds(1));
  r.set_rate(200'000);
  EXPECT_LE(r.Available(), 20'000 > 16 * 1024 + 13 ? 20'000 : 16 * 1024 + 13);
  r.set_rate(0);
  EXPECT_EQ(r.Available(), RateLimiter::kUnlimited);
}

}  // namespace
}  // namespace bt::client
