#include "client/net/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client {
namespace {

using std::chrono::milliseconds;

class Pipe {
 public:
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  int r = -1, w = -1;
};

std::unique_ptr<EventLoop> MakeLoop() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status();
  return std::move(*loop);
}

TEST(EventLoopTest, ReadableFdRunsCallbackLevelTriggered) {
  auto loop = MakeLoop();
  Pipe p;
  int calls = 0;
  uint32_t last = 0;
  ASSERT_TRUE(loop->Watch(p.r, EventLoop::kReadable, [&](uint32_t ready) {
                    ++calls;
                    last = ready;
                  }).ok());
  EXPECT_EQ(*loop->RunOnce(0), 0);
  ASSERT_EQ(write(p.w, "x", 1), 1);
  EXPECT_EQ(*loop->RunOnce(1), 1);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(last & EventLoop::kReadable);
  // Not drained: level-triggered, so it fires again.
  EXPECT_EQ(*loop->RunOnce(0), 1);
  char c;
  ASSERT_EQ(read(p.r, &c, 1), 1);
  EXPECT_EQ(*loop->RunOnce(0), 0);
  EXPECT_EQ(calls, 2);
}

TEST(EventLoopTest, WatchTwiceAndSetInterestErrors) {
  auto loop = MakeLoop();
  Pipe p;
  ASSERT_TRUE(loop->Watch(p.r, EventLoop::kReadable, [](uint32_t) {}).ok());
  EXPECT_EQ(loop->Watch(p.r, EventLoop::kReadable, [](uint32_t) {}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(loop->SetInterest(p.w, EventLoop::kWritable).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(loop->Watch(-1, EventLoop::kReadable, [](uint32_t) {}).code(),
            absl::StatusCode::kInvalidArgument);
  loop->Unwatch(p.r);
  loop->Unwatch(p.r);  // no-op
  EXPECT_EQ(loop->watched_count(), 0u);
}

TEST(EventLoopTest, WritableInterestCanBeToggled) {
  auto loop = MakeLoop();
  Pipe p;
  int writable = 0;
  ASSERT_TRUE(loop->Watch(p.w, 0, [&](uint32_t ready) {
                    if (ready & EventLoop::kWritable) ++writable;
                  }).ok());
  EXPECT_EQ(*loop->RunOnce(0), 0);
  ASSERT_TRUE(loop->SetInterest(p.w, EventLoop::kWritable).ok());
  EXPECT_EQ(*loop->RunOnce(0), 1);
  ASSERT_TRUE(loop->SetInterest(p.w, 0).ok());
  EXPECT_EQ(*loop->RunOnce(0), 0);
  EXPECT_EQ(writable, 1);
}

TEST(EventLoopTest, UnwatchFromAnotherCallbackSuppressesPendingEvent) {
  auto loop = MakeLoop();
  Pipe a, b;
  int a_calls = 0, b_calls = 0;
  // Whichever runs first unwatches the other; exactly one must run.
  ASSERT_TRUE(loop->Watch(a.r, EventLoop::kReadable, [&](uint32_t) {
                    ++a_calls;
                    loop->Unwatch(b.r);
                  }).ok());
  ASSERT_TRUE(loop->Watch(b.r, EventLoop::kReadable, [&](uint32_t) {
                    ++b_calls;
                    loop->Unwatch(a.r);
                  }).ok());
  ASSERT_EQ(write(a.w, "x", 1), 1);
  ASSERT_EQ(write(b.w, "x", 1), 1);
  EXPECT_EQ(*loop->RunOnce(1), 1);
  EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoopTest, CallbackMayUnwatchItselfAndKeepsItsState) {
  auto loop = MakeLoop();
  Pipe p;
  auto state = std::make_shared<std::string>("alive");
  std::string seen;
  ASSERT_TRUE(loop->Watch(p.r, EventLoop::kReadable,
                          [&, state](uint32_t) {
                            loop->Unwatch(p.r);  // destroys the stored copy
                            seen = *state;       // still valid
                          })
                  .ok());
  state.reset();
  ASSERT_EQ(write(p.w, "x", 1), 1);
  EXPECT_EQ(*loop->RunOnce(1), 1);
  EXPECT_EQ(seen, "alive");
  EXPECT_EQ(*loop->RunOnce(0), 0);
}

TEST(EventLoopTest, HangupIsReported) {
  auto loop = MakeLoop();
  Pipe p;
  uint32_t ready = 0;
  ASSERT_TRUE(loop->Watch(p.r, EventLoop::kReadable, [&](uint32_t r) {
                    ready = r;
                    loop->Unwatch(p.r);
                  }).ok());
  close(p.w);
  p.w = -1;
  EXPECT_EQ(*loop->RunOnce(1), 1);
  EXPECT_TRUE(ready & EventLoop::kHangup);
}

TEST(EventLoopTest, TimersRunInDeadlineOrderAndCanBeCancelled) {
  auto loop = MakeLoop();
  std::vector<int> order;
  // Taken before the timers are added: each deadline is at least this
  // plus its delay, however long adding them took.
  const auto start = EventLoop::Now();
  EventLoop::TimePoint third_ran;
  loop->AddTimer(milliseconds(30), [&] {
    order.push_back(3);
    third_ran = EventLoop::Now();
  });
  loop->AddTimer(milliseconds(10), [&] { order.push_back(1); });
  EventLoop::TimerId cancelled =
      loop->AddTimer(milliseconds(20), [&] { order.push_back(2); });
  loop->AddTimer(milliseconds(10), [&] { order.push_back(11); });
  EXPECT_TRUE(loop->CancelTimer(cancelled));
  EXPECT_FALSE(loop->CancelTimer(cancelled));
  EXPECT_FALSE(loop->CancelTimer(12345));
  EXPECT_EQ(loop->timer_count(), 3u);
  while (order.size() < 3 && EventLoop::Now() - start < std::chrono::seconds(5)) {
    ASSERT_TRUE(loop->RunOnce(-1).ok());  // wakes for the timers by itself
  }
  EXPECT_EQ(order, (std::vector<int>{1, 11, 3}));
  EXPECT_GE(third_ran - start, milliseconds(30));  // never early
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST(EventLoopTest, TimerAddedByTimerRunsOnLaterPass) {
  auto loop = MakeLoop();
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    loop->AddTimer(EventLoop::Duration::zero(), again);
  };
  loop->AddTimer(EventLoop::Duration::zero(), again);
  EXPECT_EQ(*loop->RunOnce(0), 1);
  EXPECT_EQ(*loop->RunOnce(0), 1);
  EXPECT_EQ(runs, 2);
}

TEST(EventLoopTest, TimeoutIsHonouredWithNothingToDo) {
  auto loop = MakeLoop();
  auto start = EventLoop::Now();
  EXPECT_EQ(*loop->RunOnce(0.05), 0);
  auto took = EventLoop::Now() - start;
  EXPECT_GE(took, milliseconds(45));
  EXPECT_LT(took, milliseconds(2000));
}

TEST(EventLoopTest, PostRunsNextPassWithoutWaiting) {
  auto loop = MakeLoop();
  int n = 0;
  loop->Post([&] {
    ++n;
    loop->Post([&] { ++n; });  // queued for the pass after
  });
  auto start = EventLoop::Now();
  EXPECT_EQ(*loop->RunOnce(10), 1);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(*loop->RunOnce(10), 1);
  EXPECT_EQ(n, 2);
  // A pass that waited would take its whole 10 s timeout; a loaded machine
  // may stall a pass that did not wait, but not for seconds.
  EXPECT_LT(EventLoop::Now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace bt::client

namespace bt::client {
namespace {

TEST(EventLoopTest, PostFromAnyThreadWakesAWaitingLoop) {
  auto loop = MakeLoop();
  std::atomic<int> posted{0};
  int ran = 0;
  std::thread worker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < 100; ++i) {
      loop->PostFromAnyThread([&] { ++ran; });
      ++posted;
    }
  });
  auto start = EventLoop::Now();
  while (ran < 100 && EventLoop::Now() - start < std::chrono::seconds(5)) {
    ASSERT_TRUE(loop->RunOnce(-1).ok());  // blocks until woken
  }
  worker.join();
  EXPECT_EQ(ran, 100);
  EXPECT_LT(EventLoop::Now() - start, std::chrono::seconds(5));
  EXPECT_EQ(*loop->RunOnce(0), 0);  // nothing left, the wake-up fd is drained
}

}  // namespace
}  // namespace bt::client
