// Test-only: the CPU time the calling thread has used. A test that bounds
// the work one call does (a loop turn under a flood, a parser fed a
// million-piece bitfield) measures this rather than absl::Now(): on a
// loaded machine a runnable thread can wait hundreds of milliseconds for a
// core, which wall time counts against the code under test and CPU time
// does not. What CPU time misses is a thread blocked in a system call;
// such a test reports the wall time too.
//
//   const absl::Duration before = bt::testing::ThreadCpuTime();
//   client->DoOneLoop(0.01);
//   EXPECT_LT(bt::testing::ThreadCpuTime() - before, absl::Milliseconds(500));
#ifndef TESTS_TESTING_THREAD_CPU_TIME_H_
#define TESTS_TESTING_THREAD_CPU_TIME_H_

#include "absl/time/time.h"

namespace bt::testing {

// ThreadCpuTime returns the CPU time (user and system) the calling thread
// has used since it started.
absl::Duration ThreadCpuTime();

}  // namespace bt::testing

#endif  // TESTS_TESTING_THREAD_CPU_TIME_H_
