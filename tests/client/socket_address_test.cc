#include "client/net/socket_address.h"

#include <errno.h>
#include <netinet/in.h>

#include <cstring>

#include "gtest/gtest.h"

namespace bt::client {
namespace {

TEST(SocketAddressTest, RoundTripsV4AndV6) {
  for (const char* text : {"1.2.3.4:6881", "[2001:db8::1]:443", "0.0.0.0:0"}) {
    Endpoint e = *Endpoint::Parse(text);
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(e, &ss);
    EXPECT_EQ(len, e.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    std::optional<Endpoint> back = FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e) << text;
  }
}

TEST(SocketAddressTest, MappedV4BecomesV4AndShortOrOtherFamiliesFail) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(80);
  const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7};
  std::memcpy(&sin6.sin6_addr, mapped, 16);
  std::optional<Endpoint> e =
      FromSockaddr(reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ToString(), "10.0.0.7:80");
  EXPECT_FALSE(FromSockaddr(reinterpret_cast<sockaddr*>(&sin6), 8));
  sockaddr sa{};
  sa.sa_family = AF_UNIX;
  EXPECT_FALSE(FromSockaddr(&sa, sizeof(sa)));
}

TEST(SocketAddressTest, ResolvesLiteralsWithoutDns) {
  absl::StatusOr<std::vector<Endpoint>> r = ResolveHost("127.0.0.1", 6969);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].ToString(), "127.0.0.1:6969");
  r = ResolveHost("::1", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].ToString(), "[::1]:1");
  EXPECT_FALSE(ResolveHost("name.invalid", 1).ok());
}

// A family or address the machine lacks is told apart from a busy port.
TEST(SocketAddressTest, BindErrorsSayWhetherTheMachineLacksTheAddress) {
  for (int err : {EAFNOSUPPORT, EPROTONOSUPPORT, EADDRNOTAVAIL}) {
    EXPECT_EQ(BindError("[::]:1", err).code(),
              absl::StatusCode::kFailedPrecondition)
        << err;
  }
  const absl::Status busy = BindError("0.0.0.0:6881", EADDRINUSE);
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(busy.message(),
            std::string("0.0.0.0:6881: ") + strerror(EADDRINUSE));
}

}  // namespace
}  // namespace bt::client
