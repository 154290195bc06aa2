#include "protocol/utp/rtt_estimator.h"

#include <algorithm>
#include <cstdint>

namespace bt::protocol::utp {
namespace {

int64_t ToUs(absl::Duration d) { return absl::ToInt64Microseconds(d); }

}  // namespace

void RttEstimator::AddSample(absl::Duration rtt) {
  // Clamp before converting: ToInt64Microseconds saturates on infinities,
  // but clamping first keeps every later product small.
  rtt = std::clamp(rtt, absl::ZeroDuration(), kMaxSample);
  const int64_t sample = ToUs(rtt);
  backoffs_ = 0;
  if (!has_sample_) {
    has_sample_ = true;
    rtt_us_ = sample;
    rtt_var_us_ = sample / 2;
    return;
  }
  const int64_t delta = rtt_us_ - sample;
  const int64_t abs_delta = delta < 0 ? -delta : delta;
  rtt_var_us_ += (abs_delta - rtt_var_us_) / 4;
  rtt_us_ += (sample - rtt_us_) / 8;
}

void RttEstimator::BackOff() {
  // Stop counting once doubling no longer changes anything, so the count
  // (and the shift below) stays small however often the timer fires.
  int64_t t = BaseTimeoutUs();
  for (int i = 0; i < backoffs_ && t < ToUs(kMaxTimeout); ++i) t *= 2;
  if (t < ToUs(kMaxTimeout)) ++backoffs_;
}

int64_t RttEstimator::BaseTimeoutUs() const {
  if (!has_sample_) return ToUs(kInitialTimeout);
  // rtt and rtt_var stay within [0, kMaxSample], so this cannot overflow.
  return std::max(rtt_us_ + 4 * rtt_var_us_, ToUs(kMinTimeout));
}

absl::Duration RttEstimator::timeout() const {
  const int64_t cap = ToUs(kMaxTimeout);
  int64_t t = std::min(BaseTimeoutUs(), cap);
  for (int i = 0; i < backoffs_ && t < cap; ++i) t *= 2;
  return absl::Microseconds(std::min(t, cap));
}

}  // namespace bt::protocol::utp
