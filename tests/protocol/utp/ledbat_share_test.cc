// A deterministic fluid-ish simulation of one bottleneck link shared by a
// LEDBAT sender and a Reno-like loss-based sender, to check the property
// LEDBAT exists for: it takes the link when alone and yields it to TCP.
//
// The link serves kRateBytesPerMs from a tail-drop FIFO of kQueueBytes
// (200 ms at the link rate: a bloated home-router buffer, the case BEP 29
// describes); 10 ms of propagation each way give a 20 ms base RTT. Time
// advances in 1 ms ticks. A dropped packet leaves a zero-size marker in the
// FIFO, so its loss is seen when the packets behind it are acked, as with
// duplicate ACKs. Both senders always have data and start in slow start
// from two packets.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "protocol/utp/ledbat.h"
#include "protocol/utp/rtt_estimator.h"

namespace bt::protocol::utp {
namespace {

constexpr int64_t kMss = 1500;
constexpr int64_t kRateBytesPerMs = 10000;  // 10 MB/s
constexpr int64_t kQueueBytes = 2000000;
constexpr int64_t kOneWayMs = 10;
constexpr int64_t kDurationMs = 60000;
// LEDBAT's samples carry a clock offset that wraps, as a real peer's may.
constexpr uint32_t kClockOffsetUs = 0xffffffffu - 12345u;
const absl::Time kStart = absl::FromUnixSeconds(1700000000);

struct Sender {
  bool ledbat = false;
  std::optional<Ledbat> cc;  // set for the LEDBAT sender
  double reno_cwnd = 2 * kMss;
  bool reno_slow_start = true;
  int64_t reno_last_cut_ms = -1000000;
  RttEstimator rtt;
  int64_t inflight = 0;
  int64_t delivered = 0;

  int64_t Window() const {
    return ledbat ? static_cast<int64_t>(cc->window())
                  : static_cast<int64_t>(reno_cwnd);
  }
};

struct Packet {
  int sender;
  int64_t sent_ms;
  bool lost;  // a marker for a dropped packet: takes no link time
};

struct Event {
  int64_t at_ms;
  int sender;
  int64_t sent_ms;
  int64_t one_way_ms;
  bool lost;
};

// Simulate returns the bytes each sender got through the link.
std::vector<int64_t> Simulate(bool with_ledbat, bool with_reno) {
  std::vector<Sender> senders;
  if (with_ledbat) {
    Sender s;
    s.ledbat = true;
    s.cc.emplace(LedbatOptions(), kStart);
    senders.push_back(std::move(s));
  }
  if (with_reno) senders.emplace_back();

  std::deque<Packet> queue;
  int64_t queue_bytes = 0;
  std::deque<Event> returning;  // times are non-decreasing (FIFO link)
  int64_t budget = 0;

  for (int64_t t = 0; t < kDurationMs; ++t) {
    const absl::Time now = kStart + absl::Milliseconds(t);
    // ACKs and loss signals that reach the senders by now.
    while (!returning.empty() && returning.front().at_ms <= t) {
      const Event e = returning.front();
      returning.pop_front();
      Sender& s = senders[e.sender];
      s.inflight -= kMss;
      if (e.lost) {
        if (s.ledbat) {
          s.cc->OnLoss(s.rtt.smoothed_rtt(), now);
        } else if (absl::Milliseconds(t - s.reno_last_cut_ms) >=
                   s.rtt.smoothed_rtt()) {
          s.reno_cwnd = std::max(s.reno_cwnd / 2, 2.0 * kMss);
          s.reno_slow_start = false;
          s.reno_last_cut_ms = t;
        }
        continue;
      }
      s.rtt.AddSample(absl::Milliseconds(t - e.sent_ms));
      if (s.ledbat) {
        s.cc->OnDelaySample(
            static_cast<uint32_t>(e.one_way_ms * 1000) + kClockOffsetUs, now);
        s.cc->OnAck(kMss, /*window_limited=*/true, now);
      } else if (s.reno_slow_start) {
        s.reno_cwnd += kMss;
      } else {
        s.reno_cwnd += static_cast<double>(kMss) * kMss / s.reno_cwnd;
      }
    }
    // Senders fill their windows, one packet each in turn.
    for (bool sent = true; sent;) {
      sent = false;
      for (size_t i = 0; i < senders.size(); ++i) {
        Sender& s = senders[i];
        if (s.inflight + kMss > s.Window()) continue;
        sent = true;
        s.inflight += kMss;
        const bool drop = queue_bytes + kMss > kQueueBytes;
        if (!drop) queue_bytes += kMss;
        queue.push_back({static_cast<int>(i), t, drop});
      }
    }
    // The link serves the FIFO.
    budget += kRateBytesPerMs;
    while (!queue.empty()) {
      const Packet p = queue.front();
      if (!p.lost) {
        if (budget < kMss) break;
        budget -= kMss;
        queue_bytes -= kMss;
        senders[p.sender].delivered += kMss;
      }
      queue.pop_front();
      returning.push_back({t + 2 * kOneWayMs, p.sender, p.sent_ms,
                           t + kOneWayMs - p.sent_ms, p.lost});
    }
    if (queue.empty()) budget = 0;  // an idle link saves nothing up
  }
  std::vector<int64_t> out;
  for (const Sender& s : senders) out.push_back(s.delivered);
  return out;
}

TEST(LedbatShareTest, AloneLedbatFillsTheLink) {
  const std::vector<int64_t> d = Simulate(true, false);
  const double utilization =
      static_cast<double>(d[0]) / (kRateBytesPerMs * kDurationMs);
  std::printf("LEDBAT alone: %.1f%% of the link\n", 100 * utilization);
  EXPECT_GT(utilization, 0.80);
}

TEST(LedbatShareTest, LedbatYieldsToALossBasedSender) {
  const std::vector<int64_t> d = Simulate(true, true);
  const double total = static_cast<double>(d[0] + d[1]);
  const double ledbat_share = d[0] / total;
  std::printf(
      "shared: LEDBAT %.1f%%, Reno %.1f%% of %.1f MB delivered "
      "(link %.1f%% busy)\n",
      100 * ledbat_share, 100 * (1 - ledbat_share), total / 1e6,
      100 * total / (kRateBytesPerMs * kDurationMs));
  EXPECT_LT(ledbat_share, 0.25);
}

}  // namespace
}  // namespace bt::protocol::utp
