#include "protocol/utp/socket_table.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "protocol/utp/packet.h"

namespace bt::protocol::utp {
namespace {

const Endpoint kA = Endpoint::V4({127, 0, 0, 1}, 1000);
const Endpoint kB = Endpoint::V4({127, 0, 0, 2}, 2000);

// Two tables wired back to back without loss; time moves 1 ms a round.
class SocketTableTest : public ::testing::Test {
 protected:
  SocketTableTest()
      : a_(Options(), [this] { return random_(); }),
        b_(Options(), [this] { return random_(); }) {}

  static SocketTableOptions Options() {
    SocketTableOptions o;
    o.max_half_open = 8;
    o.resets_per_second = 10;
    o.connection.syn_received_timeout = absl::Seconds(5);
    return o;
  }

  // Round: every datagram each table has goes to the other, then timers.
  void Round() {
    now_ += absl::Milliseconds(1);
    std::string out;
    Endpoint to;
    std::vector<std::string> to_b, to_a;
    while (a_.PollDatagram(now_, out, to)) to_b.push_back(out);
    while (b_.PollDatagram(now_, out, to)) to_a.push_back(out);
    for (const std::string& d : to_b) b_.HandleDatagram(d, kA, now_);
    for (const std::string& d : to_a) a_.HandleDatagram(d, kB, now_);
    if (a_.next_deadline() <= now_) a_.Tick(now_);
    if (b_.next_deadline() <= now_) b_.Tick(now_);
  }

  std::mt19937 random_{42};
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  SocketTable a_, b_;
};

TEST_F(SocketTableTest, ConnectsTransfersAndForgetsReleasedConnections) {
  auto id = a_.Connect(kB, now_);
  ASSERT_TRUE(id.ok());
  std::vector<SocketTable::Id> accepted;
  for (int i = 0; i < 10 && accepted.empty(); ++i) {
    Round();
    accepted = b_.TakeAccepted();
  }
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(b_.peer(accepted[0]), kA);
  Connection* up = a_.Find(*id);
  ASSERT_NE(up, nullptr);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  size_t written = 0;
  std::string got;
  for (int i = 0; i < 20000 && got.size() < data.size(); ++i) {
    if (up->connected() && written < data.size()) {
      written += up->Write(std::string_view(data).substr(written));
      a_.MarkActive(*id);
    }
    Round();
    up = a_.Find(*id);
    Connection* down = b_.Find(accepted[0]);
    ASSERT_NE(down, nullptr);
    char buf[65536];
    while (size_t n = down->Read(absl::MakeSpan(buf))) got.append(buf, n);
    b_.MarkActive(accepted[0]);
  }
  EXPECT_TRUE(got == data);
  EXPECT_FALSE(a_.TakeTouched().empty());
  a_.Release(*id, now_);
  b_.Release(accepted[0], now_);
  EXPECT_EQ(a_.Find(*id), nullptr);
  for (int i = 0; i < 200 && (a_.size() || b_.size()); ++i) Round();
  EXPECT_EQ(a_.size(), 0u);
  EXPECT_EQ(b_.size(), 0u);
}

Packet Syn(uint16_t id) {
  Packet p;
  p.header.type = PacketType::kSyn;
  p.header.connection_id = id;
  p.header.seq_nr = 1;
  p.header.window_size = 1 << 20;
  return p;
}

TEST_F(SocketTableTest, RepeatedSynReachesTheSameConnection) {
  const std::string syn = EncodePacket(Syn(500));
  b_.HandleDatagram(syn, kA, now_);
  b_.HandleDatagram(syn, kA, now_);
  EXPECT_EQ(b_.TakeAccepted().size(), 1u);
  EXPECT_EQ(b_.size(), 1u);
  // Each SYN is answered by a STATE to id 500.
  std::string out;
  Endpoint to;
  int states = 0;
  while (b_.PollDatagram(now_, out, to)) {
    auto p = ParsePacket(out);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->header.type, PacketType::kState);
    EXPECT_EQ(p->header.connection_id, 500);
    EXPECT_EQ(to, kA);
    ++states;
  }
  EXPECT_GE(states, 1);
}

// A SYN flood from many ports: only max_half_open connections are made,
// and they time out when no data follows.
TEST_F(SocketTableTest, SynFloodIsBounded) {
  for (uint16_t port = 1; port <= 1000; ++port) {
    b_.HandleDatagram(EncodePacket(Syn(port)),
                      Endpoint::V4({10, 0, 0, 1}, port), now_);
  }
  std::vector<SocketTable::Id> accepted = b_.TakeAccepted();
  EXPECT_EQ(accepted.size(), 8u);
  EXPECT_EQ(b_.stats().syns_refused, 992u);
  now_ += absl::Seconds(6);
  b_.Tick(now_);
  for (SocketTable::Id id : accepted) {
    ASSERT_NE(b_.Find(id), nullptr);
    EXPECT_EQ(b_.Find(id)->status().code(),
              absl::StatusCode::kDeadlineExceeded);
    b_.Release(id, now_);
  }
  b_.Tick(now_);
  EXPECT_EQ(b_.size(), 0u);
  // Room again for new connections.
  b_.HandleDatagram(EncodePacket(Syn(7)), kA, now_);
  EXPECT_EQ(b_.TakeAccepted().size(), 1u);
}

TEST_F(SocketTableTest, UnknownConnectionsGetFewResetsAndGarbageIsCounted) {
  Packet state;
  state.header.type = PacketType::kState;
  state.header.connection_id = 99;
  state.header.seq_nr = 1234;
  for (int i = 0; i < 1000; ++i)
    b_.HandleDatagram(EncodePacket(state), kA, now_);
  b_.HandleDatagram("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe",
                    kA, now_);
  b_.HandleDatagram(std::string(19, '\x01'), kA, now_);
  std::string out;
  Endpoint to;
  int resets = 0;
  while (b_.PollDatagram(now_, out, to)) {
    auto p = ParsePacket(out);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->header.type, PacketType::kReset);
    EXPECT_EQ(p->header.connection_id, 99);
    EXPECT_EQ(p->header.ack_nr, 1234);
    ++resets;
  }
  EXPECT_EQ(resets, 10);
  EXPECT_EQ(b_.stats().unknown, 1000u);
  EXPECT_EQ(b_.stats().malformed, 2u);
  EXPECT_EQ(b_.size(), 0u);
  // A RESET is never answered with one.
  Packet reset = state;
  reset.header.type = PacketType::kReset;
  now_ += absl::Seconds(10);
  b_.HandleDatagram(EncodePacket(reset), kA, now_);
  EXPECT_FALSE(b_.PollDatagram(now_, out, to));
}

// A RESET naming the id we send with (libutp's habit) closes the
// connection too, but only from the right peer.
TEST_F(SocketTableTest, ResetBySendIdFromThePeerOnly) {
  auto id = a_.Connect(kB, now_);
  ASSERT_TRUE(id.ok());
  for (int i = 0; i < 5; ++i) Round();
  Connection* c = a_.Find(*id);
  ASSERT_TRUE(c && c->connected());
  Packet reset;
  reset.header.type = PacketType::kReset;
  reset.header.connection_id = c->send_id();
  a_.HandleDatagram(EncodePacket(reset), Endpoint::V4({127, 0, 0, 9}, 2000),
                    now_);
  EXPECT_TRUE(a_.Find(*id)->connected());
  a_.HandleDatagram(EncodePacket(reset), kB, now_);
  EXPECT_EQ(a_.Find(*id)->status().code(), absl::StatusCode::kUnavailable);
}

// ICMP port unreachable fails a connection that is still connecting, to
// that peer only; an established one only if the peer then stays silent.
TEST_F(SocketTableTest, UnreachableFailsOnlyPendingConnectsToThatPeer) {
  auto up = a_.Connect(kB, now_);
  ASSERT_TRUE(up.ok());
  for (int i = 0; i < 5; ++i) Round();
  ASSERT_TRUE(a_.Find(*up)->connected());
  const Endpoint other = Endpoint::V4({127, 0, 0, 3}, 3000);
  auto pending = a_.Connect(other, now_);
  auto elsewhere = a_.Connect(Endpoint::V4({127, 0, 0, 4}, 3000), now_);
  ASSERT_TRUE(pending.ok() && elsewhere.ok());
  a_.TakeTouched();
  a_.HandleUnreachable(other, now_);
  EXPECT_EQ(a_.Find(*pending)->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a_.Find(*elsewhere)->state(), ConnectionState::kSynSent);
  EXPECT_EQ(a_.TakeTouched(), std::vector<SocketTable::Id>{*pending});
  // A forged ICMP for a live peer: its next packet cancels it.
  a_.HandleUnreachable(kB, now_);
  a_.Find(*up)->Write("ping");
  a_.MarkActive(*up);
  for (int i = 0; i < 2000; ++i) Round();  // 2 s, the peer acks
  EXPECT_TRUE(a_.Find(*up)->connected());
  // The peer died (its packets stop): the connection ends after the grace.
  a_.HandleUnreachable(kB, now_);
  now_ += absl::Seconds(1);
  a_.Tick(now_);
  EXPECT_EQ(a_.Find(*up)->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SocketTableTest, ConnectionLimit) {
  SocketTableOptions o = Options();
  o.max_connections = 3;
  SocketTable t(o, [this] { return random_(); });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.Connect(kB, now_).ok());
  EXPECT_EQ(t.Connect(kB, now_).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bt::protocol::utp
