#include "client/net/listen_sockets.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace bt::client {
namespace {

// BindOne binds `local`'s TCP listener and then its UDP socket at the
// port number the first one got.
absl::StatusOr<ListenSockets::Socket> BindOne(
    EventLoop* loop, const ListenSockets::Options& options, Endpoint local) {
  ListenSockets::Socket s;
  if (options.tcp) {
    ASSIGN_OR_RETURN(s.tcp, TcpListener::Listen(loop, local));
    local = s.tcp->local();
  }
  if (options.udp) {
    ASSIGN_OR_RETURN(s.udp, UdpSocket::Bind(loop, local));
    local = s.udp->local_endpoint();
  }
  s.local = local;
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ListenSockets>> ListenSockets::Bind(
    EventLoop* loop, const Options& options) {
  std::vector<Endpoint> addresses;
  for (const std::string& host : options.hosts) {
    absl::StatusOr<Endpoint> a = Endpoint::ParseAddress(host, 0);
    if (!a.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("local address: %s", a.status().message()));
    }
    if (std::find(addresses.begin(), addresses.end(), *a) == addresses.end()) {
      addresses.push_back(*a);
    }
  }
  if (addresses.empty()) {
    return absl::InvalidArgumentError("no local address to bind");
  }
  std::unique_ptr<ListenSockets> self(new ListenSockets());
  absl::Status last = absl::UnavailableError("no port to try");
  for (uint16_t port : options.ports) {
    for (int i = 0; i < (port == 0 ? kAnyPortAttempts : 1); ++i) {
      last = self->BindAll(loop, options, addresses, port);
      if (last.ok()) return self;
      if (addresses.empty()) {
        return absl::FailedPreconditionError(
            absl::StrFormat("no local address can be bound here (%s)",
                            absl::StrJoin(self->skipped_, "; ")));
      }
    }
  }
  self->sockets_.clear();
  return absl::UnavailableError(
      absl::StrFormat("could not bind any port (last: %s)", last.message()));
}

absl::Status ListenSockets::BindAll(EventLoop* loop, const Options& options,
                                    std::vector<Endpoint>& addresses,
                                    uint16_t port) {
  sockets_.clear();
  port_ = port;
  for (auto it = addresses.begin(); it != addresses.end();) {
    Endpoint local = *it;
    local.set_port(port_);
    absl::StatusOr<Socket> s = BindOne(loop, options, local);
    if (absl::IsFailedPrecondition(s.status())) {
      // This machine lacks the family or address: leave it out for good.
      skipped_.push_back(std::string(s.status().message()));
      it = addresses.erase(it);
      continue;
    }
    if (!s.ok()) return s.status();
    port_ = s->local.port();
    sockets_.push_back(*std::move(s));
    ++it;
  }
  if (sockets_.empty()) {
    return absl::FailedPreconditionError("no local address left to bind");
  }
  return absl::OkStatus();
}

ListenSockets::Socket* ListenSockets::Find(bool v6) {
  for (Socket& s : sockets_) {
    if (s.local.is_v6() == v6) return &s;
  }
  return nullptr;
}

}  // namespace bt::client
