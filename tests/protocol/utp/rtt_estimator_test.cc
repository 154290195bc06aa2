#include "protocol/utp/rtt_estimator.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace bt::protocol::utp {
namespace {

using absl::Microseconds;
using absl::Milliseconds;
using absl::Seconds;

TEST(RttEstimatorTest, StartsAtOneSecondWithNoSample) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.timeout(), Milliseconds(1000));
  EXPECT_EQ(rtt.smoothed_rtt(), absl::ZeroDuration());
  EXPECT_EQ(rtt.rtt_variance(), absl::ZeroDuration());
}

TEST(RttEstimatorTest, FollowsRfc6298OnASampleSequence) {
  RttEstimator rtt;
  rtt.AddSample(Milliseconds(100));
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed_rtt(), Milliseconds(100));
  EXPECT_EQ(rtt.rtt_variance(), Milliseconds(50));
  // 100 + 4 * 50 = 300 ms, below the floor.
  EXPECT_EQ(rtt.timeout(), Milliseconds(500));

  // |100 - 120| = 20: var = 50 + (20 - 50) / 4 = 42.5; rtt = 100 + 20 / 8.
  rtt.AddSample(Milliseconds(120));
  EXPECT_EQ(rtt.rtt_variance(), Microseconds(42500));
  EXPECT_EQ(rtt.smoothed_rtt(), Microseconds(102500));

  // |102.5 - 80| = 22.5: var = 42.5 + (22.5 - 42.5) / 4 = 37.5;
  // rtt = 102500 + (-22500 / 8 = -2812.5, rounded toward zero) = 99688 us.
  rtt.AddSample(Milliseconds(80));
  EXPECT_EQ(rtt.rtt_variance(), Microseconds(37500));
  EXPECT_EQ(rtt.smoothed_rtt(), Microseconds(99688));

  // |99688 - 400000| = 300312: var = 37500 + 262812 / 4 = 103203;
  // rtt = 99688 + 300312 / 8 = 137227; timeout = 137227 + 4 * 103203.
  rtt.AddSample(Milliseconds(400));
  EXPECT_EQ(rtt.rtt_variance(), Microseconds(103203));
  EXPECT_EQ(rtt.smoothed_rtt(), Microseconds(137227));
  EXPECT_EQ(rtt.timeout(), Microseconds(550039));
}

TEST(RttEstimatorTest, SteadySamplesConvergeAndHitTheFloor) {
  RttEstimator rtt;
  for (int i = 0; i < 200; ++i) rtt.AddSample(Milliseconds(40));
  EXPECT_EQ(rtt.smoothed_rtt(), Milliseconds(40));
  EXPECT_LE(rtt.rtt_variance(), Microseconds(10));
  EXPECT_EQ(rtt.timeout(), Milliseconds(500));
}

TEST(RttEstimatorTest, LongRttIsAboveTheFloor) {
  RttEstimator rtt;
  rtt.AddSample(Milliseconds(800));  // 800 + 4 * 400
  EXPECT_EQ(rtt.timeout(), Milliseconds(2400));
}

TEST(RttEstimatorTest, BackOffDoublesUpToTheCapAndASampleResetsIt) {
  RttEstimator rtt;
  const absl::Duration expected[] = {Seconds(2),  Seconds(4),  Seconds(8),
                                     Seconds(16), Seconds(32), Seconds(60),
                                     Seconds(60), Seconds(60)};
  for (absl::Duration want : expected) {
    rtt.BackOff();
    EXPECT_EQ(rtt.timeout(), want);
  }
  EXPECT_EQ(rtt.timeout(), RttEstimator::kMaxTimeout);
  // Many more timeouts do not overflow anything.
  for (int i = 0; i < 10000; ++i) rtt.BackOff();
  EXPECT_EQ(rtt.timeout(), Seconds(60));
  EXPECT_LE(rtt.backoffs(), 7);

  rtt.AddSample(Milliseconds(100));
  EXPECT_EQ(rtt.backoffs(), 0);
  EXPECT_EQ(rtt.timeout(), Milliseconds(500));
  rtt.BackOff();
  EXPECT_EQ(rtt.timeout(), Milliseconds(1000));
  rtt.BackOff();
  EXPECT_EQ(rtt.timeout(), Milliseconds(2000));
  rtt.AddSample(Milliseconds(100));
  EXPECT_EQ(rtt.timeout(), Milliseconds(500));
}

TEST(RttEstimatorTest, ClampsNegativeAndHugeSamples) {
  RttEstimator rtt;
  rtt.AddSample(Milliseconds(-5));
  EXPECT_EQ(rtt.smoothed_rtt(), absl::ZeroDuration());
  EXPECT_EQ(rtt.timeout(), Milliseconds(500));

  RttEstimator huge;
  huge.AddSample(absl::InfiniteDuration());
  EXPECT_EQ(huge.smoothed_rtt(), RttEstimator::kMaxSample);
  EXPECT_EQ(huge.timeout(), RttEstimator::kMaxTimeout);
  huge.AddSample(absl::Hours(1000));
  huge.AddSample(-absl::InfiniteDuration());
  EXPECT_LE(huge.timeout(), RttEstimator::kMaxTimeout);
  EXPECT_GE(huge.timeout(), RttEstimator::kMinTimeout);
}

TEST(RttEstimatorTest, TruncatesToMicroseconds) {
  RttEstimator rtt;
  rtt.AddSample(absl::Nanoseconds(1999));
  EXPECT_EQ(rtt.smoothed_rtt(), Microseconds(1));
}

}  // namespace
}  // namespace bt::protocol::utp
