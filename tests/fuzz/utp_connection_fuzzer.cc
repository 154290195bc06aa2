// Drives one uTP Connection with a script of operations read from the fuzz
// input: packets from a hostile peer, time passing, writes, reads, Close and
// Abort. The peer's sequence and ack numbers are mostly small offsets from
// what the connection itself last sent, so that the handshake completes and
// acks, selective acks, reordering and FIN handling are reached. Every
// datagram the connection emits is parsed and checked, and the invariants the
// header promises are checked after every step.
//
// Input: [setup byte][option bytes][SYN or connect fields] then repeated
// [opcode byte][operands]; missing bytes read as zero.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "protocol/utp/connection.h"
#include "protocol/utp/packet.h"
#include "protocol/utp/sequence.h"

namespace utp = bt::protocol::utp;

namespace {

// Check aborts the process (a fuzz finding) when `ok` is false; unlike
// assert it survives the optimised build.
void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Input reads the fuzz bytes front to back; past the end it yields zeros.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() << 8 | U8()); }
  uint32_t U32() { return static_cast<uint32_t>(U16()) << 16 | U16(); }
  // Bytes returns up to n next bytes (fewer at the end).
  std::string_view Bytes(size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// StreamByte is byte `offset` of everything the harness writes, so that
// the DATA the connection sends can be checked without keeping a copy.
char StreamByte(uint64_t offset) {
  return static_cast<char>(offset * 7 + (offset >> 8));
}

uint32_t Micros(absl::Time t) {
  return static_cast<uint32_t>(absl::ToUnixMicros(t));
}

// Duration decodes one byte into a span from microseconds to an hour.
absl::Duration Duration(uint8_t b) {
  const int64_t n = b & 0x3f;
  switch (b >> 6) {
    case 0:
      return absl::Microseconds(n * 37);
    case 1:
      return absl::Milliseconds(n * 11);
    case 2:
      return absl::Seconds(n);
    default:
      return absl::Minutes(n);
  }
}

class Harness {
 public:
  explicit Harness(Input& in) : in_(in) {}

  void Run();

 private:
  void Setup();
  void Step(uint8_t op);
  void SendPacket(uint8_t control);
  void Feed(const utp::Packet& p);
  void Tick();
  void RunTimers();
  void Drain();
  void CheckDatagram(const utp::Packet& p, bool was_closed);
  void CheckState();

  uint16_t PeerNextSeq() const { return static_cast<uint16_t>(ack_ + 1); }
  uint16_t LastSent() const { return static_cast<uint16_t>(next_seq_ - 1); }

  Input& in_;
  utp::ConnectionOptions options_;
  std::optional<utp::Connection> conn_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);

  // What the connection's own datagrams have told us.
  uint16_t next_seq_ = 0;  // its next unassigned sequence number
  uint16_t ack_ = 0;       // its cumulative ack of our packets
  bool ack_known_ = false;
  bool fin_seen_ = false;  // it sent a FIN, at fin_seq_
  uint16_t fin_seq_ = 0;
  uint64_t written_ = 0;  // stream bytes Write accepted
  uint64_t sent_ = 0;     // stream bytes sent in new DATA packets
  bool closed_ = false;
  bool eof_ = false;  // eof() was true: the ack stays at the peer's FIN
  uint16_t eof_ack_ = 0;
  bool aborted_ = false;
  uint32_t payload_seed_ = 0;
};

void Harness::Setup() {
  const uint8_t setup = in_.U8();
  options_.receive_buffer = size_t{4096} * (1 + in_.U8() % 16);
  options_.send_buffer = size_t{4096} * (1 + in_.U8() % 16);
  options_.max_payload = 100 + in_.U16() % 1301;
  options_.syn_retries = in_.U8() % 4;
  options_.max_timeouts = 1 + in_.U8() % 8;
  options_.fin_timeout = absl::Seconds(1 + in_.U8() % 60);
  options_.syn_received_timeout = absl::Seconds(1 + in_.U8() % 60);
  if (setup & 2) options_.ledbat.max_window = 1 + in_.U16() * 4;
  if ((setup & 1) == 0) {
    const uint16_t recv_id = in_.U16();
    const uint16_t seq = in_.U16();
    conn_.emplace(utp::Connection::Connect(options_, recv_id, seq, now_));
    Check(conn_->recv_id() == recv_id);
    Check(conn_->send_id() == static_cast<uint16_t>(recv_id + 1));
    Check(conn_->state() == utp::ConnectionState::kSynSent);
    next_seq_ = seq;  // the SYN, drained below, moves it on
  } else {
    utp::Packet syn;
    syn.header.type = utp::PacketType::kSyn;
    syn.header.connection_id = in_.U16();
    syn.header.seq_nr = in_.U16();
    syn.header.window_size = in_.U32();
    syn.header.timestamp_us = (setup & 4) ? Micros(now_) : in_.U32();
    const uint16_t seq = in_.U16();
    conn_.emplace(utp::Connection::Accept(options_, syn, seq, now_));
    Check(conn_->send_id() == syn.header.connection_id);
    Check(conn_->recv_id() ==
          static_cast<uint16_t>(syn.header.connection_id + 1));
    Check(conn_->state() == utp::ConnectionState::kSynReceived);
    next_seq_ = seq;
    ack_ = syn.header.seq_nr;
    ack_known_ = true;
  }
  Drain();
  CheckState();
}

void Harness::Run() {
  Setup();
  while (!in_.empty()) {
    const bool was_closed = closed_;
    Step(in_.U8());
    Drain();
    CheckState();
    // Once closed, it stays closed.
    Check(!was_closed || closed_);
  }
}

void Harness::Step(uint8_t op) {
  switch (op % 16) {
    case 6:
    case 7:
      now_ += Duration(in_.U8());
      Tick();
      return;
    case 8: {
      // Sleep until the connection's own deadline, as an event loop would.
      const absl::Time t = conn_->next_deadline();
      if (t != absl::InfiniteFuture() && t > now_) now_ = t;
      Tick();
      return;
    }
    case 9: {
      const size_t n = in_.U16() % (options_.send_buffer + 2048);
      std::string data(n, '\0');
      for (size_t i = 0; i < n; ++i) data[i] = StreamByte(written_ + i);
      const size_t writable = conn_->writable_bytes();
      const size_t accepted = conn_->Write(data);
      Check(accepted == std::min(n, writable));
      written_ += accepted;
      return;
    }
    case 10: {
      std::string buf(in_.U16() % 70000, '\0');
      const size_t readable = conn_->readable_bytes();
      const size_t n = conn_->Read(absl::MakeSpan(buf));
      Check(n == std::min(buf.size(), readable));
      Check(conn_->readable_bytes() == readable - n);
      return;
    }
    case 11:
      conn_->Close();
      Check(conn_->writable_bytes() == 0);
      return;
    case 12:
      if (op == 12) {  // rare: it ends the interesting part
        conn_->Abort();
        Check(conn_->state() == utp::ConnectionState::kClosed);
        aborted_ = true;
        return;
      }
      break;
    case 13:
      RunTimers();
      return;
    case 14: {
      // The shortest way forward: acknowledge everything sent.
      utp::Packet p;
      p.header.type = utp::PacketType::kState;
      p.header.seq_nr = PeerNextSeq();
      p.header.ack_nr = LastSent();
      p.header.window_size = 1 << 20;
      p.header.timestamp_us = Micros(now_ - absl::Milliseconds(op >> 4));
      Feed(p);
      return;
    }
    case 15: {
      // In-order data of the connection's maximum payload or less.
      std::string payload(options_.max_payload >> (op >> 5), '\0');
      for (char& c : payload) c = static_cast<char>(++payload_seed_);
      utp::Packet p;
      p.header.type = utp::PacketType::kData;
      p.header.seq_nr = PeerNextSeq();
      p.header.ack_nr = LastSent();
      p.header.window_size = 1 << 20;
      p.payload = payload;
      Feed(p);
      return;
    }
    default:
      break;
  }
  SendPacket(op);
}

// SendPacket builds one packet from the input. `control` picks the type and
// how seq_nr and ack_nr are chosen; a second byte picks the payload,
// window, timestamps and selective ack.
void Harness::SendPacket(uint8_t control) {
  const uint8_t more = in_.U8();
  utp::Packet p;
  const uint8_t type = more & 7;
  p.header.type = static_cast<utp::PacketType>(type <= 4 ? type : 0);
  p.header.connection_id = p.header.type == utp::PacketType::kSyn
                               ? conn_->send_id()
                               : conn_->recv_id();
  switch ((control >> 4) & 3) {
    case 0:
      p.header.seq_nr = PeerNextSeq();
      break;
    case 1:
      p.header.seq_nr =
          static_cast<uint16_t>(PeerNextSeq() + static_cast<int8_t>(in_.U8()));
      break;
    case 2:
      p.header.seq_nr = static_cast<uint16_t>(PeerNextSeq() + in_.U16());
      break;
    default:
      p.header.seq_nr = in_.U16();
      break;
  }
  switch (control >> 6) {
    case 0:
      p.header.ack_nr = LastSent();
      break;
    case 1:
      p.header.ack_nr =
          static_cast<uint16_t>(LastSent() + static_cast<int8_t>(in_.U8()));
      break;
    case 2:
      p.header.ack_nr = static_cast<uint16_t>(LastSent() - in_.U8() % 8);
      break;
    default:
      p.header.ack_nr = in_.U16();
      break;
  }
  switch ((more >> 3) & 3) {
    case 0:
      p.header.window_size = 1 << 20;
      break;
    case 1:
      p.header.window_size = 0;
      break;
    case 2:
      p.header.window_size = in_.U8() * 256u;
      break;
    default:
      p.header.window_size = in_.U32();
      break;
  }
  const uint8_t extras = (more >> 5) == 0 ? 0 : in_.U8();
  // Timestamps: a plausible one-way delay, or anything.
  switch (extras & 3) {
    case 0:
      p.header.timestamp_us = Micros(now_ - absl::Milliseconds(20));
      break;
    case 1:
      p.header.timestamp_us = Micros(now_);
      p.header.timestamp_difference_us = 20000 + in_.U8() * 1000u;
      break;
    case 2:
      p.header.timestamp_us = 0;
      break;
    default:
      p.header.timestamp_us = in_.U32();
      p.header.timestamp_difference_us = in_.U32();
      break;
  }
  std::string mask;
  if (extras & 4) {
    const uint8_t sack = in_.U8();
    mask.assign(((sack & 0x3f) % 63 + 1) * 4, '\0');
    switch (sack >> 6) {
      case 0:
        mask.assign(mask.size(), '\xff');
        break;
      case 1: {
        const std::string_view bytes = in_.Bytes(mask.size());
        mask.replace(0, bytes.size(), bytes);
        break;
      }
      case 2:
        mask.assign(mask.size(), '\x55');
        break;
      default:
        utp::SetSelectiveAckBit(mask, in_.U8() % (mask.size() * 8));
        break;
    }
  }
  p.selective_ack = mask;
  std::string payload;
  switch ((extras >> 3) & 3) {
    case 0:
      break;
    case 1:
      payload.assign(in_.U8(), '\0');
      break;
    case 2:
      payload.assign(options_.max_payload, '\0');
      break;
    default:
      payload.assign(in_.U16() % (2 * options_.max_payload + 1), '\0');
      break;
  }
  for (char& c : payload) c = static_cast<char>(++payload_seed_);
  if (extras & 0x20) {
    const std::string_view bytes = in_.Bytes(payload.size());
    payload.replace(0, bytes.size(), bytes);
  }
  p.payload = payload;
  Feed(p);
}

// Feed passes `p` through the codec, as a socket would, then to OnPacket.
void Harness::Feed(const utp::Packet& p) {
  const std::string wire = utp::EncodePacket(p);
  absl::StatusOr<utp::Packet> parsed = utp::ParsePacket(wire);
  Check(parsed.ok());
  const size_t readable = conn_->readable_bytes();
  conn_->OnPacket(*parsed, now_);
  // Packets only add to what there is to read.
  Check(conn_->readable_bytes() >= readable);
}

void Harness::Tick() {
  conn_->Tick(now_);
  // The header: next_deadline is when Tick next has work. Having just done
  // the work due now, the next is later (no busy loop), or never.
  const absl::Time next = conn_->next_deadline();
  Check(next == absl::InfiniteFuture() || next > now_);
  if (conn_->state() == utp::ConnectionState::kClosed) {
    Check(next == absl::InfiniteFuture());
  }
}

// RunTimers lets time pass with no packets from the peer, deadline after
// deadline, as an event loop would; a live connection must give up on a
// silent peer within a bounded number of timeouts.
void Harness::RunTimers() {
  for (int i = 0; i < 64; ++i) {
    const absl::Time t = conn_->next_deadline();
    if (t == absl::InfiniteFuture()) return;
    if (t > now_) now_ = t;
    Tick();
    Drain();
    CheckState();
  }
}

void Harness::Drain() {
  const bool was_closed =
      conn_->state() == utp::ConnectionState::kClosed && !aborted_;
  std::string out;
  int count = 0;
  while (conn_->PollDatagram(now_, out)) {
    Check(++count < 10000);
    absl::StatusOr<utp::Packet> p = utp::ParsePacket(out);
    Check(p.ok());
    CheckDatagram(*p, was_closed);
  }
  aborted_ = false;
}

void Harness::CheckDatagram(const utp::Packet& p, bool was_closed) {
  const utp::PacketHeader& h = p.header;
  const bool syn = h.type == utp::PacketType::kSyn;
  Check(h.connection_id == (syn ? conn_->recv_id() : conn_->send_id()));
  Check(h.window_size <= options_.receive_buffer);
  Check(p.selective_ack.size() <= utp::kMaxSelectiveAckSize);
  // After a close (other than by Abort, whose RESET is due) only the ack of
  // the peer's FIN may go out.
  if (was_closed) Check(h.type == utp::PacketType::kState);
  if (h.type == utp::PacketType::kReset) Check(aborted_);
  if (!syn) {
    // Its cumulative ack only moves forward.
    if (ack_known_) Check(utp::SeqLessOrEqual(ack_, h.ack_nr));
    ack_ = h.ack_nr;
    ack_known_ = true;
  }
  switch (h.type) {
    case utp::PacketType::kState:
    case utp::PacketType::kReset:
      Check(p.payload.empty());
      Check(h.seq_nr == next_seq_);
      break;
    case utp::PacketType::kSyn:
      Check(p.payload.empty());
      Check(h.seq_nr == next_seq_ || h.seq_nr == LastSent());
      if (h.seq_nr == next_seq_) ++next_seq_;
      break;
    case utp::PacketType::kFin:
      Check(p.payload.empty());
      if (fin_seen_) {
        Check(h.seq_nr == fin_seq_);  // resent, never moved
      } else {
        Check(h.seq_nr == next_seq_);
        Check(sent_ == written_);  // only after everything written
        fin_seen_ = true;
        fin_seq_ = h.seq_nr;
        ++next_seq_;
      }
      break;
    case utp::PacketType::kData:
      Check(!p.payload.empty());
      Check(p.payload.size() <= options_.max_payload);
      if (h.seq_nr == next_seq_) {
        // New data: the next bytes of the stream written, never after FIN.
        Check(!fin_seen_);
        Check(sent_ + p.payload.size() <= written_);
        for (size_t i = 0; i < p.payload.size(); ++i) {
          Check(p.payload[i] == StreamByte(sent_ + i));
        }
        sent_ += p.payload.size();
        ++next_seq_;
      } else {
        Check(utp::SeqLess(h.seq_nr, next_seq_));  // a resend
        Check(!fin_seen_ || utp::SeqLess(h.seq_nr, fin_seq_));
      }
      break;
  }
}

void Harness::CheckState() {
  const utp::Connection& c = *conn_;
  Check(c.readable_bytes() <= options_.receive_buffer);
  Check(c.writable_bytes() <= options_.send_buffer);
  if (c.state() == utp::ConnectionState::kClosed) {
    closed_ = true;
    Check(!c.connected());
    Check(c.writable_bytes() == 0);
    Check(c.next_deadline() == absl::InfiniteFuture());
  }
  if (closed_) Check(c.state() == utp::ConnectionState::kClosed);
  if (c.eof()) Check(c.readable_bytes() == 0);
  // Past the end of the peer's stream nothing is delivered or acked.
  if (eof_) Check(c.eof() && ack_ == eof_ack_);
  if (c.eof() && !eof_ && ack_known_) {
    eof_ = true;
    eof_ack_ = ack_;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Harness h(in);
  h.Run();
  return 0;
}
