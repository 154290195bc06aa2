#include "protocol/utp/ledbat.h"

#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace bt::protocol::utp {
namespace {

using absl::Milliseconds;
using absl::Minutes;
using absl::Seconds;

constexpr size_t kPacket = 1500;
const absl::Time kStart = absl::FromUnixSeconds(1700000000);

LedbatOptions Linear(size_t initial) {
  LedbatOptions o;
  o.slow_start = false;
  o.initial_window = initial;
  return o;
}

// AckOneWindow acks window() bytes in full packets, feeding `delay_us` (the
// raw sample, offset included) before each ACK. Returns the window after.
size_t AckOneWindow(Ledbat& cc, uint32_t delay_us, absl::Time& now) {
  size_t to_ack = cc.window();
  while (to_ack > 0) {
    size_t n = std::min(to_ack, kPacket);
    now += Milliseconds(1);
    cc.OnDelaySample(delay_us, now);
    cc.OnAck(n, /*window_limited=*/true, now);
    to_ack -= n;
  }
  return cc.window();
}

// Settle feeds `delay_us` enough times to fill the current-delay filter.
void Settle(Ledbat& cc, uint32_t delay_us, absl::Time now) {
  for (int i = 0; i < Ledbat::kCurrentFilter; ++i)
    cc.OnDelaySample(delay_us, now);
}

TEST(LedbatTest, OptionsAreClamped) {
  LedbatOptions o;
  o.max_window = 0;
  o.min_window = 0;
  o.initial_window = 0;
  o.max_window_increase_per_rtt = 0;
  o.target = -Seconds(1);
  Ledbat tiny(o, kStart);
  EXPECT_EQ(tiny.window(), 1u);
  EXPECT_EQ(tiny.options().max_window, 1u);
  EXPECT_EQ(tiny.options().max_window_increase_per_rtt, 1u);
  EXPECT_EQ(tiny.options().target, Milliseconds(1));

  o.max_window = SIZE_MAX;
  o.min_window = SIZE_MAX;
  o.target = absl::InfiniteDuration();
  Ledbat huge(o, kStart);
  EXPECT_EQ(huge.window(), Ledbat::kMaxWindowLimit);
  EXPECT_EQ(huge.options().target, Seconds(10));
}

TEST(LedbatTest, StartsAtTheInitialWindowInSlowStart) {
  Ledbat cc(LedbatOptions(), kStart);
  EXPECT_EQ(cc.window(), 3000u);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_FALSE(cc.has_delay_sample());
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
}

TEST(LedbatTest, ZeroSamplesAreIgnored) {
  Ledbat cc(LedbatOptions(), kStart);
  cc.OnDelaySample(0, kStart);
  EXPECT_FALSE(cc.has_delay_sample());
  cc.OnDelaySample(40000, kStart);
  cc.OnDelaySample(0, kStart);
  EXPECT_TRUE(cc.has_delay_sample());
  EXPECT_EQ(cc.base_delay_sample(), 40000u);
}

TEST(LedbatTest, ZeroQueuingDelayGrowsAboutTheMaxIncreasePerWindow) {
  absl::Time now = kStart;
  Ledbat cc(Linear(300000), now);
  // Growth d(w)/d(acked) = 3000 / w over one window w gives
  // sqrt(w^2 + 2 * 3000 * w) - w = 2985 bytes for w = 300000.
  size_t after = AckOneWindow(cc, 50000, now);
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
  EXPECT_GE(after, 300000u + 2980);
  EXPECT_LE(after, 300000u + 3000);

  Ledbat small(Linear(30000), now);  // sqrt(30000^2 + 1.8e8) = 32863
  after = AckOneWindow(small, 50000, now);
  EXPECT_GE(after, 32850u);
  EXPECT_LE(after, 32870u);
}

TEST(LedbatTest, HalfTargetGrowsHalfAsFast) {
  absl::Time now = kStart;
  Ledbat cc(Linear(300000), now);
  cc.OnDelaySample(50000, now);
  Settle(cc, 100000, now);
  size_t after = AckOneWindow(cc, 100000, now);  // 50 ms queuing
  EXPECT_EQ(cc.queuing_delay(), Milliseconds(50));
  EXPECT_GE(after, 300000u + 1490);
  EXPECT_LE(after, 300000u + 1500);
}

TEST(LedbatTest, AboveTargetShrinks) {
  absl::Time now = kStart;
  Ledbat cc(Linear(300000), now);
  cc.OnDelaySample(50000, now);
  // 150 ms queuing: off_target = -0.5.
  Settle(cc, 200000, now);
  size_t after = AckOneWindow(cc, 200000, now);
  EXPECT_EQ(cc.queuing_delay(), Milliseconds(150));
  EXPECT_LE(after, 300000u - 1495);
  EXPECT_GE(after, 300000u - 1510);
  // Far above target the decrease is bounded like the increase (-1).
  size_t before = after;
  Settle(cc, 2000000, now);
  after = AckOneWindow(cc, 2000000, now);
  EXPECT_LE(after, before - 2990);
  EXPECT_GE(after, before - 3030);
  // Even when not window limited, an over-target window shrinks.
  before = after;
  cc.OnAck(kPacket, /*window_limited=*/false, now);
  EXPECT_LT(cc.window(), before);
}

TEST(LedbatTest, ExactlyAtTargetHolds) {
  absl::Time now = kStart;
  Ledbat cc(Linear(100000), now);
  cc.OnDelaySample(50000, now);
  Settle(cc, 150000, now);
  EXPECT_EQ(AckOneWindow(cc, 150000, now), 100000u);
  EXPECT_EQ(cc.queuing_delay(), Milliseconds(100));
  EXPECT_EQ(AckOneWindow(cc, 150000, now), 100000u);
}

TEST(LedbatTest, GrowsOnlyWhenWindowLimited) {
  absl::Time now = kStart;
  Ledbat cc(Linear(100000), now);
  cc.OnDelaySample(50000, now);
  for (int i = 0; i < 100; ++i) cc.OnAck(kPacket, false, now);
  EXPECT_EQ(cc.window(), 100000u);

  Ledbat ss(LedbatOptions(), now);
  ss.OnDelaySample(50000, now);
  ss.OnAck(3000, false, now);
  EXPECT_EQ(ss.window(), 3000u);
  ss.OnAck(3000, true, now);
  EXPECT_EQ(ss.window(), 6000u);
}

TEST(LedbatTest, BaseDelayFollowsADropImmediately) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  for (int i = 0; i < 10; ++i) cc.OnDelaySample(60000, now += Seconds(1));
  EXPECT_EQ(cc.base_delay_sample(), 60000u);
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
  cc.OnDelaySample(50000, now += Seconds(1));  // e.g. a route change
  EXPECT_EQ(cc.base_delay_sample(), 50000u);
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
  // The current delay is a minimum over the last few samples.
  for (int i = 0; i < Ledbat::kCurrentFilter; ++i) {
    cc.OnDelaySample(60000, now += Seconds(1));
  }
  EXPECT_EQ(cc.queuing_delay(), Milliseconds(10));
}

TEST(LedbatTest, CurrentDelayFiltersASingleLateSample) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  for (int i = 0; i < 10; ++i) cc.OnDelaySample(40000, now);
  cc.OnDelaySample(400000, now);
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
}

TEST(LedbatTest, BaseDelayForgetsAnOldMinimumAfterTenMinutes) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  cc.OnDelaySample(10000, now);
  // Every second for 11 minutes the path is 20 ms slower than that minimum
  // (e.g. the minimum was a fluke or the route changed for good).
  const absl::Time forget = kStart + Ledbat::kBaseHistory * Minutes(1);
  while (now < kStart + Minutes(11)) {
    now += Seconds(1);
    cc.OnDelaySample(30000, now);
    if (now < forget) {
      ASSERT_EQ(cc.base_delay_sample(), 10000u) << now;
      // Once the 10 ms sample has left the current-delay filter.
      if (now >= kStart + Seconds(Ledbat::kCurrentFilter)) {
        ASSERT_EQ(cc.queuing_delay(), Milliseconds(20));
      }
    } else {
      ASSERT_EQ(cc.base_delay_sample(), 30000u) << now;
      ASSERT_EQ(cc.queuing_delay(), absl::ZeroDuration());
    }
  }
}

TEST(LedbatTest, ALongSilenceStartsTheHistoryAfresh) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  cc.OnDelaySample(10000, now);
  cc.OnDelaySample(30000, now + Minutes(30));
  EXPECT_EQ(cc.base_delay_sample(), 30000u);
  // The filter still holds the old sample, below the new base: no queue.
  EXPECT_EQ(cc.queuing_delay(), absl::ZeroDuration());
  // Time going backwards stays in the current minute.
  cc.OnDelaySample(35000, now);
  EXPECT_EQ(cc.base_delay_sample(), 30000u);
}

// Runs a fixed scenario (slow start, exit on delay, growth, shrinking,
// losses, a timeout, 12 minutes of history) with every delay sample shifted
// by `offset` modulo 2^32, and returns the window after each step.
std::vector<size_t> Scenario(uint32_t offset) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  std::vector<size_t> windows;
  for (int step = 0; step < 20000; ++step) {
    now += Milliseconds(37);
    // A sawtooth of one-way delays 20..237 ms over a base that steps up by
    // 3 ms every 4 minutes; never exactly -offset (which would read as 0).
    uint32_t delay = 20000 + 3000 * static_cast<uint32_t>(step / 6500) +
                     (static_cast<uint32_t>(step) * 7919u) % 217000u;
    cc.OnDelaySample(delay + offset, now);
    cc.OnAck(kPacket, step % 5 != 0, now);
    if (step % 997 == 0) cc.OnLoss(Milliseconds(100), now);
    if (step == 15000) cc.OnTimeout();
    windows.push_back(cc.window());
  }
  return windows;
}

TEST(LedbatTest, ClockOffsetAndWrapDoNotChangeTheWindows) {
  const std::vector<size_t> plain = Scenario(0);
  EXPECT_EQ(Scenario(1000000000u), plain);
  // Samples straddle 2^32: base near 0xffff..., later ones wrap past zero.
  EXPECT_EQ(Scenario(0xffffffffu - 25000u), plain);
  EXPECT_EQ(Scenario(0xffffffffu - 240000u), plain);
  EXPECT_EQ(Scenario(0x80000000u), plain);
  // The scenario did exercise growth and cuts.
  size_t lo = *std::min_element(plain.begin(), plain.end());
  size_t hi = *std::max_element(plain.begin(), plain.end());
  EXPECT_EQ(lo, 1500u);
  EXPECT_GT(hi, 6000u);
}

TEST(LedbatTest, LossHalvesOncePerRtt) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  cc.OnDelaySample(30000, now);
  for (int i = 0; i < 60; ++i) cc.OnAck(kPacket, true, now);
  ASSERT_TRUE(cc.in_slow_start());
  ASSERT_EQ(cc.window(), 93000u);
  const absl::Duration rtt = Milliseconds(100);
  cc.OnLoss(rtt, now);
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_EQ(cc.window(), 46500u);
  // More losses from the same window: no further cut.
  cc.OnLoss(rtt, now);
  cc.OnLoss(rtt, now + Milliseconds(50));
  cc.OnLoss(rtt, now + Milliseconds(99));
  EXPECT_EQ(cc.window(), 46500u);
  cc.OnLoss(rtt, now + Milliseconds(100));
  EXPECT_EQ(cc.window(), 23250u);
  // A clock that steps back does not cut again.
  cc.OnLoss(rtt, now);
  EXPECT_EQ(cc.window(), 23250u);
  // Cuts stop at min_window.
  for (int i = 2; i < 40; ++i) cc.OnLoss(rtt, now + i * rtt);
  EXPECT_EQ(cc.window(), 1500u);
  // rtt zero: every loss is a new event.
  Ledbat zero(Linear(8000), now);
  zero.OnLoss(absl::ZeroDuration(), now);
  zero.OnLoss(absl::ZeroDuration(), now);
  EXPECT_EQ(zero.window(), 2000u);
}

TEST(LedbatTest, TimeoutResetsToTheMinimumAndSlowStartsToHalf) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  cc.OnDelaySample(30000, now);
  for (int i = 0; i < 100; ++i) cc.OnAck(kPacket, true, now);
  const size_t before = cc.window();
  ASSERT_GT(before, 100000u);
  cc.OnTimeout();
  EXPECT_EQ(cc.window(), 1500u);
  EXPECT_TRUE(cc.in_slow_start());
  // Slow start: each acked byte adds one, up to half the old window.
  cc.OnAck(kPacket, true, now);
  EXPECT_EQ(cc.window(), 3000u);
  while (cc.in_slow_start()) cc.OnAck(kPacket, true, now);
  EXPECT_GE(cc.window(), before / 2);
  EXPECT_LT(cc.window(), before / 2 + 2 * kPacket);
  // From there it grows linearly: one packet acked at zero delay adds
  // 3000 * 1500 / window bytes.
  const size_t at = cc.window();
  cc.OnAck(kPacket, true, now);
  EXPECT_NEAR(cc.window(), at + 3000 * kPacket / at, 1);
}

TEST(LedbatTest, SlowStartDoublesPerWindowAndExitsOnDelay) {
  absl::Time now = kStart;
  Ledbat cc(LedbatOptions(), now);
  size_t w = cc.window();
  for (int i = 0; i < 5; ++i) {
    size_t after = AckOneWindow(cc, 30000, now);
    EXPECT_EQ(after, 2 * w);
    w = after;
  }
  EXPECT_TRUE(cc.in_slow_start());
  Settle(cc, 30000 + 50000, now);  // exactly target / 2: stays on
  EXPECT_EQ(cc.queuing_delay(), Milliseconds(50));
  EXPECT_TRUE(cc.in_slow_start());
  // The current delay is a minimum: one sample above is not enough.
  cc.OnDelaySample(30000 + 50001, now);
  EXPECT_TRUE(cc.in_slow_start());
  Settle(cc, 30000 + 50001, now);
  EXPECT_FALSE(cc.in_slow_start());
  // Now growth is linear: 30 ms queuing, 0.7 * 3000 per window.
  w = cc.window();
  Settle(cc, 30000 + 30000, now);
  size_t after = AckOneWindow(cc, 30000 + 30000, now);
  EXPECT_GT(after, w + 2000);
  EXPECT_LT(after, w + 2100);
}

TEST(LedbatTest, SlowStartStopsAtMaxWindow) {
  absl::Time now = kStart;
  LedbatOptions o;
  o.max_window = 64000;
  Ledbat cc(o, now);
  for (int i = 0; i < 100; ++i) cc.OnAck(kPacket, true, now);
  EXPECT_EQ(cc.window(), 64000u);
}

TEST(LedbatTest, WindowStaysInBoundsUnderRandomCalls) {
  std::mt19937 rng(29);
  for (int round = 0; round < 50; ++round) {
    LedbatOptions o;
    o.min_window = std::uniform_int_distribution<size_t>(0, 5000)(rng);
    o.max_window = std::uniform_int_distribution<size_t>(0, 1 << 22)(rng);
    if (round % 7 == 0) o.max_window = SIZE_MAX;
    o.initial_window = std::uniform_int_distribution<size_t>(0, 1 << 20)(rng);
    o.max_window_increase_per_rtt =
        std::uniform_int_distribution<size_t>(0, 1 << 16)(rng);
    if (round % 11 == 0) o.max_window_increase_per_rtt = SIZE_MAX;
    o.target =
        Milliseconds(std::uniform_int_distribution<int>(-10, 20000)(rng));
    o.slow_start = round % 2 == 0;
    absl::Time now = kStart;
    Ledbat cc(o, now);
    const size_t lo = cc.options().min_window;
    const size_t hi = cc.options().max_window;
    ASSERT_LE(lo, hi);
    uint32_t base = rng();
    for (int i = 0; i < 3000; ++i) {
      now += Milliseconds(std::uniform_int_distribution<int>(-50, 30000)(rng));
      switch (rng() % 6) {
        case 0:
          cc.OnDelaySample(rng(), now);
          break;
        case 1:
        case 2:
          cc.OnDelaySample(base + rng() % 400000, now);
          break;
        case 3: {
          size_t acked = rng() % 4 == 0 ? SIZE_MAX : rng() % 100000;
          cc.OnAck(acked, rng() % 2 == 0, now);
          break;
        }
        case 4:
          cc.OnLoss(Milliseconds(static_cast<int>(rng() % 1000) - 100), now);
          break;
        case 5:
          if (rng() % 8 == 0) cc.OnTimeout();
          break;
      }
      ASSERT_GE(cc.window(), lo) << "round " << round << " step " << i;
      ASSERT_LE(cc.window(), hi) << "round " << round << " step " << i;
      ASSERT_GE(cc.queuing_delay(), absl::ZeroDuration());
    }
  }
}

}  // namespace
}  // namespace bt::protocol::utp
