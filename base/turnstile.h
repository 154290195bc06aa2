// Turnstile: lets threads through one at a time, in the order their tickets
// were drawn. Draw tickets where the order is decided (under the lock that
// orders the work), then do the ordered part of the work in a Turn outside
// that lock, so it overlaps the unordered part of the next ticket's work.
//
//   uint64_t ticket;
//   { std::lock_guard l(mu); Write(block); ticket = turnstile.Draw(); }
//   { bt::Turnstile::Turn turn(turnstile, ticket); Hash(block); }
//
// Every ticket drawn must have its Turn, or later tickets wait forever.
#ifndef BASE_TURNSTILE_H_
#define BASE_TURNSTILE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace bt {

class Turnstile {
 public:
  uint64_t Draw() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_ticket_++;
  }

  // Turn waits for `ticket`'s turn on construction and ends it (letting
  // the next ticket through) on destruction.
  class Turn {
   public:
    Turn(Turnstile& t, uint64_t ticket) : t_(t) {
      std::unique_lock<std::mutex> lock(t_.mu_);
      t_.turn_.wait(lock, [&] { return t_.serving_ == ticket; });
    }
    ~Turn() {
      {
        std::lock_guard<std::mutex> lock(t_.mu_);
        ++t_.serving_;
      }
      t_.turn_.notify_all();
    }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    Turnstile& t_;
  };

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ = 0;
};

}  // namespace bt

#endif  // BASE_TURNSTILE_H_
