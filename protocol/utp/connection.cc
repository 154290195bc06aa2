// Connection: set-up, the receive path (acks, selective acks, data,
// reordering), timers and closing. The send path is connection_send.cc.
#include "protocol/utp/connection.h"

#include <algorithm>
#include <cstring>

#include "protocol/utp/sequence.h"

namespace bt::protocol::utp {
namespace {

// How far ahead of the next expected packet we buffer a reordered one.
// Beyond it a packet is dropped (the sender resends it later); the byte
// bound is the receive buffer.
constexpr uint16_t kMaxReorderDistance = 2048;

}  // namespace

std::string_view ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kSynSent:
      return "syn-sent";
    case ConnectionState::kSynReceived:
      return "syn-received";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kClosed:
      return "closed";
  }
  return "unknown";
}

Connection::Connection(const ConnectionOptions& options, absl::Time now)
    : options_(options),
      created_(now),
      payload_size_(options.max_payload),
      rto_start_(now),
      ledbat_(options.ledbat, now) {}

Connection Connection::Connect(const ConnectionOptions& options,
                               uint16_t recv_id, uint16_t initial_seq,
                               absl::Time now) {
  Connection c(options, now);
  c.state_ = ConnectionState::kSynSent;
  c.recv_id_ = recv_id;
  c.send_id_ = static_cast<uint16_t>(recv_id + 1);
  c.seq_nr_ = initial_seq;
  c.last_ack_nr_ = static_cast<uint16_t>(initial_seq - 1);
  Outgoing syn;
  syn.seq = c.seq_nr_++;
  syn.type = PacketType::kSyn;
  syn.needs_resend = true;  // "resent" for the first time by PollDatagram
  c.in_flight_.push_back(std::move(syn));
  c.resends_pending_ = 1;
  return c;
}

Connection Connection::Accept(const ConnectionOptions& options,
                              const Packet& syn, uint16_t initial_seq,
                              absl::Time now) {
  Connection c(options, now);
  c.state_ = ConnectionState::kSynReceived;
  c.recv_id_ = static_cast<uint16_t>(syn.header.connection_id + 1);
  c.send_id_ = syn.header.connection_id;
  c.seq_nr_ = initial_seq;
  c.last_ack_nr_ = static_cast<uint16_t>(initial_seq - 1);
  c.ack_nr_ = syn.header.seq_nr;
  c.peer_window_ = syn.header.window_size;
  if (syn.header.timestamp_us != 0) {
    c.reply_micros_ = Micros(now) - syn.header.timestamp_us;
  }
  c.ack_pending_ = true;
  return c;
}

void Connection::OnPacket(const Packet& packet, absl::Time now) {
  const PacketHeader& h = packet.header;
  if (state_ == ConnectionState::kClosed) {
    // Our ack of the peer's FIN was lost and it resends the FIN: ack again
    // (what TCP's TIME-WAIT is for), for as long as the owner keeps us.
    if (status_.ok() && fin_received_ && h.type == PacketType::kFin &&
        h.seq_nr == eof_seq_) {
      ack_pending_ = true;
    }
    return;
  }
  ++stats_.packets_received;
  unreachable_at_ = absl::InfiniteFuture();  // the peer is alive
  if (h.type == PacketType::kReset) {
    Fail(absl::UnavailableError("uTP connection reset by peer"));
    return;
  }
  if (h.type == PacketType::kSyn) {
    // The same SYN again: our STATE was lost, so answer once more.
    if (state_ == ConnectionState::kSynReceived && h.seq_nr == ack_nr_) {
      ack_pending_ = true;
    }
    return;
  }
  if (state_ == ConnectionState::kSynSent) {
    // Only the STATE answering our SYN sets up the stream: its seq_nr is
    // the peer's first. Data overtaking it is dropped (and resent), since
    // its seq_nr alone cannot say where the peer's stream starts.
    if (h.type != PacketType::kState || h.ack_nr != in_flight_.front().seq) {
      return;
    }
    ack_nr_ = static_cast<uint16_t>(h.seq_nr - 1);
    state_ = ConnectionState::kConnected;
  }
  if (!HandleAck(packet, now)) return;
  peer_window_ = h.window_size;
  if (h.timestamp_us != 0) reply_micros_ = Micros(now) - h.timestamp_us;
  if (h.timestamp_difference_us != 0) {
    ledbat_.OnDelaySample(h.timestamp_difference_us, now);
  }
  if (h.type == PacketType::kData || h.type == PacketType::kFin) {
    HandleData(packet, now);
  }
  MaybeFinish();
}

bool Connection::HandleAck(const Packet& packet, absl::Time now) {
  const uint16_t ack = packet.header.ack_nr;
  const uint16_t last_sent = static_cast<uint16_t>(seq_nr_ - 1);
  // An ack of something never sent is forged or confused: ignore the
  // whole packet rather than trust any of it.
  if (SeqLess(last_sent, ack)) return false;
  if (SeqLess(ack, last_ack_nr_)) return true;  // stale, reordered
  const uint16_t newly = SeqDistance(last_ack_nr_, ack);
  if (newly > 0) {
    const bool window_limited = bytes_in_flight_ + payload_size_ > SendWindow();
    size_t acked_bytes = 0;
    for (uint16_t i = 0; i < newly && !in_flight_.empty(); ++i) {
      Outgoing& p = in_flight_.front();
      acked_bytes += AckOne(p, now);
      if (p.type == PacketType::kFin) fin_acked_ = true;
      bytes_unacked_ -= p.payload.size();
      in_flight_.pop_front();
    }
    last_ack_nr_ = ack;
    // An ack of our data proves the initiator heard our STATE, whether or
    // not it ever sends data itself.
    if (state_ == ConnectionState::kSynReceived) {
      state_ = ConnectionState::kConnected;
    }
    duplicate_acks_ = 0;
    consecutive_timeouts_ = 0;
    rto_start_ = now;
    if (acked_bytes > 0) ledbat_.OnAck(acked_bytes, window_limited, now);
  } else if (packet.header.type == PacketType::kState && !in_flight_.empty() &&
             packet.selective_ack.empty()) {
    // BEP 29: three duplicate acks mean ack_nr + 1 was lost.
    if (++duplicate_acks_ == 3) {
      MarkLost(in_flight_.front());
      ledbat_.OnLoss(rtt_.smoothed_rtt(), now);
      ++stats_.fast_retransmits;
    }
  }
  if (!packet.selective_ack.empty()) HandleSelectiveAck(packet, now);
  return true;
}

void Connection::HandleSelectiveAck(const Packet& packet, absl::Time now) {
  // Nothing in flight: the mask refers to nothing we sent (and the loss
  // scan below would read in_flight_[0]).
  if (in_flight_.empty()) return;
  // Bit i stands for ack_nr + 2 + i; in_flight_[0] is ack_nr + 1 now.
  const size_t bits =
      std::min(packet.selective_ack.size() * 8,
               in_flight_.size() > 0 ? in_flight_.size() - 1 : size_t{0});
  for (size_t i = 0; i < bits; ++i) {
    if (SelectiveAckHas(packet.selective_ack, i))
      AckOne(in_flight_[i + 1], now);
  }
  // A packet with three or more acked after it is lost (BEP 29).
  int acked_after = 0;
  bool lost = false;
  for (size_t i = bits + 1; i-- > 0;) {
    Outgoing& p = in_flight_[i];
    if (p.acked) {
      ++acked_after;
    } else if (acked_after >= 3 && !p.needs_resend && p.transmissions > 0) {
      MarkLost(p);
      lost = true;
    }
  }
  if (lost) {
    ledbat_.OnLoss(rtt_.smoothed_rtt(), now);
    ++stats_.fast_retransmits;
  }
}

size_t Connection::AckOne(Outgoing& p, absl::Time now) {
  if (p.acked) return 0;
  if (probe_ == Probe::kInFlight && p.seq == probe_seq_) {
    probe_ = Probe::kDone;
    probe_deadline_ = absl::InfiniteFuture();
    if (p.transmissions == 1) payload_size_ = options_.probe_payload;
  }
  // Karn: only packets sent once give an unambiguous round trip.
  if (p.transmissions == 1) rtt_.AddSample(now - p.sent);
  if (p.needs_resend) {
    p.needs_resend = false;
    --resends_pending_;
  } else {
    bytes_in_flight_ -= p.payload.size();
  }
  p.acked = true;
  return p.payload.size();
}

void Connection::MarkLost(Outgoing& p) {
  if (p.acked || p.needs_resend || p.transmissions == 0) return;
  p.needs_resend = true;
  ++resends_pending_;
  bytes_in_flight_ -= p.payload.size();
}

void Connection::HandleData(const Packet& packet, absl::Time now) {
  const uint16_t seq = packet.header.seq_nr;
  ack_pending_ = true;  // answer even duplicates: our ack may have been lost
  if (state_ == ConnectionState::kSynReceived) {
    state_ = ConnectionState::kConnected;
  }
  if (fin_received_ && SeqLess(eof_seq_, seq)) return;  // after the FIN
  const uint16_t distance = SeqDistance(ack_nr_, seq);
  if (distance == 0 || distance >= 0x8000) {
    ++stats_.duplicates_received;
    return;
  }
  if (distance > kMaxReorderDistance) return;
  const bool fin = packet.header.type == PacketType::kFin;
  const std::string_view payload = fin ? std::string_view() : packet.payload;
  // No room: the sender resends it later. The packet that fills the hole
  // in front of the reorder buffer needs room only beside the readable
  // bytes: what waits behind it was selectively acked and is never resent,
  // so refusing it could stall the stream for good. The buffer then holds
  // at most one packet more than receive_buffer.
  const size_t readable_room =
      options_.receive_buffer -
      std::min(options_.receive_buffer, readable_bytes());
  if (payload.size() > (distance == 1 ? readable_room : ReceiveWindow())) {
    return;
  }
  if (fin && !fin_received_) {
    fin_received_ = true;
    eof_seq_ = seq;
    // Data past the FIN that arrived before it is dropped too, or the
    // drain below would deliver it and step over the end.
    for (auto it = reordered_.begin(); it != reordered_.end();) {
      if (SeqLess(seq, it->first)) {
        reordered_bytes_ -= it->second.size();
        reordered_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  if (distance == 1) {
    Deliver(payload);
    ack_nr_ = seq;
    DrainReordered();
  } else if (!reordered_.try_emplace(seq, payload).second) {
    ++stats_.duplicates_received;
  } else {
    reordered_bytes_ += payload.size();
  }
  if (fin_received_ && ack_nr_ == eof_seq_) eof_reached_ = true;
}

void Connection::Deliver(std::string_view payload) {
  if (read_offset_ == received_.size()) {
    received_.clear();
    read_offset_ = 0;
  }
  received_.append(payload);
}

void Connection::DrainReordered() {
  while (!reordered_.empty()) {
    auto it = reordered_.find(static_cast<uint16_t>(ack_nr_ + 1));
    if (it == reordered_.end()) return;
    Deliver(it->second);
    reordered_bytes_ -= it->second.size();
    ack_nr_ = it->first;
    reordered_.erase(it);
  }
}

size_t Connection::ReceiveWindow() const {
  const size_t used = readable_bytes() + reordered_bytes_;
  return used >= options_.receive_buffer ? 0 : options_.receive_buffer - used;
}

size_t Connection::Read(absl::Span<char> buf) {
  const size_t window_before = ReceiveWindow();
  const size_t n = std::min(buf.size(), readable_bytes());
  if (n == 0) return 0;
  std::memcpy(buf.data(), received_.data() + read_offset_, n);
  read_offset_ += n;
  if (read_offset_ == received_.size()) {
    received_.clear();
    read_offset_ = 0;
  } else if (read_offset_ > received_.size() / 2) {
    received_.erase(0, read_offset_);
    read_offset_ = 0;
  }
  // The window reopened: tell the sender, which may be waiting on it.
  if (window_before < payload_size_ && ReceiveWindow() >= payload_size_ &&
      connected()) {
    ack_pending_ = true;
  }
  return n;
}

bool Connection::eof() const { return eof_reached_ && readable_bytes() == 0; }

void Connection::Tick(absl::Time now) {
  if (state_ == ConnectionState::kClosed) return;
  if (state_ == ConnectionState::kSynReceived &&
      now >= created_ + options_.syn_received_timeout) {
    Fail(absl::DeadlineExceededError("uTP peer sent no data after its SYN"));
    return;
  }
  if (now >= probe_deadline_) ProbeFailed();
  if (now >= unreachable_at_ + kUnreachableGrace) {
    Fail(absl::UnavailableError("uTP peer's port unreachable"));
    return;
  }
  // A FIN acknowledged leaves the stream open to receive (half-closed)
  // until the peer's FIN; the owner decides how long to wait for that.
  if (!fin_acked_ && now >= fin_sent_at_ + options_.fin_timeout) {
    Fail(absl::DeadlineExceededError("uTP FIN never acknowledged"));
    return;
  }
  const bool waiting = !in_flight_.empty() || send_offset_ < send_queue_.size();
  if (waiting && now >= rto_start_ + rtt_.timeout()) OnTimeout(now);
}

void Connection::ProbeFailed() {
  probe_ = Probe::kDone;
  probe_deadline_ = absl::InfiniteFuture();
  // Nothing was sent after the probe: cut it to max_payload and give the
  // rest back to the send queue, ahead of what is still unsent.
  if (in_flight_.empty() || in_flight_.back().seq != probe_seq_) return;
  Outgoing& p = in_flight_.back();
  if (p.acked || p.payload.size() <= options_.max_payload) return;
  const size_t cut = p.payload.size() - options_.max_payload;
  send_queue_.replace(0, send_offset_, p.payload, options_.max_payload, cut);
  send_offset_ = 0;
  p.payload.resize(options_.max_payload);
  bytes_unacked_ -= cut;
  if (!p.needs_resend) {
    bytes_in_flight_ -= cut;
    MarkLost(p);
  }
}

void Connection::OnTimeout(absl::Time now) {
  ++stats_.timeouts;
  const bool connecting = state_ == ConnectionState::kSynSent;
  if (++consecutive_timeouts_ >
      (connecting ? options_.syn_retries : options_.max_timeouts)) {
    Fail(absl::DeadlineExceededError(connecting
                                         ? "uTP peer never answered our SYN"
                                         : "uTP peer stopped acknowledging"));
    return;
  }
  rtt_.BackOff();
  ledbat_.OnTimeout();
  for (Outgoing& p : in_flight_) MarkLost(p);
  probe_allowed_ = true;  // one packet, window or not (BEP 29)
  rto_start_ = now;
}

absl::Time Connection::next_deadline() const {
  if (state_ == ConnectionState::kClosed) return absl::InfiniteFuture();
  absl::Time t =
      fin_acked_ ? absl::InfiniteFuture() : fin_sent_at_ + options_.fin_timeout;
  if (state_ == ConnectionState::kSynReceived) {
    t = std::min(t, created_ + options_.syn_received_timeout);
  }
  t = std::min(t, unreachable_at_ + kUnreachableGrace);
  t = std::min(t, probe_deadline_);
  if (!in_flight_.empty() || send_offset_ < send_queue_.size()) {
    t = std::min(t, rto_start_ + rtt_.timeout());
  }
  return t;
}

void Connection::Close() {
  if (state_ == ConnectionState::kClosed || close_requested_) return;
  close_requested_ = true;
  if (state_ == ConnectionState::kSynSent) {
    in_flight_.clear();
    state_ = ConnectionState::kClosed;
  }
}

void Connection::Abort() {
  if (state_ == ConnectionState::kClosed) return;
  reset_pending_ = state_ != ConnectionState::kSynSent;
  Fail(absl::CancelledError("uTP connection aborted"));
}

void Connection::OnUnreachable(absl::Time now) {
  if (state_ == ConnectionState::kClosed) return;
  if (state_ == ConnectionState::kSynSent) {
    Fail(absl::UnavailableError("uTP port unreachable"));
    return;
  }
  unreachable_at_ = std::min(unreachable_at_, now);
}

void Connection::Fail(absl::Status status) {
  state_ = ConnectionState::kClosed;
  status_ = std::move(status);
  in_flight_.clear();
  send_queue_.clear();
  send_offset_ = 0;
  bytes_in_flight_ = bytes_unacked_ = 0;
  resends_pending_ = 0;
  reordered_.clear();
  reordered_bytes_ = 0;
}

void Connection::MaybeFinish() {
  if (fin_sent_ && fin_acked_ && eof_reached_) {
    state_ = ConnectionState::kClosed;
  }
}

}  // namespace bt::protocol::utp
