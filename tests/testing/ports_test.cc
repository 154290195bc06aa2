// HoldsPort tells a process's own sockets from those of others, by type
// and state; StartListening returns only a program that holds its port.
#include "tests/testing/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace bt::testing {
namespace {

using ::testing::HasSubstr;

// BoundSocket is a socket of `type` bound to 127.0.0.1:`at` (0: a port of
// the kernel's choosing); listening if `listen`.
struct BoundSocket {
  BoundSocket(int type, bool listen, uint16_t at = 0)
      : fd(socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    sockaddr_in sin = LoopbackAddress(at);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    if (listen) EXPECT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof(sin);
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    port = ntohs(sin.sin_port);
  }
  ~BoundSocket() { close(fd); }
  int fd;
  uint16_t port = 0;
};

TEST(HoldsPortTest, SeesThisProcesssListeningSocket) {
  BoundSocket s(SOCK_STREAM, /*listen=*/true);
  EXPECT_TRUE(HoldsPort(getpid(), SOCK_STREAM, s.port));
  EXPECT_FALSE(HoldsPort(getpid(), SOCK_DGRAM, s.port));
}

TEST(HoldsPortTest, ATcpSocketThatDoesNotListenDoesNotCount) {
  BoundSocket s(SOCK_STREAM, /*listen=*/false);
  EXPECT_FALSE(HoldsPort(getpid(), SOCK_STREAM, s.port));
}

TEST(HoldsPortTest, SeesABoundUdpSocket) {
  BoundSocket s(SOCK_DGRAM, /*listen=*/false);
  EXPECT_TRUE(HoldsPort(getpid(), SOCK_DGRAM, s.port));
  EXPECT_FALSE(HoldsPort(getpid(), SOCK_STREAM, s.port));
}

TEST(HoldsPortTest, ANonexistentProcessHoldsNothing) {
  BoundSocket s(SOCK_STREAM, /*listen=*/true);
  EXPECT_FALSE(HoldsPort(-1, SOCK_STREAM, s.port));
}

// A listener on ::1 only: found in the IPv6 table, and held by the child,
// not by this process.
TEST(StartListeningTest, ReturnsAProgramThatHoldsItsPort) {
  absl::StatusOr<ListeningProcess> p = StartListening([](uint16_t port) {
    return std::vector<std::string>{
        "/usr/bin/python3", "-c",
        absl::StrCat("import socket, time\n"
                     "s = socket.socket(socket.AF_INET6)\n"
                     "s.bind(('::1', ",
                     port, "))\ns.listen()\ntime.sleep(60)\n")};
  });
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(HoldsPort(p->process->pid(), SOCK_STREAM, p->port));
  EXPECT_FALSE(HoldsPort(getpid(), SOCK_STREAM, p->port));
}

TEST(StartListeningTest, GivesUpOnAProgramThatNeverListens) {
  absl::StatusOr<ListeningProcess> p = StartListening(
      [](uint16_t) {
        return std::vector<std::string>{"/bin/sleep", "30"};
      },
      {.patience = absl::Milliseconds(200)});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(p.status().message(), HasSubstr("did not hold its port"));
}

TEST(StartListeningTest, GivesUpOnAProgramThatExits) {
  absl::StatusOr<ListeningProcess> p = StartListening(
      [](uint16_t) { return std::vector<std::string>{"/bin/false"}; });
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("exited with status 1"));
}

// TcpOnly is a program that listens on 127.0.0.1:`port` for TCP and holds
// no UDP port.
std::vector<std::string> TcpOnly(uint16_t port) {
  return {"/usr/bin/python3", "-c",
          absl::StrCat("import socket, time\n"
                       "s = socket.socket()\n"
                       "s.bind(('127.0.0.1', ",
                       port, "))\ns.listen()\ntime.sleep(60)\n")};
}

// The program must hold the UDP port too when asked: one listening on TCP
// only is given up.
TEST(StartListeningTest, UdpTooWantsTheUdpPortAsWell) {
  absl::StatusOr<ListeningProcess> p = StartListening(
      TcpOnly, {.patience = absl::Milliseconds(500), .udp_too = true});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("did not hold its port"));
}

// A UDP port that another process takes between choosing and binding it
// (here: this test, as each port is named) is given up at once, not after
// all of `patience`.
TEST(StartListeningTest, UdpTooGivesUpAUdpPortAnotherHolds) {
  std::vector<std::unique_ptr<BoundSocket>> taken;
  const absl::Time start = absl::Now();
  absl::StatusOr<ListeningProcess> p = StartListening(
      [&](uint16_t port) {
        taken.push_back(std::make_unique<BoundSocket>(SOCK_DGRAM, false, port));
        return TcpOnly(port);
      },
      {.patience = absl::Seconds(60), .udp_too = true});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(),
              HasSubstr("another process holds its UDP port"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

}  // namespace
}  // namespace bt::testing
