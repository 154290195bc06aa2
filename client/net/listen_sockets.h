// ListenSockets: the sockets a client listens on, all on one port number:
// for each local address, a TCP listener (peer connections) and a UDP socket
// (uTP and the DHT). By default a client binds 0.0.0.0 and ::, so it is
// reachable over IPv4 and IPv6 at once, as libtorrent is; IPv6 sockets are
// IPV6_V6ONLY so the two families never share a socket.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::ListenSockets> sockets,
//                    bt::client::ListenSockets::Bind(
//                        loop, {.hosts = {"0.0.0.0", "::"}, .ports = {0}}));
//   uint16_t port = sockets->port();          // the same for every address
//   if (ListenSockets::Socket* v6 = sockets->Find(/*v6=*/true)) ...
//   for (const std::string& why : sockets->skipped()) log(why);
//
// A machine without IPv6 (or without one of the addresses asked for) is not
// an error as long as one address binds: that address is left out and named
// in skipped(). `loop` must outlive the ListenSockets.
#ifndef CLIENT_NET_LISTEN_SOCKETS_H_
#define CLIENT_NET_LISTEN_SOCKETS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "client/net/event_loop.h"
#include "client/net/tcp_transport.h"
#include "client/net/udp_socket.h"

namespace bt::client {

class ListenSockets {
 public:
  struct Options {
    // hosts: local addresses to bind, as IPv4 or IPv6 literals without
    // brackets ("0.0.0.0", "::", "127.0.0.1", "::1"); duplicates count once.
    std::vector<std::string> hosts;
    // ports: port numbers tried in turn until every host binds at one of
    // them (0: any free port, tried a few times).
    std::vector<uint16_t> ports = {0};
    bool tcp = true;  // a TCP listener per host
    bool udp = true;  // a UDP socket per host
  };
  struct Socket {
    Endpoint local;                    // the bound address and port
    std::unique_ptr<TcpListener> tcp;  // null without Options::tcp
    std::unique_ptr<UdpSocket> udp;    // null without Options::udp
  };

  // kAnyPortAttempts: how often port 0 is tried (another program may take
  // the number the first socket got before the others bind it).
  static constexpr int kAnyPortAttempts = 8;

  // Bind binds every host at one port number: the first port of
  // Options::ports where all of them bind (for port 0, the number the first
  // socket got). A host whose family or address this machine lacks (IPv6
  // turned off) is left out and named in skipped(). Listeners are bound but
  // not started (TcpListener::Start). Errors: kInvalidArgument for a host
  // that is not an address literal, or none at all; kFailedPrecondition
  // when no host can be bound on this machine; kUnavailable when no port
  // number is free for all of them (the last reason).
  static absl::StatusOr<std::unique_ptr<ListenSockets>> Bind(
      EventLoop* loop, const Options& options);

  // port is the port number every socket is bound to.
  uint16_t port() const { return port_; }
  std::vector<Socket>& sockets() { return sockets_; }
  const std::vector<Socket>& sockets() const { return sockets_; }
  // Find returns the first socket of a family, or null when none listens.
  Socket* Find(bool v6);
  // skipped: a line per host left out, with the system's reason
  // ("[::]:6881: Address family not supported by protocol").
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  ListenSockets() = default;
  // BindAll binds every address at `port` into sockets_ (cleared first),
  // dropping from `addresses` those this machine lacks.
  absl::Status BindAll(EventLoop* loop, const Options& options,
                       std::vector<Endpoint>& addresses, uint16_t port);

  uint16_t port_ = 0;
  std::vector<Socket> sockets_;
  std::vector<std::string> skipped_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_LISTEN_SOCKETS_H_
