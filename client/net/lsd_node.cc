#include "client/net/lsd_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/random.h"
#include "client/net/socket_address.h"
#include "lsd/message.h"

namespace bt::client {
namespace {

// Fail closes `fd` and names the step that failed with errno's text.
absl::Status Fail(int fd, std::string_view step, const Endpoint& group) {
  const int e = errno;
  close(fd);
  return absl::UnavailableError(absl::StrFormat(
      "LSD: %s for %s: %s", step, group.ToString(), std::strerror(e)));
}

bool SetInt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

// JoinV4 joins the IPv4 group on the interface of `local` (any if
// unspecified) and sends from that interface, one hop, looped back.
bool JoinV4(int fd, const Endpoint& local, const Endpoint& group) {
  sockaddr_storage g, l;
  ToSockaddr(group, &g);
  ToSockaddr(local, &l);
  ip_mreqn join{};
  join.imr_multiaddr = reinterpret_cast<sockaddr_in*>(&g)->sin_addr;
  join.imr_address = reinterpret_cast<sockaddr_in*>(&l)->sin_addr;
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0) {
    return false;
  }
  if (!local.IsUnspecified() &&
      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &join, sizeof join) != 0) {
    return false;
  }
  // Only this group's datagrams, whatever other sockets joined.
  SetInt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
  return SetInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, 1) &&
         SetInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
}

bool JoinV6(int fd, const Endpoint& group) {
  sockaddr_storage g;
  ToSockaddr(group, &g);
  ipv6_mreq join{};
  join.ipv6mr_multiaddr = reinterpret_cast<sockaddr_in6*>(&g)->sin6_addr;
  join.ipv6mr_interface = 0;  // by the multicast route
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &join, sizeof join) != 0) {
    return false;
  }
  SetInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
  return SetInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1) &&
         SetInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LsdNode>> LsdNode::Create(EventLoop* loop,
                                                         Options options,
                                                         PeerHandler on_peer) {
  const bool v6 = options.local.is_v6();
  const Endpoint group =
      *Endpoint::ParseAddress(v6 ? lsd::kGroupV6 : lsd::kGroupV4, lsd::kPort);
  int fd = socket(v6 ? AF_INET6 : AF_INET,
                  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrFormat(
        "LSD: UDP socket for %s: %s", group.ToString(), std::strerror(errno)));
  }
  // Every client on the host binds the BEP's port.
  SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (v6) SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  sockaddr_storage any;
  const socklen_t len = ToSockaddr(
      v6 ? Endpoint::V6({}, lsd::kPort) : Endpoint::V4({}, lsd::kPort), &any);
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), len) != 0) {
    return Fail(fd, "bind to port 6771", group);
  }
  if (!(v6 ? JoinV6(fd, group) : JoinV4(fd, options.local, group))) {
    return Fail(fd, "joining the multicast group", group);
  }
  if (options.service.cookie.empty()) {
    options.service.cookie = absl::StrFormat("%08x", RandomU32());
  }
  auto self = std::unique_ptr<LsdNode>(
      new LsdNode(loop, fd, std::move(options), group, std::move(on_peer)));
  LsdNode* raw = self.get();
  absl::Status st =
      loop->Watch(fd, EventLoop::kReadable, [raw](uint32_t ready) {
        if (ready & EventLoop::kReadable) raw->OnReadable();
      });
  if (!st.ok()) return st;  // the destructor closes fd
  return self;
}

LsdNode::LsdNode(EventLoop* loop, int fd, Options options, Endpoint group,
                 PeerHandler on_peer)
    : loop_(loop),
      fd_(fd),
      local_(options.local),
      group_(group),
      service_(std::move(options.service)),
      on_peer_(std::move(on_peer)),
      buffer_(lsd::kMaxAnnounceBytes + 1) {}

LsdNode::~LsdNode() {
  loop_->Unwatch(fd_);
  close(fd_);
}

void LsdNode::Update(absl::Span<const Sha1Hash> info_hashes, absl::Time now) {
  service_.SetTorrents(info_hashes, now);
  const std::vector<Sha1Hash> due = service_.Due(now);
  if (due.empty()) return;
  const std::string_view host = group_.is_v6() ? lsd::kHostV6 : lsd::kHostV4;
  for (const std::string& d :
       lsd::EncodeAnnounces(host, local_.port(), due, service_.cookie())) {
    if (!Send(d)) ++send_errors_;
  }
}

bool LsdNode::Send(std::string_view datagram) {
  sockaddr_storage to;
  iovec iov{const_cast<char*>(datagram.data()), datagram.size()};
  msghdr h{};
  h.msg_name = &to;
  h.msg_namelen = ToSockaddr(group_, &to);
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
  if (local_.is_v6() && !local_.IsUnspecified()) {
    h.msg_control = control;
    h.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo source{};
    std::memcpy(&source.ipi6_addr, local_.address_bytes().data(), 16);
    std::memcpy(CMSG_DATA(c), &source, sizeof source);
  }
  ssize_t n;
  do {
    n = sendmsg(fd_, &h, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n >= 0;
}

void LsdNode::OnReadable() {
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    sockaddr_storage from;
    socklen_t from_len = sizeof from;
    // MSG_TRUNC: the datagram's real length, so a longer one is refused.
    const ssize_t n =
        recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC,
                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained (or an error the next turn reports)
    }
    std::optional<Endpoint> sender =
        FromSockaddr(reinterpret_cast<sockaddr*>(&from), from_len);
    if (!sender) continue;
    const std::string_view datagram(
        buffer_.data(), std::min(static_cast<size_t>(n), buffer_.size()));
    for (const lsd::Found& f :
         service_.HandleDatagram(datagram, *sender, absl::Now())) {
      if (on_peer_) on_peer_(f.info_hash, f.peer);
    }
  }
}

}  // namespace bt::client
