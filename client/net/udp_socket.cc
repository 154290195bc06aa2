#include "client/net/udp_socket.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
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
  // ICMP errors (port unreachable) go to the error queue, so uTP can give
  // up on a peer without uTP at once.
  int one = 1;
  if (local.is_v6()) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
  } else {
    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
  }
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
  absl::Status st =
      loop->Watch(fd, EventLoop::kReadable, [raw](uint32_t ready) {
        if (ready & EventLoop::kError) raw->ReadErrors();
        if (ready & EventLoop::kReadable) raw->OnReadable();
      });
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

void UdpSocket::ReadErrors() {
  // Bounded like reads: what is left is reported on the next turn.
  for (int i = 0; i < static_cast<int>(kBatchSize); ++i) {
    sockaddr_storage to;
    char control[512];
    char byte;
    iovec iov{&byte, 1};
    msghdr h{};
    h.msg_name = &to;
    h.msg_namelen = sizeof to;
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = control;
    h.msg_controllen = sizeof control;
    if (recvmsg(fd_, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 =
          c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err e;
      std::memcpy(&e, CMSG_DATA(c), sizeof e);
      const bool unreachable =
          (e.ee_origin == SO_EE_ORIGIN_ICMP && e.ee_type == 3) ||
          (e.ee_origin == SO_EE_ORIGIN_ICMP6 && e.ee_type == 1);
      if (!unreachable || !unreachable_handler_) continue;
      // msg_name is the destination of the datagram that bounced.
      std::optional<Endpoint> dest =
          FromSockaddr(reinterpret_cast<sockaddr*>(&to), h.msg_namelen);
      if (dest) unreachable_handler_(*dest);
    }
  }
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

size_t UdpSocket::SendMany(absl::Span<const Outgoing> datagrams) {
  size_t sent = 0;
  while (!datagrams.empty()) {
    const size_t n = std::min(datagrams.size(), kBatchSize);
    mmsghdr msgs[kBatchSize];
    iovec iov[kBatchSize];
    sockaddr_storage to[kBatchSize];
    size_t used = 0;
    for (size_t i = 0; i < n; ++i) {
      const Outgoing& d = datagrams[i];
      if (d.to.is_v6() != local_.is_v6()) continue;  // refused, not counted
      iov[used] = {const_cast<char*>(d.datagram.data()), d.datagram.size()};
      msgs[used] = mmsghdr{};
      msgs[used].msg_hdr.msg_name = &to[used];
      msgs[used].msg_hdr.msg_namelen = ToSockaddr(d.to, &to[used]);
      msgs[used].msg_hdr.msg_iov = &iov[used];
      msgs[used].msg_hdr.msg_iovlen = 1;
      ++used;
    }
    size_t done = 0;
    while (done < used) {
      int r = sendmmsg(fd_, msgs + done, static_cast<unsigned>(used - done),
                       MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        // The first unsent one failed (buffer full or an error): count it
        // lost, as SendTo would, and go on with the rest.
        ++send_errors_;
        ++done;
        continue;
      }
      done += static_cast<size_t>(r);
      sent += static_cast<size_t>(r);
    }
    datagrams.remove_prefix(n);
  }
  return sent;
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
