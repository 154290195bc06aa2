// Connection against a hostile or confused peer: floods of data all over
// the sequence space, acks and selective acks of packets never sent, data
// after a FIN, a second FIN, and the 16-bit wrap under heavy reordering.
// Everything is deterministic: simulated time, seeded generators.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocol/utp/connection.h"
#include "protocol/utp/packet.h"
#include "protocol/utp/sequence.h"
#include "tests/protocol/utp/sim_link.h"

namespace bt::protocol::utp {
namespace {

std::string RandomBytes(size_t n, std::mt19937& random) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random());
  return s;
}

// What each side last said on the wire, seen through SimLink's tap.
struct Wire {
  uint16_t a_last_seq = 0;  // the newest seq `a` assigned (SYN/DATA/FIN)
  bool a_sent = false;
  uint16_t b_ack = 0;       // `b`'s latest cumulative ack
  uint16_t b_next_seq = 0;  // `b`'s next unassigned seq (from its STATEs)
  int a_wraps = 0;          // times a's new DATA went from 0xffff to 0
  int b_selective_acks = 0;

  void Attach(SimLink& sim) {
    sim.set_tap([this](bool to_b, const Packet& p) {
      const PacketHeader& h = p.header;
      if (to_b) {
        if (h.type == PacketType::kState || h.type == PacketType::kReset)
          return;
        if (!a_sent || SeqLess(a_last_seq, h.seq_nr)) {
          if (a_sent && h.seq_nr < a_last_seq) ++a_wraps;
          a_last_seq = h.seq_nr;
          a_sent = true;
        }
      } else {
        b_ack = h.ack_nr;
        if (h.type == PacketType::kState) b_next_seq = h.seq_nr;
        if (!p.selective_ack.empty()) ++b_selective_acks;
      }
    });
  }
};

Packet Header(PacketType type, uint16_t id, uint16_t seq, uint16_t ack) {
  Packet p;
  p.header.type = type;
  p.header.connection_id = id;
  p.header.seq_nr = seq;
  p.header.ack_nr = ack;
  p.header.window_size = 1 << 20;
  return p;
}

// A connection accepted from a SYN with seq_nr kPeerSeq, fed by hand.
class AcceptedTest : public ::testing::Test {
 protected:
  static constexpr uint16_t kPeerSeq = 0xfffd;  // data starts at 0xfffe
  static constexpr uint16_t kOurSeq = 0x0100;

  AcceptedTest() : c_(Make()) {}

  Connection Make() {
    options_.receive_buffer = 16 * 1024;
    Packet syn = Header(PacketType::kSyn, 0x4000, kPeerSeq, 0);
    return Connection::Accept(options_, syn, kOurSeq, now_);
  }
  // Feed sends the peer's packet number `n` after its SYN (n = 1 is the
  // first data packet), acking nothing new.
  void Feed(PacketType type, uint16_t n, std::string_view payload = {}) {
    Packet p = Header(type, c_.recv_id(), static_cast<uint16_t>(kPeerSeq + n),
                      static_cast<uint16_t>(kOurSeq - 1));
    p.payload = payload;
    c_.OnPacket(p, now_);
    Drain();
  }
  void Drain() {
    std::string out;
    while (c_.PollDatagram(now_, out)) {
      absl::StatusOr<Packet> p = ParsePacket(out);
      ASSERT_TRUE(p.ok());
      last_ack_ = p->header.ack_nr;
    }
  }
  std::string ReadAll() {
    std::string s(c_.readable_bytes(), '\0');
    s.resize(c_.Read(absl::MakeSpan(s)));
    return s;
  }

  ConnectionOptions options_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  Connection c_;
  uint16_t last_ack_ = 0;
};

// 10,000 DATA packets with random sequence numbers, plausible acks and
// random payloads, nobody reading: what the connection holds, in order or
// not, never exceeds the receive buffer by more than the one packet that
// fills the hole in front of the rest. Filling every gap afterwards
// delivers all it had buffered, so readable_bytes() then measures it.
TEST_F(AcceptedTest, DataFloodAllOverTheSequenceSpaceStaysWithinTheBuffer) {
  std::mt19937 random(1);
  for (int i = 0; i < 10000; ++i) {
    Packet p = Header(PacketType::kData, c_.recv_id(),
                      static_cast<uint16_t>(random()), kOurSeq - 1);
    const std::string payload = RandomBytes(random() % 1401, random);
    p.payload = payload;
    c_.OnPacket(p, now_);
    Drain();
    ASSERT_LE(c_.readable_bytes(), options_.receive_buffer + 1400) << i;
    now_ += absl::Milliseconds(1);
  }
  const uint16_t ack = last_ack_;
  for (uint16_t k = 1; k <= 2049; ++k) {
    Packet p = Header(PacketType::kData, c_.recv_id(),
                      static_cast<uint16_t>(ack + k), kOurSeq - 1);
    c_.OnPacket(p, now_);
  }
  Drain();
  EXPECT_LE(c_.readable_bytes(), options_.receive_buffer + 1400);
  EXPECT_GT(c_.readable_bytes(), options_.receive_buffer / 2);  // it was full
  EXPECT_EQ(c_.state(), ConnectionState::kConnected);
  // Once read, the stream goes on.
  ReadAll();
  const uint16_t next = static_cast<uint16_t>(last_ack_ + 1 - kPeerSeq);
  Feed(PacketType::kData, next, "after the flood");
  EXPECT_EQ(ReadAll(), "after the flood");
}

// The packet that fills the hole in front of a full reorder buffer is
// still taken: the data behind it was selectively acked, so the sender
// never resends it, and refusing the one packet that lets it drain would
// stall the stream until the peer gives up.
TEST_F(AcceptedTest, HoleFillerIsTakenWhenOutOfOrderDataFillsTheWindow) {
  const std::string packet(1400, 'x');
  // Packets 2..12 (15,400 bytes) leave less room than a packet in the
  // 16 KiB buffer; packet 13 no longer fits.
  for (uint16_t n = 2; n <= 13; ++n) Feed(PacketType::kData, n, packet);
  EXPECT_EQ(c_.readable_bytes(), 0u);
  Feed(PacketType::kData, 1, packet);
  EXPECT_EQ(static_cast<uint16_t>(last_ack_ - kPeerSeq), 12);
  EXPECT_EQ(ReadAll().size(), 12 * packet.size());
  Feed(PacketType::kData, 13, packet);
  EXPECT_EQ(ReadAll().size(), packet.size());
  EXPECT_EQ(c_.state(), ConnectionState::kConnected);
}

// A flood at a live transfer. Half of it has sequence numbers anywhere
// outside the receiver's window (behind it: duplicates; far ahead) with
// plausible acks; the other half has any sequence number, in the window
// too, but acks data the receiver never sent, which condemns the whole
// packet. The transfer completes byte-exact. (Data forged blind inside
// the window with a plausible ack cannot be told from the real thing:
// uTP, like TCP, has no authentication; the peer-wire layer's hash
// checks and MSE are what catch that.)
TEST(ConnectionHostileTest, DataFloodBesideALiveTransferLeavesItExact) {
  LinkOptions link;
  link.jitter = absl::Milliseconds(5);
  SimLink sim(link, link, 21);
  Wire wire;
  wire.Attach(sim);
  ConnectionOptions options;
  options.receive_buffer = 64 * 1024;
  sim.Connect(options);
  std::mt19937 random(21);
  Stream up{RandomBytes(1 << 20, random)};
  int injected = 0;
  const bool done = sim.Run(
      [&] { return up.received.size() == up.data.size() && injected >= 10000; },
      absl::Minutes(5),
      [&] {
        up.Pump(&sim.a(), sim.b());
        Connection* b = sim.b();
        if (b == nullptr || !b->connected() || !wire.a_sent) return;
        // b's window ends at most 2048 past the newest seq a sent.
        const uint32_t window =
            SeqDistance(wire.b_ack, wire.a_last_seq) + 2048 + 64;
        for (int i = 0; i < 20 && injected < 10000; ++i, ++injected) {
          const uint16_t b_last_sent =
              static_cast<uint16_t>(wire.b_next_seq - 1);
          uint16_t seq = static_cast<uint16_t>(random());
          uint16_t ack = b_last_sent;
          if (i % 2 == 0) {
            const uint16_t d = SeqDistance(wire.b_ack, seq);
            if (d >= 1 && d <= window) seq = wire.b_ack;  // a duplicate
          } else {
            ack = static_cast<uint16_t>(b_last_sent + 1 + random() % 0x7fff);
          }
          Packet p = Header(PacketType::kData, b->recv_id(), seq, ack);
          const std::string payload = RandomBytes(random() % 1401, random);
          p.payload = payload;
          b->OnPacket(p, sim.now());
          ASSERT_LE(b->readable_bytes(), options.receive_buffer + 1400);
        }
      });
  ASSERT_TRUE(done) << up.received.size() << " " << injected;
  EXPECT_TRUE(up.received == up.data);
  EXPECT_TRUE(sim.b()->status().ok());
}

// Acks of never-sent data with selective-ACK masks of 252 bytes, all ones,
// are ignored whole; and once everything is acked, a true ack whose full
// mask can only refer to packets never sent changes nothing (this read
// past an empty in-flight queue once).
TEST(ConnectionHostileTest, FullSelectiveAcksOfNeverSentPacketsAreHarmless) {
  SimLink sim({}, {}, 22);
  Wire wire;
  wire.Attach(sim);
  sim.Connect(ConnectionOptions());
  std::mt19937 random(22);
  Stream up{RandomBytes(300000, random)};
  up.close_when_written = false;
  const std::string ones(kMaxSelectiveAckSize, '\xff');
  auto forge = [&](uint16_t ack) {
    Packet p =
        Header(PacketType::kState, sim.a().recv_id(), wire.b_next_seq, ack);
    p.selective_ack = ones;
    sim.a().OnPacket(p, sim.now());
  };
  int step = 0;
  ASSERT_TRUE(sim.Run(
      [&] { return up.received.size() == up.data.size(); }, absl::Seconds(30),
      [&] {
        up.Pump(&sim.a(), sim.b());
        if (!sim.a().connected() || ++step % 3 != 0) return;
        forge(static_cast<uint16_t>(wire.a_last_seq + 1));
        forge(static_cast<uint16_t>(wire.a_last_seq + 1 + random() % 0x7fff));
      }));
  EXPECT_TRUE(up.received == up.data);
  // Everything is acked: the mask below refers only to the future.
  ASSERT_TRUE(
      sim.Run([&] { return wire.b_ack == wire.a_last_seq; }, absl::Seconds(5)));
  sim.Run([] { return false; }, absl::Milliseconds(100));  // the ack lands
  forge(wire.a_last_seq);
  EXPECT_EQ(sim.a().state(), ConnectionState::kConnected);
  Stream more{RandomBytes(100000, random)};
  ASSERT_TRUE(sim.Run([&] { return more.received.size() == more.data.size(); },
                      absl::Seconds(30),
                      [&] { more.Pump(&sim.a(), sim.b()); }));
  EXPECT_TRUE(more.received == more.data);
}

TEST_F(AcceptedTest, DataAfterTheFinIsDropped) {
  Feed(PacketType::kData, 1, "ab");
  Feed(PacketType::kFin, 2);
  Feed(PacketType::kData, 3, "zz");
  EXPECT_EQ(ReadAll(), "ab");
  EXPECT_TRUE(c_.eof());
  Feed(PacketType::kData, 4, "yy");
  EXPECT_EQ(c_.readable_bytes(), 0u);
  EXPECT_TRUE(c_.eof());
}

TEST_F(AcceptedTest, FinOutOfOrderThenDataBeyondItIsDropped) {
  Feed(PacketType::kFin, 3);
  Feed(PacketType::kData, 4, "zz");
  Feed(PacketType::kData, 2, "cd");
  Feed(PacketType::kData, 1, "ab");
  EXPECT_EQ(ReadAll(), "abcd");
  EXPECT_TRUE(c_.eof());
}

// Data past the FIN that was buffered before the FIN arrived must not be
// delivered when the gap before the FIN fills, and the end must still be
// reached.
TEST_F(AcceptedTest, DataBeyondTheFinBufferedBeforeItIsDropped) {
  Feed(PacketType::kData, 4, "zz");
  Feed(PacketType::kFin, 3);
  Feed(PacketType::kData, 2, "cd");
  Feed(PacketType::kData, 1, "ab");
  EXPECT_EQ(ReadAll(), "abcd");
  EXPECT_TRUE(c_.eof());
  EXPECT_EQ(last_ack_, static_cast<uint16_t>(kPeerSeq + 3));
}

// A second FIN, later or earlier than the first, does not move the end.
TEST_F(AcceptedTest, SecondFinDoesNotMoveTheEnd) {
  Feed(PacketType::kFin, 4);
  Feed(PacketType::kFin, 6);  // later: past the end, dropped
  Feed(PacketType::kFin, 2);  // earlier: carries no data, ends nothing
  Feed(PacketType::kData, 3, "ef");
  Feed(PacketType::kData, 5, "zz");
  EXPECT_FALSE(c_.eof());
  Feed(PacketType::kData, 1, "ab");
  EXPECT_EQ(ReadAll(), "abef");
  EXPECT_TRUE(c_.eof());
  EXPECT_EQ(last_ack_, static_cast<uint16_t>(kPeerSeq + 4));
}

// Many small packets through a link that reorders a third of them, from
// sequence numbers just below the wrap: the sender's numbers wrap (more
// than once), the receiver keeps selective-acking, and the bytes arrive
// exact in both directions.
TEST(ConnectionHostileTest, SequenceWrapUnderHeavyReordering) {
  LinkOptions link;
  link.reorder = 0.3;
  link.jitter = absl::Milliseconds(20);
  link.duplicate = 0.02;
  link.loss = 0.01;
  SimLink sim(link, link, 23);
  Wire wire;
  wire.Attach(sim);
  ConnectionOptions options;
  options.max_payload = 64;
  options.receive_buffer = 64 * 1024;
  sim.Connect(options, /*a_seq=*/0xfff0, /*b_seq=*/0x7ff8);
  std::mt19937 random(23);
  Stream up{RandomBytes(70000 * 64, random)};
  Stream down{RandomBytes(100000, random)};
  ASSERT_TRUE(sim.Run(
      [&] {
        return sim.b() && sim.a().state() == ConnectionState::kClosed &&
               sim.b()->state() == ConnectionState::kClosed;
      },
      absl::Minutes(30),
      [&] {
        up.Pump(&sim.a(), sim.b());
        down.Pump(sim.b(), &sim.a());
      }))
      << up.received.size() << "/" << up.data.size();
  EXPECT_TRUE(up.received == up.data);
  EXPECT_TRUE(down.received == down.data);
  EXPECT_GE(wire.a_wraps, 2);
  EXPECT_GT(wire.b_selective_acks, 1000);
  EXPECT_TRUE(sim.a().status().ok()) << sim.a().status();
}

}  // namespace
}  // namespace bt::protocol::utp
