#include "client/net/dht_udp_node.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "absl/strings/str_format.h"
#include "client/net/socket_address.h"
#include "dht/krpc.h"

namespace bt::client {

absl::Time DhtUdpNode::Now() {
  return absl::UnixEpoch() +
         absl::FromChrono(EventLoop::Now().time_since_epoch());
}

absl::StatusOr<std::unique_ptr<DhtUdpNode>> DhtUdpNode::Create(
    EventLoop* loop, const Endpoint& bind, dht::NodeOptions options) {
  int fd = socket(bind.is_v6() ? AF_INET6 : AF_INET,
                  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrFormat("DHT UDP socket: %s", std::strerror(errno)));
  }
  if (bind.is_v6()) {
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(bind, &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrFormat(
        "DHT UDP bind to %s: %s", bind.ToString(), std::strerror(e)));
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  std::optional<Endpoint> local =
      FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  options.ipv6 = bind.is_v6();
  auto self = std::unique_ptr<DhtUdpNode>(
      new DhtUdpNode(loop, fd, local.value_or(bind), std::move(options)));
  DhtUdpNode* raw = self.get();
  absl::Status st =
      loop->Watch(fd, EventLoop::kReadable, [raw](uint32_t) { raw->OnReadable(); });
  if (!st.ok()) return st;  // the destructor closes fd
  raw->ArmTimer();
  return self;
}

DhtUdpNode::DhtUdpNode(EventLoop* loop, int fd, const Endpoint& local,
                       dht::NodeOptions options)
    : loop_(loop),
      fd_(fd),
      local_(local),
      node_(std::make_unique<dht::Node>(std::move(options), Now())) {}

DhtUdpNode::~DhtUdpNode() {
  if (timer_ != 0) loop_->CancelTimer(timer_);
  loop_->Unwatch(fd_);
  close(fd_);
}

void DhtUdpNode::ArmTimer() {
  timer_ = loop_->AddTimer(std::chrono::milliseconds(100), [this] {
    timer_ = 0;
    node_->Tick(Now());
    Flush();
    ArmTimer();
  });
}

void DhtUdpNode::OnReadable() {
  char buf[dht::kMaxPacketSize + 1];
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ssize_t n = recvfrom(fd_, buf, sizeof buf, MSG_TRUNC,
                         reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) break;  // EAGAIN or a surfaced ICMP error
    std::optional<Endpoint> from =
        FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!from) continue;
    // Oversized datagrams reach the node as too large (it drops them).
    size_t size = std::min<size_t>(static_cast<size_t>(n), sizeof buf);
    node_->HandlePacket(std::string_view(buf, size), *from, Now());
  }
  Flush();
}

void DhtUdpNode::Flush() {
  for (const dht::OutgoingPacket& p : node_->TakeOutgoing()) {
    if (p.to.is_v6() != local_.is_v6()) continue;
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(p.to, &ss);
    if (sendto(fd_, p.bytes.data(), p.bytes.size(), 0,
               reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      ++send_errors_;  // UDP: a lost datagram is like any other loss
    }
  }
}

uint64_t DhtUdpNode::Bootstrap(dht::LookupCallback done) {
  uint64_t id = node_->Bootstrap(Now(), std::move(done));
  Flush();
  return id;
}

uint64_t DhtUdpNode::GetPeers(const Sha1Hash& info_hash,
                              dht::LookupCallback done) {
  uint64_t id = node_->GetPeers(info_hash, Now(), std::move(done));
  Flush();
  return id;
}

uint64_t DhtUdpNode::Announce(const Sha1Hash& info_hash, uint16_t port,
                              bool implied_port, dht::LookupCallback done) {
  uint64_t id =
      node_->Announce(info_hash, port, implied_port, Now(), std::move(done));
  Flush();
  return id;
}

}  // namespace bt::client
