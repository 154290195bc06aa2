#include "client/net/udp_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "absl/strings/str_format.h"
#include "client/net/socket_address.h"
#include "protocol/utp/packet.h"

namespace bt::client {

absl::StatusOr<std::unique_ptr<UdpSocket>> UdpSocket::Bind(
    EventLoop* loop, const Endpoint& local) {
  int fd = socket(local.is_v6() ? AF_INET6 : AF_INET,
                  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrFormat(
        "UDP socket for %s: %s", local.ToString(), std::strerror(errno)));
  }
  if (local.is_v6()) {
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  // Best effort: the kernel caps these at rmem_max / wmem_max.
  int size = kSocketBufferBytes;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(local, &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrFormat(
        "UDP bind to %s: %s", local.ToString(), std::strerror(e)));
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  std::optional<Endpoint> bound =
      FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  auto self = std::unique_ptr<UdpSocket>(
      new UdpSocket(loop, fd, bound.value_or(local)));
  UdpSocket* raw = self.get();
  absl::Status st = loop->Watch(fd, EventLoop::kReadable,
                                [raw](uint32_t) { raw->OnReadable(); });
  if (!st.ok()) return st;  // the destructor closes fd
  return self;
}

UdpSocket::UdpSocket(EventLoop* loop, int fd, const Endpoint& local)
    : loop_(loop),
      fd_(fd),
      local_(local),
      buffers_(kBatchSize * kMaxDatagramSize),
      addresses_(kBatchSize),
      iovecs_(kBatchSize),
      messages_(kBatchSize) {
  for (size_t i = 0; i < kBatchSize; ++i) {
    iovecs_[i].iov_base = buffers_.data() + i * kMaxDatagramSize;
    iovecs_[i].iov_len = kMaxDatagramSize;
  }
}

UdpSocket::~UdpSocket() {
  loop_->Unwatch(fd_);
  close(fd_);
}

void UdpSocket::OnReadable() {
  size_t received = 0;
  for (int call = 0; call < kMaxCallsPerEvent; ++call) {
    // recvmmsg overwrites msg_namelen and msg_flags: reset each slot.
    for (size_t i = 0; i < kBatchSize; ++i) {
      msghdr& h = messages_[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &addresses_[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &iovecs_[i];
      h.msg_iovlen = 1;
      messages_[i].msg_len = 0;
    }
    int n = recvmmsg(fd_, messages_.data(), kBatchSize, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // EINTR, or a pending socket error (e.g. from ICMP) that this call
      // has now consumed: try again, within the bound.
      continue;
    }
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      Dispatch(static_cast<size_t>(i), messages_[i].msg_len);
    }
    received += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < kBatchSize) break;  // drained
  }
  if (received > 0 && batch_done_) batch_done_();
}

void UdpSocket::Dispatch(size_t i, size_t size) {
  const msghdr& h = messages_[i].msg_hdr;
  if (h.msg_flags & MSG_TRUNC) return;  // longer than kMaxDatagramSize
  std::optional<Endpoint> from = FromSockaddr(
      reinterpret_cast<const sockaddr*>(&addresses_[i]), h.msg_namelen);
  if (!from) return;
  std::string_view datagram(buffers_.data() + i * kMaxDatagramSize, size);
  Handler& handler =
      protocol::utp::LooksLikeUtp(datagram) ? utp_handler_ : dht_handler_;
  if (handler) handler(datagram, *from);
}

bool UdpSocket::SendTo(std::string_view datagram, const Endpoint& to) {
  if (to.is_v6() != local_.is_v6()) return false;
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(to, &ss);
  ssize_t n;
  do {
    n = sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&ss), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ++send_errors_;
    return false;
  }
  return true;
}

}  // namespace bt::client
