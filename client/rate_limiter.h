// RateLimiter: a token bucket for bytes per second. The client keeps one
// per direction globally and per torrent; a connection may move only as
// many bytes as every bucket it belongs to allows. Time is passed in.
//
//   bt::client::RateLimiter up(2'000'000);          // 2 MB/s
//   up.Refill(now);
//   int64_t n = std::min(up.Available(), wanted);   // send at most n
//   up.Consume(n);
#ifndef CLIENT_RATE_LIMITER_H_
#define CLIENT_RATE_LIMITER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/time/time.h"
#include "base/token_bucket.h"

namespace bt::client {

class RateLimiter {
 public:
  static constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

  // `bytes_per_second` 0 means unlimited. The bucket starts empty.
  explicit RateLimiter(int64_t bytes_per_second = 0) {
    set_rate(bytes_per_second);
  }

  // set_rate changes the limit at once (0: unlimited). The bucket holds at
  // most a tenth of a second of traffic (and at least one 16 KiB block
  // with its header), so bursts stay short.
  void set_rate(int64_t bytes_per_second) {
    rate_ = std::max<int64_t>(bytes_per_second, 0);
    bucket_.Reconfigure(static_cast<double>(rate_),
                        static_cast<double>(std::max<int64_t>(
                            rate_ / 10, 16 * 1024 + 13)));
  }
  int64_t rate() const { return rate_; }
  bool limited() const { return rate_ > 0; }

  // Refill adds the bytes earned since the last refill (fractions carry
  // over to the next one).
  void Refill(absl::Time now) { bucket_.Refill(now); }
  // Available is how many bytes may move now.
  int64_t Available() const {
    return limited() ? static_cast<int64_t>(std::floor(bucket_.tokens()))
                     : kUnlimited;
  }
  // Consume takes `bytes` from the bucket (it may go negative when a whole
  // block had to be sent: the debt is paid before anything else moves).
  void Consume(int64_t bytes) {
    if (limited()) bucket_.Take(static_cast<double>(bytes));
  }

 private:
  int64_t rate_ = 0;
  TokenBucket bucket_{0, 0, 0};
};

}  // namespace bt::client

#endif  // CLIENT_RATE_LIMITER_H_
