// Conversions between bt::Endpoint and the socket API's sockaddr, and a
// host name lookup. client/ owns every socket; layers below only see
// Endpoint values.
//
//   sockaddr_storage ss;
//   socklen_t len = bt::client::ToSockaddr(endpoint, &ss);
//   connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
//   ASSIGN_OR_RETURN(std::vector<bt::Endpoint> addrs,
//                    bt::client::ResolveHost("tracker.example", 6969));
#ifndef CLIENT_NET_SOCKET_ADDRESS_H_
#define CLIENT_NET_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/endpoint.h"

namespace bt::client {

// ToSockaddr fills `*out` with `e` (sockaddr_in or sockaddr_in6) and
// returns its length.
socklen_t ToSockaddr(const Endpoint& e, sockaddr_storage* out);

// FromSockaddr converts an AF_INET or AF_INET6 address; nullopt otherwise.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4 endpoints.
std::optional<Endpoint> FromSockaddr(const sockaddr* sa, socklen_t len);

// BindError is the status for a socket() or bind() of `what` that failed
// with errno `err`: kFailedPrecondition when the machine has no such
// address family or address (EAFNOSUPPORT, EPROTONOSUPPORT, EADDRNOTAVAIL:
// IPv6 turned off, an address of another host), kUnavailable otherwise (a
// port in use, no descriptors left). The message names `what` and errno's
// text.
absl::Status BindError(std::string_view what, int err);

// ResolveHost returns the addresses of `host` (a DNS name or an IP literal,
// without brackets) with `port`, IPv4 first. Literals never touch DNS.
// This calls getaddrinfo and blocks for DNS names. Errors: kNotFound when
// the name does not resolve, kUnavailable for a temporary DNS failure.
absl::StatusOr<std::vector<Endpoint>> ResolveHost(const std::string& host,
                                                  uint16_t port);

}  // namespace bt::client

#endif  // CLIENT_NET_SOCKET_ADDRESS_H_
