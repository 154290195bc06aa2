// RttEstimator: the round-trip time and retransmission timeout of one uTP
// connection (BEP 29 "timeouts", which follows RFC 6298). Sans-I/O: the
// caller measures each RTT sample and passes it in; nothing reads a clock.
//
//   bt::protocol::utp::RttEstimator rtt;
//   // An ACK arrived for a packet sent once (never for a retransmitted one):
//   rtt.AddSample(now - packet.sent_at);
//   arm_timer(now + rtt.timeout());
//   ...
//   // The timer fired with nothing acked:
//   rtt.BackOff();
//   arm_timer(now + rtt.timeout());
//
// Arithmetic is in whole microseconds (samples are truncated to them) and
// divisions round toward zero, so results are exact and reproducible. Not
// thread-safe.
#ifndef PROTOCOL_UTP_RTT_ESTIMATOR_H_
#define PROTOCOL_UTP_RTT_ESTIMATOR_H_

#include <cstdint>

#include "absl/time/time.h"

namespace bt::protocol::utp {

// RttEstimator is the RTT state of one connection. It starts with no
// sample; every method is total (none fails or asserts).
class RttEstimator {
 public:
  // kInitialTimeout is timeout() before the first sample (BEP 29: 1000 ms).
  static constexpr absl::Duration kInitialTimeout = absl::Milliseconds(1000);
  // kMinTimeout is the floor of the computed timeout (BEP 29: 500 ms).
  static constexpr absl::Duration kMinTimeout = absl::Milliseconds(500);
  // kMaxTimeout caps timeout(), backed off or not: RFC 6298 allows a cap of
  // at least 60 s, and a peer silent that long is better given up on by the
  // connection than waited for longer.
  static constexpr absl::Duration kMaxTimeout = absl::Seconds(60);
  // kMaxSample is the largest sample taken as is; larger ones are clamped
  // to it. No real round trip lasts a minute, and the bound keeps the
  // arithmetic far from overflow.
  static constexpr absl::Duration kMaxSample = absl::Seconds(60);

  RttEstimator() = default;

  // AddSample folds one measured round trip in: the first sample sets
  // rtt = sample and rtt_var = sample / 2; later ones apply
  //   rtt_var += (|rtt - sample| - rtt_var) / 4;  rtt += (sample - rtt) / 8.
  // A sample also clears any back-off. Never fails: a negative sample (a
  // clock stepped back) counts as zero and one above kMaxSample (including
  // absl::InfiniteDuration()) as kMaxSample. Per BEP 29 (Karn), callers must
  // not pass samples from retransmitted packets.
  void AddSample(absl::Duration rtt);

  // BackOff records a retransmission timeout: each call doubles timeout(),
  // up to kMaxTimeout, until the next AddSample. Never fails.
  void BackOff();

  // timeout is how long to wait for an ACK before retransmitting:
  // kInitialTimeout before any sample, else max(rtt + 4 * rtt_var,
  // kMinTimeout); then doubled once per BackOff() since the last sample;
  // never above kMaxTimeout.
  absl::Duration timeout() const;

  // has_sample is true once AddSample has been called.
  bool has_sample() const { return has_sample_; }
  // smoothed_rtt is the smoothed round trip (zero before any sample).
  absl::Duration smoothed_rtt() const { return absl::Microseconds(rtt_us_); }
  // rtt_variance is the smoothed mean deviation (zero before any sample).
  absl::Duration rtt_variance() const {
    return absl::Microseconds(rtt_var_us_);
  }
  // backoffs is the number of BackOff() calls since the last sample that
  // still changed the timeout (it stops counting at the cap).
  int backoffs() const { return backoffs_; }

 private:
  // The un-backed-off timeout, in microseconds.
  int64_t BaseTimeoutUs() const;

  bool has_sample_ = false;
  int64_t rtt_us_ = 0;
  int64_t rtt_var_us_ = 0;
  int backoffs_ = 0;
};

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_RTT_ESTIMATOR_H_
