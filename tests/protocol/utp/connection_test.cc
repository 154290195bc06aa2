#include "protocol/utp/connection.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "protocol/utp/packet.h"
#include "tests/protocol/utp/sim_link.h"

namespace bt::protocol::utp {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random());
  return s;
}

ConnectionOptions Options() {
  ConnectionOptions options;
  options.receive_buffer = 256 * 1024;
  options.send_buffer = 256 * 1024;
  return options;
}

TEST(ConnectionTest, HandshakeSetsIdsAndStates) {
  SimLink sim({}, {}, 1);
  sim.Connect(Options());
  EXPECT_EQ(sim.a().state(), ConnectionState::kSynSent);
  ASSERT_TRUE(sim.Run([&] { return sim.b() != nullptr; }, absl::Seconds(1)));
  EXPECT_EQ(sim.b()->state(), ConnectionState::kSynReceived);
  ASSERT_TRUE(sim.Run([&] { return sim.a().connected(); }, absl::Seconds(1)));
  EXPECT_EQ(sim.a().state(), ConnectionState::kConnected);
  EXPECT_EQ(sim.a().recv_id(), sim.b()->send_id());
  EXPECT_EQ(sim.a().send_id(), sim.b()->recv_id());
  EXPECT_EQ(sim.a().send_id(), sim.a().recv_id() + 1);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(sim.a().smoothed_rtt()), 20, 1);
}

// Both directions at once, then a clean close from both sides.
void TransferBothWays(const LinkOptions& link, uint32_t seed, size_t bytes) {
  SimLink sim(link, link, seed);
  sim.Connect(Options());
  Stream up{RandomBytes(bytes, seed)}, down{RandomBytes(bytes / 4, seed + 1)};
  const bool done = sim.Run(
      [&] {
        return sim.b() && sim.a().state() == ConnectionState::kClosed &&
               sim.b()->state() == ConnectionState::kClosed;
      },
      absl::Minutes(10),
      [&] {
        up.Pump(&sim.a(), sim.b());
        down.Pump(sim.b(), &sim.a());
      });
  ASSERT_TRUE(done) << "a " << ConnectionStateName(sim.a().state()) << ", up "
                    << up.received.size() << "/" << bytes << ", down "
                    << down.received.size();
  auto stats = [](const Connection& c) {
    const Connection::Stats& s = c.stats();
    return absl::StrFormat(
        "%s %s sent %d resent %d received %d dup %d fast %d timeouts %d "
        "cwnd %d",
        ConnectionStateName(c.state()), c.status().ToString(), s.packets_sent,
        s.packets_resent, s.packets_received, s.duplicates_received,
        s.fast_retransmits, s.timeouts, c.congestion_window());
  };
  EXPECT_TRUE(sim.a().status().ok() && sim.b()->status().ok())
      << "a: " << stats(sim.a()) << "\nb: " << stats(*sim.b()) << "\nup "
      << up.received.size() << "/" << up.data.size() << " down "
      << down.received.size() << "/" << down.data.size() << " at " << sim.now();
  EXPECT_TRUE(up.received == up.data);
  EXPECT_TRUE(down.received == down.data);
  EXPECT_TRUE(sim.a().eof());
  EXPECT_TRUE(sim.b()->eof());
}

TEST(ConnectionTest, MovesMegabytesOverACleanLink) {
  TransferBothWays({}, 2, 4 << 20);
}

TEST(ConnectionTest, MovesMegabytesOverALossyReorderingLink) {
  LinkOptions link;
  link.loss = 0.05;
  link.duplicate = 0.03;
  link.reorder = 0.05;
  link.jitter = absl::Milliseconds(15);
  for (uint32_t seed : {3, 4, 5}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    TransferBothWays(link, seed, 3 << 20);
  }
}

TEST(ConnectionTest, RetransmitsFastOnLossAndTimesOutRarely) {
  LinkOptions link;
  link.loss = 0.02;
  SimLink sim(link, {}, 6);
  sim.Connect(Options());
  Stream up{RandomBytes(4 << 20, 6)};
  ASSERT_TRUE(sim.Run([&] { return up.received.size() == up.data.size(); },
                      absl::Minutes(5), [&] { up.Pump(&sim.a(), sim.b()); }));
  EXPECT_TRUE(up.received == up.data);
  EXPECT_GT(sim.a().stats().fast_retransmits, 10u);
  EXPECT_GT(sim.a().stats().packets_resent, 0u);
  EXPECT_LT(sim.a().stats().timeouts, sim.a().stats().fast_retransmits / 4);
}

TEST(ConnectionTest, SynWithoutAnswerFailsAfterItsRetries) {
  LinkOptions black_hole;
  black_hole.loss = 1;
  SimLink sim(black_hole, {}, 7);
  sim.Connect(Options());
  const absl::Time start = sim.now();
  ASSERT_TRUE(
      sim.Run([&] { return sim.a().state() == ConnectionState::kClosed; },
              absl::Minutes(1)));
  EXPECT_EQ(sim.a().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(sim.a().stats().packets_sent, 3u);  // the SYN and 2 retries
  EXPECT_LT(sim.now() - start, absl::Seconds(10));
}

TEST(ConnectionTest, PeerThatStopsAckingIsGivenUpAndMemoryStaysBounded) {
  LinkOptions link;
  SimLink sim(link, link, 8);
  ConnectionOptions options = Options();
  sim.Connect(options);
  Stream up{RandomBytes(2 << 20, 8)};
  up.close_when_written = false;
  ASSERT_TRUE(sim.Run([&] { return up.received.size() > 100000; },
                      absl::Seconds(10), [&] { up.Pump(&sim.a(), sim.b()); }));
  // The peer vanishes: nothing reaches it any more.
  LinkOptions gone;
  gone.loss = 1;
  sim.set_link(true, gone);
  sim.set_link(false, gone);
  const absl::Time vanished = sim.now();
  ASSERT_TRUE(
      sim.Run([&] { return sim.a().state() == ConnectionState::kClosed; },
              absl::Minutes(10), [&] { up.Pump(&sim.a(), nullptr); }));
  EXPECT_EQ(sim.a().status().code(), absl::StatusCode::kDeadlineExceeded)
      << sim.a().status();
  EXPECT_LT(sim.now() - vanished, absl::Minutes(3));
  EXPECT_LE(up.written - up.received.size(), options.send_buffer);
  EXPECT_EQ(sim.a().stats().timeouts, 7u);  // max_timeouts + the last one
}

// The receiver never reads: the sender fills exactly the receive buffer,
// then waits (probing), and resumes as soon as the reader drains it.
TEST(ConnectionTest, ZeroWindowStallsThenResumes) {
  SimLink sim({}, {}, 10);
  ConnectionOptions options = Options();
  sim.Connect(options);
  Stream up{RandomBytes(1 << 20, 10)};
  bool reading = false;
  sim.Run([] { return false; }, absl::Seconds(5),
          [&] { up.Pump(&sim.a(), reading ? sim.b() : nullptr); });
  ASSERT_NE(sim.b(), nullptr);
  EXPECT_EQ(sim.b()->readable_bytes(), options.receive_buffer);
  EXPECT_EQ(sim.a().state(), ConnectionState::kConnected);
  reading = true;
  ASSERT_TRUE(sim.Run([&] { return up.received.size() == up.data.size(); },
                      absl::Seconds(60),
                      [&] { up.Pump(&sim.a(), reading ? sim.b() : nullptr); }));
  EXPECT_TRUE(up.received == up.data);
}

// A receiver whose window stays zero forever: the sender gives up after
// its bounded probes instead of waiting for ever.
TEST(ConnectionTest, WindowOfZeroForeverTimesOut) {
  SimLink sim({}, {}, 11);
  sim.Connect(Options());
  Stream up{RandomBytes(1 << 20, 11)};
  ASSERT_TRUE(
      sim.Run([&] { return sim.a().state() == ConnectionState::kClosed; },
              absl::Minutes(10), [&] { up.Pump(&sim.a(), nullptr); }));
  EXPECT_EQ(sim.a().status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(ConnectionTest, ResetClosesThePeer) {
  SimLink sim({}, {}, 12);
  sim.Connect(Options());
  ASSERT_TRUE(sim.Run([&] { return sim.a().connected() && sim.b(); },
                      absl::Seconds(1)));
  sim.b()->Abort();
  EXPECT_EQ(sim.b()->status().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(
      sim.Run([&] { return sim.a().state() == ConnectionState::kClosed; },
              absl::Seconds(1)));
  EXPECT_EQ(sim.a().status().code(), absl::StatusCode::kUnavailable);
}

// A STATE acking a sequence number never sent is ignored whole: the
// stream goes on and delivers everything.
TEST(ConnectionTest, AckOfDataNeverSentIsIgnored) {
  SimLink sim({}, {}, 13);
  sim.Connect(Options());
  Stream up{RandomBytes(200000, 13)};
  ASSERT_TRUE(sim.Run([&] { return up.received.size() > 50000; },
                      absl::Seconds(5), [&] { up.Pump(&sim.a(), sim.b()); }));
  Packet forged;
  forged.header.type = PacketType::kState;
  forged.header.connection_id = sim.a().recv_id();
  forged.header.ack_nr = 0x7000;
  forged.header.window_size = 1 << 20;
  sim.Inject(/*to_b=*/false, EncodePacket(forged));
  ASSERT_TRUE(sim.Run([&] { return up.received.size() == up.data.size(); },
                      absl::Seconds(30), [&] { up.Pump(&sim.a(), sim.b()); }));
  EXPECT_TRUE(up.received == up.data);
}

// The STATE answering a SYN is lost: the SYN is resent and answered again.
TEST(ConnectionTest, LostSynAckIsRecovered) {
  LinkOptions lossy;
  lossy.loss = 1;
  SimLink sim({}, lossy, 14);
  sim.Connect(Options());
  ASSERT_TRUE(sim.Run([&] { return sim.b() != nullptr; }, absl::Seconds(1)));
  sim.set_link(false, {});
  ASSERT_TRUE(sim.Run([&] { return sim.a().connected(); }, absl::Seconds(5)));
  EXPECT_EQ(sim.a().stats().timeouts, 1u);
}

// An initiator that only downloads (acks, never sends data) still makes
// the accepted side connected, so it is not dropped as half-open.
TEST(ConnectionTest, AcceptedSideOnlySendingIsConnected) {
  SimLink sim({}, {}, 16);
  ConnectionOptions options = Options();
  options.syn_received_timeout = absl::Seconds(5);
  sim.Connect(options);
  ASSERT_TRUE(sim.Run([&] { return sim.a().connected() && sim.b(); },
                      absl::Seconds(1)));
  Stream down{RandomBytes(2 << 20, 16)};
  down.close_when_written = false;
  ASSERT_TRUE(sim.Run([&] { return down.received.size() == down.data.size(); },
                      absl::Seconds(60),
                      [&] { down.Pump(sim.b(), &sim.a()); }));
  EXPECT_EQ(sim.b()->state(), ConnectionState::kConnected);
  sim.Run([] { return false; }, absl::Seconds(10));
  EXPECT_EQ(sim.b()->state(), ConnectionState::kConnected);
  EXPECT_TRUE(down.received == down.data);
}

// The packet-size probe: a peer that takes big datagrams gets them; one
// that drops them gets the probe's bytes again in max_payload packets, and
// the stream stays exact.
TEST(ConnectionTest, ProbesForBigPacketsAndFallsBack) {
  for (size_t limit : {size_t{0}, size_t{1500}}) {
    SCOPED_TRACE(limit);
    LinkOptions link;
    link.max_datagram = limit;
    SimLink sim(link, link, 17);
    ConnectionOptions options = Options();
    options.probe_payload = 16000;
    sim.Connect(options);
    Stream up{RandomBytes(1 << 20, 17)};
    up.close_when_written = false;
    ASSERT_TRUE(sim.Run([&] { return up.received.size() == up.data.size(); },
                        absl::Seconds(60),
                        [&] { up.Pump(&sim.a(), sim.b()); }));
    EXPECT_TRUE(up.received == up.data);
    EXPECT_EQ(sim.a().payload_size(), limit == 0 ? 16000u : 1400u);
    EXPECT_EQ(sim.a().stats().timeouts, 0u);
  }
}

// An accepted connection whose initiator never sends is dropped.
TEST(ConnectionTest, HalfOpenAcceptTimesOut) {
  LinkOptions lossy;
  lossy.loss = 1;
  SimLink sim({}, lossy, 15);
  ConnectionOptions options = Options();
  options.syn_received_timeout = absl::Seconds(5);
  sim.Connect(options);
  ASSERT_TRUE(sim.Run(
      [&] { return sim.b() && sim.b()->state() == ConnectionState::kClosed; },
      absl::Seconds(10)));
  EXPECT_EQ(sim.b()->status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace bt::protocol::utp
