// TcpTransport::SendFile over a real loopback TCP connection: file bytes
// go out in order with the writes around them, a file that ends early is
// an error, and a peer that is gone is an error rather than a SIGPIPE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "client/net/event_loop.h"
#include "client/net/tcp_transport.h"
#include "gtest/gtest.h"
#include "tests/testing/files.h"

namespace bt::client {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
  return s;
}

class TcpSendFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    // A loopback connection: our end in a TcpTransport, theirs a plain
    // blocking socket.
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener, 1), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const int ours = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(ours, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    theirs_ = accept(listener, nullptr, nullptr);
    ASSERT_GE(theirs_, 0);
    close(listener);
    fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
    transport_ = TcpTransport::Adopt(loop_.get(), ours,
                                     Endpoint::V4({127, 0, 0, 1}, 1));
  }
  void TearDown() override {
    transport_.reset();
    if (theirs_ >= 0) close(theirs_);
  }
  std::string ReceiveExactly(size_t n) {
    std::string got(n, '\0');
    size_t at = 0;
    while (at < n) {
      const ssize_t r = read(theirs_, got.data() + at, n - at);
      if (r <= 0) break;
      at += static_cast<size_t>(r);
    }
    got.resize(at);
    return got;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<TcpTransport> transport_;
  int theirs_ = -1;
};

TEST_F(TcpSendFileTest, FileBytesGoOutInOrderWithTheWritesAroundThem) {
  const std::string content = Pattern(100000);
  const int file = testing::UnlinkedFileOrDie(content);
  transport_->BeginFileSends();
  ASSERT_EQ(*transport_->Write("head"), 4u);
  size_t sent = 0;
  while (sent < 50000) {
    absl::StatusOr<size_t> n = transport_->SendFile(file, 1000 + sent, 50000 - sent);
    ASSERT_TRUE(n.ok()) << n.status();
    sent += *n;
  }
  ASSERT_EQ(*transport_->Write("tail"), 4u);
  transport_->EndFileSends();
  EXPECT_EQ(ReceiveExactly(50008), "head" + content.substr(1000, 50000) + "tail");
  close(file);
}

TEST_F(TcpSendFileTest, AFileEndingBeforeTheRangeIsDataLoss) {
  const int file = testing::UnlinkedFileOrDie(Pattern(100));
  transport_->BeginFileSends();
  EXPECT_EQ(*transport_->SendFile(file, 50, 200), 50u);  // what there is
  absl::StatusOr<size_t> n = transport_->SendFile(file, 100, 100);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss) << n.status();
  transport_->EndFileSends();
  close(file);
}

TEST_F(TcpSendFileTest, SendFileOutsideBeginAndEndIsRefused) {
  const int file = testing::UnlinkedFileOrDie(Pattern(100));
  EXPECT_EQ(transport_->SendFile(file, 0, 100).status().code(),
            absl::StatusCode::kFailedPrecondition);
  close(file);
}

TEST_F(TcpSendFileTest, APeerGoneIsAnErrorNotASignal) {
  const int file = testing::UnlinkedFileOrDie(Pattern(1 << 20));
  // They close without reading: our sends meet a reset, then EPIPE, which
  // would raise SIGPIPE (and end this process) were it not held off.
  struct linger hard = {1, 0};
  setsockopt(theirs_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  close(theirs_);
  theirs_ = -1;
  absl::Status error;
  transport_->BeginFileSends();
  for (int i = 0; i < 1000 && error.ok(); ++i) {
    absl::StatusOr<size_t> n = transport_->SendFile(file, 0, 1 << 20);
    if (!n.ok()) error = n.status();
  }
  transport_->EndFileSends();
  EXPECT_FALSE(error.ok());
  // The thread's signal mask is as before, and no SIGPIPE waits in it.
  sigset_t mask, pending;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGPIPE));
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  close(file);
}

}  // namespace
}  // namespace bt::client
