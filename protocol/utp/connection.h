// Connection: one uTP (BEP 29) stream as a sans-I/O state machine. The owner
// passes it the packets addressed to it and the time, asks it for the
// datagrams to send, and reads and writes stream bytes. It does the
// handshake (SYN / STATE), 16-bit sequence and ack numbers with wrap-around,
// a bounded out-of-order buffer, duplicate suppression, selective ACKs,
// RTT/RTO estimation, fast retransmit on three duplicate ACKs or selective
// ACKs, LEDBAT congestion control, Nagle-like packing of small writes,
// zero-window probing and FIN/RESET. Nothing grows without bound: the send
// and receive buffers have fixed capacities, and a peer that stops
// answering is given up on after a bounded number of retransmissions.
//
//   bt::protocol::utp::Connection c = bt::protocol::utp::Connection::Connect(
//       options, /*recv_id=*/bt::RandomU32(), /*initial_seq=*/1, now);
//   std::string datagram;
//   while (c.PollDatagram(now, datagram)) socket.SendTo(datagram, peer);
//   // a datagram from the peer with our recv_id:
//   c.OnPacket(*bt::protocol::utp::ParsePacket(bytes), now);
//   size_t n = c.Read(absl::MakeSpan(buf));
//   size_t accepted = c.Write(bytes);
//   // when next_deadline() passes:
//   c.Tick(now);
//
// After any call, state() and status() say whether the stream is up; once
// state() is kClosed it never changes again and PollDatagram may still
// return a final RESET. Not thread-safe.
#ifndef PROTOCOL_UTP_CONNECTION_H_
#define PROTOCOL_UTP_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "protocol/utp/ledbat.h"
#include "protocol/utp/packet.h"
#include "protocol/utp/rtt_estimator.h"

namespace bt::protocol::utp {

struct ConnectionOptions {
  // Stream bytes per DATA packet. 1400 keeps a datagram (with IP and UDP
  // headers and a selective ACK) under a 1500-byte MTU; loopback may use
  // far more (up to about 64 KiB).
  size_t max_payload = 1400;
  // Probe for bigger packets: when larger than max_payload, the first data
  // packet carries this many bytes, alone in flight; if the peer acks it
  // the connection keeps that size, else it is resent cut to max_payload
  // after max(4 RTT, 50 ms) and the rest goes out as usual. Meant for
  // loopback, where datagrams up to 64 KiB are not fragmented, and only
  // for peers known to drop (not truncate) datagrams they cannot hold, as
  // btkit does: libtorrent acks a 16 KB probe and then fails. 0: no probe.
  size_t probe_payload = 0;
  // Receive buffer: bytes received and not yet read, in order or not. The
  // window we advertise is what is left of it. It may hold one packet more,
  // the one that fills the hole in front of out-of-order data.
  size_t receive_buffer = 1 << 20;
  // Send buffer: bytes Write accepts that are not yet acknowledged.
  size_t send_buffer = 1 << 20;
  // How many times a SYN is resent before the connect fails (the first
  // wait is 1 s, then each doubles).
  int syn_retries = 2;
  // How many consecutive retransmission timeouts end the connection.
  int max_timeouts = 6;
  // How long a closed stream waits for its FIN to be acknowledged. Once
  // it is, the stream stays half-open to receive until the peer's FIN.
  absl::Duration fin_timeout = absl::Seconds(10);
  // How long an accepted connection waits for the peer's first data
  // before it is given up (bounds half-open state).
  absl::Duration syn_received_timeout = absl::Seconds(30);
  LedbatOptions ledbat;
};

enum class ConnectionState {
  kSynSent,      // our SYN is out, no answer yet
  kSynReceived,  // we answered a SYN; the peer has sent no data yet
  kConnected,
  kClosed,  // status() says why: OK after a clean close
};

std::string_view ConnectionStateName(ConnectionState state);

class Connection {
 public:
  // Connect starts an outgoing connection: its SYN is the first datagram
  // PollDatagram returns. The peer answers with connection id recv_id,
  // we send with recv_id + 1 (BEP 29).
  static Connection Connect(const ConnectionOptions& options, uint16_t recv_id,
                            uint16_t initial_seq, absl::Time now);
  // Accept answers the SYN `syn` (whose type must be kSyn): our recv_id is
  // its connection id + 1, our send id its connection id, and our first
  // sequence number `initial_seq`. The answering STATE is queued.
  static Connection Accept(const ConnectionOptions& options, const Packet& syn,
                           uint16_t initial_seq, absl::Time now);

  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = default;

  // OnPacket takes one packet whose connection id is recv_id(). Packets
  // that make no sense for this stream (acks of data never sent, sequence
  // numbers far outside the window, data after the FIN) are dropped;
  // a RESET closes the stream with kUnavailable.
  void OnPacket(const Packet& packet, absl::Time now);
  // Tick runs the timers (retransmission, SYN retries, FIN wait). Call it
  // when next_deadline() has passed; calling it early is harmless.
  void Tick(absl::Time now);
  // next_deadline: when Tick next has work; InfiniteFuture when none.
  absl::Time next_deadline() const;

  // PollDatagram writes the next datagram to send into `out` (replacing
  // its contents) and returns true, or returns false when there is nothing
  // to send now. Call until false after every OnPacket, Tick, Write, Read
  // and Close.
  bool PollDatagram(absl::Time now, std::string& out);

  // Write queues what fits of `data` in the send buffer and returns how
  // much; 0 when the buffer is full, or the stream is closing or closed.
  size_t Write(std::string_view data);
  // Read moves up to buf.size() in-order received bytes into `buf`.
  size_t Read(absl::Span<char> buf);
  // Close sends a FIN once everything written is sent; the stream then
  // stays open to receive until the peer's FIN or fin_timeout.
  void Close();
  // Abort closes at once and queues a RESET for the peer.
  void Abort();
  // OnUnreachable: the network said the peer's port is closed (ICMP). A
  // connection still waiting for its SYN's answer fails at once with
  // kUnavailable. An established one fails only if the peer then stays
  // silent for kUnreachableGrace (a peer process that died leaves no other
  // trace, while a forged ICMP cannot silence a live peer).
  void OnUnreachable(absl::Time now);
  static constexpr absl::Duration kUnreachableGrace = absl::Seconds(1);

  ConnectionState state() const { return state_; }
  // status: OK while open and after a clean close, else why it closed
  // (kUnavailable for a reset, kDeadlineExceeded for a timeout).
  const absl::Status& status() const { return status_; }
  bool connected() const {
    return state_ == ConnectionState::kConnected ||
           state_ == ConnectionState::kSynReceived;
  }
  size_t readable_bytes() const { return received_.size() - read_offset_; }
  size_t writable_bytes() const;
  // eof: the peer's FIN arrived and every byte before it has been read.
  bool eof() const;
  uint16_t recv_id() const { return recv_id_; }
  uint16_t send_id() const { return send_id_; }
  size_t congestion_window() const { return ledbat_.window(); }
  // payload_size: stream bytes per DATA packet now (max_payload, or
  // probe_payload once a probe was acknowledged).
  size_t payload_size() const { return payload_size_; }
  absl::Duration smoothed_rtt() const { return rtt_.smoothed_rtt(); }
  // Counters for tests and statistics.
  struct Stats {
    uint64_t packets_sent = 0, packets_resent = 0, packets_received = 0;
    uint64_t duplicates_received = 0, fast_retransmits = 0, timeouts = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  // One packet we sent that the peer has not acknowledged yet.
  struct Outgoing {
    uint16_t seq = 0;
    PacketType type = PacketType::kData;
    std::string payload;
    absl::Time sent;
    int transmissions = 0;
    bool acked = false;         // selectively acknowledged
    bool needs_resend = false;  // lost: not counted in flight
  };

  Connection(const ConnectionOptions& options, absl::Time now);

  // Receiving (connection.cc).
  bool HandleAck(const Packet& packet, absl::Time now);
  void HandleSelectiveAck(const Packet& packet, absl::Time now);
  size_t AckOne(Outgoing& p, absl::Time now);
  void OnTimeout(absl::Time now);
  void ProbeFailed();
  void HandleData(const Packet& packet, absl::Time now);
  void Deliver(std::string_view payload);
  void DrainReordered();
  void MaybeFinish();
  void Fail(absl::Status status);
  void MarkLost(Outgoing& p);
  size_t ReceiveWindow() const;

  // Sending (connection_send.cc).
  bool PollResend(absl::Time now, std::string& out);
  bool PollNewData(absl::Time now, std::string& out);
  void Encode(PacketType type, uint16_t seq, std::string_view payload,
              absl::Time now, std::string& out);
  size_t SendWindow() const;
  void CompactSendQueue();
  static uint32_t Micros(absl::Time now);

  ConnectionOptions options_;
  ConnectionState state_ = ConnectionState::kSynSent;
  absl::Status status_;
  uint16_t recv_id_ = 0, send_id_ = 0;
  absl::Time created_;

  // Send side.
  uint16_t seq_nr_ = 0;             // the next sequence number we assign
  std::deque<Outgoing> in_flight_;  // in_flight_[i].seq == oldest seq + i
  size_t bytes_in_flight_ = 0;      // payload sent, unacked, not lost
  size_t bytes_unacked_ = 0;        // all payload in in_flight_
  std::string send_queue_;          // written, not yet packetised
  size_t send_offset_ = 0;
  uint32_t peer_window_ = 0;
  uint16_t last_ack_nr_ = 0;  // the peer's latest cumulative ack
  int duplicate_acks_ = 0;
  bool close_requested_ = false, fin_sent_ = false, fin_acked_ = false;
  bool reset_pending_ = false;
  bool probe_allowed_ = false;  // send one packet whatever the window
  absl::Time rto_start_;        // when the retransmission timer started
  int consecutive_timeouts_ = 0;
  absl::Time fin_sent_at_ = absl::InfiniteFuture();
  absl::Time unreachable_at_ = absl::InfiniteFuture();
  size_t resends_pending_ = 0;  // packets in in_flight_ with needs_resend
  // The packet-size probe (ConnectionOptions::probe_payload).
  enum class Probe { kNotYet, kInFlight, kDone };
  Probe probe_ = Probe::kNotYet;
  uint16_t probe_seq_ = 0;
  absl::Time probe_deadline_ = absl::InfiniteFuture();
  size_t payload_size_ = 0;
  RttEstimator rtt_;
  Ledbat ledbat_;

  // Receive side.
  uint16_t ack_nr_ = 0;   // the last sequence number received in order
  std::string received_;  // in-order bytes not yet read
  size_t read_offset_ = 0;
  absl::flat_hash_map<uint16_t, std::string> reordered_;  // by seq
  size_t reordered_bytes_ = 0;
  bool ack_pending_ = false;
  bool fin_received_ = false;  // eof_seq_ is valid
  uint16_t eof_seq_ = 0;
  bool eof_reached_ = false;   // everything up to the FIN is in received_
  uint32_t reply_micros_ = 0;  // timestamp difference we echo

  Stats stats_;
};

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_CONNECTION_H_
