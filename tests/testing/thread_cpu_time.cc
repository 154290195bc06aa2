#include "tests/testing/thread_cpu_time.h"

#include <time.h>

#include <cstdlib>

namespace bt::testing {

absl::Duration ThreadCpuTime() {
  timespec ts;
  // Fails only for an unknown clock id; CLOCK_THREAD_CPUTIME_ID is Linux's.
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) std::abort();
  return absl::DurationFromTimespec(ts);
}

}  // namespace bt::testing
