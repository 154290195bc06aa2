#include "base/token_bucket.h"

#include <algorithm>

namespace bt {

void TokenBucket::Refill(absl::Time now) {
  if (last_ == absl::InfinitePast()) {
    last_ = now;
    return;
  }
  if (now <= last_) return;
  // Whole nanoseconds times the rate, then one division: exact whenever the
  // true number of tokens earned is a whole number (no 0.1 * 1e6 rounding).
  double nanos = static_cast<double>(absl::ToInt64Nanoseconds(now - last_));
  last_ = now;
  if (tokens_ >= capacity_) return;
  tokens_ = std::min(capacity_, tokens_ + nanos * rate_ / 1e9);
}

void TokenBucket::Reconfigure(double rate, double capacity) {
  rate_ = rate;
  capacity_ = capacity;
  tokens_ = std::min(tokens_, capacity_);
}

}  // namespace bt
