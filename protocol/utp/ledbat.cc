#include "protocol/utp/ledbat.h"

#include <algorithm>
#include <cstdint>

#include "absl/numeric/int128.h"
#include "protocol/utp/sequence.h"

namespace bt::protocol::utp {
namespace {

// WrapMin is the earlier of two timestamps in wrap-around order.
uint32_t WrapMin(uint32_t a, uint32_t b) { return TimestampLess(b, a) ? b : a; }

LedbatOptions Clamp(LedbatOptions o) {
  o.target = std::clamp(o.target, absl::Milliseconds(1), absl::Seconds(10));
  o.max_window = std::clamp<size_t>(o.max_window, 1, Ledbat::kMaxWindowLimit);
  o.min_window = std::clamp<size_t>(o.min_window, 1, o.max_window);
  o.initial_window =
      std::clamp<size_t>(o.initial_window, o.min_window, o.max_window);
  o.max_window_increase_per_rtt =
      std::clamp<size_t>(o.max_window_increase_per_rtt, 1, o.max_window);
  return o;
}

}  // namespace

Ledbat::Ledbat(LedbatOptions options, absl::Time now)
    : options_(Clamp(options)),
      target_us_(absl::ToInt64Microseconds(options_.target)),
      min_fixed_(static_cast<int64_t>(options_.min_window) << kFracBits),
      max_fixed_(static_cast<int64_t>(options_.max_window) << kFracBits),
      cwnd_(static_cast<int64_t>(options_.initial_window) << kFracBits),
      slow_start_(options_.slow_start),
      minute_start_(now) {}

void Ledbat::SetWindow(int64_t cwnd_fixed) {
  cwnd_ = std::clamp(cwnd_fixed, min_fixed_, max_fixed_);
}

int64_t Ledbat::QueuingDelayUs() const {
  if (current_count_ == 0) return 0;
  uint32_t current = current_[0];
  for (int i = 1; i < current_count_; ++i) {
    current = WrapMin(current, current_[i]);
  }
  // After a history gap the filter may still hold samples older (lower)
  // than the fresh base; that is no queue at all.
  if (TimestampLess(current, base_)) return 0;
  return static_cast<uint32_t>(current - base_);
}

void Ledbat::Roll(absl::Time now) {
  if (now < minute_start_ + kBaseInterval) return;
  const absl::Duration elapsed = now - minute_start_;
  if (elapsed >= kBaseHistory * kBaseInterval) {
    // Every remembered minute is over: start afresh at `now`.
    history_valid_.fill(false);
    head_ = 0;
    minute_start_ = now;
    return;
  }
  const int64_t minutes = elapsed / kBaseInterval;  // in [1, kBaseHistory)
  for (int64_t i = 0; i < minutes; ++i) {
    head_ = (head_ + 1) % kBaseHistory;
    history_valid_[head_] = false;
  }
  minute_start_ += minutes * kBaseInterval;
}

void Ledbat::RecomputeBase() {
  bool any = false;
  for (int i = 0; i < kBaseHistory; ++i) {
    if (!history_valid_[i]) continue;
    base_ = any ? WrapMin(base_, history_[i]) : history_[i];
    any = true;
  }
}

void Ledbat::OnDelaySample(uint32_t timestamp_difference_us, absl::Time now) {
  if (timestamp_difference_us == 0) return;
  const uint32_t sample = timestamp_difference_us;
  Roll(now);
  if (history_valid_[head_]) {
    history_[head_] = WrapMin(history_[head_], sample);
  } else {
    history_[head_] = sample;
    history_valid_[head_] = true;
  }
  RecomputeBase();

  current_[current_next_] = sample;
  current_next_ = (current_next_ + 1) % kCurrentFilter;
  current_count_ = std::min(current_count_ + 1, kCurrentFilter);

  if (slow_start_ && 2 * QueuingDelayUs() > target_us_) slow_start_ = false;
}

void Ledbat::OnAck(size_t acked_bytes, bool window_limited, absl::Time now) {
  const int64_t acked =
      static_cast<int64_t>(std::min(acked_bytes, options_.max_window));
  if (acked == 0) return;
  const int64_t delay_us = QueuingDelayUs();
  if (slow_start_ &&
      (2 * delay_us > target_us_ || cwnd_ >= slow_start_limit_)) {
    slow_start_ = false;
  }

  if (slow_start_) {
    if (window_limited) SetWindow(cwnd_ + (acked << kFracBits));
    return;
  }

  // off_target in [-target, target] microseconds; clamping the negative side
  // makes the decrease no faster than the increase can be.
  const int64_t off_us =
      std::clamp(target_us_ - delay_us, -target_us_, target_us_);
  if (off_us > 0 && !window_limited) return;
  if (off_us == 0) return;

  // delta = inc * (off / target) * acked / window, in 1/65536 bytes:
  //   inc * off * acked * 2^16 * 2^16 / (target * cwnd_fixed).
  // Magnitudes: inc, acked <= 2^30, off <= 2^24, so the numerator is below
  // 2^116; the result is at most inc * acked * 2^16 / min_window and is
  // clamped before narrowing.
  const absl::int128 num =
      absl::int128(static_cast<int64_t>(options_.max_window_increase_per_rtt)) *
      off_us * acked * (int64_t{1} << (2 * kFracBits));
  const absl::int128 den = absl::int128(target_us_) * cwnd_;
  absl::int128 delta = num / den;
  delta =
      std::clamp(delta, absl::int128(-max_fixed_), absl::int128(max_fixed_));
  SetWindow(cwnd_ + static_cast<int64_t>(delta));
}

void Ledbat::OnLoss(absl::Duration rtt, absl::Time now) {
  slow_start_ = false;
  if (cut_yet_ && now - last_cut_ < rtt) return;
  cut_yet_ = true;
  last_cut_ = now;
  SetWindow(cwnd_ / 2);
}

void Ledbat::OnTimeout() {
  slow_start_limit_ = std::max(cwnd_ / 2, min_fixed_);
  slow_start_ = true;
  SetWindow(min_fixed_);
}

}  // namespace bt::protocol::utp
