#include "client/net/udp_socket.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/endpoint.h"
#include "client/net/event_loop.h"
#include "gtest/gtest.h"

namespace bt::client {
namespace {

struct Received {
  std::string datagram;
  Endpoint from;
};

// A uTP-looking datagram: a 20-byte header whose first byte is 0x41
// (type ST_STATE, version 1).
std::string UtpState() {
  std::string d(20, '\0');
  d[0] = 0x41;
  return d;
}

class UdpSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = *EventLoop::Create();
    auto a = UdpSocket::Bind(loop_.get(), Endpoint::V4({127, 0, 0, 1}, 0));
    auto b = UdpSocket::Bind(loop_.get(), Endpoint::V4({127, 0, 0, 1}, 0));
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    a_ = std::move(*a);
    b_ = std::move(*b);
    b_->SetDhtHandler([this](std::string_view d, const Endpoint& from) {
      dht_.push_back({std::string(d), from});
    });
    b_->SetUtpHandler([this](std::string_view d, const Endpoint& from) {
      utp_.push_back({std::string(d), from});
    });
    b_->SetBatchDoneHandler([this] { ++batches_; });
  }

  // RunUntil runs the loop until `done` or 5 seconds pass.
  bool RunUntil(const std::function<bool()>& done) {
    auto end = EventLoop::Now() + std::chrono::seconds(5);
    while (!done()) {
      if (EventLoop::Now() > end) return false;
      EXPECT_TRUE(loop_->RunOnce(0.05).ok());
    }
    return true;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<UdpSocket> a_, b_;
  std::vector<Received> dht_, utp_;
  int batches_ = 0;
};

TEST_F(UdpSocketTest, BindReportsTheChosenPort) {
  EXPECT_NE(a_->local_endpoint().port(), 0);
  EXPECT_TRUE(a_->local_endpoint().IsLoopback());
  EXPECT_NE(a_->local_endpoint(), b_->local_endpoint());
}

TEST_F(UdpSocketTest, BindToAPortInUseIsUnavailable) {
  auto again = UdpSocket::Bind(loop_.get(), a_->local_endpoint());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(again.status().message().find(a_->local_endpoint().ToString()),
            std::string_view::npos)
      << again.status();
}

TEST_F(UdpSocketTest, KrpcGoesOnlyToTheDhtHandler) {
  const std::string krpc =
      "d1:ad2:id20:abcdefghij0123456789e1:q4:ping"
      "1:t2:aa1:y1:qe";
  ASSERT_TRUE(a_->SendTo(krpc, b_->local_endpoint()));
  ASSERT_TRUE(RunUntil([&] { return !dht_.empty(); }));
  loop_->RunOnce(0.05).IgnoreError();
  ASSERT_EQ(dht_.size(), 1u);
  EXPECT_EQ(dht_[0].datagram, krpc);
  EXPECT_EQ(dht_[0].from, a_->local_endpoint());
  EXPECT_TRUE(utp_.empty());
  EXPECT_EQ(batches_, 1);
}

TEST_F(UdpSocketTest, UtpGoesOnlyToTheUtpHandler) {
  ASSERT_TRUE(a_->SendTo(UtpState(), b_->local_endpoint()));
  ASSERT_TRUE(RunUntil([&] { return !utp_.empty(); }));
  loop_->RunOnce(0.05).IgnoreError();
  ASSERT_EQ(utp_.size(), 1u);
  EXPECT_EQ(utp_[0].datagram, UtpState());
  EXPECT_EQ(utp_[0].from, a_->local_endpoint());
  EXPECT_TRUE(dht_.empty());
}

TEST_F(UdpSocketTest, AKindWithoutHandlerIsDropped) {
  b_->SetUtpHandler(nullptr);
  ASSERT_TRUE(a_->SendTo(UtpState(), b_->local_endpoint()));
  ASSERT_TRUE(a_->SendTo("d1:y1:qe", b_->local_endpoint()));
  ASSERT_TRUE(RunUntil([&] { return !dht_.empty(); }));
  EXPECT_EQ(dht_.size(), 1u);
  EXPECT_TRUE(utp_.empty());
}

TEST_F(UdpSocketTest, ABurstArrivesCompleteInBatches) {
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) {
    std::string d = UtpState();
    d += std::to_string(i);
    ASSERT_TRUE(a_->SendTo(d, b_->local_endpoint())) << i;
  }
  ASSERT_TRUE(RunUntil([&] { return utp_.size() == kCount; })) << utp_.size();
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(utp_[i].datagram.substr(20), std::to_string(i));
  }
  EXPECT_GE(batches_, 1);
  EXPECT_LT(batches_, kCount);
  EXPECT_EQ(a_->send_errors(), 0u);
}

TEST_F(UdpSocketTest, ALargeDatagramArrivesWhole) {
  std::string big = UtpState();
  big.resize(60 * 1024);
  for (size_t i = 20; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(a_->SendTo(big, b_->local_endpoint()));
  ASSERT_TRUE(RunUntil([&] { return !utp_.empty(); }));
  EXPECT_EQ(utp_[0].datagram, big);
}

// A datagram to a port where no socket listens bounces (ICMP port
// unreachable); the handler hears where it was going.
TEST_F(UdpSocketTest, UnreachablePortIsReported) {
  Endpoint closed;
  {
    auto gone = UdpSocket::Bind(loop_.get(), Endpoint::V4({127, 0, 0, 1}, 0));
    ASSERT_TRUE(gone.ok());
    closed = (*gone)->local_endpoint();
  }
  std::vector<Endpoint> unreachable;
  a_->SetUnreachableHandler(
      [&](const Endpoint& to) { unreachable.push_back(to); });
  ASSERT_TRUE(a_->SendTo("d1:y1:qe", closed));
  ASSERT_TRUE(RunUntil([&] { return !unreachable.empty(); }));
  EXPECT_EQ(unreachable[0], closed);
  // The socket still works afterwards.
  ASSERT_TRUE(a_->SendTo("d1:y1:qe", b_->local_endpoint()));
  ASSERT_TRUE(RunUntil([&] { return !dht_.empty(); }));
}

// SendMany: 200 datagrams (more than one sendmmsg batch) all arrive, in
// order; one to the other family is skipped, not counted as sent.
TEST_F(UdpSocketTest, SendManyBatchesEverything) {
  std::vector<std::string> bodies;
  for (int i = 0; i < 200; ++i)
    bodies.push_back("d1:i" + std::to_string(i) + "e");
  std::vector<UdpSocket::Outgoing> out;
  for (const std::string& b : bodies) out.push_back({b, b_->local_endpoint()});
  out.insert(
      out.begin() + 7,
      UdpSocket::Outgoing{"x", Endpoint::ParseAddress("::1", 9).value()});
  EXPECT_EQ(a_->SendMany(out), 200u);
  ASSERT_TRUE(RunUntil([&] { return dht_.size() == 200; })) << dht_.size();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(dht_[i].datagram, bodies[i]);
}

// UtpSized is a uTP-looking datagram of `size` bytes that names `i`.
std::string UtpSized(int i, size_t size) {
  std::string d = UtpState() + std::to_string(i) + ";";
  d.resize(size, static_cast<char>('a' + i % 26));
  return d;
}

// Equal-sized datagrams to one address go out as segmented runs where the
// kernel can, yet on the wire each is its own datagram: a plain socket
// that never asked for joined receives reads them one by one, in order,
// and so does a UdpSocket, which may receive them joined.
TEST_F(UdpSocketTest, SegmentedRunsArriveAsSeparateDatagrams) {
  const int plain = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(plain, 0);
  const int room = 4 << 20;  // the default buffer may not hold them all
  setsockopt(plain, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(plain, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(plain, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const Endpoint plain_end = Endpoint::V4({127, 0, 0, 1}, ntohs(addr.sin_port));

  constexpr int kCount = 131;  // two full runs and a short one
  std::vector<std::string> bodies;
  for (int i = 0; i < kCount; ++i) {
    bodies.push_back(UtpSized(i, i + 1 == kCount ? 700 : 1420));
  }
  std::vector<UdpSocket::Outgoing> out;
  for (const std::string& b : bodies) out.push_back({b, plain_end});
  for (const std::string& b : bodies) out.push_back({b, b_->local_endpoint()});
  EXPECT_EQ(a_->SendMany(out), 2u * kCount);
  EXPECT_GT(a_->segmented_sends(), 0u) << "no UDP_SEGMENT in this kernel?";
  EXPECT_EQ(a_->send_errors(), 0u);

  std::vector<std::string> got;
  char buf[2048];
  while (got.size() < kCount) {
    pollfd p{plain, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = recv(plain, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.emplace_back(buf, static_cast<size_t>(n));
  }
  close(plain);
  ASSERT_EQ(got.size(), bodies.size());
  for (int i = 0; i < kCount; ++i) EXPECT_TRUE(got[i] == bodies[i]) << i;

  ASSERT_TRUE(RunUntil([&] { return utp_.size() == kCount; })) << utp_.size();
  for (int i = 0; i < kCount; ++i) {
    EXPECT_TRUE(utp_[i].datagram == bodies[i]) << i;
  }
}

// A run ends at another destination, and after a shorter datagram; what
// each receiver gets is exactly what was sent to it, in order.
TEST_F(UdpSocketTest, RunsBreakAtAnotherAddressOrAShorterDatagram) {
  auto c = UdpSocket::Bind(loop_.get(), Endpoint::V4({127, 0, 0, 1}, 0));
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> at_c;
  (*c)->SetUtpHandler(
      [&](std::string_view d, const Endpoint&) { at_c.emplace_back(d); });
  const Endpoint b = b_->local_endpoint(), to_c = (*c)->local_endpoint();
  const std::vector<std::pair<size_t, Endpoint>> plan = {
      {300, b}, {300, b}, {300, to_c}, {300, b}, {200, b},
      {300, b}, {300, b}, {100, b},    {100, b}, {300, to_c}};
  std::vector<std::string> bodies;
  for (size_t i = 0; i < plan.size(); ++i) {
    bodies.push_back(UtpSized(static_cast<int>(i), plan[i].first));
  }
  std::vector<UdpSocket::Outgoing> out;
  std::vector<std::string> want_b, want_c;
  for (size_t i = 0; i < plan.size(); ++i) {
    out.push_back({bodies[i], plan[i].second});
    (plan[i].second == b ? want_b : want_c).push_back(bodies[i]);
  }
  EXPECT_EQ(a_->SendMany(out), plan.size());
  ASSERT_TRUE(RunUntil([&] {
    return utp_.size() == want_b.size() && at_c.size() == want_c.size();
  }));
  std::vector<std::string> got_b;
  for (const Received& r : utp_) got_b.push_back(r.datagram);
  EXPECT_EQ(got_b, want_b);
  EXPECT_EQ(at_c, want_c);
}

TEST_F(UdpSocketTest, SendToTheOtherFamilyIsRefused) {
  Endpoint v6 = Endpoint::V6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                             b_->local_endpoint().port());
  EXPECT_FALSE(a_->SendTo("d1:y1:qe", v6));
}

TEST_F(UdpSocketTest, DestroyingTheSocketUnwatchesIt) {
  const size_t watched = loop_->watched_count();
  b_.reset();
  EXPECT_EQ(loop_->watched_count(), watched - 1);
}

}  // namespace
}  // namespace bt::client
