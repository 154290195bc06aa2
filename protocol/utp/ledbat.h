// Ledbat: uTP's delay-based congestion window (BEP 29 "congestion control",
// RFC 6817 LEDBAT). The window grows while the one-way queuing delay our
// packets see is below a target (100 ms) and shrinks above it, so uTP
// yields to TCP; losses and timeouts cut it like TCP's. Sans-I/O: delay
// samples, ACKs and losses come in with the time they were seen; nothing
// reads a clock.
//
//   bt::protocol::utp::Ledbat cc(bt::protocol::utp::LedbatOptions(), now);
//   // Each packet received from the peer:
//   cc.OnDelaySample(header.timestamp_difference_us, now);
//   cc.OnAck(newly_acked_bytes, /*window_limited=*/was_full, now);
//   // Selective ACK or three duplicate ACKs show a hole:
//   cc.OnLoss(rtt.smoothed_rtt(), now);
//   // The retransmission timer fired:
//   cc.OnTimeout();
//   // Send while bytes_in_flight + packet_size <= min(cc.window(), wnd_size).
//
// Memory and work per call are constant: the delay history is a fixed
// array. The window is kept in 1/65536 bytes with 128-bit intermediates, so
// growth of less than a byte per ACK is not lost and nothing overflows. Not
// thread-safe.
#ifndef PROTOCOL_UTP_LEDBAT_H_
#define PROTOCOL_UTP_LEDBAT_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace bt::protocol::utp {

// LedbatOptions configures a Ledbat. Out-of-range values are not errors:
// the constructor clamps them as each field says.
struct LedbatOptions {
  // target is the queuing delay the window aims at (BEP 29
  // CCONTROL_TARGET). Clamped to [1 ms, 10 s].
  absl::Duration target = absl::Milliseconds(100);
  // max_window_increase_per_rtt is how many bytes the window grows per
  // window of acked bytes at zero queuing delay (BEP 29
  // MAX_CWND_INCREASE_BYTES_PER_RTT); the same bound limits the decrease
  // when the delay is over target. Clamped to [1, max_window].
  size_t max_window_increase_per_rtt = 3000;
  // min_window is the smallest window: one full packet, so a connection can
  // always send. Clamped to [1, max_window].
  size_t min_window = 1500;
  // initial_window is the window before any ACK: two full packets, RFC
  // 6817's INIT_CWND. Slow start grows it quickly when the path is idle,
  // and a background protocol should not open with a larger burst than
  // that. Clamped to [min_window, max_window].
  size_t initial_window = 2 * 1500;
  // max_window is a hard cap, so the send buffer a connection may need
  // stays bounded. Clamped to [1, kMaxWindowLimit].
  size_t max_window = 16 << 20;
  // slow_start, while true, grows the window by every acked byte (doubling
  // per RTT) until a loss, a timeout or a queuing delay above target / 2
  // (libtorrent does the same); then LEDBAT's linear rule takes over.
  bool slow_start = true;
};

// Ledbat is the congestion window of one connection's sending side. Every
// method is total: inputs out of range are clamped or ignored as each says,
// and window() stays within [min_window, max_window].
class Ledbat {
 public:
  // kMaxWindowLimit bounds LedbatOptions::max_window (1 GiB).
  static constexpr size_t kMaxWindowLimit = size_t{1} << 30;
  // kBaseHistory is how many one-minute minima the base delay remembers
  // (RFC 6817 BASE_HISTORY; BEP 29 says two minutes, RFC 6817's ten copes
  // better with a queue that stays full for a while).
  static constexpr int kBaseHistory = 10;
  // kBaseInterval is the span each base-delay minimum covers.
  static constexpr absl::Duration kBaseInterval = absl::Minutes(1);
  // kCurrentFilter is how many recent samples the current delay is the
  // minimum of (RFC 6817 CURRENT_FILTER), to ride out single late packets.
  static constexpr int kCurrentFilter = 4;

  // Ledbat starts with `options` (clamped as LedbatOptions documents) at
  // time `now`, which starts the first base-delay minute.
  Ledbat(LedbatOptions options, absl::Time now);

  // OnDelaySample takes one timestamp_difference_microseconds echoed by the
  // peer: the one-way delay of our packets plus the (unknown, constant)
  // offset between the two clocks. Samples compare in 32-bit wrap-around
  // order (TimestampLess), so the offset cancels wherever it puts them.
  // Zero means the peer has not measured yet and is ignored. A sample more
  // than 2^31 us away from the base (a clock jump) is garbage in, garbage
  // out, but the window stays within its bounds. `now` older than the
  // previous call counts as the same minute.
  void OnDelaySample(uint32_t timestamp_difference_us, absl::Time now);

  // OnAck takes `acked_bytes` newly acknowledged. `window_limited` says
  // whether the sender had filled the window when those bytes were sent;
  // only then may the window grow (it may always shrink). In slow start
  // the window grows by `acked_bytes`; otherwise by
  //   max_window_increase_per_rtt * off_target * acked_bytes / window,
  //   off_target = (target - queuing_delay) / target, clamped to [-1, 1].
  // Before any delay sample the queuing delay counts as zero. `acked_bytes`
  // above max_window counts as max_window. `now` does not change the
  // result today (the window reacts per ACK, not per unit of time); it is
  // taken so pacing can be added without changing callers. Never fails.
  void OnAck(size_t acked_bytes, bool window_limited, absl::Time now);

  // OnLoss takes a lost packet (selective ACK or duplicate ACKs): it halves
  // the window (not below min_window) and ends slow start. Losses less than
  // `rtt` after the last cut are the same congestion event and change
  // nothing; pass the smoothed RTT. rtt <= 0 makes every loss cut. A `now`
  // before the last cut is treated as within it.
  void OnLoss(absl::Duration rtt, absl::Time now);

  // OnTimeout takes a retransmission timeout: the window drops to
  // min_window and slow start begins again, up to half the window before
  // the timeout (TCP's ssthresh), so one burst of losses does not leave
  // the window to regrow 3000 bytes a round trip. Delay history is kept.
  void OnTimeout();

  // window is the congestion window in bytes, always within
  // [min_window, max_window] of the clamped options.
  size_t window() const { return static_cast<size_t>(cwnd_ >> kFracBits); }
  // queuing_delay is the current delay minus the base delay; zero before
  // any sample.
  absl::Duration queuing_delay() const {
    return absl::Microseconds(QueuingDelayUs());
  }
  // base_delay_sample is the raw base (minimum) sample, including the
  // clock offset; meaningless before has_delay_sample().
  uint32_t base_delay_sample() const { return base_; }
  // has_delay_sample is true once a non-zero delay sample came in.
  bool has_delay_sample() const { return current_count_ > 0; }
  // in_slow_start is whether slow start is still on.
  bool in_slow_start() const { return slow_start_; }
  // options are the options after clamping.
  const LedbatOptions& options() const { return options_; }

 private:
  static constexpr int kFracBits = 16;

  int64_t QueuingDelayUs() const;
  void SetWindow(int64_t cwnd_fixed);
  // Moves the base-delay history forward to the minute holding `now`.
  void Roll(absl::Time now);
  void RecomputeBase();

  LedbatOptions options_;
  int64_t target_us_;
  int64_t min_fixed_;
  int64_t max_fixed_;
  int64_t cwnd_;  // bytes << kFracBits
  bool slow_start_;

  // Base delay: the minimum of each of the last kBaseHistory minutes;
  // history_[head_] is the minute that started at minute_start_.
  std::array<uint32_t, kBaseHistory> history_{};
  std::array<bool, kBaseHistory> history_valid_{};
  int head_ = 0;
  absl::Time minute_start_;
  uint32_t base_ = 0;

  // Current delay: the minimum of the last kCurrentFilter samples.
  std::array<uint32_t, kCurrentFilter> current_{};
  int current_count_ = 0;
  int current_next_ = 0;

  bool cut_yet_ = false;
  // Slow start after a timeout stops here (fixed point); no limit at first.
  int64_t slow_start_limit_ = INT64_MAX;
  absl::Time last_cut_;
};

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_LEDBAT_H_
