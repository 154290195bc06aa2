#include "client/disk_pool.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

using ::testing::ElementsAre;

// OwnerQueue is the owner thread's task queue: `post` may be called from any
// thread; the test thread runs what was posted.
class OwnerQueue {
 public:
  DiskPool::Post poster() {
    return [this](DiskPool::Task t) {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(t));
      cv_.notify_all();
    };
  }
  // RunUntil runs posted tasks until `done()` holds; false if nothing was
  // posted for a long time (a hang, reported as a failure, not a wait).
  template <typename Pred>
  bool RunUntil(Pred done) {
    while (!done()) {
      DiskPool::Task t;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_for(lock, std::chrono::seconds(30),
                          [&] { return !tasks_.empty(); })) {
          return false;
        }
        t = std::move(tasks_.front());
        tasks_.pop_front();
      }
      t();
    }
    return true;
  }
  // RunOne runs the first queued task; false if none.
  bool RunOne() {
    DiskPool::Task t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.empty()) return false;
      t = std::move(tasks_.front());
      tasks_.pop_front();
    }
    t();
    return true;
  }
  // RunAll runs what is queued now (and what that posts, on this thread).
  size_t RunAll() {
    size_t n = 0;
    while (true) {
      DiskPool::Task t;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (tasks_.empty()) return n;
        t = std::move(tasks_.front());
        tasks_.pop_front();
      }
      t();
      ++n;
    }
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DiskPool::Task> tasks_;
};

// Gate blocks a worker until opened.
class Gate {
 public:
  void Wait() { opened_.wait(); }
  void Open() { promise_.set_value(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_ = promise_.get_future().share();
};

// --- real threads
// -----------------------------------------------------------------

TEST(DiskPoolTest, RunsJobsOnWorkersAndCompletionsOnTheOwnerInOrder) {
  OwnerQueue owner;
  DiskPool pool({.threads = 1}, owner.poster());
  EXPECT_EQ(pool.threads(), 1);
  const std::thread::id me = std::this_thread::get_id();
  std::mutex mu;
  std::vector<int> worked;
  std::vector<int> completed;
  std::atomic<bool> work_on_owner{false};
  for (int i = 0; i < 50; ++i) {
    pool.Submit(
        100,
        [&, i] {
          if (std::this_thread::get_id() == me) work_on_owner = true;
          std::lock_guard<std::mutex> lock(mu);
          worked.push_back(i);
        },
        [&, i] {
          EXPECT_EQ(std::this_thread::get_id(), me);
          completed.push_back(i);
        });
  }
  ASSERT_TRUE(owner.RunUntil([&] { return completed.size() == 50; }));
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[i] = i;
  EXPECT_EQ(completed, expected);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(worked, expected);
  }
  EXPECT_FALSE(work_on_owner.load());
  EXPECT_EQ(pool.queued_bytes(), 0u);
}

TEST(DiskPoolTest, SeveralWorkersRunEveryJobOnce) {
  OwnerQueue owner;
  DiskPool pool({.threads = 2}, owner.poster());
  EXPECT_EQ(pool.threads(), 2);
  std::vector<std::atomic<int>> runs(200);
  std::vector<int> done(200, 0);
  int completed = 0;
  for (int i = 0; i < 200; ++i) {
    pool.Submit(
        10, [&, i] { ++runs[i]; },
        [&, i] {
          ++done[i];
          ++completed;
        });
  }
  ASSERT_TRUE(owner.RunUntil([&] { return completed == 200; }));
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(runs[i].load(), 1) << i;
    EXPECT_EQ(done[i], 1) << i;
  }
  EXPECT_EQ(pool.queued_bytes(), 0u);
}

TEST(DiskPoolTest, ByteBudgetCongestsAndDrainedFiresOnce) {
  OwnerQueue owner;
  DiskPool pool({.threads = 1, .max_queued_bytes = 50}, owner.poster());
  int drained = 0;
  size_t bytes_when_drained = 0;
  bool congested_when_drained = true;
  pool.OnDrained([&] {
    ++drained;
    bytes_when_drained = pool.queued_bytes();
    congested_when_drained = pool.congested();
  });
  Gate gate;
  int completed = 0;
  pool.Submit(
      10, [&] { gate.Wait(); }, [&] { ++completed; });
  for (int i = 0; i < 9; ++i)
    pool.Submit(
        10, [] {}, [&] { ++completed; });
  // The first job holds the worker: everything is still queued.
  EXPECT_EQ(pool.queued_bytes(), 100u);
  EXPECT_TRUE(pool.congested());
  gate.Open();
  ASSERT_TRUE(owner.RunUntil([&] { return completed == 10 && drained > 0; }));
  owner.RunAll();
  EXPECT_EQ(drained, 1);
  EXPECT_LE(bytes_when_drained, 25u);
  EXPECT_FALSE(congested_when_drained);
  EXPECT_FALSE(pool.congested());
  EXPECT_EQ(pool.queued_bytes(), 0u);
}

// ThreadSleeping: the thread `tid` of this process is blocked (state S),
// read from /proc.
bool ThreadSleeping(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] == 'S';
}

TEST(DiskPoolTest, DestructionRunsQueuedWorkAndDropsCompletions) {
  OwnerQueue owner;
  auto pool = std::make_unique<DiskPool>(DiskPool::Options{.threads = 1},
                                         owner.poster());
  Gate gate;
  std::atomic<int> worked{0};
  int completed = 0;
  pool->Submit(
      10,
      [&] {
        gate.Wait();
        ++worked;
      },
      [&] { ++completed; });
  for (int i = 0; i < 5; ++i) {
    pool->Submit(
        10, [&] { ++worked; }, [&] { ++completed; });
  }
  // Destroy the pool on another thread while the worker is held; open the
  // gate once that thread is blocked (joining the worker).
  std::atomic<pid_t> destroyer_tid{0};
  std::thread destroyer([&] {
    destroyer_tid = static_cast<pid_t>(syscall(SYS_gettid));
    pool.reset();
  });
  while (destroyer_tid == 0 || !ThreadSleeping(destroyer_tid)) {
    std::this_thread::yield();
  }
  gate.Open();
  destroyer.join();
  EXPECT_EQ(worked.load(), 6);  // accepted work reached the "disk"
  EXPECT_EQ(owner.size(), 0u);  // and no completion was posted
  EXPECT_EQ(completed, 0);
}

// --- no threads
// -------------------------------------------------------------------

TEST(DiskPoolTest, WithoutThreadsWorkAndCompletionArePostedTogether) {
  OwnerQueue owner;
  DiskPool pool({.threads = 0}, owner.poster());
  EXPECT_EQ(pool.threads(), 0);
  std::vector<std::string> log;
  pool.Submit(
      5, [&] { log.push_back("work 1"); }, [&] { log.push_back("done 1"); });
  pool.Submit(
      5, [&] { log.push_back("work 2"); }, [&] { log.push_back("done 2"); });
  EXPECT_TRUE(log.empty());  // nothing runs until the owner drains
  EXPECT_EQ(owner.size(), 2u);
  EXPECT_EQ(pool.queued_bytes(), 10u);
  owner.RunAll();
  EXPECT_THAT(log, ElementsAre("work 1", "done 1", "work 2", "done 2"));
  EXPECT_EQ(pool.queued_bytes(), 0u);
}

TEST(DiskPoolTest, WithoutThreadsDrainedFiresBelowHalfOnly) {
  OwnerQueue owner;
  DiskPool pool({.threads = 0, .max_queued_bytes = 100}, owner.poster());
  int drained = 0;
  pool.OnDrained([&] { ++drained; });
  for (int i = 0; i < 6; ++i)
    pool.Submit(
        20, [] {}, [] {});
  EXPECT_TRUE(pool.congested());  // 120 > 100
  ASSERT_TRUE(owner.RunOne());    // 100: no longer congested, not drained
  EXPECT_FALSE(pool.congested());
  EXPECT_EQ(pool.queued_bytes(), 100u);
  ASSERT_TRUE(owner.RunOne());  // 80
  ASSERT_TRUE(owner.RunOne());  // 60
  EXPECT_EQ(owner.size(), 3u);  // no callback posted yet
  EXPECT_EQ(drained, 0);
  owner.RunAll();  // 40 posts the drained callback, which runs here
  EXPECT_EQ(drained, 1);
  // Not congested again: no second callback.
  for (int i = 0; i < 3; ++i)
    pool.Submit(
        20, [] {}, [] {});
  owner.RunAll();
  EXPECT_EQ(drained, 1);
}

TEST(DiskPoolTest, NeverCongestedNeverDrains) {
  OwnerQueue owner;
  DiskPool pool({.threads = 1, .max_queued_bytes = 1000}, owner.poster());
  int drained = 0, completed = 0;
  pool.OnDrained([&] { ++drained; });
  for (int i = 0; i < 10; ++i)
    pool.Submit(
        50, [] {}, [&] { ++completed; });
  ASSERT_TRUE(owner.RunUntil([&] { return completed == 10; }));
  owner.RunAll();
  EXPECT_EQ(drained, 0);
}

}  // namespace
}  // namespace bt::client
