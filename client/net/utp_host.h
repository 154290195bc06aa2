// UtpHost: uTP (BEP 29) on the client's shared UDP socket. It feeds the
// socket's uTP datagrams to a sans-I/O protocol::utp::SocketTable, sends
// what the table yields, runs its timers on the event loop, and gives each
// connection to its owner as a Transport, the same interface TCP offers.
//
//   UtpHost utp(loop, udp_socket, options);
//   utp.SetAcceptHandler([&](std::unique_ptr<Transport> t) { ... });
//   ASSIGN_OR_RETURN(std::unique_ptr<Transport> t, utp.Connect(peer));
//   RETURN_IF_ERROR(t->Start(&observer));  // OnTransportConnected follows
//
// Transports behave like TcpTransport's: callbacks are level-triggered
// (OnTransportReadable repeats on each loop turn while bytes wait and
// reading is on), Read reports the peer's FIN as kUnavailable "connection
// closed by peer", and a failed connect (no answer to the SYN) arrives as
// OnTransportError. Transports may outlive the host; they then fail.
#ifndef CLIENT_NET_UTP_HOST_H_
#define CLIENT_NET_UTP_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/liveness.h"
#include "client/net/event_loop.h"
#include "client/net/transport.h"
#include "client/net/udp_socket.h"
#include "protocol/utp/socket_table.h"

namespace bt::client {

class UtpTransport;

class UtpHost {
 public:
  // `loop` and `socket` must outlive the host, which installs itself as
  // the socket's uTP and batch-done handler.
  UtpHost(EventLoop* loop, UdpSocket* socket,
          protocol::utp::SocketTableOptions options);
  ~UtpHost();
  UtpHost(const UtpHost&) = delete;
  UtpHost& operator=(const UtpHost&) = delete;

  // Connect starts a connection to `peer`. Errors: kResourceExhausted
  // when the table is full; kInvalidArgument for a peer of the other
  // address family than the socket.
  absl::StatusOr<std::unique_ptr<Transport>> Connect(const Endpoint& peer);
  // SetAcceptHandler receives incoming connections once their SYN came
  // (answered already). Without a handler, SYNs are refused.
  void SetAcceptHandler(std::function<void(std::unique_ptr<Transport>)> h);

  const protocol::utp::SocketTable::Stats& stats() const {
    return table_.stats();
  }
  size_t connections() const { return table_.size(); }
  static absl::Time Now();

  // For UtpTransport: the connection behind `id` (null once gone), and
  // notices that the owner acted on it or is done with it.
  protocol::utp::Connection* Find(protocol::utp::SocketTable::Id id) {
    return table_.Find(id);
  }
  void Activity(protocol::utp::SocketTable::Id id);
  void Attach(protocol::utp::SocketTable::Id id, UtpTransport* transport);
  void Detach(protocol::utp::SocketTable::Id id);
  // WantDispatch: run the transport's callbacks on the next loop turn.
  void WantDispatch(protocol::utp::SocketTable::Id id);

 private:
  void OnDatagram(std::string_view datagram, const Endpoint& from);
  void AfterBatch();
  void ScheduleFlush();
  void Flush();
  void Dispatch();
  void ArmTimer();

  EventLoop* loop_;
  UdpSocket* socket_;
  protocol::utp::SocketTable table_;
  std::function<void(std::unique_ptr<Transport>)> on_accept_;
  absl::flat_hash_map<protocol::utp::SocketTable::Id, UtpTransport*>
      transports_;
  absl::flat_hash_set<protocol::utp::SocketTable::Id> dispatch_;
  bool flush_posted_ = false;
  EventLoop::TimerId timer_ = 0;
  absl::Time timer_at_ = absl::InfiniteFuture();
  // Datagram buffers and destinations of a send batch, reused.
  std::vector<std::string> out_;
  std::vector<Endpoint> to_;
  Liveness liveness_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_UTP_HOST_H_
