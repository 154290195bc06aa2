#include "base/liveness.h"

#include <functional>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(LivenessTest, TokensDieWithTheirLiveness) {
  auto owner = std::make_unique<Liveness>();
  Liveness::Token a = owner->token();
  Liveness::Token b = a;  // copies share the fate
  EXPECT_TRUE(a.alive());
  EXPECT_TRUE(b.alive());
  owner.reset();
  EXPECT_FALSE(a.alive());
  EXPECT_FALSE(b.alive());
}

TEST(LivenessTest, EachLivenessIsIndependent) {
  auto first = std::make_unique<Liveness>();
  Liveness second;
  Liveness::Token t1 = first->token();
  Liveness::Token t2 = second.token();
  first.reset();
  EXPECT_FALSE(t1.alive());
  EXPECT_TRUE(t2.alive());
}

// The pattern it is for: a queued callback outlives the object it calls.
class Counter {
 public:
  explicit Counter(std::vector<std::function<void()>>* queue) : queue_(queue) {}
  void Schedule() {
    queue_->push_back([this, token = liveness_.token()] {
      if (token.alive()) ++count_;
    });
  }
  int count() const { return count_; }

 private:
  std::vector<std::function<void()>>* queue_;
  int count_ = 0;
  Liveness liveness_;
};

TEST(LivenessTest, QueuedCallbacksSkipDestroyedOwners) {
  std::vector<std::function<void()>> queue;
  auto kept = std::make_unique<Counter>(&queue);
  auto gone = std::make_unique<Counter>(&queue);
  kept->Schedule();
  gone->Schedule();
  kept->Schedule();
  gone.reset();
  for (auto& f : queue) f();  // the callback of `gone` must not touch it
  EXPECT_EQ(kept->count(), 2);
}

}  // namespace
}  // namespace bt
