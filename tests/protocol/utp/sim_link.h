// SimLink: a deterministic world of two uTP connections joined by a
// simulated network link, for tests. The link can lose, duplicate, delay,
// jitter and reorder datagrams, and can be a bottleneck of fixed bandwidth
// with a drop-tail queue. Time is simulated; a seeded generator makes every
// run the same.
//
//   bt::protocol::utp::LinkOptions link;
//   link.loss = 0.05;
//   bt::protocol::utp::SimLink sim(link, link, /*seed=*/1);
//   sim.Connect(options);
//   sim.Run([&] { return done(); }, absl::Seconds(60));
#ifndef TESTS_PROTOCOL_UTP_SIM_LINK_H_
#define TESTS_PROTOCOL_UTP_SIM_LINK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "protocol/utp/connection.h"

namespace bt::protocol::utp {

struct LinkOptions {
  double loss = 0;       // probability a datagram is dropped
  double duplicate = 0;  // probability it is delivered twice
  double reorder = 0;    // probability it is held back by another `delay`
  absl::Duration delay = absl::Milliseconds(10);
  absl::Duration jitter = absl::ZeroDuration();  // uniform extra delay
  // A bottleneck: bytes per second (0: unlimited) and the queue in front
  // of it (datagrams that would wait beyond it are dropped).
  int64_t bandwidth = 0;
  int64_t queue_bytes = 64 * 1024;
  // Datagrams longer than this are dropped (0: none), as by a peer whose
  // receive buffer is small.
  size_t max_datagram = 0;
};

// Stream: one direction of application traffic for tests. Pump writes
// `data` into `from` as fast as it takes it, reads whatever `to` has, and
// closes `from` once everything is written (if close_when_written).
struct Stream {
  std::string data;
  size_t written = 0;
  std::string received;
  bool close_when_written = true;

  void Pump(Connection* from, Connection* to) {
    if (from && from->connected() && written < data.size()) {
      written += from->Write(std::string_view(data).substr(written));
      if (written == data.size() && close_when_written) from->Close();
    }
    if (to) {
      char buf[16384];
      while (size_t n = to->Read(absl::MakeSpan(buf))) received.append(buf, n);
    }
  }
};

class SimLink {
 public:
  SimLink(LinkOptions a_to_b, LinkOptions b_to_a, uint32_t seed);

  // Connect makes `a` and sends its SYN; `b` is made by Accept when the
  // SYN arrives. Sequence numbers start just below the 16-bit wrap.
  void Connect(const ConnectionOptions& options, uint16_t a_seq = 0xff00,
               uint16_t b_seq = 0xfff0);
  // Run steps the world until `done` returns true (checked after every
  // step) or `limit` of simulated time passes; returns whether done did.
  // `step` runs after every step (the tests' applications read and write
  // there).
  bool Run(const std::function<bool()>& done, absl::Duration limit,
           const std::function<void()>& step = {});

  // set_link changes one direction from now on.
  void set_link(bool to_b, const LinkOptions& link) { link_[to_b] = link; }

  Connection& a() { return *a_; }
  // b: null until the SYN arrived.
  Connection* b() { return b_ ? &*b_ : nullptr; }
  absl::Time now() const { return now_; }
  // Datagrams the link carried each way (after loss), and dropped.
  int64_t delivered(bool to_b) const { return delivered_[to_b]; }
  int64_t dropped(bool to_b) const { return dropped_[to_b]; }
  // Inject queues a raw datagram for delivery to `b` (or `a`) after the
  // link's delay, bypassing loss: for tests of hostile input.
  void Inject(bool to_b, std::string datagram);
  // set_tap: `tap` is shown every datagram a connection sends (towards `b`
  // when to_b), parsed, before the link may lose it; for tests that need
  // the peers' sequence and ack numbers. The Packet's views last only for
  // the call.
  void set_tap(std::function<void(bool to_b, const Packet&)> tap) {
    tap_ = std::move(tap);
  }

 private:
  struct InFlight {
    absl::Time at;
    uint64_t order;  // ties keep sending order
    bool to_b;
    std::string bytes;
    bool operator>(const InFlight& o) const {
      return at != o.at ? at > o.at : order > o.order;
    }
  };

  void Send(bool to_b, std::string bytes);
  void Deliver(const InFlight& d);
  void Flush();
  bool Chance(double p);

  LinkOptions link_[2];  // [0] b->a, [1] a->b
  std::mt19937 random_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  absl::Time link_free_[2] = {now_, now_};
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  uint64_t order_ = 0;
  std::optional<Connection> a_, b_;
  ConnectionOptions options_;
  uint16_t b_seq_ = 0;
  int64_t delivered_[2] = {0, 0}, dropped_[2] = {0, 0};
  std::function<void(bool, const Packet&)> tap_;
};

}  // namespace bt::protocol::utp

#endif  // TESTS_PROTOCOL_UTP_SIM_LINK_H_
