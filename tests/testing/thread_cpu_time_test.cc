// ThreadCpuTime counts the calling thread's work and not its waiting.
#include "tests/testing/thread_cpu_time.h"

#include <cstdint>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace bt::testing {
namespace {

TEST(ThreadCpuTimeTest, SleepingUsesAlmostNone) {
  const absl::Duration before = ThreadCpuTime();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_LT(ThreadCpuTime() - before, absl::Milliseconds(20));
}

TEST(ThreadCpuTimeTest, WorkingAdvancesIt) {
  const absl::Duration before = ThreadCpuTime();
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  volatile uint64_t sink = 0;
  while (ThreadCpuTime() - before < absl::Milliseconds(50) &&
         absl::Now() < give_up) {
    for (int i = 0; i < 100000; ++i) sink = sink + i;
  }
  EXPECT_GE(ThreadCpuTime() - before, absl::Milliseconds(50));
}

}  // namespace
}  // namespace bt::testing
