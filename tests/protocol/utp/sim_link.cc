#include "tests/protocol/utp/sim_link.h"

#include <algorithm>

namespace bt::protocol::utp {

SimLink::SimLink(LinkOptions a_to_b, LinkOptions b_to_a, uint32_t seed)
    : link_{b_to_a, a_to_b}, random_(seed) {}

void SimLink::Connect(const ConnectionOptions& options, uint16_t a_seq,
                      uint16_t b_seq) {
  options_ = options;
  b_seq_ = b_seq;
  a_.emplace(Connection::Connect(options, /*recv_id=*/0x1234, a_seq, now_));
  Flush();
}

bool SimLink::Chance(double p) {
  return p > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < p;
}

void SimLink::Send(bool to_b, std::string bytes) {
  if (tap_) {
    absl::StatusOr<Packet> packet = ParsePacket(bytes);
    if (packet.ok()) tap_(to_b, *packet);
  }
  const LinkOptions& link = link_[to_b];
  if (Chance(link.loss) ||
      (link.max_datagram > 0 && bytes.size() > link.max_datagram)) {
    ++dropped_[to_b];
    return;
  }
  absl::Time at = now_;
  if (link.bandwidth > 0) {
    absl::Time& free = link_free_[to_b];
    const absl::Duration waiting = std::max(free - now_, absl::ZeroDuration());
    if (absl::ToDoubleSeconds(waiting) * link.bandwidth > link.queue_bytes) {
      ++dropped_[to_b];
      return;
    }
    free = std::max(free, now_) +
           absl::Seconds(static_cast<double>(bytes.size()) / link.bandwidth);
    at = free;
  }
  at += link.delay;
  if (link.jitter > absl::ZeroDuration()) {
    at += absl::Microseconds(std::uniform_int_distribution<int64_t>(
        0, absl::ToInt64Microseconds(link.jitter))(random_));
  }
  if (Chance(link.reorder)) at += link.delay;
  if (Chance(link.duplicate)) queue_.push({at, order_++, to_b, bytes});
  queue_.push({at, order_++, to_b, std::move(bytes)});
}

void SimLink::Inject(bool to_b, std::string datagram) {
  queue_.push({now_ + link_[to_b].delay, order_++, to_b, std::move(datagram)});
}

void SimLink::Deliver(const InFlight& d) {
  ++delivered_[d.to_b];
  absl::StatusOr<Packet> packet = ParsePacket(d.bytes);
  if (!packet.ok()) return;
  if (!d.to_b) {
    if (packet->header.connection_id == a_->recv_id()) {
      a_->OnPacket(*packet, now_);
    }
    return;
  }
  const bool syn = packet->header.type == PacketType::kSyn;
  if (!b_ && syn) {
    b_.emplace(Connection::Accept(options_, *packet, b_seq_, now_));
  } else if (b_ && (packet->header.connection_id == b_->recv_id() ||
                    (syn && packet->header.connection_id == b_->send_id()))) {
    b_->OnPacket(*packet, now_);
  }
}

void SimLink::Flush() {
  std::string out;
  if (a_) {
    while (a_->PollDatagram(now_, out)) Send(true, out);
  }
  if (b_) {
    while (b_->PollDatagram(now_, out)) Send(false, out);
  }
}

bool SimLink::Run(const std::function<bool()>& done, absl::Duration limit,
                  const std::function<void()>& step) {
  const absl::Time end = now_ + limit;
  while (now_ < end) {
    if (done()) return true;
    // The next event: a delivery, a connection's timer, or the
    // applications' next turn (every millisecond).
    absl::Time next = now_ + absl::Milliseconds(1);
    if (!queue_.empty()) next = std::min(next, queue_.top().at);
    if (a_) next = std::min(next, a_->next_deadline());
    if (b_) next = std::min(next, b_->next_deadline());
    now_ = std::max(now_, next);
    while (!queue_.empty() && queue_.top().at <= now_) {
      InFlight d = queue_.top();
      queue_.pop();
      Deliver(d);
    }
    if (a_ && a_->next_deadline() <= now_) a_->Tick(now_);
    if (b_ && b_->next_deadline() <= now_) b_->Tick(now_);
    if (step) step();
    Flush();
  }
  return done();
}

}  // namespace bt::protocol::utp
