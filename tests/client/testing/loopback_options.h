// LoopbackClientOptions: ClientOptions for a real Client in a test, which
// must never reach past loopback: it listens on 127.0.0.1 (tests of IPv6
// add "::1" to local_hosts after checking HaveIpv6Loopback), has no DHT
// routers (the default list names public hosts), no local service
// discovery (multicast; only tests in a network namespace of their own
// turn it on) and answers every host name lookup with an error instead of
// asking DNS. Tests add loopback DHT nodes
// themselves (Client::AddDhtNode, or dht_bootstrap with IP literals, which
// never reach host_lookup).
//
//   ClientOptions options = testing::LoopbackClientOptions();
//   options.upload_rate_limit = 1 << 20;
//   ASSIGN_OR_RETURN(auto client, Client::Create(options));
#ifndef TESTS_CLIENT_TESTING_LOOPBACK_OPTIONS_H_
#define TESTS_CLIENT_TESTING_LOOPBACK_OPTIONS_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/endpoint.h"
#include "client/client_options.h"

namespace bt::testing {

inline client::ClientOptions LoopbackClientOptions() {
  client::ClientOptions o;
  o.local_hosts = {"127.0.0.1"};
  o.dht_bootstrap.clear();
  o.enable_lsd = false;
  o.host_lookup = [](const std::string& host,
                     uint16_t) -> absl::StatusOr<std::vector<Endpoint>> {
    return absl::NotFoundError(
        absl::StrCat("tests look no host names up (asked for ", host, ")"));
  };
  return o;
}

// HaveIpv6Loopback: a socket can be bound to [::1] here (IPv6 may be
// turned off, or ::1 missing from lo, in a container). Tests of IPv6 skip
// without it.
inline bool HaveIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace bt::testing

#endif  // TESTS_CLIENT_TESTING_LOOPBACK_OPTIONS_H_
