// UtpHost over real UDP sockets on loopback, through the Transport
// interface the peer connections use; and FallbackTransport from uTP to
// TCP.
#include "client/net/utp_host.h"

#include <memory>
#include <random>
#include <string>

#include "absl/time/clock.h"
#include "client/net/event_loop.h"
#include "client/net/fallback_transport.h"
#include "client/net/tcp_transport.h"
#include "client/net/udp_socket.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

const Endpoint kLoopback = Endpoint::V4({127, 0, 0, 1}, 0);

// An observer that writes `send` and collects what arrives.
struct Peer : Transport::Observer {
  Transport* t = nullptr;
  std::string send;
  size_t sent = 0;
  std::string received;
  bool connected = false, closed_by_peer = false;
  absl::Status error;

  void OnTransportConnected() override {
    connected = true;
    Pump();
  }
  void OnTransportReadable() override {
    char buf[65536];
    while (true) {
      absl::StatusOr<size_t> n = t->Read(absl::MakeSpan(buf));
      if (!n.ok()) {
        closed_by_peer = n.status().message() == "connection closed by peer";
        if (!closed_by_peer) error = n.status();
        t->SetReading(false);
        return;
      }
      if (*n == 0) return;
      received.append(buf, *n);
    }
  }
  void OnTransportWritable() override { Pump(); }
  void OnTransportError(absl::Status status) override { error = status; }
  void Pump() {
    while (sent < send.size()) {
      absl::StatusOr<size_t> n = t->Write(std::string_view(send).substr(sent));
      if (!n.ok() || *n == 0) break;
      sent += *n;
    }
    t->SetWantWrite(sent < send.size());
  }
};

std::string Data(size_t n) {
  std::mt19937 random(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random());
  return s;
}

class UtpHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    for (auto* s : {&udp_a_, &udp_b_}) {
      auto socket = UdpSocket::Bind(loop_.get(), kLoopback);
      ASSERT_TRUE(socket.ok()) << socket.status();
      *s = *std::move(socket);
    }
    protocol::utp::SocketTableOptions options;
    options.connection.syn_retries = 1;
    a_ = std::make_unique<UtpHost>(loop_.get(), udp_a_.get(), options);
    b_ = std::make_unique<UtpHost>(loop_.get(), udp_b_.get(), options);
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration limit) {
    const absl::Time end = absl::Now() + limit;
    while (!done() && absl::Now() < end) {
      EXPECT_TRUE(loop_->RunOnce(0.05).ok());
    }
    return done();
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<UdpSocket> udp_a_, udp_b_;
  std::unique_ptr<UtpHost> a_, b_;
};

TEST_F(UtpHostTest, MovesMegabytesBothWaysAndClosesCleanly) {
  Peer up, down;
  up.send = Data(8 << 20);
  down.send = Data(1 << 20);
  std::unique_ptr<Transport> incoming;
  b_->SetAcceptHandler([&](std::unique_ptr<Transport> t) {
    incoming = std::move(t);
    down.t = incoming.get();
    ASSERT_TRUE(incoming->Start(&down).ok());
    down.Pump();
  });
  auto outgoing = a_->Connect(udp_b_->local_endpoint());
  ASSERT_TRUE(outgoing.ok()) << outgoing.status();
  up.t = outgoing->get();
  ASSERT_TRUE((*outgoing)->Start(&up).ok());
  ASSERT_TRUE(RunUntil(
      [&] {
        return up.connected && down.received.size() == up.send.size() &&
               up.received.size() == down.send.size();
      },
      absl::Seconds(60)))
      << "up got " << up.received.size() << ", down got "
      << down.received.size() << " " << up.error << " " << down.error;
  EXPECT_TRUE(down.received == up.send);
  EXPECT_TRUE(up.received == down.send);
  EXPECT_EQ(incoming->remote(), udp_a_->local_endpoint());
  // Closing one side is seen as a clean end by the other.
  (*outgoing)->Close();
  ASSERT_TRUE(RunUntil([&] { return down.closed_by_peer; }, absl::Seconds(5)));
  EXPECT_TRUE(down.error.ok()) << down.error;
  incoming->Close();
  ASSERT_TRUE(
      RunUntil([&] { return a_->connections() == 0 && b_->connections() == 0; },
               absl::Seconds(5)));
}

// Nobody speaks uTP there: the connect fails after the SYN's retries.
TEST_F(UtpHostTest, ConnectToSilentPortFails) {
  auto silent = UdpSocket::Bind(loop_.get(), kLoopback);
  ASSERT_TRUE(silent.ok());
  Peer p;
  auto t = a_->Connect((*silent)->local_endpoint());
  ASSERT_TRUE(t.ok());
  p.t = t->get();
  ASSERT_TRUE((*t)->Start(&p).ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(RunUntil([&] { return !p.error.ok(); }, absl::Seconds(10)));
  EXPECT_FALSE(p.connected);
  EXPECT_NE(p.error.message().find("uTP"), std::string::npos) << p.error;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// uTP fails (no uTP there), TCP to the same address works: the observer
// only sees a connected stream.
TEST_F(UtpHostTest, FallsBackToTcp) {
  auto listener = TcpListener::Listen(loop_.get(), kLoopback);
  ASSERT_TRUE(listener.ok());
  Peer server;
  server.send = "hello over tcp";
  std::unique_ptr<TcpTransport> accepted;
  ASSERT_TRUE((*listener)
                  ->Start([&](std::unique_ptr<TcpTransport> t) {
                    accepted = std::move(t);
                    server.t = accepted.get();
                    ASSERT_TRUE(accepted->Start(&server).ok());
                    server.Pump();
                  })
                  .ok());
  Endpoint target = (*listener)->local();  // its UDP port has no uTP
  auto utp = a_->Connect(target);
  ASSERT_TRUE(utp.ok());
  FallbackTransport t(*std::move(utp), [&]() {
    return absl::StatusOr<std::unique_ptr<Transport>>(
        TcpTransport::Connect(loop_.get(), target, std::nullopt));
  });
  Peer client;
  client.t = &t;
  ASSERT_TRUE(t.Start(&client).ok());
  // No UDP socket on that port: ICMP says so, and TCP follows at once
  // rather than after the SYN's 3 s of retries.
  const absl::Time start = absl::Now();
  ASSERT_TRUE(RunUntil([&] { return client.received == server.send; },
                       absl::Seconds(10)))
      << client.error;
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(client.connected);
  EXPECT_TRUE(t.used_fallback());
  EXPECT_TRUE(client.error.ok());
}

}  // namespace
}  // namespace bt::client
