// TcpTransport: a Transport over a non-blocking TCP socket on the event
// loop, and the listener that accepts them.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::TcpTransport> t,
//                    bt::client::TcpTransport::Connect(loop, peer, bind_to));
//   RETURN_IF_ERROR(t->Start(&observer));      // OnTransportConnected follows
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::TcpListener> listener,
//                    bt::client::TcpListener::Listen(loop, local));
//   listener->Start([](std::unique_ptr<bt::client::TcpTransport> incoming) {
//     ...
//   });
//
// Sockets get TCP_NODELAY and 4 MiB buffers (fast local transfers).
#ifndef CLIENT_NET_TCP_TRANSPORT_H_
#define CLIENT_NET_TCP_TRANSPORT_H_

#include <signal.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/endpoint.h"
#include "client/net/event_loop.h"
#include "client/net/transport.h"

namespace bt::client {

class TcpTransport : public Transport {
 public:
  // Connect starts a connection to `peer`, from `bind_to` when given (an
  // address with port 0, so peers see the address we listen on). Errors:
  // kUnavailable when the socket cannot be made or the connect fails at
  // once.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> Connect(
      EventLoop* loop, const Endpoint& peer,
      const std::optional<Endpoint>& bind_to);
  // Adopt wraps an accepted, connected, non-blocking socket.
  static std::unique_ptr<TcpTransport> Adopt(EventLoop* loop, int fd,
                                             const Endpoint& peer);
  ~TcpTransport() override;

  absl::Status Start(Observer* observer) override;
  absl::StatusOr<size_t> Read(absl::Span<char> buf) override;
  absl::StatusOr<size_t> Write(std::string_view data) override;
  bool can_send_file() const override { return true; }
  void BeginFileSends() override;
  void EndFileSends() override;
  absl::StatusOr<size_t> SendFile(int fd, int64_t offset,
                                  size_t length) override;
  void SetReading(bool on) override;
  void SetWantWrite(bool on) override;
  void Close() override;
  bool connected() const override { return connected_; }
  const Endpoint& remote() const override { return remote_; }

 private:
  TcpTransport(EventLoop* loop, int fd, const Endpoint& peer, bool connected)
      : loop_(loop), fd_(fd), remote_(peer), connected_(connected) {}
  void OnReady(uint32_t ready);
  void ApplyInterest();

  EventLoop* loop_;
  int fd_;
  Endpoint remote_;
  bool connected_;
  Observer* observer_ = nullptr;
  bool reading_ = true;
  bool want_write_ = false;
  // During file sends: SIGPIPE held off for this thread (sendfile has no
  // MSG_NOSIGNAL), whether it was blocked before, and whether a send met
  // EPIPE (so raised one to take back).
  bool sending_files_ = false;
  sigset_t mask_before_files_;
  bool pipe_broke_ = false;
};

class TcpListener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<TcpTransport>)>;
  // Listen binds and listens on `local` (port 0: any free port); an IPv6
  // listener is IPV6_V6ONLY, so an IPv4 one may share its port number.
  // Errors: BindError's (socket_address.h) naming the address and the
  // system's reason: kFailedPrecondition when the machine has no such
  // family or address, kUnavailable else (the port is in use).
  static absl::StatusOr<std::unique_ptr<TcpListener>> Listen(
      EventLoop* loop, const Endpoint& local);
  ~TcpListener();
  // Start accepts connections (up to 64 per wake-up) and hands each, as a
  // connected transport, to `on_accept`.
  absl::Status Start(AcceptCallback on_accept);
  // local is the bound address (the real port when 0 was asked for).
  const Endpoint& local() const { return local_; }

 private:
  TcpListener(EventLoop* loop, int fd, const Endpoint& local)
      : loop_(loop), fd_(fd), local_(local) {}
  void OnAcceptable();

  EventLoop* loop_;
  int fd_;
  Endpoint local_;
  AcceptCallback on_accept_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_TCP_TRANSPORT_H_
