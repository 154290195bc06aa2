#include "base/turnstile.h"

#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace bt {
namespace {

TEST(TurnstileTest, TurnsComeInTicketOrderWhateverOrderThreadsArrive) {
  Turnstile turnstile;
  constexpr int kThreads = 8;
  std::vector<uint64_t> tickets;
  for (int i = 0; i < kThreads; ++i) tickets.push_back(turnstile.Draw());
  std::mutex mu;
  std::vector<uint64_t> order;
  std::vector<std::thread> threads;
  // The last ticket's thread starts first, the first ticket's last.
  for (int i = kThreads - 1; i >= 0; --i) {
    threads.emplace_back([&, ticket = tickets[i]] {
      Turnstile::Turn turn(turnstile, ticket);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(ticket);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, tickets);
}

TEST(TurnstileTest, ATicketWhoseTurnHasComeDoesNotWait) {
  Turnstile turnstile;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t ticket = turnstile.Draw();
    EXPECT_EQ(ticket, i);
    Turnstile::Turn turn(turnstile, ticket);
  }
}

}  // namespace
}  // namespace bt
