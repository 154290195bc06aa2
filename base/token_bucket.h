// TokenBucket: a token bucket with time passed in (no clock reads). Tokens
// accrue at `rate` per second up to `capacity`; users take them as they act
// (bytes sent, queries answered). Fractions of a token carry over between
// refills, so the long-run average is exactly the rate.
//
//   bt::TokenBucket bucket(/*rate=*/10, /*capacity=*/40, /*initial=*/40);
//   bucket.Refill(now);
//   if (bucket.tokens() >= 1) { bucket.Take(1); answer(); }
//
// Not thread-safe. Times may come in any order: an earlier time than the
// last refill earns nothing.
#ifndef BASE_TOKEN_BUCKET_H_
#define BASE_TOKEN_BUCKET_H_

#include "absl/time/time.h"

namespace bt {

class TokenBucket {
 public:
  // TokenBucket starts with `initial` tokens; it earns nothing until its
  // first Refill, which only records the time. `rate` and `capacity` must
  // not be negative.
  TokenBucket(double rate, double capacity, double initial)
      : rate_(rate), capacity_(capacity), tokens_(initial) {}

  // Refill adds `rate` tokens per second elapsed since the previous Refill,
  // up to `capacity`.
  void Refill(absl::Time now);

  // tokens is the current balance; negative while a debt is being repaid.
  double tokens() const { return tokens_; }
  // full is true when the bucket holds `capacity` tokens or more.
  bool full() const { return tokens_ >= capacity_; }

  // Take removes `n` tokens, even below zero: a debt that later refills
  // repay first.
  void Take(double n) { tokens_ -= n; }

  // Reconfigure changes the rate and capacity at once; tokens above the new
  // capacity are dropped.
  void Reconfigure(double rate, double capacity);

  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  double rate_;
  double capacity_;
  double tokens_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace bt

#endif  // BASE_TOKEN_BUCKET_H_
