// DhtAnnounceQueue: at most max_running announces at once, in the order
// asked, each info-hash queued once, declines and early or late `done`
// calls handled.
#include "client/dht_announce_queue.h"

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace bt::client {
namespace {

Sha1Hash Hash(uint8_t n) {
  Sha1Hash h;
  h.data()[0] = n;
  return h;
}

// Records what the queue starts and keeps their `done` callbacks.
struct Recorder {
  std::vector<Sha1Hash> started;
  std::vector<std::function<void()>> done;
  bool accept = true;

  DhtAnnounceQueue::Start Start() {
    return [this](const Sha1Hash& ih, std::function<void()> d) {
      if (!accept) return false;
      started.push_back(ih);
      done.push_back(std::move(d));
      return true;
    };
  }
};

TEST(DhtAnnounceQueueTest, RunsAtMostTheLimitInOrderAndStartsTheNextAsOneEnds) {
  Recorder r;
  DhtAnnounceQueue queue(2, r.Start());
  for (uint8_t i = 0; i < 5; ++i) queue.Add(Hash(i));
  ASSERT_EQ(r.started.size(), 2u);
  EXPECT_EQ(queue.running(), 2u);
  EXPECT_EQ(queue.waiting(), 3u);
  r.done[1]();
  ASSERT_EQ(r.started.size(), 3u);
  EXPECT_EQ(r.started[2], Hash(2));
  r.done[0]();
  r.done[2]();
  r.done[3]();
  r.done[4]();
  EXPECT_EQ(r.started, (std::vector<Sha1Hash>{Hash(0), Hash(1), Hash(2),
                                              Hash(3), Hash(4)}));
  EXPECT_EQ(queue.running(), 0u);
  EXPECT_EQ(queue.waiting(), 0u);
}

TEST(DhtAnnounceQueueTest, AnInfoHashWaitingOrRunningIsQueuedOnce) {
  Recorder r;
  DhtAnnounceQueue queue(1, r.Start());
  queue.Add(Hash(1));  // runs
  queue.Add(Hash(2));  // waits
  queue.Add(Hash(1));
  queue.Add(Hash(2));
  EXPECT_EQ(queue.waiting(), 1u);
  r.done[0]();
  r.done[1]();
  EXPECT_EQ(r.started.size(), 2u);
  queue.Add(Hash(1));  // finished: may be announced again
  EXPECT_EQ(r.started.size(), 3u);
}

TEST(DhtAnnounceQueueTest, DeclinedStartsAndRepeatedDoneDoNotLeakSlots) {
  Recorder r;
  DhtAnnounceQueue queue(1, r.Start());
  r.accept = false;
  queue.Add(Hash(1));
  queue.Add(Hash(2));
  EXPECT_EQ(queue.running(), 0u);
  EXPECT_EQ(queue.waiting(), 0u);
  r.accept = true;
  queue.Add(Hash(3));
  queue.Add(Hash(4));
  r.done[0]();
  r.done[0]();  // a second call changes nothing
  EXPECT_EQ(queue.running(), 1u);
  EXPECT_EQ(r.started.size(), 2u);
}

TEST(DhtAnnounceQueueTest, DoneInsideStartLetsTheNextStart) {
  std::vector<Sha1Hash> started;
  DhtAnnounceQueue queue(1, [&](const Sha1Hash& ih, std::function<void()> d) {
    started.push_back(ih);
    d();  // a DHT with no nodes may end a lookup at once
    return true;
  });
  for (uint8_t i = 0; i < 3; ++i) queue.Add(Hash(i));
  EXPECT_EQ(started.size(), 3u);
  EXPECT_EQ(queue.running(), 0u);
}

TEST(DhtAnnounceQueueTest, DoneAfterTheQueueIsGoneIsHarmless) {
  Recorder r;
  auto queue = std::make_unique<DhtAnnounceQueue>(1, r.Start());
  queue->Add(Hash(1));
  queue.reset();
  r.done[0]();
}

}  // namespace
}  // namespace bt::client
