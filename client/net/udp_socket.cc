#include "client/net/udp_socket.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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
    return BindError(absl::StrFormat("UDP socket for %s", local.ToString()),
                     errno);
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
  // Segmentation offload where the kernel has it (see the header).
  int segment = 0;
  socklen_t segment_len = sizeof segment;
  const bool can_segment =
      getsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment, &segment_len) == 0;
  const bool can_join = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(local, &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    close(fd);
    return BindError(absl::StrFormat("UDP bind to %s", local.ToString()), e);
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  std::optional<Endpoint> bound =
      FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  auto self = std::unique_ptr<UdpSocket>(
      new UdpSocket(loop, fd, bound.value_or(local)));
  UdpSocket* raw = self.get();
  raw->segment_sends_ = can_segment;
  raw->joined_receives_ = can_join;
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
      buffers_(new char[kBatchSize * kMaxDatagramSize]),
      addresses_(kBatchSize),
      iovecs_(kBatchSize),
      messages_(kBatchSize),
      controls_(kBatchSize),
      send_iovecs_(kBatchSize * kMaxSegments) {
  for (size_t i = 0; i < kBatchSize; ++i) {
    iovecs_[i].iov_base = buffers_.get() + i * kMaxDatagramSize;
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
      if (joined_receives_) {
        h.msg_control = &controls_[i];
        h.msg_controllen = sizeof(Control);
      }
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
  msghdr& h = messages_[i].msg_hdr;
  if (h.msg_flags & MSG_TRUNC) return;  // longer than kMaxDatagramSize
  std::optional<Endpoint> from = FromSockaddr(
      reinterpret_cast<const sockaddr*>(&addresses_[i]), h.msg_namelen);
  if (!from) return;
  // With UDP_GRO the kernel says the size of each joined datagram.
  size_t segment = size;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO) continue;
    int joined = 0;
    std::memcpy(&joined, CMSG_DATA(c), sizeof joined);
    if (joined > 0) segment = static_cast<size_t>(joined);
  }
  std::string_view rest(buffers_.get() + i * kMaxDatagramSize, size);
  do {
    const std::string_view datagram = rest.substr(0, segment);
    rest.remove_prefix(datagram.size());
    Handler& handler =
        protocol::utp::LooksLikeUtp(datagram) ? utp_handler_ : dht_handler_;
    if (handler) handler(datagram, *from);
  } while (!rest.empty());
}

size_t UdpSocket::SendMany(absl::Span<const Outgoing> datagrams) {
  size_t sent = 0;
  while (!datagrams.empty()) {
    datagrams.remove_prefix(SendBatch(datagrams, sent));
  }
  return sent;
}

size_t UdpSocket::RunLength(absl::Span<const Outgoing> d) const {
  const size_t segment = d[0].datagram.size();
  if (!segment_sends_ || segment == 0) return 1;
  size_t n = 1, bytes = segment;
  while (n < d.size() && n < kMaxSegments) {
    const size_t size = d[n].datagram.size();
    if (d[n].to != d[0].to || size == 0 || size > segment ||
        bytes + size > kMaxSegmentedBytes) {
      break;
    }
    bytes += size;
    ++n;
    if (size < segment) break;  // only the last may be shorter
  }
  return n;
}

size_t UdpSocket::SendBatch(absl::Span<const Outgoing> d, size_t& sent) {
  mmsghdr msgs[kBatchSize];
  sockaddr_storage to[kBatchSize];
  Control control[kBatchSize];
  size_t start[kBatchSize], count[kBatchSize];
  size_t used = 0, consumed = 0, iovecs = 0;
  while (used < kBatchSize && consumed < d.size()) {
    const Outgoing& o = d[consumed];
    if (o.to.is_v6() != local_.is_v6()) {  // refused, not counted
      ++consumed;
      continue;
    }
    const size_t run = RunLength(d.subspan(consumed));
    msgs[used] = mmsghdr{};
    msghdr& h = msgs[used].msg_hdr;
    h.msg_name = &to[used];
    h.msg_namelen = ToSockaddr(o.to, &to[used]);
    h.msg_iov = &send_iovecs_[iovecs];
    h.msg_iovlen = run;
    for (size_t k = 0; k < run; ++k) {
      const std::string_view datagram = d[consumed + k].datagram;
      send_iovecs_[iovecs++] = {const_cast<char*>(datagram.data()),
                                datagram.size()};
    }
    if (run > 1) {
      h.msg_control = &control[used];
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const uint16_t segment = static_cast<uint16_t>(o.datagram.size());
      std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    start[used] = consumed;
    count[used++] = run;
    consumed += run;
  }
  size_t done = 0;
  while (done < used) {
    int r = sendmmsg(fd_, msgs + done, static_cast<unsigned>(used - done),
                     MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = errno;
      if (count[done] > 1 && (e == EIO || e == EINVAL || e == EOPNOTSUPP)) {
        // The path cannot segment: from here on, a datagram per message.
        segment_sends_ = false;
        return start[done];
      }
      // The first unsent one failed (buffer full or an error): count it
      // lost, as SendTo would, and go on with the rest.
      send_errors_ += count[done];
      ++done;
      continue;
    }
    for (size_t k = done; k < done + static_cast<size_t>(r); ++k) {
      sent += count[k];
      if (count[k] > 1) ++segmented_sends_;
    }
    done += static_cast<size_t>(r);
  }
  return consumed;
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
