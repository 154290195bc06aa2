// Connection: the send path. PollDatagram decides what goes out next:
// a RESET, a packet to resend, new data (within the congestion and
// receive windows, packing small writes), a FIN, or a bare ack.
#include <algorithm>

#include "protocol/utp/connection.h"
#include "protocol/utp/sequence.h"

namespace bt::protocol::utp {
namespace {

// Selective acks cover at most this many packets past ack_nr + 1: the
// largest mask the extension's length byte allows (252 bytes), so a burst
// loss longer than a few hundred packets is still seen past its end.
constexpr size_t kMaxSelectiveAckBits = kMaxSelectiveAckSize * 8;

}  // namespace

uint32_t Connection::Micros(absl::Time now) {
  return static_cast<uint32_t>(absl::ToUnixMicros(now));
}

size_t Connection::SendWindow() const {
  return std::min<size_t>(ledbat_.window(), peer_window_);
}

size_t Connection::writable_bytes() const {
  if (close_requested_ || state_ == ConnectionState::kClosed) return 0;
  const size_t used = bytes_unacked_ + (send_queue_.size() - send_offset_);
  return used >= options_.send_buffer ? 0 : options_.send_buffer - used;
}

size_t Connection::Write(std::string_view data) {
  const size_t n = std::min(data.size(), writable_bytes());
  send_queue_.append(data.data(), n);
  return n;
}

bool Connection::PollDatagram(absl::Time now, std::string& out) {
  if (reset_pending_) {
    reset_pending_ = false;
    Encode(PacketType::kReset, seq_nr_, {}, now, out);
    return true;
  }
  if (state_ == ConnectionState::kClosed) {
    // A clean close may still owe the peer the ack of its FIN.
    if (!ack_pending_ || !status_.ok()) return false;
    Encode(PacketType::kState, seq_nr_, {}, now, out);
    return true;
  }
  // The STATE answering a SYN goes first: only it opens the peer's side.
  const bool answer_syn =
      ack_pending_ && state_ == ConnectionState::kSynReceived;
  if (!answer_syn && (PollResend(now, out) || PollNewData(now, out))) {
    return true;
  }
  if (ack_pending_ && state_ != ConnectionState::kSynSent) {
    Encode(PacketType::kState, seq_nr_, {}, now, out);
    return true;
  }
  return false;
}

bool Connection::PollResend(absl::Time now, std::string& out) {
  if (resends_pending_ == 0) return false;
  for (Outgoing& p : in_flight_) {
    if (!p.needs_resend) continue;
    const bool fits = bytes_in_flight_ + p.payload.size() <= SendWindow();
    if (p.type != PacketType::kSyn && !fits && !probe_allowed_) return false;
    probe_allowed_ = false;
    if (p.transmissions > 0) ++stats_.packets_resent;
    ++p.transmissions;
    p.needs_resend = false;
    --resends_pending_;
    p.sent = now;
    bytes_in_flight_ += p.payload.size();
    Encode(p.type, p.seq, p.payload, now, out);
    return true;
  }
  return false;
}

bool Connection::PollNewData(absl::Time now, std::string& out) {
  if (state_ == ConnectionState::kSynSent) return false;
  const size_t queued = send_queue_.size() - send_offset_;
  if (queued == 0) {
    if (!close_requested_ || fin_sent_) return false;
    if (in_flight_.empty()) rto_start_ = now;
    Outgoing fin;
    fin.seq = seq_nr_++;
    fin.type = PacketType::kFin;
    fin.sent = now;
    fin.transmissions = 1;
    in_flight_.push_back(std::move(fin));
    fin_sent_ = true;
    fin_sent_at_ = now;
    Encode(PacketType::kFin, in_flight_.back().seq, {}, now, out);
    return true;
  }
  if (probe_ == Probe::kInFlight) return false;  // the probe goes alone
  const size_t window = SendWindow();
  const size_t room = window > bytes_in_flight_ ? window - bytes_in_flight_ : 0;
  const bool probe = probe_ == Probe::kNotYet &&
                     options_.probe_payload > options_.max_payload &&
                     state_ == ConnectionState::kConnected &&
                     in_flight_.empty() && queued >= options_.probe_payload &&
                     room >= options_.probe_payload;
  size_t size =
      std::min(queued, probe ? options_.probe_payload : payload_size_);
  if (size > room) {
    // Nothing in flight and a window smaller than a packet: send what
    // fits; a closed window waits for the probe the timer allows.
    if (bytes_in_flight_ == 0 && room > 0) {
      size = room;
    } else if (!probe_allowed_) {
      return false;
    }
  }
  // Nagle: a short packet waits while others are in flight, so that
  // small writes go out together.
  if (size == queued && size < payload_size_ && bytes_in_flight_ > 0 &&
      !close_requested_ && !probe_allowed_) {
    return false;
  }
  probe_allowed_ = false;
  if (in_flight_.empty()) rto_start_ = now;
  Outgoing p;
  p.seq = seq_nr_++;
  p.payload.assign(send_queue_, send_offset_, size);
  p.sent = now;
  p.transmissions = 1;
  send_offset_ += size;
  bytes_in_flight_ += size;
  bytes_unacked_ += size;
  CompactSendQueue();
  in_flight_.push_back(std::move(p));
  const Outgoing& sent = in_flight_.back();
  if (probe) {
    probe_ = Probe::kInFlight;
    probe_seq_ = sent.seq;
    probe_deadline_ =
        now + std::max(4 * rtt_.smoothed_rtt(), absl::Milliseconds(50));
  }
  Encode(PacketType::kData, sent.seq, sent.payload, now, out);
  return true;
}

void Connection::CompactSendQueue() {
  if (send_offset_ == send_queue_.size()) {
    send_queue_.clear();
    send_offset_ = 0;
  } else if (send_offset_ > (1 << 16) &&
             send_offset_ > send_queue_.size() / 2) {
    send_queue_.erase(0, send_offset_);
    send_offset_ = 0;
  }
}

void Connection::Encode(PacketType type, uint16_t seq, std::string_view payload,
                        absl::Time now, std::string& out) {
  Packet p;
  p.header.type = type;
  p.header.connection_id = type == PacketType::kSyn ? recv_id_ : send_id_;
  p.header.timestamp_us = Micros(now);
  p.header.timestamp_difference_us = reply_micros_;
  p.header.window_size = static_cast<uint32_t>(ReceiveWindow());
  p.header.seq_nr = seq;
  p.header.ack_nr = ack_nr_;
  std::string mask;
  if (!reordered_.empty()) {
    // Bits for ack_nr + 2 onward, up to the furthest packet we hold.
    size_t bits = 0;
    for (const auto& [held, payload] : reordered_) {
      const size_t i = SeqDistance(static_cast<uint16_t>(ack_nr_ + 2), held);
      if (i < kMaxSelectiveAckBits) bits = std::max(bits, i + 1);
    }
    if (bits > 0) {
      mask.assign((bits + 31) / 32 * 4, '\0');
      for (size_t i = 0; i < bits; ++i) {
        if (reordered_.contains(static_cast<uint16_t>(ack_nr_ + 2 + i))) {
          SetSelectiveAckBit(mask, i);
        }
      }
    }
  }
  p.selective_ack = mask;
  p.payload = payload;
  out.resize(EncodedSize(p));
  EncodePacket(p, absl::MakeSpan(out));
  if (type != PacketType::kSyn) ack_pending_ = false;
  ++stats_.packets_sent;
}

}  // namespace bt::protocol::utp
