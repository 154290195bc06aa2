// UdpSocket: one non-blocking UDP socket on the EventLoop, shared by the
// DHT (KRPC) and uTP (BEP 29), as libtorrent does: both use the same port
// number as the TCP listener. Each received datagram goes to the DHT handler
// or the uTP handler, as protocol::utp::LooksLikeUtp decides (a KRPC message
// starts with 'd' and fails it).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::UdpSocket> udp,
//                    bt::client::UdpSocket::Bind(
//                        loop.get(), bt::Endpoint::V4({0, 0, 0, 0}, 6881)));
//   udp->SetDhtHandler([&](std::string_view d, const bt::Endpoint& from) {
//     dht_node.HandlePacket(d, from, now);
//   });
//   udp->SetUtpHandler([&](std::string_view d, const bt::Endpoint& from) {
//     utp_table.Receive(d, from);
//   });
//   udp->SetBatchDoneHandler([&] { utp_table.FlushAcks(); });
//   udp->SendTo(bytes, peer);  // false: dropped now (count it as loss)
//   while (running) loop->RunOnce(-1);
//
// Reading: on each readable event the socket calls recvmmsg up to
// kMaxCallsPerEvent times, each taking up to kBatchSize datagrams of up to
// kMaxDatagramSize bytes into buffers allocated once per socket (4 MiB of
// address space, left uninitialised: only the pages datagrams land in
// become resident, about 256 KiB for datagrams under 4 KiB).
// What is left stays queued in the kernel and is read on the next RunOnce
// (the loop is level-triggered), so a flood on this socket cannot starve
// the loop's other descriptors and timers. Datagrams longer than
// kMaxDatagramSize (only IPv6 jumbograms could be) are dropped.
//
// Segmentation offload: where the kernel has it (Linux UDP_SEGMENT and
// UDP_GRO), SendMany hands a run of equal-sized datagrams to one address
// to the kernel as one buffer that it cuts into those datagrams, and the
// kernel may hand several datagrams from one sender to us as one buffer
// that we cut again. On the wire nothing changes: every datagram is its
// own, so peers need no such support. uTP's full-sized packets take the
// per-datagram cost of the kernel's send path once per run, not once each.
// When the path cannot segment (a device without checksum offload), the
// socket falls back to one datagram per message for good.
#ifndef CLIENT_NET_UDP_SOCKET_H_
#define CLIENT_NET_UDP_SOCKET_H_

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/endpoint.h"
#include "client/net/event_loop.h"

namespace bt::client {

class UdpSocket {
 public:
  // kBatchSize is how many datagrams one recvmmsg call may return.
  static constexpr size_t kBatchSize = 64;
  // kMaxDatagramSize is the receive buffer per datagram (64 KiB: any UDP
  // payload over IPv4 or non-jumbo IPv6 fits).
  static constexpr size_t kMaxDatagramSize = 64 * 1024;
  // kMaxCallsPerEvent bounds the recvmmsg calls per readable event (so at
  // most kBatchSize * kMaxCallsPerEvent datagrams are handed out per event).
  static constexpr int kMaxCallsPerEvent = 4;
  // kSocketBufferBytes is what SO_RCVBUF and SO_SNDBUF are set to (the
  // kernel caps it at net.core.rmem_max / wmem_max); uTP on loopback moves
  // hundreds of MB/s and needs room for bursts.
  static constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

  // Handler receives one datagram and its sender. `datagram` is valid only
  // during the call.
  using Handler =
      std::function<void(std::string_view datagram, const Endpoint& from)>;

  // Bind makes a UDP socket bound to `local` (port 0 picks a free port) and
  // watches it on `loop`. IPv6 sockets are IPV6_V6ONLY. Errors: those of
  // BindError (socket_address.h) naming the address when the socket cannot
  // be made or bound (kFailedPrecondition when the machine has no such
  // family or address, kUnavailable else); the loop's error when it
  // refuses the descriptor. `loop` must outlive the UdpSocket.
  static absl::StatusOr<std::unique_ptr<UdpSocket>> Bind(EventLoop* loop,
                                                         const Endpoint& local);
  // ~UdpSocket unwatches and closes the socket; no handler runs afterwards.
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // SetDhtHandler / SetUtpHandler set who receives each kind of datagram
  // (LooksLikeUtp decides); a kind with no handler (or an empty one) is
  // dropped. They may be called at any time except from inside the handler
  // being replaced. A handler may call SendTo but must not destroy the
  // UdpSocket.
  void SetDhtHandler(Handler h) { dht_handler_ = std::move(h); }
  void SetUtpHandler(Handler h) { utp_handler_ = std::move(h); }
  // SetBatchDoneHandler sets what runs once after each readable event's
  // datagrams were handed out (when at least one datagram was received);
  // uTP flushes its acks there, so one ack covers many packets.
  void SetBatchDoneHandler(std::function<void()> done) {
    batch_done_ = std::move(done);
  }
  // SetUnreachableHandler receives the destination of each datagram the
  // network bounced as unreachable (ICMP port or host unreachable): no
  // socket listens there.
  void SetUnreachableHandler(std::function<void(const Endpoint& to)> h) {
    unreachable_handler_ = std::move(h);
  }

  // SendTo sends one datagram to `to` without blocking. Returns false when
  // it could not be sent now (EAGAIN/ENOBUFS or another error; counted in
  // send_errors(): for UDP this is like any other loss) and when `to` is of
  // the other address family than the socket (refused, not counted).
  bool SendTo(std::string_view datagram, const Endpoint& to);
  // SendMany sends `datagrams` (to their endpoints) with as few system
  // calls as it can (sendmmsg, kBatchSize at a time); returns how many
  // went out. Failures count as in SendTo.
  struct Outgoing {
    std::string_view datagram;
    Endpoint to;
  };
  size_t SendMany(absl::Span<const Outgoing> datagrams);

  // local_endpoint is the bound address and port (the real port when
  // Bind was given port 0).
  const Endpoint& local_endpoint() const { return local_; }
  // send_errors counts the datagrams SendTo failed to send.
  uint64_t send_errors() const { return send_errors_; }
  // segmented_sends counts messages that carried a run of datagrams for
  // the kernel to cut (0 when the kernel cannot).
  uint64_t segmented_sends() const { return segmented_sends_; }

  // kMaxSegments and kMaxSegmentedBytes bound one segmented send (the
  // kernel's limits are 64 segments and a 64 KiB UDP payload).
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxSegmentedBytes = 65000;

 private:
  UdpSocket(EventLoop* loop, int fd, const Endpoint& local);
  void OnReadable();
  // Dispatch hands message `i` of the last batch to its handler, cut into
  // its datagrams when the kernel joined several.
  void Dispatch(size_t i, size_t size);
  // RunLength: how many datagrams from the front of `d` may go out as one
  // segmented message (1 without segmentation).
  size_t RunLength(absl::Span<const Outgoing> d) const;
  // SendBatch sends up to kBatchSize messages from the front of `d` with
  // one sendmmsg (more when one fails); returns how many datagrams of `d`
  // it consumed and adds those that went out to `sent`.
  size_t SendBatch(absl::Span<const Outgoing> d, size_t& sent);
  // ReadErrors drains the socket's error queue (ICMP reports).
  void ReadErrors();

  EventLoop* loop_;
  int fd_;
  Endpoint local_;
  Handler dht_handler_;
  Handler utp_handler_;
  std::function<void()> batch_done_;
  std::function<void(const Endpoint&)> unreachable_handler_;
  uint64_t send_errors_ = 0;
  uint64_t segmented_sends_ = 0;
  bool segment_sends_ = false;    // UDP_SEGMENT works on this socket
  bool joined_receives_ = false;  // UDP_GRO is on
  // recvmmsg's buffers: kBatchSize slots of kMaxDatagramSize bytes, not
  // zeroed (see the header comment).
  std::unique_ptr<char[]> buffers_;
  std::vector<sockaddr_storage> addresses_;
  std::vector<struct iovec> iovecs_;
  std::vector<struct mmsghdr> messages_;
  // Control space per slot for UDP_GRO's segment size.
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(int))];
  };
  std::vector<Control> controls_;
  // sendmmsg's iovecs: up to kMaxSegments per message.
  std::vector<struct iovec> send_iovecs_;
};

}  // namespace bt::client

#endif  // CLIENT_NET_UDP_SOCKET_H_
