#include "client/net/socket_address.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace bt::client {

socklen_t ToSockaddr(const Endpoint& e, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (e.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port());
    std::memcpy(&sin->sin_addr, e.address_bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port());
  std::memcpy(&sin6->sin6_addr, e.address_bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<Endpoint> FromSockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> a;
    std::memcpy(a.data(), &sin->sin_addr, 4);
    return Endpoint::V4(a, ntohs(sin->sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> a;
    std::memcpy(a.data(), &sin6->sin6_addr, 16);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.data(), kMapped, 12) == 0) {
      return Endpoint::V4({a[12], a[13], a[14], a[15]}, ntohs(sin6->sin6_port));
    }
    return Endpoint::V6(a, ntohs(sin6->sin6_port));
  }
  return std::nullopt;
}

absl::Status BindError(std::string_view what, int err) {
  std::string message = absl::StrFormat("%s: %s", what, std::strerror(err));
  if (err == EAFNOSUPPORT || err == EPROTONOSUPPORT || err == EADDRNOTAVAIL) {
    return absl::FailedPreconditionError(message);
  }
  return absl::UnavailableError(message);
}

absl::StatusOr<std::vector<Endpoint>> ResolveHost(const std::string& host,
                                                  uint16_t port) {
  if (absl::StatusOr<Endpoint> literal = Endpoint::ParseAddress(host, port);
      literal.ok()) {
    return std::vector<Endpoint>{*literal};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    std::string msg = absl::StrFormat("cannot resolve \"%s\": %s", host,
                                      gai_strerror(rc));
    return rc == EAI_AGAIN ? absl::UnavailableError(msg)
                           : absl::NotFoundError(msg);
  }
  std::vector<Endpoint> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    std::optional<Endpoint> e = FromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!e) continue;
    e->set_port(port);
    if (std::find(out.begin(), out.end(), *e) == out.end()) out.push_back(*e);
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrFormat("cannot resolve \"%s\": no IPv4/IPv6 address", host));
  }
  std::stable_sort(out.begin(), out.end(), [](const Endpoint& a, const Endpoint& b) {
    return a.is_v4() && !b.is_v4();
  });
  return out;
}

}  // namespace bt::client
